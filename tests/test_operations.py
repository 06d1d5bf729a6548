"""Running it for real: check, serve with migrations, health, metrics, logs without
secrets, key rotation, pause/resume, history retention."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from cobot_sevdesk import crypto
from cobot_sevdesk.cli import main
from cobot_sevdesk.ledger.models import LedgerEvent, LedgerItem, Space
from cobot_sevdesk.logs import JsonFormatter, RedactFilter
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.processes import wait_until
from tests.test_demo import free_port
from tests.world import make_world

KEY_A = "VmpcVYZyL203ygPOfFcouN3TO9qZveDvvNuefPPjWEM="


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cobot_sevdesk.cli", *args],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cobot_sevdesk.settings", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_check_reports_each_broken_setting_on_its_own_line(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        "check",
        env={
            "DATA_DIR": str(tmp_path),
            "FERNET_KEYS": "not-a-key",
            "SECRET_KEY": "",
            "COBOT_CLIENT_ID": "",
            "PUBLIC_URL": "http://addon.example.org",
            "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none",
            "HUEY_URL": f"redis://127.0.0.1:{free_port()}/0",
            "COBOT_URL": dead,
            "COBOT_API2_URL": dead,
            "SEVDESK_URL": dead,
        },
    )
    assert result.returncode == 1, result.stderr
    lines = {
        line.split(":")[0]: line
        for line in result.stdout.splitlines()
        if line.startswith(("ok", "FAIL"))
    }
    expected = [
        "FAIL SECRET_KEY",
        "ok   DEBUG",
        "ok   ALLOWED_HOSTS",
        "FAIL METRICS_TOKEN",
        "FAIL FERNET_KEYS",
        "FAIL Cobot OAuth app",
        "FAIL PUBLIC_URL",
        "FAIL database",
        "FAIL queue",
        "FAIL Cobot",
        "FAIL Cobot API 2",
        "FAIL sevDesk",
    ]
    assert sorted(lines) == sorted(expected), result.stdout
    assert "must be https" in lines["FAIL PUBLIC_URL"]
    assert "COBOT_CLIENT_ID" in lines["FAIL Cobot OAuth app"]
    assert "10 problem(s)" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_check_passes_on_a_good_setup(sandboxes: Sandboxes, settings: Any) -> None:
    from cobot_sevdesk import doctor

    settings.COBOT_CLIENT_ID, settings.COBOT_CLIENT_SECRET = "id", "secret"
    results = {r.name: r for r in doctor.run()}
    assert all(r.ok for r in results.values()), [r.line() for r in results.values() if not r.ok]


@pytest.mark.slow
def test_serve_runs_migrations_on_start_up_and_answers_health(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cobot_sevdesk.settings",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "HUEY_URL": f"sqlite:///{tmp_path / 'q.db'}",
        "FERNET_KEYS": KEY_A,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cobot_sevdesk.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy() -> bool:
            try:
                return (
                    requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                )
            except requests.RequestException:
                return False

        wait_until(healthy, timeout=60, message="gunicorn up")
        body = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        assert body == {"status": "ok", "database": "ok", "queue": "ok", "queue_depth": 0}
        assert "Log in with Cobot" in requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
    finally:
        server.terminate()
        server.wait(20)


@pytest.mark.django_db
def test_health_names_what_is_down(settings: Any) -> None:
    assert Client().get("/healthz").json()["status"] == "ok"
    from cobot_sevdesk.queue import build_huey

    settings.HUEY = build_huey(f"redis://127.0.0.1:{free_port()}/0")
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "ok" and response.json()["queue"].startswith("error")


@pytest.mark.django_db
def test_metrics_show_webhooks_items_calls_and_queue(
    sandboxes: Sandboxes, monkeypatch: Any
) -> None:
    world = make_world(sandboxes)
    url = f"{sandboxes.cobot.base_url}/space/co-up/api/invoices/{world.invoice()['id']}"
    Client().post(
        f"/hooks/{world.space.webhook_secret}/created_invoice/",
        {"url": url},
        content_type="application/json",
    )
    world.drain()
    text = Client().get("/metrics").content.decode()
    assert 'cobot_sevdesk_webhooks_total{outcome="recorded"}' in text
    assert 'cobot_sevdesk_items{kind="invoice",state="mismatch"} 1.0' in text
    assert 'cobot_sevdesk_external_calls_total{service="sevDesk",status="201"}' in text
    assert 'cobot_sevdesk_external_calls_total{service="Cobot",status="200"}' in text
    assert (
        "cobot_sevdesk_queue_depth" in text and "cobot_sevdesk_sync_latency_seconds_bucket" in text
    )
    monkeypatch.setenv("METRICS_TOKEN", "s3cret")
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


@pytest.mark.django_db
def test_no_log_line_of_a_full_sync_contains_a_secret(sandboxes: Sandboxes, settings: Any) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    try:
        world = make_world(
            sandboxes, cost_centres=[{"number": "100", "name": "C"}], cost_centre_number="100"
        )
        member = world.member("Jane Doe", email="jane@example.org")
        world.receive_member(member)
        Client().post(
            f"/hooks/{world.space.webhook_secret}/created_invoice/",
            {
                "url": f"{sandboxes.cobot.base_url}/space/co-up/api/invoices/"
                f"{world.invoice(membership_id=member['id'])['id']}"
            },
            content_type="application/json",
        )
        world.boxes.sevdesk.fault("saveVoucher", status=503)  # an error path too
        world.drain()
        world.make_due()
        world.drain()
        world.receive_invoice(
            world.invoice(
                [
                    {
                        "description": "x",
                        "quantity": "1",
                        "unit_net": "5",
                        "tax_rate": "19",
                        "accounting_code": "Nope",
                    }
                ]
            )
        )
        world.boxes.sevdesk.revoke(world.sevdesk_token)  # and the pause path
        world.receive_invoice(world.invoice())
        world.drain()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        logging.getLogger("urllib3").setLevel(logging.WARNING)
    output = stream.getvalue()
    assert LedgerItem.objects.filter(state="synced").count() == 2  # the sync did happen
    assert len(output.splitlines()) > 20
    secrets = [
        world.sevdesk_token,
        world.cobot_token,
        world.space.webhook_secret,
        *settings.FERNET_KEYS,
    ]
    secrets += [world.space.cobot_token_encrypted, world.space.sevdesk_token_encrypted]
    for line in output.splitlines():
        if json.loads(line)["logger"].startswith("cobot_sevdesk.sandbox") or "/_sandbox/" in line:
            continue  # the fake services' logs and the test's control calls are not the product's
        for secret in secrets:
            assert secret not in line, line
    assert "token=" not in output or "token=[redacted]" in output


def test_json_formatter_and_redaction() -> None:
    record = logging.makeLogRecord(
        {
            "name": "x",
            "levelno": 20,
            "levelname": "INFO",
            "msg": "GET %s with Authorization: %s",
            "args": ("https://api.cobot.me/invoices/1.pdf?token=abc123", "Bearer xyz789secret"),
            "space": "co-up",
        }
    )
    RedactFilter().filter(record)
    data = json.loads(JsonFormatter().format(record))
    assert "abc123" not in data["message"] and "xyz789secret" not in data["message"]
    assert data["space"] == "co-up" and data["level"] == "INFO"


@pytest.mark.django_db(transaction=True)
def test_rotate_keys_re_encrypts_every_secret(settings: Any, capsys: Any) -> None:
    space = Space(subdomain="r", name="R", cobot_space_id="x")
    space.cobot_token, space.sevdesk_token = "cobot-token-1", "sevdesk-token-1"
    space.save()
    webhook_secret = space.webhook_secret
    new_key = crypto.generate_key()
    settings.FERNET_KEYS = [new_key, KEY_A]
    assert main(["rotate-keys"]) == 0
    assert "Re-encrypted 3 secret(s)" in capsys.readouterr().out
    settings.FERNET_KEYS = [new_key]  # the old key is gone now
    space.refresh_from_db()
    assert (space.cobot_token, space.sevdesk_token) == ("cobot-token-1", "sevdesk-token-1")
    assert space.webhook_secret == webhook_secret


@pytest.mark.django_db(transaction=True)
def test_pause_resume_and_history_retention(sandboxes: Sandboxes, capsys: Any) -> None:
    world = make_world(sandboxes)
    assert main(["pause", "co-up", "--reason", "maintenance"]) == 0
    world.space.refresh_from_db()
    assert (world.space.status, world.space.pause_reason) == ("paused", "manual")
    world.receive_invoice(world.invoice())
    world.drain()
    assert world.vouchers() == []  # paused: nothing sent
    assert main(["resume", "co-up"]) == 0
    world.drain()
    assert len(world.vouchers()) == 1
    item, _created = LedgerItem.record(world.space, "invoice", "old", source="webhook")
    item.note(LedgerEvent.Kind.NOTE, "An old note.")
    LedgerEvent.objects.filter(item=item).update(at=timezone.now() - timezone.timedelta(days=400))
    assert main(["prune-history", "--days", "365"]) == 0
    assert "Deleted 1 history entries" in capsys.readouterr().out
    assert LedgerItem.objects.filter(pk=item.pk).exists()  # items stay: they prevent duplicates


@pytest.mark.django_db(transaction=True)
def test_migrate_command(capsys: Any) -> None:
    call_command("migrate", verbosity=0)
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_backfill_and_retry_commands(sandboxes: Sandboxes, capsys: Any) -> None:
    world = make_world(sandboxes)
    sub = world.subdomain
    for day in ("2025-03-02", "2025-03-09"):
        world.invoice(invoice_date=day)
    world.invoice([invoice_line("Parking", "20", "19", "Parking")], invoice_date="2025-03-10")
    march = ["--from", "2025-03-01", "--to", "2025-03-31", "--inline"]
    assert main(["backfill", sub, *march, "--dry-run"]) == 0
    assert "Would add 3 invoices (0 already known)" in capsys.readouterr().out
    assert world.vouchers() == []
    assert main(["backfill", sub, *march]) == 0
    assert "synced" in capsys.readouterr().out
    assert len(world.vouchers()) == 2
    assert LedgerItem.objects.filter(space=world.space, state="failed").count() == 1
    # The admin creates the missing account; a retry from the command line sends it.
    world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Parking", like="4400")
    assert main(["retry", sub]) == 0
    assert "1 item(s) queued again." in capsys.readouterr().out
    world.drain()
    assert len(world.vouchers()) == 3
    # Bad input is a clear message, not a traceback.
    with pytest.raises(SystemExit, match="YYYY-MM-DD"):
        main(["backfill", sub, "--from", "March", "--to", "April"])
    with pytest.raises(SystemExit, match="No backfill #999"):
        main(["backfill", sub, "--resume", "999"])
    with pytest.raises(SystemExit, match="No connected space"):
        main(["retry", "nowhere"])
