"""Correction invoices: a reduction of revenue becomes a credit receipt with positive
amounts under the original's tax rule, naming the receipt it corrects; what cannot be
booked safely is refused with the receipt named. Webhook in, receipt in the sevDesk
sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sandbox.control import invoice_line
from tests.world import World

pytestmark = pytest.mark.django_db
State = LedgerItem.State


def receipt_of(world: World, invoice: dict[str, object]) -> dict[str, object]:
    number = invoice["attributes"]["number"]  # type: ignore[index]
    return next(v for v in world.vouchers() if v["description"] == number)


def test_a_reduction_is_a_credit_receipt_with_positive_amounts_naming_the_original(
    world: World,
) -> None:
    original = world.invoice(
        [invoice_line("Desk", "200", "19", "Desks"), invoice_line("Coffee", "10", "7", "Food")]
    )
    booked = world.run(world.receive_invoice(original))
    correction = world.invoice(
        [
            invoice_line("Desk (refund)", "-50", "19", "Desks"),
            invoice_line("Coffee (refund)", "-10", "7", "Food"),
        ],
        corrected_invoice=original["id"],
    )
    item = world.run(world.receive_invoice(correction))
    assert item.state == State.MISMATCH, item.error_text()  # a walk-in: no contact
    voucher = receipt_of(world, correction)
    assert voucher["creditDebit"] == "C"
    assert voucher["taxRule"]["id"] == receipt_of(world, original)["taxRule"]["id"] == 1
    total = Decimal(correction["attributes"]["totalAmount"]["gross"])
    assert total < 0 and Decimal(voucher["sumGross"]) == -total
    # Per rate, the positions reduce exactly what the correction invoice bills.
    by_rate = {
        Decimal(p["taxRate"]): (Decimal(p["sumNet"]), Decimal(p["sumTax"]))
        for p in voucher["positions"]
    }
    assert by_rate == {
        Decimal(19): (Decimal("50"), Decimal("9.50")),
        Decimal(7): (Decimal("10"), Decimal("0.70")),
    }
    for position in voucher["positions"]:
        assert original["attributes"]["number"] in position["comment"]
        assert str(booked.sevdesk_voucher_id) in position["comment"]
    # The original receipt stays as it was.
    assert Decimal(receipt_of(world, original)["sumGross"]) == Decimal("248.70")


def test_a_correction_of_a_receipt_made_by_hand_finds_it_by_number(world: World) -> None:
    original = world.invoice([invoice_line("Desk", "100", "19", "Desks")])
    world.run(world.receive_invoice(original))
    LedgerItem.objects.filter(cobot_id=original["id"]).delete()  # as if booked by hand
    correction = world.invoice(
        [invoice_line("Desk (refund)", "-100", "19", "Desks")], corrected_invoice=original["id"]
    )
    item = world.run(world.receive_invoice(correction))
    assert item.state in (State.SYNCED, State.MISMATCH), item.error_text()
    assert receipt_of(world, correction)["creditDebit"] == "C"


def test_a_correction_of_an_invoice_without_a_receipt_is_booked_by_hand(world: World) -> None:
    original = world.invoice([invoice_line("Desk", "100", "19", "Desks")])  # never sent
    correction = world.invoice(
        [invoice_line("Desk (refund)", "-100", "19", "Desks")], corrected_invoice=original["id"]
    )
    item = world.run(world.receive_invoice(correction))
    assert item.state == State.FAILED and item.error_code == "correction_by_hand"
    assert "Book this correction by hand in sevDesk" in item.error_text()
    assert original["attributes"]["number"] in item.error_text()
    assert world.vouchers() == []
    assert item in world.space.items.needing_attention()
    assert "Book this correction by hand" in world.activities()[-1]["attributes"]["text"]


def test_a_correction_that_would_change_the_tax_treatment_is_booked_by_hand(
    world: World,
) -> None:
    original = world.invoice([invoice_line("Desk", "100", "0", "Desks")])  # domestic: rule 1
    booked = world.run(world.receive_invoice(original))
    world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Abroad", like="4338")
    world.boxes.cobot.add_accounting_code(world.subdomain, "Abroad")
    correction = world.invoice(
        [invoice_line("Desk (refund)", "-100", "0", "Abroad")],
        corrected_invoice=original["id"],
        recipient={"name": "Max", "company": "Zürcher AG", "countryCode": "CH"},  # rule 17
    )
    item = world.run(world.receive_invoice(correction))
    assert item.state == State.FAILED and item.error_code == "correction_by_hand"
    assert f"it corrects receipt {booked.sevdesk_voucher_id}" in item.error_text()
    assert len(world.vouchers()) == 1


def test_a_negative_invoice_that_corrects_nothing_is_booked_by_hand(world: World) -> None:
    item = world.run(
        world.receive_invoice(world.invoice([invoice_line("Credit", "-20", "19", "Desks")]))
    )
    assert item.state == State.FAILED and item.error_code == "correction_by_hand"
    assert world.vouchers() == []


def test_a_correction_that_raises_the_amount_is_an_income_receipt_naming_the_original(
    world: World,
) -> None:
    original = world.invoice([invoice_line("Desk", "100", "19", "Desks")])
    booked = world.run(world.receive_invoice(original))
    correction = world.invoice(
        [invoice_line("Desk (extra day)", "20", "19", "Desks")], corrected_invoice=original["id"]
    )
    world.run(world.receive_invoice(correction))
    voucher = receipt_of(world, correction)
    assert voucher["creditDebit"] == "D" and Decimal(voucher["sumGross"]) == Decimal("23.80")
    assert str(booked.sevdesk_voucher_id) in voucher["positions"][0]["comment"]


def test_a_credit_receipt_whose_answer_was_lost_is_found_not_repeated(world: World) -> None:
    original = world.invoice([invoice_line("Desk", "100", "19", "Desks")])
    world.run(world.receive_invoice(original))
    correction = world.invoice(
        [invoice_line("Desk (refund)", "-100", "19", "Desks")], corrected_invoice=original["id"]
    )
    world.boxes.sevdesk.fault("saveVoucher", method="POST", drop="after")
    item = world.run(world.receive_invoice(correction))
    assert item.state == State.AMBIGUOUS
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state in (State.SYNCED, State.MISMATCH), item.error_text()
    assert len([v for v in world.vouchers() if v["creditDebit"] == "C"]) == 1
