"""The books check's paid amounts, pure: what Cobot shows paid on each invoice against
what sevDesk shows paid on its receipt, summed per currency, and every invoice whose
paid amounts differ with its cause, told from the ledger's payments."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.sync.rules.books import PaidRow, compare, safety_net
from cobot_sevdesk.sync.rules.books_paid import signed_paid
from cobot_sevdesk.sync.rules.books_report import BooksReport, Difference, Receipt, Sums
from tests.sync.rules.test_books import FEB, invoice, receipt, sent


def paid_invoice(number: str, net: str, paid: str, **fields: object) -> Invoice:
    return dataclasses.replace(invoice(number, [(net, "19")], **fields), paid_amount=Decimal(paid))  # type: ignore[arg-type]


def paid_receipt(voucher_id: int, number: str, gross: str, paid: str, **fields: object) -> Receipt:
    made = receipt(voucher_id, number, [(gross, "19")], **fields)  # type: ignore[arg-type]
    return Receipt(dataclasses.replace(made.voucher, paid_amount=Decimal(paid)), made.positions)


def check(inv: Invoice, booked: Receipt, paid: PaidRow | None = None) -> BooksReport:
    return compare(FEB, [inv], [booked], [sent(inv, booked.id, item_id=7, paid=paid)])


def test_paid_amounts_are_summed_per_currency_and_empty_per_rate() -> None:
    a = paid_invoice("2025-0001", "100.00", "119.00")
    b = paid_invoice("2025-0002", "50.00", "20.00")
    c = paid_invoice("2025-0003", "10.00", "0")
    receipts = [
        paid_receipt(11, "2025-0001", "119.00", "119.00"),
        paid_receipt(12, "2025-0002", "59.50", "20.00"),
        paid_receipt(13, "2025-0003", "11.90", "0"),
        paid_receipt(99, "Office chairs", "595.00", "595.00"),  # not from Cobot
    ]
    rows = [sent(a, 11), sent(b, 12, item_id=2), sent(c, 13, item_id=3)]
    report = compare(FEB, [a, b, c], receipts, rows)
    assert report.matches and report.notes == []
    [total] = report.totals
    assert total.cobot.paid == total.sevdesk.paid == Decimal("139.00")
    assert total.delta("paid") == 0 and not total.differs
    [rate] = report.by_rate
    assert rate.cobot.paid is rate.sevdesk.paid is None and rate.delta("paid") is None


def test_paid_in_sevdesk_only_names_the_side_and_the_amount() -> None:
    report = check(
        paid_invoice("2025-0001", "250.00", "0"),
        paid_receipt(11, "2025-0001", "297.50", "297.50"),
        PaidRow(),
    )
    [difference] = report.differences
    assert difference.code == "paid_in_sevdesk_only" and difference.item_id == 7
    assert difference.cause.render() == (
        "Paid in sevDesk only: sevDesk shows 297.50 EUR paid, Cobot nothing."
    )
    assert (difference.cobot_paid, difference.sevdesk_paid) == (Decimal(0), Decimal("297.50"))
    assert difference.cobot_gross is difference.sevdesk_gross is None
    assert [d.render() for d in difference.details] == [
        "The add-on has no record of 297.50 EUR of what sevDesk shows: paid there while "
        "syncing payments was off, or since the add-on last looked."
    ]
    [total] = report.totals
    assert total.delta("paid") == Decimal("297.50") and total.differs
    assert total.delta("gross") == 0


def test_a_payment_the_add_on_knows_but_did_not_write_and_different_amounts() -> None:
    # Paid in Cobot, recorded by the add-on, not booked in sevDesk (switched off).
    report = check(
        paid_invoice("2025-0001", "100.00", "119.00"),
        paid_receipt(11, "2025-0001", "119.00", "0"),
        PaidRow(cobot=11900, sevdesk=0),
    )
    [difference] = report.differences
    assert difference.code == "paid_in_cobot_only"
    assert "Cobot shows 119.00 EUR paid, sevDesk nothing" in difference.cause.render()
    assert "did not write it to sevDesk" in difference.details[0].render()
    # Both paid, in other amounts; and sevDesk shows less than the add-on booked there.
    report = check(
        paid_invoice("2025-0001", "100.00", "119.00"),
        paid_receipt(11, "2025-0001", "119.00", "50.00"),
        PaidRow(cobot=11900, sevdesk=11900),
    )
    [difference] = report.differences
    assert difference.code == "paid_differs"
    assert difference.cause.render() == (
        "The paid amounts differ: Cobot shows 119.00 EUR paid, sevDesk 50.00 EUR, "
        "69.00 EUR more in Cobot."
    )
    assert [d.render() for d in difference.details] == [
        "sevDesk shows less than the 119.00 EUR the add-on accounts for there (what it "
        "wrote or found there, or an admin marked as handled): removed there since, or never "
        "there."
    ]


def test_a_payment_under_way_is_a_note_and_a_held_one_needs_a_decision() -> None:
    inv = paid_invoice("2025-0001", "100.00", "119.00")
    booked = paid_receipt(11, "2025-0001", "119.00", "0")
    report = check(inv, booked, PaidRow(cobot=11900, under_way=1))
    assert report.matches, [d.code for d in report.differences]
    [note] = report.notes
    assert note.code == "payment_under_way" and "they agree once it is there" in str(note.cause)
    assert report.totals[0].delta("paid") == Decimal("-119.00")  # shown, and explained

    report = check(inv, booked, PaidRow(cobot=11900, held=(41, 42), under_way=1))
    [difference] = report.differences
    assert difference.code == "payment_held" and difference.item_id == 41  # the payment
    assert difference.cause.render().startswith("Needs a decision: a payment of this invoice")
    assert "Cobot shows 119.00 EUR paid, sevDesk 0.00 EUR" in difference.cause.render()

    report = check(inv, booked, PaidRow(cobot=11900, failed=(43,)))
    [difference] = report.differences
    assert (difference.code, difference.item_id) == ("payment_failed", 43)
    # The same amounts on both sides: nothing to say, whatever the ledger holds.
    both = paid_receipt(11, "2025-0001", "119.00", "119.00")
    assert check(inv, both, PaidRow(held=(41,))).matches


def test_corrections_count_paid_negative_and_write_offs_may_be_paid_more_in_sevdesk() -> None:
    assert signed_paid(Decimal("119"), Decimal("-119")) == signed_paid(
        Decimal("-119"), Decimal("-119")
    )
    correction = paid_invoice("2025-0002", "-100.00", "-119.00")
    credit = paid_receipt(12, "2025-0002", "119.00", "119.00", credit_debit="C")
    report = check(correction, credit)
    assert report.matches and report.totals[0].cobot.paid == Decimal("-119.00")
    assert report.totals[0].sevdesk.paid == Decimal("-119.00")

    written_off = paid_invoice("2025-0001", "100.00", "50.00", status="writtenOff")
    settled = paid_receipt(11, "2025-0001", "119.00", "119.00")
    report = check(written_off, settled, PaidRow(cobot=5000, sevdesk=5000))
    assert report.matches
    assert [n.code for n in report.notes] == ["written_off", "written_off_paid"]
    # Less paid in sevDesk than in Cobot is a difference, written off or not.
    short = paid_receipt(11, "2025-0001", "119.00", "10.00")
    assert [d.code for d in check(written_off, short).differences] == ["paid_differs"]


def test_only_the_ledgers_receipt_is_compared_for_paid_amounts() -> None:
    inv = paid_invoice("2025-0001", "100.00", "0")
    draft = paid_receipt(11, "2025-0001", "119.00", "0", status=50)
    assert [d.code for d in check(inv, draft).differences] == ["receipt_draft"]
    by_hand = paid_receipt(12, "2025-0001", "119.00", "119.00")
    report = compare(FEB, [inv], [by_hand], [])
    assert [d.code for d in report.differences] == ["unknown_receipt"]
    assert report.totals[0].delta("paid") == Decimal("119.00")


def test_the_safety_net_counts_paid_amounts_the_notes_do_not_explain() -> None:
    report = check(
        paid_invoice("2025-0001", "100.00", "119.00"),
        paid_receipt(11, "2025-0001", "119.00", "0"),
        PaidRow(cobot=11900, under_way=1),
    )
    report.totals[0].sevdesk.paid = Decimal("-1.00")  # what no invoice explains
    safety_net(report)
    [difference] = report.differences
    assert difference.code == "paid_totals_differ" and difference.delta("paid") == Decimal("-120")


def test_paid_amounts_survive_the_json_form_and_older_results_have_none() -> None:
    report = check(
        paid_invoice("2025-0001", "250.00", "0"),
        paid_receipt(11, "2025-0001", "297.50", "297.50"),
    )
    again = BooksReport.from_json(report.to_json())
    assert again == report and again.differences[0].sevdesk_paid == Decimal("297.50")
    older = {"count": "1", "net": "1.00", "tax": "0.19", "gross": "1.19"}
    assert Sums.from_json(older).paid is None
    stored = {"code": "x", "cause": {"t": "y"}, "number": "1"}
    assert Difference.from_json(stored).cobot_paid is None
