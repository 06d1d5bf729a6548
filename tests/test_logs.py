"""One redaction step for every log line: the message, every extra (Django's ``request``
too), exceptions, gunicorn's access log, URL paths and queries, at every level."""

from __future__ import annotations

import functools
import json
import logging
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from cobot_sevdesk.http import redact_url
from cobot_sevdesk.logs import JsonFormatter, RedactFilter, redact, remember_secret
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.processes import free_port, server
from tests.world import make_world


class _Request:
    """Stands in for Django's request: its repr carries the path."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"<WSGIRequest: POST {self.path!r}>"


def formatted(record: logging.LogRecord) -> str:
    RedactFilter().filter(record)
    return JsonFormatter().format(record) + "\n" + logging.Formatter().format(record)


def test_every_part_of_a_record_is_redacted() -> None:
    hook, token, code = secrets.token_urlsafe(32), secrets.token_hex(20), secrets.token_hex(8)
    try:
        raise RuntimeError(f"failed at /api/access_tokens/{token}/space")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.makeLogRecord(
        {
            "name": "django.request",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "Bad Request: %s (Authorization: %s)",
            "args": (f"/hooks/{hook}/created_invoice/", f"Bearer {token}"),
            "request": _Request(f"/hooks/{hook}/created_invoice/"),
            "status_code": 400,
            "url": f"https://co-up.cobot.me/api/access_tokens/{token}/space",
            "callback": f"/auth/callback/?code={code}&state=abc123",
            "detail": {"sevdesk_token": token},
            "exc_info": exc_info,
            "stack_info": f"Stack (most recent call last):\n  token={token}",
        }
    )
    text = formatted(record)
    for secret in (hook, token, code, "abc123"):
        assert secret not in text
    data = json.loads(text.splitlines()[0])
    assert data["request"] == "<WSGIRequest: POST '/hooks/[redacted]/created_invoice/'>"
    assert data["status_code"] == 400 and data["level"] == "WARNING"
    assert "/access_tokens/[redacted]/space" in data["url"]
    assert "RuntimeError" in data["exception"]


def test_redaction_keeps_what_is_harmless() -> None:
    line = "GET https://co-up.cobot.me/api/memberships/abc-123 200 14ms"
    assert redact(line) == line
    assert redact("created_invoice for co-up: 3 items") == "created_invoice for co-up: 3 items"


def test_secrets_seen_by_this_process_are_redacted_by_value_anywhere() -> None:
    token = secrets.token_hex(16)
    remember_secret(token)
    assert redact(f"sevDesk said: unknown key {token}.") == "sevDesk said: unknown key [redacted]."
    assert redact(f"x {token}x") == f"x {token}x"  # part of a longer word: not this secret


def test_urls_for_logs_and_errors_drop_queries_and_secret_paths() -> None:
    token = secrets.token_hex(20)
    url = f"https://user:pw@www.cobot.me:8443/api/access_tokens/{token}/space?x=1"
    assert redact_url(url) == "https://www.cobot.me:8443/api/access_tokens/[redacted]/space"
    assert redact_url("http://[") == "[unparsable URL]"


def test_a_bad_format_still_logs_redacted() -> None:
    token = secrets.token_hex(20)
    record = logging.makeLogRecord({"msg": "%s %s %s", "args": (f"token={token}",)})
    assert token not in formatted(record)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_served_requests_log_no_secret_at_debug_in_json_with_the_access_log(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    world = make_world(sandboxes)
    secret = world.space.webhook_secret
    code, state = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    port = free_port()
    env: dict[str, Any] = {
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "json",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    with server(sandboxes, tmp_path, ["--access-log"], port=port, **env) as web:
        http = requests.Session()
        http.request = functools.partial(http.request, timeout=10)  # type: ignore[method-assign]
        hook = f"{web.url}/hooks/{secret}"
        invoice = f"{sandboxes.cobot.base_url}/space/co-up/api/invoices/1"
        assert http.post(f"{hook}/created_invoice/", json={"url": invoice}).status_code == 202
        assert http.post(f"{hook}/created_invoice/", data="[[[").status_code == 400
        assert http.get(f"{hook}/created_invoice/").status_code == 405
        assert http.post(f"{web.url}/hooks/{secret}x/created_invoice/").status_code == 404
        http.get(
            f"{web.url}/auth/callback/?code={code}&state={state}",
            headers={"Referer": f"{hook}/created_invoice/?token={code}"},
            allow_redirects=False,
        )
        output = web.output()
    lines = [line for line in output.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    assert len(access) >= 5, output
    assert any("POST /hooks/[redacted]/created_invoice/" in r["message"] for r in access)
    assert any(
        r["logger"] == "django.request" and "/hooks/[redacted]/" in r.get("request", "")
        for r in records
    ), output
    for secret_value in (secret, code, state, world.cobot_token, world.sevdesk_token):
        assert secret_value not in output
