"""The secret scan: a full sync through the real processes, then every log line and
every column of every table searched for every secret of the run. Zero found.

The run: ``serve`` (gunicorn, with its access log) and ``worker``, both at DEBUG with
JSON logs; "Log in with Cobot" through the sandbox's consent page; connecting the
space and saving the settings (which subscribes Cobot's webhooks); a member and
invoices that reach us as real webhooks from the Cobot sandbox; worker turns that
sync them (and one that fails, and is retried from the dashboard); a few hostile and
mistaken webhook calls, whose 4xx Django logs with the request.

The secrets: the user's OAuth token, the space-bound Cobot token, the sevDesk token,
the webhook secret (the old one and the one after a rotation), the OAuth client secret
and authorization code, the encryption key and Django's secret key.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from cobot_sevdesk import crypto
from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sync.subscriptions import rotate_webhook_secret
from cobot_sevdesk.web.access import SESSION_TOKEN
from tests.processes import free_port, server, wait_until, workers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CLIENT_ID = "cobot-sevdesk-scan"
CLIENT_SECRET = secrets.token_urlsafe(24)


def log_in(web: str, boxes: Sandboxes, user_id: str) -> tuple[requests.Session, str]:
    """Log in with Cobot as a browser would; returns the session and the OAuth code."""
    http = requests.Session()
    start = http.get(f"{web}/login/", allow_redirects=False, timeout=10)
    params = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    approved = requests.post(
        f"{boxes.cobot.base_url}/oauth/authorize",
        data={**params, "user_id": user_id},
        allow_redirects=False,
        timeout=10,
    )
    back = approved.headers["Location"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    landed = http.get(back, timeout=30)
    assert landed.status_code == 200 and urlsplit(landed.url).path == "/s/co-up/settings/"
    return http, code


def post_form(http: requests.Session, url: str, data: dict[str, str]) -> requests.Response:
    token = http.cookies["csrftoken"]
    return http.post(
        url, data={**data, "csrfmiddlewaretoken": token}, headers={"X-CSRFToken": token}, timeout=30
    )


def database_values() -> list[tuple[str, str, str]]:
    """(table, column, text) for every column of every row of every table; session
    data decoded (it is signed base64), bytes read both ways."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            names = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for name, value in zip(names, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        texts = [raw.decode("latin-1"), raw.decode("utf-8", "replace")]
                    else:
                        texts = [str(value)]
                    if table == "django_session" and name == "session_data":
                        texts.append(json.dumps(SessionStore().decode(str(value))))
                    found += [(table, name, text) for text in texts]
    return found


def queue_values() -> list[tuple[str, str, str]]:
    """The queue's SQLite file (task messages are pickles): every cell."""
    path = getattr(settings.HUEY.storage, "filename", None)
    if not path or not Path(path).exists():
        return []
    found = []
    with sqlite3.connect(path) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    found.append((f"queue:{table}", "", raw.decode("latin-1")))
    return found


def test_a_full_sync_leaves_no_secret_in_any_log_line_or_database_column(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    cobot, sevdesk = sandboxes.cobot, sandboxes.sevdesk
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    cobot.add_client(CLIENT_ID, CLIENT_SECRET, [f"{web_url}/auth/callback/"])
    admin = cobot.add_user("ada@example.org", "Ada Admin")
    cobot.add_space("co-up", "co.up Berlin", [admin["id"]])
    cobot.add_accounting_code("co-up", "Desks")
    sevdesk_token = secrets.token_hex(16)
    sevdesk.add_account(sevdesk_token, booking_accounts=[{"name": "Desks", "like": "4400"}])
    env = {
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "json",
        "PUBLIC_URL": web_url,
        "COBOT_CLIENT_ID": CLIENT_ID,
        "COBOT_CLIENT_SECRET": CLIENT_SECRET,
        "RECONCILE_INTERVAL": "1",
    }
    with (
        server(sandboxes, tmp_path, ["--access-log"], port=port, **env) as web,
        workers(sandboxes, tmp_path, **env) as [worker],
    ):
        # Log in, connect the space (the sandbox binds a token to it), save the settings.
        http, code = log_in(web_url, sandboxes, admin["id"])
        saved = post_form(
            http,
            f"{web_url}/s/co-up/settings/",
            {"sevdesk_token": sevdesk_token, "cost_centre_number": "", "due_days": "14"},
        )
        assert saved.status_code == 200 and urlsplit(saved.url).path == "/s/co-up/"
        space = Space.objects.get(subdomain="co-up")
        first_secret = space.webhook_secret
        assert len(cobot.space("co-up")["subscriptions"]) == len(EVENTS)

        # A member and invoices arrive as Cobot's webhooks; the worker syncs them.
        member = cobot.add_member("co-up", "Jane Doe", email="jane@example.org")
        cobot.add_invoice(
            "co-up", [invoice_line("Desk", "250", "19", "Desks")], membership_id=member["id"]
        )
        cobot.add_invoice("co-up", [invoice_line("Parking", "20", "19", "Parking")])
        wait_until(
            lambda: LedgerItem.objects.filter(state__in=("synced", "failed")).count() == 3,
            timeout=60,
            message="member and invoices done",
        )
        # The admin fixes the missing account and retries from the dashboard.
        sevdesk.add_booking_account(sevdesk_token, "Parking", like="4400")
        assert http.get(f"{web_url}/s/co-up/", timeout=30).status_code == 200
        post_form(http, f"{web_url}/s/co-up/retry-failed/", {})
        wait_until(
            lambda: LedgerItem.objects.filter(state__in=("synced", "mismatch")).count() == 3,
            timeout=60,
            message="the retried invoice sent (with no member: a Mismatch receipt)",
        )
        # Mistaken and hostile calls: Django logs their 4xx with the request.
        hook = f"{web_url}/hooks/{first_secret}"
        requests.post(f"{hook}/created_invoice/", data="[" * 5000, timeout=10)
        requests.get(f"{hook}/created_invoice/", timeout=10)
        requests.post(f"{web_url}/hooks/{first_secret[::-1]}/created_invoice/", timeout=10)
        requests.get(f"{web_url}/auth/callback/?code={code}&state=replayed", timeout=10)
        # A rotated secret: Cobot's next webhook arrives under the new one.
        assert rotate_webhook_secret(Space.objects.get(pk=space.pk)).ok
        cobot.add_invoice(
            "co-up", [invoice_line("Desk", "250", "19", "Desks")], membership_id=member["id"]
        )
        wait_until(
            lambda: LedgerItem.objects.filter(state="synced").count() == 3,
            timeout=60,
            message="the invoice after the rotation synced",
        )
        user_token = crypto.decrypt(SessionStore(http.cookies["sessionid"])[SESSION_TOKEN])

    space.refresh_from_db()
    assert len(sevdesk.state(sevdesk_token)["vouchers"]) == 3  # the sync did happen
    assert len(sevdesk.state(sevdesk_token)["contacts"]) == 1
    found = {
        "the user's OAuth token": user_token,
        "the space's Cobot token": space.cobot_token,
        "the sevDesk token": sevdesk_token,
        "the webhook secret": first_secret,
        "the rotated webhook secret": space.webhook_secret,
        "the OAuth client secret": CLIENT_SECRET,
        "the OAuth authorization code": code,
        "the encryption key": settings.FERNET_KEYS[0],
        "Django's secret key": settings.SECRET_KEY,
    }
    assert len(set(found.values())) == len(found)

    logs = web.output() + worker.output()
    lines = logs.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    levels = {r["level"] for r in records}
    loggers = {r["logger"] for r in records}
    assert len(records) > 50 and "DEBUG" in levels and "WARNING" in levels
    assert {"gunicorn.access", "django.request", "cobot_sevdesk.http"} <= loggers

    leaks = [
        f"{what} in log line: {line[:300]}"
        for line in lines
        for what, secret in found.items()
        if secret in line
    ]
    cells = database_values() + queue_values()
    assert len(cells) > 100
    leaks += [
        f"{what} in {table}.{column}"
        for table, column, text in cells
        for what, secret in found.items()
        if secret in text
    ]
    assert leaks == []
    assert any(re.search(r"/hooks/\[redacted\]/", r.get("request", "")) for r in records)
