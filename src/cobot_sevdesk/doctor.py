"""``cobot-sevdesk check``: is this installation set up right? One line per problem.

Every check runs, so one report shows everything to fix. Nothing here changes
anything.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cobot_sevdesk import crypto
from cobot_sevdesk.http import new_session


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.message}"


def _local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1")


def in_production() -> bool:
    """Reachable by others: ``PUBLIC_URL`` is https or not on this machine. Then the
    production rules below apply; on loopback (development, the demo) they do not."""
    return urlsplit(settings.PUBLIC_URL).scheme == "https" or not _local(settings.PUBLIC_URL)


def check_secret_key() -> Result:
    if settings.SECRET_KEY == settings.INSECURE_DEV_SECRET and in_production():
        return Result(
            "SECRET_KEY", False, "not set; sessions would be signed with a public default key"
        )
    if len(settings.SECRET_KEY) < 32 and in_production():
        return Result("SECRET_KEY", False, "shorter than 32 characters")
    return Result("SECRET_KEY", True, "set")


def check_debug() -> Result:
    if settings.DEBUG and in_production():
        return Result(
            "DEBUG",
            False,
            "on; error pages would show settings and code to anyone. Unset DEBUG "
            "(`serve` refuses to start this way)",
        )
    return Result("DEBUG", True, "on (development only)" if settings.DEBUG else "off")


def check_allowed_hosts() -> Result:
    if "*" in settings.ALLOWED_HOSTS and in_production():
        return Result(
            "ALLOWED_HOSTS",
            False,
            "contains '*': any Host header is accepted. List the host names the add-on "
            "is reached under (the host of PUBLIC_URL is added by itself)",
        )
    return Result("ALLOWED_HOSTS", True, ", ".join(settings.ALLOWED_HOSTS))


def check_metrics_token() -> Result:
    if not os.environ.get("METRICS_TOKEN") and in_production():
        return Result(
            "METRICS_TOKEN",
            False,
            "not set; /metrics would be open to anyone. Set a random token and give "
            "it to Prometheus as a bearer token",
        )
    return Result(
        "METRICS_TOKEN", True, "set" if os.environ.get("METRICS_TOKEN") else "not set (local)"
    )


def refuse_unsafe_serve() -> None:
    """``serve`` does not start with DEBUG on where others can reach it."""
    if settings.DEBUG and in_production():
        raise SystemExit(
            f"Refusing to serve {settings.PUBLIC_URL} with DEBUG on: error pages would show "
            "settings and code to anyone. Unset DEBUG (`cobot-sevdesk check` lists what "
            "else to fix)."
        )


def check_fernet_keys() -> Result:
    try:
        crypto.decrypt(crypto.encrypt("check"))
    except ImproperlyConfigured as exc:
        return Result("FERNET_KEYS", False, str(exc))
    return Result("FERNET_KEYS", True, f"{len(settings.FERNET_KEYS)} key(s)")


def check_oauth_client() -> Result:
    missing = [n for n in ("COBOT_CLIENT_ID", "COBOT_CLIENT_SECRET") if not getattr(settings, n)]
    if missing:
        return Result(
            "Cobot OAuth app",
            False,
            f"{' and '.join(missing)} not set; register the app at "
            "https://dev.cobot.me/oauth2_clients",
        )
    return Result("Cobot OAuth app", True, f"client {settings.COBOT_CLIENT_ID}")


def check_public_url() -> Result:
    parts = urlsplit(settings.PUBLIC_URL)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Result(
            "PUBLIC_URL", False, f"{settings.PUBLIC_URL!r} is not an absolute http(s) URL"
        )
    if parts.scheme != "https" and not _local(settings.PUBLIC_URL):
        return Result(
            "PUBLIC_URL", False, "must be https: Cobot embeds the add-on and posts webhooks to it"
        )
    return Result("PUBLIC_URL", True, settings.PUBLIC_URL)


def check_database() -> Result:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = MigrationExecutor(connection).migration_plan(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
    except Exception as exc:
        return Result("database", False, f"not reachable: {exc}".strip())
    finally:
        connection.close()
    vendor = connection.vendor
    if pending:
        return Result(
            "database",
            False,
            f"{vendor}: {len(pending)} migration(s) not applied; run `cobot-sevdesk migrate`",
        )
    return Result("database", True, f"{vendor}, migrations applied")


def check_queue() -> Result:
    try:
        depth = settings.HUEY.pending_count()
    except Exception as exc:
        return Result("queue", False, f"{settings.HUEY_URL.split('@')[-1]} not usable: {exc}")
    return Result("queue", True, f"{type(settings.HUEY).__name__}, {depth} task(s) waiting")


def _reachable(name: str, url: str) -> Result:
    """Any HTTP answer (even 401 or 404) shows the service is reachable."""
    session = new_session()
    try:
        response = session.get(
            url, timeout=(settings.HTTP_CONNECT_TIMEOUT, 10), allow_redirects=False
        )
    except requests.RequestException as exc:
        return Result(name, False, f"{url} not reachable ({type(exc).__name__})")
    return Result(name, True, f"{url} answers (HTTP {response.status_code})")


CHECKS: list[tuple[str, Callable[[], Result]]] = [
    ("SECRET_KEY", check_secret_key),
    ("DEBUG", check_debug),
    ("ALLOWED_HOSTS", check_allowed_hosts),
    ("METRICS_TOKEN", check_metrics_token),
    ("FERNET_KEYS", check_fernet_keys),
    ("Cobot OAuth app", check_oauth_client),
    ("PUBLIC_URL", check_public_url),
    ("database", check_database),
    ("queue", check_queue),
    ("Cobot", lambda: _reachable("Cobot", f"{settings.COBOT_URL}/api/user")),
    ("Cobot API 2", lambda: _reachable("Cobot API 2", f"{settings.COBOT_API2_URL}/user")),
    (
        "sevDesk",
        lambda: _reachable("sevDesk", f"{settings.SEVDESK_URL}/Tools/bookkeepingSystemVersion"),
    ),
]


def run() -> list[Result]:
    results = []
    for name, check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:  # a check must report, never crash the report
            results.append(Result(name, False, f"{type(exc).__name__}: {exc}"))
    return results
