"""Running it for real: the command line, check, serve with migrations, health,
metrics, logs without secrets, key rotation, pause/resume, history retention."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cobot_sevdesk import crypto
from cobot_sevdesk.ledger.models import Backfill, LedgerEvent, LedgerItem, Space
from cobot_sevdesk.logs import JsonFormatter, RedactFilter
from cobot_sevdesk.runtime import tasks
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.processes import wait_until, workers
from tests.test_demo import free_port
from tests.world import make_world

KEY_A = "VmpcVYZyL203ygPOfFcouN3TO9qZveDvvNuefPPjWEM="


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cobot_sevdesk", *args],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "cobot_sevdesk.settings", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def command(name: str, *args: str) -> str:
    """Run one of our management commands in this process; what it printed."""
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_help_lists_our_commands_first_with_what_they_do(tmp_path: Path) -> None:
    result = run_cli(env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Usage: cobot-sevdesk COMMAND [options]"
    start = lines.index("Commands:") + 1
    ours = {line.split()[0]: line.split(None, 1)[1] for line in lines[start : start + 16]}
    assert sorted(ours) == [
        "backfill",
        "books-check",
        "check",
        "demo",
        "generate-key",
        "migrate",
        "pause",
        "prune-history",
        "resume",
        "retry",
        "rotate-keys",
        "rotate-webhook-secret",
        "sandbox",
        "serve",
        "skip",
        "worker",
    ]
    assert ours["rotate-keys"] == "re-encrypt stored secrets with the newest FERNET_KEYS key"
    assert ours["check"].startswith("validate configuration")  # ours, not Django's
    django = set(re.findall(r"[\w-]+", result.stdout.split("Django's commands work too:")[1]))
    assert {"createsuperuser", "showmigrations", "dbshell"} <= django
    assert not django & {*ours, "rotate_keys"}  # check and migrate are ours, not twice
    assert run_cli("--help", env={"DATA_DIR": str(tmp_path)}).stdout == result.stdout
    # One command's options, by the name the README uses or the module's.
    usage = run_cli("help", "prune-history", env={"DATA_DIR": str(tmp_path)}).stdout
    assert usage.startswith("usage: cobot-sevdesk prune-history") and "--days" in usage
    assert "--days" in run_cli("prune_history", "--help").stdout
    assert not (tmp_path / "prometheus").exists()  # only serve and worker share metrics


def test_generate_key_prints_only_a_key(tmp_path: Path) -> None:
    result = run_cli("generate-key", env={"DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert result.stdout == key + "\n"
    Fernet(key.encode())  # a valid key
    assert list(tmp_path.iterdir()) == []  # touches nothing


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
    assert "System check identified no issues" in result.stdout  # Django's checks ran first


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
        [sys.executable, "-m", "cobot_sevdesk", "serve", "--port", str(port), "--workers", "1"],
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
def test_metrics_show_webhooks_items_calls_and_queue(sandboxes: Sandboxes, settings: Any) -> None:
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
    settings.METRICS_TOKEN = "s3cret"
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
def test_rotate_keys_re_encrypts_every_secret(settings: Any) -> None:
    space = Space(subdomain="r", name="R", cobot_space_id="x")
    space.cobot_token, space.sevdesk_token = "cobot-token-1", "sevdesk-token-1"
    space.save()
    webhook_secret = space.webhook_secret
    half = Space(subdomain="h", name="H", cobot_space_id="y")
    half.sevdesk_token = "sevdesk-token-2"  # no Cobot token yet
    half.save()
    Space.objects.create(subdomain="e", name="E", cobot_space_id="z")  # its webhook secret only
    new_key = crypto.generate_key()
    settings.FERNET_KEYS = [new_key, KEY_A]
    # Three tokens, and every space's webhook secret.
    assert "Re-encrypted 6 secret(s)" in command("rotate_keys")
    settings.FERNET_KEYS = [new_key]  # the old key is gone now
    space.refresh_from_db()
    half.refresh_from_db()
    assert (space.cobot_token, space.sevdesk_token) == ("cobot-token-1", "sevdesk-token-1")
    assert (half.cobot_token, half.sevdesk_token) == ("", "sevdesk-token-2")
    assert space.webhook_secret == webhook_secret


@pytest.mark.django_db(transaction=True)
def test_pause_resume_and_history_retention(sandboxes: Sandboxes) -> None:
    world = make_world(sandboxes)
    assert "co-up paused: nothing is sent" in command("pause", "co-up", "--reason", "maintenance")
    world.space.refresh_from_db()
    assert (world.space.status, world.space.pause_reason) == ("paused", "manual")
    assert str(world.space.pause_message) == "maintenance"
    world.receive_invoice(world.invoice())
    world.drain()
    assert world.vouchers() == []  # paused: nothing sent
    assert command("resume", "co-up") == "co-up resumed.\n"
    world.space.refresh_from_db()
    assert (world.space.status, world.space.pause_reason) == ("active", "")
    world.drain()
    assert len(world.vouchers()) == 1
    item, _created = LedgerItem.record(world.space, "invoice", "old", source="webhook")
    item.note(LedgerEvent.Kind.NOTE, "An old note.")
    LedgerEvent.objects.filter(item=item).update(at=timezone.now() - timezone.timedelta(days=400))
    assert "Deleted 1 history entries" in command("prune_history", "--days", "365")
    assert LedgerItem.objects.filter(pk=item.pk).exists()  # items stay: they prevent duplicates
    with pytest.raises(CommandError, match="No connected space with the subdomain 'nowhere'"):
        command("pause", "nowhere")


@pytest.mark.django_db(transaction=True)
def test_pause_without_a_reason_says_an_operator_paused(sandboxes: Sandboxes) -> None:
    world = make_world(sandboxes)
    command("pause", "co-up")
    world.space.refresh_from_db()
    assert str(world.space.pause_message) == "Paused by an operator."


@pytest.mark.django_db(transaction=True)
def test_prune_history_keeps_recent_history_and_running_backfills(settings: Any) -> None:
    space = Space.objects.create(subdomain="p", name="P", cobot_space_id="x")
    item, _created = LedgerItem.record(space, "invoice", "1", source="webhook")
    item.note(LedgerEvent.Kind.NOTE, "Old.")
    old = timezone.now() - timezone.timedelta(days=40)
    LedgerEvent.objects.filter(item=item).update(at=old)
    item.note(LedgerEvent.Kind.NOTE, "Recent.")
    day = dt.date(2025, 1, 1)
    backfills = {
        name: Backfill.objects.create(
            space=space, start_date=day, end_date=day, state=state, finished_at=finished
        )
        for name, state, finished in (
            ("old", "done", old),
            ("recent", "done", timezone.now()),
            ("running", "running", None),
        )
    }
    settings.HISTORY_RETENTION_DAYS = 30  # the default for --days
    out = command("prune_history")
    assert out == "Deleted 1 history entries and 1 finished backfills older than 30 days.\n"
    assert [e.text() for e in item.events.all()] == ["Recent."]
    assert set(Backfill.objects.values_list("pk", flat=True)) == {
        backfills["recent"].pk,
        backfills["running"].pk,
    }


@pytest.mark.django_db(transaction=True)
def test_migrate_also_creates_the_queue_tables(settings: Any, tmp_path: Path) -> None:
    from cobot_sevdesk.queue import build_huey

    settings.HUEY = build_huey(f"sqlite:///{tmp_path / 'planned' / 'q.db'}")
    command("migrate", "--plan")  # only looks
    assert not (tmp_path / "planned").exists()
    settings.HUEY = build_huey(f"sqlite:///{tmp_path / 'queue' / 'q.db'}")
    assert command("migrate").endswith("Database and queue are up to date.\n")
    assert settings.HUEY.pending_count() == 0  # the tables are there
    assert command("migrate", "--verbosity", "0") == ""


@pytest.mark.django_db(transaction=True)
def test_backfill_and_retry_commands(sandboxes: Sandboxes) -> None:
    world = make_world(sandboxes)
    sub = world.subdomain
    for day in ("2025-03-02", "2025-03-09"):
        world.invoice(invoice_date=day)
    world.invoice([invoice_line("Parking", "20", "19", "Parking")], invoice_date="2025-03-10")
    march = ["--from", "2025-03-01", "--to", "2025-03-31", "--inline"]
    assert "Would add 3 invoices (0 already known)" in command("backfill", sub, *march, "--dry-run")
    assert world.vouchers() == []
    out = command("backfill", sub, *march)
    assert out.startswith(f"Backfill #{Backfill.objects.last().pk} for {sub}: 2025-03-01 to")
    assert "\rlisted [###############] 1/1 pages, 3 new  synced [" in out
    assert len(world.vouchers()) == 2
    failed = LedgerItem.objects.get(space=world.space, state="failed")
    # The admin creates the missing account; a retry from the command line sends it.
    world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Parking", like="4400")
    sent = LedgerItem.objects.filter(space=world.space).exclude(state="failed").first()
    assert sent is not None
    assert command("retry", sub, str(sent.pk)) == (
        f"Item {sent.pk} is {sent.state}; only failed or skipped items can be retried.\n"
        "0 item(s) queued again.\n"
    )
    assert command("retry", sub) == "1 item(s) queued again.\n"
    world.drain()
    assert len(world.vouchers()) == 3
    failed.refresh_from_db()
    assert failed.state == sent.state
    # Bad input is a clear message, not a traceback.
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        command("backfill", sub, "--from", "March", "--to", "April")
    with pytest.raises(CommandError, match="needs --from and --to"):
        command("backfill", sub, "--from", "2025-03-01")
    with pytest.raises(CommandError, match="No backfill #999"):
        command("backfill", sub, "--resume", "999")
    with pytest.raises(CommandError, match="No connected space"):
        command("retry", "nowhere")
    with pytest.raises(CommandError, match=f"No item 999999 in {sub}"):
        command("retry", sub, "999999")


@pytest.mark.django_db(transaction=True)
def test_books_check_command_prints_the_comparison_and_exits_1_on_a_difference(
    sandboxes: Sandboxes,
) -> None:
    world = make_world(sandboxes)
    sub = world.subdomain
    invoices = [world.invoice(invoice_date=day) for day in ("2025-02-03", "2025-02-17")]
    for invoice in invoices:
        world.receive_invoice(invoice)
    world.drain()
    out = command("books_check", sub, "--month", "2025-02")  # returns: exit code 0
    assert out.startswith(f"Books check of {sub}: 2025-02-01 to 2025-02-28\n")
    assert re.search(r"EUR      19 %\s+2\s+500\.00\s+95\.00\s+595\.00\s+2\s+500\.00", out)
    # Paid amounts in the total row only (a payment pays an invoice, not a rate).
    assert re.search(r"Gross\s+Paid\s+Count.*Gross\s+Paid\s+Diff\. gross\s+Diff\. paid\n", out)
    side = r"\s+2\s+500\.00\s+95\.00\s+595\.00\s+0\.00"
    assert re.search(rf"EUR      all({side}){{2}}(\s+0\.00){{2}}\n", out)
    assert "The books match." in out and "Calls: Cobot 1, sevDesk " in out
    voucher = world.space.items.get(cobot_id=invoices[0]["id"]).sevdesk_voucher_id
    sandboxes.sevdesk.delete_voucher(world.sevdesk_token, voucher)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("books_check", sub, "--from", "2025-02-01", "--to", "2025-02-28", stdout=out)
    assert exit_code.value.code == 1
    number = invoices[0]["attributes"]["number"]
    assert re.search(rf"  {number}\s+receipt_deleted\s+Sent to sevDesk as receipt", out.getvalue())
    assert "1 difference(s):" in out.getvalue()
    assert world.space.books_checks.filter(trigger="command", state="done").count() == 2
    # Could not check (sevDesk refuses the token): exit code 2, with the reason.
    sandboxes.sevdesk.revoke(world.sevdesk_token)
    with pytest.raises(CommandError, match="could not be made: sevDesk refused") as refused:
        command("books_check", sub, "--month", "2025-02")
    assert refused.value.returncode == 2
    with pytest.raises(CommandError, match="YYYY-MM") as wrong:
        command("books_check", sub, "--month", "February")
    assert wrong.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_skip_command_takes_an_item_out_of_the_way(sandboxes: Sandboxes) -> None:
    world = make_world(sandboxes)
    world.boxes.sevdesk.fault("saveVoucher", status=503, times=None)
    item = world.receive_invoice(world.invoice())
    world.drain()
    item.refresh_from_db()
    assert item.state == "retry_wait"
    out = command("skip", world.subdomain, str(item.pk), "--reason", "booked by hand")
    assert out == f"Item {item.pk} ({item.label}) skipped.\n"
    item.refresh_from_db()
    assert item.state == "skipped"
    assert any(
        e.text().startswith("Skipped by operator ") and "booked by hand" in e.text()
        for e in item.events.all()
    )
    with pytest.raises(CommandError, match="only pending, waiting, unknown or failed"):
        command("skip", world.subdomain, str(item.pk))
    with pytest.raises(CommandError, match="No item 999999"):
        command("skip", world.subdomain, "999999")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_shares_its_metrics_and_stops_on_ctrl_c(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    world = make_world(sandboxes)
    shared = tmp_path / "metrics"
    with workers(sandboxes, tmp_path, PROMETHEUS_MULTIPROC_DIR=str(shared)) as [worker]:
        world.receive_invoice(world.invoice())
        tasks.wake_space(world.space.pk)
        wait_until(lambda: len(world.vouchers()) == 1, message="the invoice synced")
        worker.signal(signal.SIGINT)
        assert worker.process.wait(10) == 0
    # The calls it made are counted where /metrics of every process adds them up.
    assert list(shared.glob("counter_*.db")) and list(shared.glob("histogram_*.db"))
    assert "cobot-sevdesk worker: 4 threads" in worker.output()
