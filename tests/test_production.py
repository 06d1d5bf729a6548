"""Production safety: ``check`` fails on unsafe settings where others can reach the
add-on, ``serve`` refuses DEBUG there, and behind https the app redirects plain http
(except the health check) and sends HSTS. All through the real command and server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.processes import Server, free_port
from tests.test_operations import run_cli

KEY = "VmpcVYZyL203ygPOfFcouN3TO9qZveDvvNuefPPjWEM="
GOOD_SECRET = "a-production-secret-key-of-enough-length-0123456789"


def check_lines(env: dict[str, str]) -> dict[str, str]:
    result = run_cli("check", env=env)
    return {
        line[5:].split(":")[0]: line
        for line in result.stdout.splitlines()
        if line.startswith(("ok", "FAIL"))
    }


def test_check_fails_on_unsafe_production_settings(tmp_path: Path) -> None:
    base = {
        "DATA_DIR": str(tmp_path),
        "FERNET_KEYS": KEY,
        "PUBLIC_URL": "https://addon.example.org",
    }
    bad = check_lines(
        {**base, "DEBUG": "true", "ALLOWED_HOSTS": "*", "SECRET_KEY": "", "METRICS_TOKEN": ""}
    )
    for name in ("DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "METRICS_TOKEN"):
        assert bad[name].startswith("FAIL"), bad[name]
    assert "/metrics would be open" in bad["METRICS_TOKEN"]
    good = check_lines(
        {
            **base,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "addon.example.org",
            "SECRET_KEY": GOOD_SECRET,
            "METRICS_TOKEN": "scrape-token",
        }
    )
    for name in ("DEBUG", "ALLOWED_HOSTS", "SECRET_KEY", "METRICS_TOKEN"):
        assert good[name].startswith("ok"), good[name]
    # On loopback (development, the demo) none of these rules apply.
    local = check_lines(
        {**base, "PUBLIC_URL": "http://127.0.0.1:8000", "DEBUG": "true", "METRICS_TOKEN": ""}
    )
    assert local["DEBUG"].startswith("ok") and local["METRICS_TOKEN"].startswith("ok")


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "HUEY_URL", "PROMETHEUS_MULTIPROC_DIR", "TEST_SQLITE_NAME")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="cobot_sevdesk.settings",
        DATA_DIR=str(tmp_path),
        FERNET_KEYS=KEY,
        SECRET_KEY=GOOD_SECRET,
        PUBLIC_URL="https://addon.example.org",
        **extra,
    )
    return env


@pytest.mark.slow
def test_serve_refuses_debug_behind_https(tmp_path: Path) -> None:
    port = free_port()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "cobot_sevdesk.cli", "serve", "--port", str(port)],
        env=serve_env(tmp_path, DEBUG="true"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "Refusing to serve https://addon.example.org with DEBUG on" in result.stderr
    assert time.monotonic() - started < 30
    assert not (tmp_path / "cobot-sevdesk.sqlite3").exists()  # stopped before migrating


@pytest.mark.slow
def test_behind_https_http_is_redirected_except_the_health_check_and_hsts_is_sent(
    tmp_path: Path,
) -> None:
    web = Server(serve_env(tmp_path), tmp_path / "serve.log").wait_ready()
    try:
        http = requests.Session()
        plain = http.get(f"{web.url}/", allow_redirects=False, timeout=5)
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://127.0.0.1:{web.port}/"
        hook = http.post(f"{web.url}/hooks/x/created_invoice/", allow_redirects=False, timeout=5)
        assert hook.status_code == 301
        health = http.get(f"{web.url}/healthz", allow_redirects=False, timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        # What the TLS-terminating proxy forwards.
        secure = http.get(f"{web.url}/", headers={"X-Forwarded-Proto": "https"}, timeout=5)
        assert secure.status_code == 200
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "Log in with Cobot" in secure.text
    finally:
        web.stop()
