"""A real worker process killed while it books a payment: the next worker reads
sevDesk back before it writes, so the payment is booked exactly once, even when it
starts before sevDesk has finished the killed worker's booking."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobot_sevdesk.ledger.models import LedgerItem, Payment
from cobot_sevdesk.runtime import tasks
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.payment_world import enable_payments, payments, receipt, synced_invoice
from tests.processes import wait_until, workers
from tests.world import make_world

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
State = LedgerItem.State


def test_worker_killed_mid_payment_books_it_exactly_once(
    sandboxes: Sandboxes, tmp_path: Path
) -> None:
    world = make_world(sandboxes)
    enable_payments(world)
    item, invoice = synced_invoice(world)
    world.boxes.cobot.pay_invoice(world.subdomain, invoice["id"], paid_at="2026-03-05")
    world.receive_invoice(invoice, event="updated_invoice")
    # The booking takes 3 s in sevDesk: long enough to kill the worker in the middle.
    sandboxes.sevdesk.fault("bookAmount", method="PUT", delay=3.0)
    with workers(sandboxes, tmp_path, SYNC_UNKNOWN_WINDOW="8") as [first]:
        tasks.wake_space(world.space.pk)
        wait_until(lambda: not sandboxes.sevdesk.faults(), message="bookAmount arrived")
        first.kill()
    [payment] = payments(world)
    assert payment.item.state == State.RUNNING
    assert receipt(world, item)["payments"] == []  # sevDesk is still at it
    # The next worker starts at once, before sevDesk has finished.
    with workers(sandboxes, tmp_path, SYNC_UNKNOWN_WINDOW="8"):
        tasks.wake_space(world.space.pk)
        wait_until(
            lambda: LedgerItem.objects.get(pk=payment.item.pk).is_final,
            timeout=40,
            message="payment finished",
        )
    payment.refresh_from_db()
    assert payment.item.state == State.SYNCED and payment.how == Payment.How.FOUND
    assert len(receipt(world, item)["payments"]) == 1
    assert len(sandboxes.sevdesk.requests(method="PUT", path="bookAmount")) == 1
    assert any("checked first" in e.text() for e in payment.item.events.all())
