"""Real worker processes: killed mid-item, stopped gracefully, several at once over
many spaces, and a backfill of thousands that does not starve other spaces."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from django.utils import timezone

from cobot_sevdesk.ledger.models import Backfill, LedgerItem, Space
from cobot_sevdesk.runtime import tasks
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.processes import wait_until, workers
from tests.world import World, make_world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("sync_mode"),  # page and item
]
State = LedgerItem.State


def all_final(space: Space | None = None) -> bool:
    items = LedgerItem.objects.all() if space is None else space.items.all()
    return not items.filter(state__in=LedgerItem.OPEN_STATES).exists() and items.exists()


def test_worker_killed_mid_item_is_finished_by_another_without_duplicates(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    world = make_world(sandboxes)
    invoice = world.invoice()
    item = world.receive_invoice(invoice)
    # Each receipt save takes 3 s: long enough to kill the worker in the middle.
    sandboxes.sevdesk.fault("saveVoucher", method="POST", delay=3.0)
    with workers(sandboxes, tmp_path) as [first]:
        tasks.wake_space(world.space.pk)
        # The fault is used up when saveVoucher arrives: the worker is now waiting for it.
        wait_until(lambda: not sandboxes.sevdesk.faults(), message="saveVoucher arrived")
        first.kill()
        item.refresh_from_db()
        assert item.state == State.RUNNING
    # sevDesk finishes storing the receipt although nobody waits for the answer.
    wait_until(lambda: len(world.vouchers()) == 1, message="sevDesk stored the receipt")
    with workers(sandboxes, tmp_path):
        wait_until(lambda: all_final(world.space), timeout=30, message="item finished")
    item.refresh_from_db()
    assert item.state == State.MISMATCH  # no contact: an invoice without a member
    assert len(world.vouchers()) == 1
    assert item.sevdesk_voucher_id == int(world.vouchers()[0]["id"])
    assert any("checked first" in e.text() for e in item.events.all())


def test_sigterm_finishes_the_current_item_and_stops(sandboxes: Sandboxes, tmp_path: Path) -> None:
    world = make_world(sandboxes)
    for n in range(20):
        world.receive_invoice(world.invoice([invoice_line(f"Desk {n}", "10", "19", "Desks")]))
    sandboxes.sevdesk.set_delay(0.05)
    with workers(sandboxes, tmp_path) as [worker]:
        tasks.wake_space(world.space.pk)
        wait_until(
            lambda: world.space.items.filter(state=State.MISMATCH).count() >= 2, message="progress"
        )
        started = time.monotonic()
        assert worker.stop(timeout=20) == 0
        assert time.monotonic() - started < 10
    assert not world.space.items.filter(state=State.RUNNING).exists()
    assert Space.objects.get(pk=world.space.pk).lease_owner == ""
    done = world.space.items.filter(state=State.MISMATCH).count()
    assert 2 <= done < 20
    assert len(world.vouchers()) == done  # nothing half-written


def test_three_workers_many_spaces_no_duplicates_and_order_kept(
    sandboxes: Sandboxes, tmp_path: Path, sync_mode: str
) -> None:
    worlds: list[World] = [make_world(sandboxes, f"space-{n}") for n in range(8)]
    sandboxes.sevdesk.set_delay(0.005)
    for world in worlds:
        for m in range(3):
            member = world.member(f"Member {m} Of {world.subdomain}")
            world.receive_member(member)
            for k in range(2):
                world.receive_invoice(
                    world.invoice(
                        [invoice_line(f"Desk {k}", "100", "19", "Desks")],
                        membership_id=member["id"],
                    )
                )
    with workers(sandboxes, tmp_path, count=3, threads=4):
        for world in worlds:
            tasks.wake_space(world.space.pk)
        wait_until(all_final, timeout=120, message="all spaces synced")
    for world in worlds:
        items = list(world.space.items.order_by("id"))
        assert {i.state for i in items} == {State.SYNCED}, [i.error_text() for i in items]
        assert len(world.contacts()) == 3 and len(world.vouchers()) == 6
        # One worker per space, oldest first: items finished in the order they came in
        # (in page mode, two invoices of a space at a time: each after its member).
        finished = [i.finished_at for i in items]
        if sync_mode == "items":
            assert finished == sorted(finished)
        member_done = {i.cobot_id: i.finished_at for i in items if i.kind == "member"}
        for invoice in (i for i in items if i.kind == "invoice"):
            [member_id] = [m for m in member_done if m in str(invoice.cobot_data)]
            assert invoice.finished_at > member_done[member_id]
        # Every receipt went to its member's contact.
        contact_by_member = {i.cobot_id: i.sevdesk_contact_id for i in items if i.kind == "member"}
        assert {i.sevdesk_contact_id for i in items if i.kind == "invoice"} == set(
            contact_by_member.values()
        )


def test_backfill_of_thousands_resumes_after_a_stop_and_does_not_starve_others(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    big = make_world(sandboxes, "big")
    other = make_world(sandboxes, "other")
    count = 2000
    for n in range(count):
        big.boxes.cobot.add_invoice(
            big.subdomain,
            [invoice_line("Desk", str(10 + n % 7), "19", "Desks")],
            invoice_date=f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}",
        )
    job = Backfill.objects.create(
        space=big.space, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31)
    )
    with workers(sandboxes, tmp_path, count=1, threads=4) as [first]:
        tasks.wake_space(big.space.pk)
        wait_until(
            lambda: big.space.items.filter(state=State.MISMATCH).count() >= 300,
            timeout=120,
            message="backfill under way",
        )
        first.stop()  # interrupted...
    synced_before = big.space.items.filter(state=State.MISMATCH).count()
    assert synced_before < count
    with workers(sandboxes, tmp_path, count=1, threads=4):  # ...and resumed
        tasks.wake_space(big.space.pk)
        # Meanwhile, another space's new invoice.
        time.sleep(1.0)
        created = time.monotonic()
        item = other.receive_invoice(other.invoice())
        tasks.wake_space(other.space.pk)
        wait_until(
            lambda: LedgerItem.objects.get(pk=item.pk).is_final,
            timeout=30,
            interval=0.05,
            message="the other space's invoice",
        )
        latency = time.monotonic() - created
        assert latency < 5.0, f"the other space waited {latency:.1f} s"
        wait_until(
            lambda: all_final(big.space) and Backfill.objects.get(pk=job.pk).state == "done",
            timeout=600,
            interval=0.5,
            message="backfill done",
        )
    job.refresh_from_db()
    assert job.added == count
    assert big.space.items.filter(state=State.MISMATCH).count() == count
    vouchers = big.vouchers()
    assert len(vouchers) == count
    assert len({v["description"] for v in vouchers}) == count
    print(f"\nother space's invoice synced in {latency:.2f} s during a {count}-invoice backfill")


def test_huey_queue_loss_is_recovered_by_the_sweep(sandboxes: Sandboxes, tmp_path: Path) -> None:
    world = make_world(sandboxes)
    world.receive_invoice(world.invoice())
    Space.objects.filter(pk=world.space.pk).update(wake_pending=True)  # a queued turn that got lost
    with workers(sandboxes, tmp_path):
        wait_until(lambda: all_final(world.space), timeout=20, message="swept and synced")
    assert len(world.vouchers()) == 1
    assert Space.objects.get(pk=world.space.pk).reconcile_due_at > timezone.now() - dt.timedelta(
        days=2
    )
