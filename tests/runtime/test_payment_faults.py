"""Each payment booked exactly once, whatever goes wrong on the way: a lost answer,
a write that never arrived, a 5xx; on both sides (``bookAmount`` in sevDesk, a payment
record in Cobot). After a write whose outcome is unknown, the other side is read back
before anything is written again, for as long as ``SYNC_UNKNOWN_WINDOW``."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from cobot_sevdesk.ledger.models import LedgerItem, Payment
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.payment_world import (
    check_now,
    enable_payments,
    pay_in_cobot,
    payments,
    receipt,
    records,
    synced_invoice,
    total,
)
from tests.world import World, make_world

pytestmark = pytest.mark.django_db
State = LedgerItem.State


@pytest.fixture
def world(sandboxes: Sandboxes, settings: Any) -> World:
    settings.SYNC_UNKNOWN_WINDOW = 2.0
    world = make_world(sandboxes)
    enable_payments(world)
    return world


def book_calls(world: World) -> int:
    return len(world.boxes.sevdesk.requests(method="PUT", path="bookAmount"))


def settle(world: World, item: LedgerItem, seconds: float = 6.0) -> None:
    """Let retries come due (and the unknown window pass) until the item is done."""
    deadline = time.monotonic() + seconds
    while True:
        world.make_due()
        world.drain()
        item.refresh_from_db()
        if item.is_final or time.monotonic() > deadline:
            return
        time.sleep(0.3)


def test_lost_answer_on_book_amount_is_read_back_not_booked_again(world: World) -> None:
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.fault("bookAmount", method="PUT", drop="after")
    pay_in_cobot(world, invoice)
    [payment] = payments(world)
    assert payment.item.state == State.AMBIGUOUS
    assert "booking_unknown_since" in payment.item.progress
    assert len(receipt(world, item)["payments"]) == 1  # sevDesk did book it
    settle(world, payment.item)
    payment.refresh_from_db()
    assert payment.item.state == State.SYNCED and payment.how == Payment.How.FOUND
    assert book_calls(world) == 1 and len(receipt(world, item)["payments"]) == 1
    assert Decimal(receipt(world, item)["paidAmount"]) == total(invoice)


def test_a_booking_that_never_arrived_is_made_once_after_the_window(world: World) -> None:
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.fault("bookAmount", method="PUT", drop="before")
    pay_in_cobot(world, invoice)
    [payment] = payments(world)
    assert payment.item.state == State.AMBIGUOUS
    world.make_due()
    world.drain()  # within the window: read back only
    payment.item.refresh_from_db()
    assert payment.item.state == State.AMBIGUOUS and receipt(world, item)["payments"] == []
    assert "never booked twice" in payment.item.error_text()
    assert book_calls(world) == 1
    time.sleep(2.1)
    settle(world, payment.item)
    payment.refresh_from_db()
    assert payment.item.state == State.SYNCED and payment.how == Payment.How.CLEARING
    assert book_calls(world) == 2 and len(receipt(world, item)["payments"]) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_on_book_amount_ends_with_one_booking(world: World, status: int) -> None:
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.fault("bookAmount", method="PUT", status=status)
    pay_in_cobot(world, invoice)
    [payment] = payments(world)
    assert payment.item.state == State.RETRY_WAIT
    # sevDesk may have applied it before failing: read back first, over the window.
    assert "booking_unknown_since" in payment.item.progress
    settle(world, payment.item)
    payment.refresh_from_db()
    assert payment.item.state == State.SYNCED
    assert book_calls(world) == 2 and len(receipt(world, item)["payments"]) == 1


def test_lost_answer_on_a_cobot_payment_record_is_read_back(world: World) -> None:
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    world.boxes.cobot.fault("payment_records", method="POST", drop="after")
    check_now(world)
    [payment] = payments(world)
    assert payment.item.state == State.AMBIGUOUS
    assert len(records(world, invoice)) == 1  # Cobot stored it
    settle(world, payment.item)
    payment.refresh_from_db()
    assert payment.item.state == State.SYNCED and payment.how == Payment.How.RECORDED
    [record] = records(world, invoice)
    assert payment.cobot_record_id == record["id"]
    assert len(world.boxes.cobot.requests(method="POST", path="payment_records")) == 1
    check_now(world)  # our record is not taken for a payment made in Cobot
    assert len(payments(world)) == 1


def test_a_5xx_on_a_cobot_payment_record_ends_with_one_record(world: World) -> None:
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    world.boxes.cobot.fault("payment_records", method="POST", status=500)
    check_now(world)
    [payment] = payments(world)
    assert payment.item.state == State.RETRY_WAIT
    settle(world, payment.item)
    assert payment.item.state == State.SYNCED
    assert len(records(world, invoice)) == 1
    assert len(world.boxes.cobot.requests(method="POST", path="payment_records")) == 2


def test_a_refusal_is_not_unknown_and_fails_at_once(world: World) -> None:
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.fault("bookAmount", method="PUT", status=422, times=None)
    pay_in_cobot(world, invoice)
    [payment] = payments(world)
    assert payment.item.state == State.FAILED
    assert "booking_unknown_since" not in payment.item.progress
    world.boxes.sevdesk.clear_faults()
    assert payment.item.retry()
    world.drain()
    payment.item.refresh_from_db()
    assert payment.item.state == State.SYNCED and len(receipt(world, item)["payments"]) == 1
