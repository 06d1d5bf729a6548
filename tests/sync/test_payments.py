"""Payments both ways, through the real entry points: a payment in Cobot arrives as
Cobot's ``updated_invoice`` webhook and is booked on the receipt in the sevDesk
sandbox; a receipt paid in sevDesk is found by the periodic check (the worker's turn)
and recorded in the Cobot sandbox. Each payment once on each side."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobot_sevdesk.ledger.models import LedgerItem, PaidState, Payment
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


def test_invoice_paid_in_cobot_is_booked_on_the_clearing_account(world: World) -> None:
    clearing = enable_payments(world)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice, paid_at="2026-03-05", method="bank transfer")
    [payment] = payments(world)
    assert payment.origin == Payment.Origin.COBOT and payment.item.state == State.SYNCED
    assert payment.how == Payment.How.CLEARING and payment.check_account_id == clearing
    voucher = receipt(world, item)
    assert voucher["status"] == "1000" and Decimal(voucher["paidAmount"]) == total(invoice)
    assert voucher["payDate"].startswith("2026-03-05")
    [booking] = voucher["payments"]
    assert booking["checkAccount"] == clearing and Decimal(booking["amount"]) == total(invoice)
    # The booking's type and date as sevDesk documents them.
    [sent] = world.boxes.sevdesk.requests(method="PUT", path="bookAmount")
    assert sent["body"]["type"] == "FULL_PAYMENT"
    assert sent["body"]["date"].startswith("2026-03-05T00:00:00")
    assert "checkAccountTransaction" not in sent["body"]  # offline account: none
    paid = PaidState.objects.get(invoice=item)
    assert paid.cobot_cents == paid.sevdesk_cents == item.amount_cents


def test_a_matching_bank_line_is_booked_instead_of_the_clearing_account(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    bank = world.boxes.sevdesk.add_bank_account(world.sevdesk_token, "Sparkasse", "1801")
    number = invoice["attributes"]["number"]
    amount = str(total(invoice))
    for purpose, value in (
        (f"Rechnung {number}1 Jane Doe", amount),  # another invoice's number
        (f"Rechnung {number} Jane Doe", "1.00"),  # another amount
        ("Miete März", amount),  # no number
    ):
        world.boxes.sevdesk.import_bank_line(
            world.sevdesk_token, bank, value, purpose, value_date="2026-03-04"
        )
    line = world.boxes.sevdesk.import_bank_line(
        world.sevdesk_token, bank, amount, f"RE {number.lower()} Jane Doe", value_date="2026-03-04"
    )
    pay_in_cobot(world, invoice, paid_at="2026-03-05")
    [payment] = payments(world)
    assert payment.how == Payment.How.BANK_LINE and payment.bank_line_id == line
    [booking] = receipt(world, item)["payments"]
    assert (booking["checkAccount"], booking["transaction"]) == (bank, line)
    lines = {int(t["id"]): t["status"] for t in world.sevdesk()["transactions"]}
    assert lines[line] == "400" and sorted(lines.values()).count("100") == 3


def test_two_bank_lines_for_the_same_payment_are_left_to_the_admin(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    bank = world.boxes.sevdesk.add_bank_account(world.sevdesk_token, "Sparkasse", "1801")
    for _n in range(2):
        world.boxes.sevdesk.import_bank_line(
            world.sevdesk_token,
            bank,
            str(total(invoice)),
            f"Rechnung {invoice['attributes']['number']}",
            value_date="2026-03-04",
        )
    pay_in_cobot(world, invoice, paid_at="2026-03-05")
    [payment] = payments(world)
    assert payment.item.state == State.FAILED
    assert "2 unbooked bank lines" in payment.item.error_text()
    assert receipt(world, item)["payments"] == []
    assert world.space.items.needing_attention().filter(pk=payment.item.pk).exists()


def test_receipt_paid_in_sevdesk_is_recorded_in_cobot_and_does_not_come_back(
    world: World,
) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    bank = world.boxes.sevdesk.add_bank_account(world.sevdesk_token, "Sparkasse", "1801")
    line = world.boxes.sevdesk.import_bank_line(
        world.sevdesk_token, bank, str(total(invoice)), "Überweisung", value_date="2026-03-07"
    )
    world.boxes.sevdesk.pay_voucher(
        world.sevdesk_token, item.sevdesk_voucher_id, transaction=line, date="2026-03-07"
    )
    check_now(world)
    [payment] = payments(world)
    assert payment.origin == Payment.Origin.SEVDESK and payment.how == Payment.How.RECORDED
    assert payment.paid_on.isoformat() == "2026-03-07"
    shown = cobot_invoice(world, invoice)
    assert shown["paidStatus"] == "paid" and Decimal(shown["paidAmount"]) == total(invoice)
    [record] = records(world, invoice)
    assert record["id"] == payment.cobot_record_id and record["paid_on"].isoformat() == "2026-03-07"
    assert f"receipt {item.sevdesk_voucher_id}" in record["note"]
    # Cobot reports its change back, and the checks run again: nothing new, nothing sent.
    world.receive_invoice(invoice, event="updated_invoice")
    world.drain()
    check_now(world)
    assert len(payments(world)) == 1 and len(records(world, invoice)) == 1
    assert len(receipt(world, item)["payments"]) == 1
    assert PaidState.objects.get(invoice=item).settled


def test_a_payment_booked_from_cobot_is_not_sent_back(world: World) -> None:
    enable_payments(world)
    _item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice)
    world.boxes.cobot.clear_requests()
    check_now(world)  # sevDesk now shows the receipt paid: that is our own booking
    assert len(payments(world)) == 1
    assert len(records(world, invoice)) == 1
    assert not world.boxes.cobot.requests(method="POST", path="payment_records")


def test_partial_payments_both_ways(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world, net="250.00")  # 297.50 gross
    pay_in_cobot(world, invoice, amount="100.00", paid_at="2026-03-05")
    voucher = receipt(world, item)
    assert voucher["status"] == "750" and Decimal(voucher["paidAmount"]) == Decimal("100.00")
    assert world.boxes.sevdesk.requests(method="PUT", path="bookAmount")[-1]["body"]["type"] == "N"
    assert cobot_invoice(world, invoice)["paidStatus"] == "unpaid"
    # The rest is paid by bank transfer and booked in sevDesk by the bookkeeper.
    world.boxes.sevdesk.pay_voucher(
        world.sevdesk_token, item.sevdesk_voucher_id, amount="197.50", date="2026-03-09"
    )
    check_now(world)
    first, second = payments(world)
    assert (first.origin, first.amount_cents) == ("cobot", 10000)
    assert (second.origin, second.amount_cents, second.how) == ("sevdesk", 19750, "recorded")
    shown = cobot_invoice(world, invoice)
    assert shown["paidStatus"] == "paid" and Decimal(shown["paidAmount"]) == total(invoice)
    assert sorted(r["amount"] for r in records(world, invoice)) == [
        Decimal("100.00"),
        Decimal("197.50"),
    ]
    assert receipt(world, item)["status"] == "1000"


def test_the_same_money_marked_paid_on_both_sides_is_not_booked_twice(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    # The member transferred the money; the bookkeeper books the bank line in sevDesk...
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    # ...and the space admin marks the invoice paid in Cobot as well.
    pay_in_cobot(world, invoice)
    check_now(world)
    [payment] = payments(world)
    assert payment.origin == "cobot" and payment.how == Payment.How.FOUND
    assert len(receipt(world, item)["payments"]) == 1 and len(records(world, invoice)) == 1
    assert "already shows this payment" in payment.item.events.last().text()  # type: ignore[union-attr]


def test_a_receipt_already_paid_in_sevdesk_is_not_booked_again(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    pay_in_cobot(world, invoice, amount="50.00")  # a different amount: which is it?
    [payment] = payments(world)
    assert payment.item.state == State.SKIPPED and payment.how == ""
    assert "cannot tell whether the payment of 50.00 EUR" in payment.item.attention_text()
    assert len(receipt(world, item)["payments"]) == 1
    # The admin looks and marks it handled: it counts as in sevDesk, nothing comes back.
    assert payment.item.attention_handled("ada@example.org")
    from cobot_sevdesk.sync.payments import handled_by_admin

    handled_by_admin(payment.item)
    check_now(world)
    assert len(payments(world)) == 2  # sevDesk's payment: the rest, recorded in Cobot
    rest = payments(world)[1]
    assert rest.amount_cents == item.amount_cents - 5000 and rest.how == "recorded"


def test_an_overpayment_is_held_with_the_numbers(world: World) -> None:
    enable_payments(world)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice, amount="400.00")
    [payment] = payments(world)
    assert payment.item.state == State.SKIPPED
    text = payment.item.attention_text()
    assert "overpaid" in text and "400.00 EUR" in text and "297.50 EUR" in text
    assert receipt(world, item)["payments"] == []
    said = world.activities()[-1]  # and in Cobot's feed, with a link to the details
    assert said["level"] == "WARN" and "overpaid" in said["attributes"]["text"]
    assert f"/items/{payment.item.pk}/" in said["attributes"]["text"]


def test_switched_off_nothing_is_looked_for(world: World) -> None:
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice)
    check_now(world)
    assert payments(world) == [] and receipt(world, item)["payments"] == []
    assert not world.boxes.cobot.requests(path="payment_records")


def test_only_the_switched_on_direction_runs(world: World) -> None:
    enable_payments(world, book=False, mark=True)
    item, invoice = synced_invoice(world)
    pay_in_cobot(world, invoice)  # Cobot payments are not booked in sevDesk
    check_now(world)
    assert payments(world) == [] and receipt(world, item)["payments"] == []
    world.boxes.sevdesk.clear_requests()
    other, other_invoice = synced_invoice(world, name="Max Mustermann")
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, other.sevdesk_voucher_id)
    check_now(world)
    [payment] = payments(world)
    assert payment.invoice == other and payment.how == "recorded"
    # The first invoice, paid in Cobot, is not recorded again: it is paid there.
    assert len(records(world, invoice)) == 1 and len(records(world, other_invoice)) == 1


def test_a_token_without_the_payment_scopes_fails_with_a_clear_message(world: World) -> None:
    world.space.cobot_token = world.boxes.cobot.add_token(
        world.admin_id, space=world.subdomain, scope="read write"
    )
    world.space.save()
    enable_payments(world)
    item, invoice = synced_invoice(world)
    world.boxes.sevdesk.pay_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    check_now(world)
    [payment] = payments(world)
    assert payment.item.state == State.FAILED
    assert "log in again" in payment.item.error_text()
    pay_in_cobot(world, invoice)
    from cobot_sevdesk.ledger.models import PaymentSettings

    setup = PaymentSettings.objects.get(space=world.space)
    assert setup.last_error is not None and "log in again" in str(setup.last_error)
