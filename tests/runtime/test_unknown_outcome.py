"""Never twice, also when sevDesk is slow: after a write whose outcome is unknown,
nothing is written again until read-backs spread over ``SYNC_UNKNOWN_WINDOW`` have found
nothing; and after every create, a look-up catches a duplicate that slipped through."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from cobot_sevdesk.ledger.models import LedgerItem
from tests.world import World

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("sync_mode")]
State = LedgerItem.State


def invoice_item(world: World) -> tuple[LedgerItem, dict[str, Any]]:
    member = world.member("Jane Doe")
    invoice = world.invoice(membership_id=member["id"])
    world.receive_member(member)
    return world.receive_invoice(invoice), invoice


def saves(world: World) -> int:
    return len(world.boxes.sevdesk.requests(method="POST", path="saveVoucher"))


def test_a_write_committed_20_s_after_its_timeout_ends_with_one_receipt(
    world: World, settings: Any
) -> None:
    settings.HTTP_READ_TIMEOUT = 1.0
    settings.SYNC_UNKNOWN_WINDOW = 30.0
    item, _invoice = invoice_item(world)
    # sevDesk takes 20 s to commit the receipt; we stop waiting after 1 s.
    world.boxes.sevdesk.fault("saveVoucher", delay=20.0, times=1)
    world.drain()
    item.refresh_from_db()
    assert item.state == State.AMBIGUOUS and "receipt_unknown_since" in item.progress
    started = time.monotonic()
    while time.monotonic() - started < 24:
        # Read-backs as often as the worker would ever make them: nothing is found
        # before the late commit, and nothing is written meanwhile.
        world.make_due()
        world.drain()
        assert saves(world) <= 1 and len(world.vouchers()) <= 1  # logged once committed
        item.refresh_from_db()
        if item.state == State.SYNCED:
            break
        assert item.state == State.AMBIGUOUS, item.error_text()
        assert "never booked twice" in item.error_text()
        time.sleep(1.0)
    assert item.state == State.SYNCED and item.attempts > 2
    assert time.monotonic() - started > 15  # it took the late commit to settle it
    [voucher] = world.vouchers()
    assert int(voucher["id"]) == item.sevdesk_voucher_id
    assert saves(world) == 1 and item.attention is None


def test_a_write_that_never_arrived_is_made_once_after_the_window(
    world: World, settings: Any
) -> None:
    settings.SYNC_UNKNOWN_WINDOW = 3.0
    item, _invoice = invoice_item(world)
    world.boxes.sevdesk.fault("saveVoucher", drop="before", times=1)
    world.drain()
    item.refresh_from_db()
    assert item.state == State.AMBIGUOUS
    world.make_due()
    world.drain()  # within the window: read back only
    item.refresh_from_db()
    assert item.state == State.AMBIGUOUS and saves(world) == 1 and world.vouchers() == []
    time.sleep(3.2)
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED and saves(world) == 2 and len(world.vouchers()) == 1
    assert "receipt_unknown_since" not in item.progress


def test_a_duplicate_found_after_the_create_is_reported_for_the_admin(world: World) -> None:
    number = "RE-4711"
    invoice = world.invoice(number=number)
    day = dt.date.fromisoformat(invoice["attributes"]["invoiceDate"])
    # Someone booked the same document number in sevDesk by hand meanwhile (with the
    # invoice's date), and the look-up before our create did not see it yet.
    world.receipt_by_hand(number, day, "297.50")
    world.boxes.sevdesk.fault("/Voucher$", status=200, body={"objects": []}, times=1)
    item = world.receive_invoice(invoice)
    world.drain()
    item.refresh_from_db()
    assert item.state in LedgerItem.SENT_STATES and len(world.vouchers()) == 2
    assert item.attention is not None
    text = str(item.attention)
    assert f"2 receipts with the document number {number}" in text
    assert f"Delete the extra receipt {item.sevdesk_voucher_id}" in text
    assert any("booked more than once" in a["attributes"]["text"] for a in world.activities())
