"""The periodic payment check and the two guesses it rests on, each shown against a
sandbox that behaves the other way: the product fails cleanly, with a clear message,
or catches up on its daily full pass."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cobot_sevdesk.ledger.models import LedgerItem, PaidState, PaymentSettings
from tests.payment_world import (
    check_now,
    cobot_invoice,
    enable_payments,
    pay_in_cobot,
    payments,
    receipt,
    records,
    synced_invoice,
    total,
)
from tests.world import World

pytestmark = pytest.mark.django_db
State = LedgerItem.State


def sevdesk_reads(world: World) -> tuple[int, int]:
    """(list calls with updateAfter, single receipt reads) since the last clear."""
    listed = [
        r
        for r in world.boxes.sevdesk.requests(method="GET", path="^/Voucher$")
        if "updateAfter" in r["query"]
    ]
    single = world.boxes.sevdesk.requests(method="GET", path=r"^/Voucher/\d+$")
    return len(listed), len(single)


def test_after_the_first_full_pass_only_changed_receipts_are_asked_for(world: World) -> None:
    enable_payments(world)
    items = [synced_invoice(world, name=f"Member {n}")[0] for n in range(3)]
    world.boxes.sevdesk.clear_requests()
    check_now(world)  # the first check reads every watched receipt
    assert sevdesk_reads(world) == (0, 3)
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, items[1].sevdesk_voucher_id)
    world.boxes.sevdesk.clear_requests()
    check_now(world)
    assert sevdesk_reads(world) == (1, 0)  # one list call, whatever the number of receipts
    [payment] = payments(world)
    assert payment.invoice == items[1] and payment.how == "recorded"


def test_a_payment_that_leaves_the_receipts_update_time_is_found_by_the_daily_pass(
    world: World,
) -> None:
    """GUESS: a payment changes the receipt's ``update`` time. The sandbox can be set
    not to: the incremental look misses it, the daily full pass finds it."""
    enable_payments(world)
    item, invoice = synced_invoice(world)
    check_now(world)
    # As if the receipt had been made long before this check (beyond its overlap).
    PaymentSettings.objects.filter(space=world.space).update(
        sevdesk_seen_until=timezone.now() + dt.timedelta(minutes=15)
    )
    world.boxes.sevdesk.payment_settings(world.sevdesk_token, payment_updates_voucher=False)
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    check_now(world)
    assert payments(world) == []
    PaymentSettings.objects.filter(space=world.space).update(
        last_full_check_at=timezone.now() - dt.timedelta(hours=25)
    )
    check_now(world)
    [payment] = payments(world)
    assert payment.how == "recorded" and cobot_invoice(world, invoice)["paidStatus"] == "paid"


def test_a_payment_cobot_takes_without_a_record_is_reported_not_guessed(world: World) -> None:
    """GUESS: every payment in Cobot is a payment record. The sandbox can be set to
    take card payments without one: the admin is told, nothing is booked."""
    enable_payments(world)
    world.boxes.cobot.payment_settings(charges_leave_records=False)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice, charge=True)
    assert cobot_invoice(world, invoice)["paidStatus"] == "paid"
    assert payments(world) == [] and receipt(world, item)["payments"] == []
    item.refresh_from_db()
    text = item.attention_text()
    assert f"Cobot shows {total(invoice):.2f} EUR paid" in text and "0.00 EUR" in text
    assert "Book it there by hand" in text
    assert sum("cannot see" in a["attributes"]["text"] for a in world.activities()) == 1
    assert world.space.items.needing_attention().filter(pk=item.pk).exists()
    # Nor does sevDesk's side record it again in Cobot once the bookkeeper books it.
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    check_now(world)
    [payment] = payments(world)
    assert payment.origin == "sevdesk" and payment.how == "found"
    assert records(world, invoice) == []


def test_an_invoice_paid_in_cobot_before_its_receipt_existed_is_booked_by_the_check(
    world: World,
) -> None:
    enable_payments(world)
    member = world.member()
    world.receive_member(member)
    invoice = world.invoice(membership_id=member["id"])
    world.boxes.cobot.pay_invoice(world.subdomain, invoice["id"])  # paid by card at once
    item = world.receive_invoice(invoice)
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED and payments(world) == []
    check_now(world)
    [payment] = payments(world)
    assert payment.how == "account" and receipt(world, item)["status"] == "1000"


def test_a_payment_removed_in_cobot_is_reported(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice, amount="100.00")
    [record] = records(world, invoice)
    _delete_record(world, invoice["id"], record["id"])
    world.receive_invoice(invoice, event="updated_invoice")
    world.drain()
    item.refresh_from_db()
    assert "went down in Cobot, from 100.00 EUR to 0.00 EUR" in item.attention_text()
    assert Decimal(receipt(world, item)["paidAmount"]) == Decimal("100.00")  # not touched


def _delete_record(world: World, invoice_id: str, record_id: str) -> None:
    import requests

    response = requests.delete(
        f"{world.boxes.cobot.base_url}/space/{world.subdomain}/api/invoices/{invoice_id}"
        f"/payment_records/{record_id}",
        headers={"Authorization": f"Bearer {world.cobot_token}"},
        timeout=10,
    )
    assert response.status_code == 204


def test_a_payment_removed_in_sevdesk_is_reported(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice, amount="100.00")
    check_now(world)
    # The bookkeeper undoes the booking in sevDesk (resets the receipt to open).
    world.boxes.sevdesk.unpay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    check_now(world)
    item.refresh_from_db()
    assert len(payments(world)) == 1 and len(records(world, invoice)) == 1
    assert "sevDesk shows 0.00 EUR paid" in item.attention_text()
    assert "less than the 100.00 EUR known" in item.attention_text()


def test_settled_invoices_are_no_longer_watched(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice)
    check_now(world)
    assert PaidState.objects.get(invoice=item).settled
    world.boxes.cobot.clear_requests()
    world.boxes.sevdesk.clear_requests()
    PaymentSettings.objects.filter(space=world.space).update(last_full_check_at=None)
    check_now(world)
    assert not world.boxes.cobot.requests(path="payment_records")
    assert sevdesk_reads(world) == (0, 0)
