"""Durable processing in one process: turns, leases, faults, pauses, reconciliation,
backfill. Every fault the sandboxes can inject ends in the right state and, after
recovery, exactly one contact per member and one receipt per invoice."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.models import Backfill, LedgerItem, Space
from cobot_sevdesk.runtime import tasks, worker
from cobot_sevdesk.runtime.throttle import CobotThrottle
from cobot_sevdesk.runtime.worker import SpaceLease, drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sync import backfill
from tests.world import World, make_world

# Every test in both ways of reading invoices (page and item), so the faults end the
# same way in both.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sync_mode")]
State = LedgerItem.State


def member_and_invoice(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    member = world.member("Jane Doe", city="Berlin", email="jane@example.org")
    invoice = world.invoice(membership_id=member["id"])
    world.receive_member(member)
    world.receive_invoice(invoice)
    return member, invoice


def assert_exactly_once(world: World) -> None:
    contacts, vouchers = world.contacts(), world.vouchers()
    assert len({c["customerNumber"] for c in contacts}) == len(contacts)
    assert len({v["description"] for v in vouchers}) == len(vouchers)


def recover(world: World) -> None:
    world.boxes.sevdesk.clear_faults()
    world.boxes.cobot.clear_faults()
    world.make_due()
    world.drain()


# ------------------------------------------------------------------ faults
@pytest.mark.parametrize(
    ("fault", "state_after_fault"),
    [
        ({"path": "saveVoucher", "status": 500, "times": None}, State.RETRY_WAIT),
        (
            {"path": "saveVoucher", "status": 429, "retry_after": "2", "times": None},
            State.RETRY_WAIT,
        ),
        (
            {"path": "saveVoucher", "delay": 1.0, "times": 1},
            State.AMBIGUOUS,
        ),  # read timeout on a write
        ({"path": "saveVoucher", "drop": "after", "times": 1}, State.AMBIGUOUS),
        ({"path": "saveVoucher", "drop": "before", "times": 1}, State.AMBIGUOUS),
        ({"path": "/Voucher$", "status": 502, "times": None}, State.RETRY_WAIT),
    ],
)
def test_sevdesk_faults_end_in_the_right_state_and_recover_to_exactly_once(
    world: World, fault: dict[str, Any], state_after_fault: str, settings: Any
) -> None:
    settings.HTTP_READ_TIMEOUT = 0.5
    # Recovery here is about what happens after the window of read-backs (its own test
    # is below): a write that was never committed is then made once.
    settings.SYNC_UNKNOWN_WINDOW = 0
    _member, invoice = member_and_invoice(world)
    world.boxes.sevdesk.fault(**fault)
    world.drain()
    item = LedgerItem.objects.get(kind="invoice", cobot_id=invoice["id"])
    assert item.state == state_after_fault, item.error_text()
    assert item.error_text()
    time.sleep(1.2 if fault.get("delay") else 0)  # let the slow request finish server-side
    recover(world)
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert len(world.vouchers()) == 1 and len(world.contacts()) == 1
    assert_exactly_once(world)


def test_retry_after_is_honoured_for_the_item_and_the_space(world: World) -> None:
    _member, _invoice = member_and_invoice(world)
    world.boxes.cobot.fault("/api2/invoices/", status=429, retry_after="30", times=None)
    results = world.drain()
    item = LedgerItem.objects.get(kind="invoice")
    assert item.state == State.RETRY_WAIT and item.error_code == "rate_limited"
    wait = (item.next_attempt_at - timezone.now()).total_seconds()
    assert 25 < wait <= 30
    assert results[-1].next_due is not None and results[-1].next_due >= item.next_attempt_at
    # One 429 ends the space's turn: no string of requests into the limit.
    assert len(world.boxes.cobot.requests(path="/api2/invoices/")) == 1


def test_422_fails_the_item_at_once_without_retrying(world: World) -> None:
    _member, _invoice = member_and_invoice(world)
    world.boxes.sevdesk.fault(
        "saveVoucher", status=422, body={"error": {"message": "Buchungskonto gesperrt"}}
    )
    world.drain()
    item = LedgerItem.objects.get(kind="invoice")
    assert item.state == State.FAILED and "Buchungskonto gesperrt" in item.error_text()
    assert len(world.boxes.sevdesk.requests(method="POST", path="saveVoucher")) == 1


def test_transient_errors_run_out_of_attempts(world: World, settings: Any) -> None:
    settings.SYNC_MAX_ATTEMPTS = 3
    _member, _invoice = member_and_invoice(world)
    world.boxes.sevdesk.fault("saveVoucher", status=503, times=None)
    for _ in range(3):
        world.make_due()
        world.drain()
    item = LedgerItem.objects.get(kind="invoice")
    assert (item.state, item.attempts) == (State.FAILED, 3)
    assert any(a["level"] == "ERROR" for a in world.activities())


def test_revoked_sevdesk_token_pauses_the_space_and_it_resumes_by_itself(world: World) -> None:
    _member, _invoice = member_and_invoice(world)
    world.boxes.sevdesk.revoke(world.sevdesk_token)
    world.drain()
    world.space.refresh_from_db()
    assert (world.space.status, world.space.pause_reason) == (Space.Status.PAUSED, "sevdesk_auth")
    assert "paused" in world.activities()[-1]["attributes"]["text"]
    item = LedgerItem.objects.get(kind="member")
    assert item.state == State.PENDING and item.attempts == 0  # not the item's fault
    calls = len(world.boxes.sevdesk.requests())
    world.drain()
    assert len(world.boxes.sevdesk.requests()) == calls  # no calls with a dead token...
    # ...except the periodic health check, which resumes the space once it works.
    world.boxes.sevdesk.restore(world.sevdesk_token)
    Space.objects.filter(pk=world.space.pk).update(reconcile_due_at=timezone.now())
    world.drain()
    world.space.refresh_from_db()
    assert world.space.status == Space.Status.ACTIVE
    assert LedgerItem.objects.filter(state=State.SYNCED).count() == 2
    assert len(world.contacts()) == 1 and len(world.vouchers()) == 1


def test_revoked_cobot_token_pauses_the_space(world: World) -> None:
    member_and_invoice(world)
    world.boxes.cobot.revoke_token(world.cobot_token)
    world.drain()
    world.space.refresh_from_db()
    assert world.space.pause_reason == "cobot_auth"
    assert world.contacts() == []


# ------------------------------------------------------------------ webhooks
def test_webhooks_delivered_twice_and_out_of_order(world: World) -> None:
    member = world.member("Jane Doe")
    invoice = world.invoice(membership_id=member["id"])
    for _ in range(2):
        world.receive_invoice(invoice)
    world.receive_member(member, "created_membership")
    world.receive_member(member, "confirmed_membership")
    world.drain()
    assert LedgerItem.objects.count() == 2
    assert set(LedgerItem.objects.values_list("state", flat=True)) == {State.SYNCED}
    [contact] = world.contacts()
    [voucher] = world.vouchers()
    assert voucher["supplier"]["id"] == contact["id"]


def test_missed_webhooks_are_caught_up_by_reconciliation(world: World) -> None:
    member = world.member("Jane Doe")
    invoice = world.invoice(membership_id=member["id"])
    # No webhook at all; and Cobot switched the subscriptions off.
    Space.objects.filter(pk=world.space.pk).update(reconcile_due_at=timezone.now())
    world.drain()
    items = {(i.kind, i.source) for i in LedgerItem.objects.all()}
    assert items == {("member", "reconcile"), ("invoice", "reconcile")}
    assert LedgerItem.objects.get(kind="invoice").state == State.SYNCED
    subscriptions = world.boxes.cobot.space(world.subdomain)["subscriptions"]
    assert {s["event"] for s in subscriptions} == set(EVENTS)
    # Cobot deactivates one; the next reconciliation re-creates it.
    dead = next(s for s in subscriptions if s["event"] == "created_invoice")
    world.boxes.cobot.deactivate_subscription(world.subdomain, dead["id"])
    Space.objects.filter(pk=world.space.pk).update(reconcile_due_at=timezone.now())
    world.drain()
    active = [s for s in world.boxes.cobot.space(world.subdomain)["subscriptions"] if s["active"]]
    assert {s["event"] for s in active} >= {"created_invoice"}
    assert len(world.vouchers()) == 1
    assert invoice["attributes"]["number"] == world.vouchers()[0]["description"]


def test_reconciliation_ignores_what_predates_the_connection(world: World) -> None:
    world.invoice(invoice_date="2020-01-01")
    Space.objects.filter(pk=world.space.pk).update(reconcile_due_at=timezone.now())
    world.drain()
    assert LedgerItem.objects.count() == 0


# ------------------------------------------------------------------ leases and turns
def test_lease_is_exclusive_and_expires(world: World) -> None:
    # Long enough that a slow machine does not let the first lease run out by itself
    # before the second holder's attempt.
    first = SpaceLease(world.space.pk, "a", ttl=1.0)
    second = SpaceLease(world.space.pk, "b", ttl=1.0)
    assert first.acquire()
    assert not second.acquire()
    assert drain_space(world.space.pk).acquired is False
    time.sleep(1.05)
    assert second.acquire()  # the first holder died; its lease ran out
    assert not first.renew()
    second.release()
    assert first.acquire()


def test_a_turn_is_a_slice_and_queues_the_rest(world: World) -> None:
    for n in range(6):
        world.receive_invoice(world.invoice([invoice_line(f"Desk {n}", "10", "19", "Desks")]))
    result = drain_space(world.space.pk, slice_seconds=0.0)
    assert result.acquired and result.processed == 0 and result.more
    assert result.requeue_in == 0.0  # the rest is queued at once, behind other spaces
    result = drain_space(world.space.pk, slice_seconds=60)
    assert result.processed == 6 and not result.more and result.requeue_in is None


def test_items_are_taken_oldest_first(world: World, sync_mode: str, settings: Any) -> None:
    settings.SYNC_PAGE_LANES = 2  # the assertion below counts how far one may overtake
    invoices = [world.invoice([invoice_line(f"Desk {n}", "10", "19", "Desks")]) for n in range(4)]
    for invoice in reversed(invoices):
        world.receive_invoice(invoice)
    world.drain()
    received = [i.label for i in LedgerItem.objects.order_by("id")]
    saves = [
        r["body"]["voucher"]["description"]
        for r in world.boxes.sevdesk.requests("POST", "saveVoucher")
    ]
    if sync_mode == "items":
        assert saves == received
    else:
        # Two lanes: an item can overtake the one the other lane works on, no more; the
        # worker's own lane saves in order.
        assert sorted(saves) == sorted(received)
        assert saves.index(received[1]) < saves.index(received[3])


def test_stop_request_finishes_the_current_item_and_takes_no_more(world: World) -> None:
    for n in range(3):
        world.receive_invoice(world.invoice([invoice_line(f"Desk {n}", "10", "19", "Desks")]))
    worker.stop_requested.set()
    try:
        result = drain_space(world.space.pk)
    finally:
        worker.stop_requested.clear()
    assert result.processed == 0
    assert world.space.items.filter(state=State.PENDING).count() == 3
    assert Space.objects.get(pk=world.space.pk).lease_owner == ""  # released


def test_wake_queues_once_until_the_turn_ran(world: World) -> None:
    huey = settings.HUEY
    huey.flush()
    assert tasks.wake_space(world.space.pk)
    assert not tasks.wake_space(world.space.pk)
    drain_space(world.space.pk)
    assert tasks.wake_space(world.space.pk)
    assert huey.pending_count() == 2


def test_sweep_queues_spaces_with_due_work_and_free_lease(sandboxes: Sandboxes) -> None:
    busy, _idle, paused = (make_world(sandboxes, name) for name in ("busy", "idle", "paused"))
    for w in (busy, paused):
        w.receive_invoice(w.invoice())
    Space.objects.filter(pk=paused.space.pk).update(status=Space.Status.PAUSED)
    assert worker.spaces_with_due_work() == [busy.space.pk]
    SpaceLease(busy.space.pk, "someone", 30).acquire()
    assert worker.spaces_with_due_work() == []
    # Reconciliation due counts as work, paused or not (it is what resumes a space).
    Space.objects.filter(pk=paused.space.pk).update(reconcile_due_at=timezone.now())
    assert worker.spaces_with_due_work() == [paused.space.pk]


def test_a_crashed_workers_running_item_is_run_again_after_its_lease(world: World) -> None:
    _member, _invoice = member_and_invoice(world)
    world.drain()
    item = LedgerItem.objects.get(kind="invoice")
    # As if a worker died right after sevDesk stored the receipt, before we noted it.
    LedgerItem.objects.filter(pk=item.pk).update(
        state=State.RUNNING, sevdesk_voucher_id=None, progress={}
    )
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED and len(world.vouchers()) == 1


# ------------------------------------------------------------------ throttle
def test_throttle_spaces_calls_evenly() -> None:
    clock = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    throttle = CobotThrottle(1, per_minute=60, sleep=sleep, clock=lambda: clock[0])
    for _ in range(5):
        throttle()
    assert slept == pytest.approx([1.02] * 4)
    clock[0] += 100  # idle: no debt carried over
    slept.clear()
    throttle()
    assert slept == []
    throttle.hold_off(30)
    throttle()
    assert slept == pytest.approx([30.0])


@override_settings(COBOT_REQUESTS_PER_MINUTE=120)
def test_space_stays_under_cobots_limit(world: World) -> None:
    world.boxes.cobot.rate_limit(120)
    for n in range(4):
        world.receive_invoice(world.invoice([invoice_line(f"Desk {n}", "10", "19", "Desks")]))
    started = time.monotonic()
    world.drain()
    assert LedgerItem.objects.filter(state=State.MISMATCH).count() == 4
    cobot_calls = [r for r in world.boxes.cobot.requests() if "authorization" in r["headers"]]
    assert all(r["status"] != 429 for r in cobot_calls)
    assert time.monotonic() - started >= (len(cobot_calls) - 1) * 0.5


# ------------------------------------------------------------------ backfill
def test_backfill_dry_run_shows_what_would_be_added(world: World) -> None:
    for day in range(1, 6):
        world.invoice(invoice_date=f"2025-06-{day:02d}")
    world.receive_invoice(world.invoice(invoice_date="2025-06-03", number="KNOWN-1"))
    job = Backfill.objects.create(
        space=world.space,
        start_date=dt.date(2025, 6, 1),
        end_date=dt.date(2025, 6, 30),
        dry_run=True,
    )
    world.drain()
    job.refresh_from_db()
    assert job.state == Backfill.State.DONE
    assert (job.found, job.added, job.already_known) == (6, 5, 1)
    assert (
        len(job.preview) == 5
        and {"number", "date", "total", "currency", "recipient"} <= job.preview[0].keys()
    )
    assert LedgerItem.objects.filter(source="backfill").count() == 0


def test_backfill_adds_pages_resumes_where_it_stopped_and_syncs_once(
    world: World, monkeypatch: Any
) -> None:
    monkeypatch.setattr(backfill, "PAGE_SIZE", 4)
    for n in range(10):
        world.invoice(
            [invoice_line(f"Desk {n}", "10", "19", "Desks")], invoice_date=f"2025-07-{n + 1:02d}"
        )
    job = Backfill.objects.create(
        space=world.space,
        start_date=dt.date(2025, 7, 1),
        end_date=dt.date(2025, 7, 31),
        include_members=True,
    )
    drain_space(world.space.pk, slice_seconds=0.0)  # one page, then "the worker stops"
    job.refresh_from_db()
    assert (job.next_page, job.added, job.state) == (2, 4, Backfill.State.RUNNING)
    assert job.progress()["pages_done"] == 1 and job.progress()["total_pages"] == 3
    world.drain()  # a new worker picks it up
    job.refresh_from_db()
    assert job.state == Backfill.State.DONE and job.added == 10
    assert job.progress()["synced"] == 10 and job.progress()["percent_synced"] == 100
    assert len(world.vouchers()) == 10
    assert_exactly_once(world)


def test_the_open_items_index_covers_exactly_the_open_states() -> None:
    [index] = [i for i in LedgerItem._meta.indexes if i.name == "ledger_open_by_space"]
    assert index.condition is not None
    [(lookup, states)] = index.condition.children
    assert lookup == "state__in" and sorted(states) == sorted(LedgerItem.OPEN_STATES)


def test_next_due_item_uses_the_partial_indexes(world: World) -> None:
    from django.db import connection

    for items, index in (
        (world.space.items.open, "ledger_open_by_space"),
        (world.space.items.to_recheck, "ledger_recheck_by_space"),
    ):
        query = items().order_by("id")[:1]
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            plan = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
            cursor.execute(plan + sql, params)
            text = " ".join(str(row) for row in cursor.fetchall())
        assert index in text, text


# ------------------------------------------------------------------ housekeeping crashes
def test_a_crashing_periodic_check_or_backfill_step_never_blocks_live_work(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug, not an API error: the only way to make our own code crash is to make it.
    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug in housekeeping")

    monkeypatch.setattr(worker, "reconcile", crash)
    monkeypatch.setattr(backfill, "step", crash)
    job = Backfill.objects.create(
        space=world.space, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 1, 31)
    )
    Space.objects.filter(pk=world.space.pk).update(reconcile_due_at=timezone.now())
    _member, invoice = member_and_invoice(world)
    world.drain()
    item = LedgerItem.objects.get(kind="invoice", cobot_id=invoice["id"])
    assert item.state == State.SYNCED  # live work went through
    world.space.refresh_from_db()
    job.refresh_from_db()
    # Both crashes are recorded where the admin sees them and pushed back.
    assert "RuntimeError" in str(world.space.last_reconcile_error)
    assert world.space.reconcile_due_at is not None
    assert world.space.reconcile_due_at > timezone.now() + dt.timedelta(minutes=1)
    assert "RuntimeError" in str(job.error) and job.is_active
    assert job.not_before is not None and job.not_before > timezone.now()
