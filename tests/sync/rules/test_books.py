"""The books check's comparison, pure: invoices, receipts and ledger rows in, sums per
rate and every difference with its cause out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from cobot_sevdesk.cobot.models import Address, Invoice, InvoiceLine, Price, Tax
from cobot_sevdesk.messages import Message
from cobot_sevdesk.sevdesk.models import Voucher, VoucherPosition
from cobot_sevdesk.sync.rules.books import (
    FAILED,
    SENT,
    SKIPPED,
    UNSENT,
    LedgerRow,
    Period,
    cobots_receipts,
    compare,
    lookups_needed,
)
from cobot_sevdesk.sync.rules.books_report import BooksReport, Receipt, invoice_sums
from cobot_sevdesk.sync.rules.mapping import invoice_fingerprint

FEB = Period(dt.date(2025, 2, 1), dt.date(2025, 2, 28))
DAY = dt.date(2025, 2, 10)
CENT = Decimal("0.01")


def c(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def price(net: Decimal, rate: Decimal, tax: Decimal) -> Price:
    return Price(net, net + tax, "EUR", (Tax(rate, tax),) if rate else ())


def invoice(
    number: str,
    lines: list[tuple[str, str]],
    *,
    day: dt.date = DAY,
    status: str = "unpaid",
    cobot_id: str | None = None,
) -> Invoice:
    """An invoice as Cobot computes it: lines of (net, rate); tax per rate on the
    summed net."""
    parsed = []
    net_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for net_text, rate_text in lines:
        net, rate = Decimal(net_text), Decimal(rate_text)
        net_by_rate[rate] += net
        tax = c(net * rate / 100)
        parsed.append(InvoiceLine("line", Decimal(1), "Desks", None, *[price(net, rate, tax)] * 2))
    taxes = tuple(Tax(r, c(n * r / 100)) for r, n in sorted(net_by_rate.items()) if r)
    net_total = sum(net_by_rate.values(), Decimal(0))
    tax_total = sum((t.amount for t in taxes), Decimal(0))
    return Invoice(
        id=cobot_id or f"id-{number}",
        number=number,
        invoice_date=day,
        due_date=day,
        customer_number=None,
        tax_id=None,
        recipient=Address("Jane", None, None, None, None, None, None, "DE"),
        lines=tuple(parsed),
        total=Price(net_total, net_total + tax_total, "EUR", taxes),
        pdf_url=None,
        paid_status=status,
        debitor_type=None,
        debitor_id=None,
        corrected_invoice_id=None,
        space_id=None,
    )


def receipt(
    voucher_id: int,
    number: str,
    positions: list[tuple[str, str]],
    *,
    day: dt.date = DAY,
    status: int = 100,
    credit_debit: str = "D",
) -> Receipt:
    """A receipt as sevDesk computes it from gross positions of (gross, rate)."""
    made = []
    for index, (gross_text, rate_text) in enumerate(positions):
        gross, rate = Decimal(gross_text), Decimal(rate_text)
        net = c(gross / (1 + rate / 100))
        made.append(
            VoucherPosition(
                voucher_id * 10 + index, voucher_id, 1, rate, gross, net, None, gross - net
            )
        )
    gross_total = sum((p.sum_gross for p in made), Decimal(0))
    net_total = sum((p.sum_net for p in made), Decimal(0))
    voucher = Voucher(
        voucher_id,
        number,
        status,
        credit_debit,
        None,
        "Jane",
        gross_total,
        net_total,
        day,
        1,
        None,
        True,
        "EUR",
    )
    return Receipt(voucher, tuple(made))


def sent(inv: Invoice, voucher_id: int, item_id: int = 1, **fields: object) -> LedgerRow:
    values: dict[str, object] = {
        "item_id": item_id,
        "cobot_id": inv.id,
        "stage": SENT,
        "state_label": Message("synced"),
        "label": inv.number,
        "voucher_id": voucher_id,
        "fingerprint": invoice_fingerprint(inv),
        "amount_cents": int(c(inv.total.gross) * 100),
    }
    values.update(fields)
    return LedgerRow(**values)  # type: ignore[arg-type]


def codes(report: BooksReport) -> list[tuple[str, str]]:
    return [(d.code, d.number) for d in report.differences]


def test_matching_books_report_sums_per_rate_and_no_difference() -> None:
    a = invoice("2025-0001", [("100.00", "19"), ("10.00", "7")])
    b = invoice("2025-0002", [("50.00", "19")])
    receipts = [
        receipt(11, "2025-0001", [("119.00", "19"), ("10.70", "7")]),
        receipt(12, "2025-0002", [("59.50", "19")]),
        receipt(99, "Office chairs", [("595.00", "19")]),  # not from Cobot
    ]
    report = compare(FEB, [a, b], receipts, [sent(a, 11), sent(b, 12, item_id=2)])
    assert report.matches and report.differences == []
    assert report.other_receipts == 1
    by_rate = {row.rate: row for row in report.by_rate}
    assert by_rate["19"].cobot.amounts() == (Decimal("150.00"), Decimal("28.50"), Decimal("178.50"))
    assert by_rate["19"].sevdesk.amounts() == by_rate["19"].cobot.amounts()
    assert (by_rate["19"].cobot.count, by_rate["7"].cobot.count) == (2, 1)
    [total] = report.totals
    assert (total.cobot.count, total.sevdesk.count) == (2, 2)
    assert total.cobot.gross == total.sevdesk.gross == Decimal("189.20")


def test_invoices_not_sent_say_why_from_the_ledger() -> None:
    invoices = [invoice(f"2025-000{n}", [("10.00", "19")]) for n in range(1, 5)]
    rows = [
        LedgerRow(2, invoices[1].id, UNSENT, Message("waiting to retry"), reason=Message("503")),
        LedgerRow(3, invoices[2].id, FAILED, Message("failed"), reason=Message("no account")),
        LedgerRow(4, invoices[3].id, SKIPPED, Message("skipped"), reason=Message("by hand")),
    ]
    report = compare(FEB, invoices, [], rows)
    assert codes(report) == [
        ("not_recorded", "2025-0001"),
        ("not_sent", "2025-0002"),
        ("failed", "2025-0003"),
        ("skipped", "2025-0004"),
    ]
    assert "waiting to retry" in report.differences[1].cause.render()
    assert [d.details for d in report.differences[1:]] == [
        (Message("503"),),
        (Message("no account"),),
        (Message("by hand"),),
    ]
    assert report.differences[2].item_id == 3
    assert report.totals[0].cobot.gross == Decimal("47.60")
    assert report.totals[0].sevdesk.gross == 0


def test_a_receipt_deleted_in_sevdesk_is_looked_up_and_named() -> None:
    inv = invoice("2025-0001", [("100.00", "19")])
    rows = [sent(inv, 11)]
    assert lookups_needed(FEB, [inv], [], rows).voucher_ids == {11}
    report = compare(FEB, [inv], [], rows, fetched_vouchers={11: None})
    assert codes(report) == [("receipt_deleted", "2025-0001")]
    assert "deleted in sevDesk" in report.differences[0].cause.render()
    redated = receipt(11, "2025-0001", [("119.00", "19")], day=dt.date(2025, 3, 1)).voucher
    report = compare(FEB, [inv], [], rows, fetched_vouchers={11: redated})
    assert codes(report) == [("receipt_moved", "2025-0001")]


def test_cancelled_in_cobot_after_sending_leaves_cobots_sums() -> None:
    inv = invoice("2025-0001", [("100.00", "19")], status="canceled")
    report = compare(FEB, [inv], [receipt(11, "2025-0001", [("119.00", "19")])], [sent(inv, 11)])
    assert codes(report) == [("cancelled", "2025-0001")]
    [total] = report.totals
    assert (total.cobot.count, total.cobot.gross) == (0, 0)
    assert (total.sevdesk.count, total.sevdesk.gross) == (1, Decimal("119.00"))
    # Cancelled before it was ever sent: nothing to tell.
    assert compare(FEB, [inv], [], []).matches


def test_changed_in_cobot_after_sending_is_told_from_a_change_in_sevdesk() -> None:
    before = invoice("2025-0001", [("100.00", "19")])
    after = invoice("2025-0001", [("120.00", "19")])
    booked = receipt(11, "2025-0001", [("119.00", "19")])
    report = compare(FEB, [after], [booked], [sent(before, 11)])
    assert codes(report) == [("edited", "2025-0001")]
    difference = report.differences[0]
    assert "142.80" in difference.cause.render() and "119.00" in difference.cause.render()
    assert [d.render() for d in difference.details] == [
        "At 19 %: Cobot 120.00 / 22.80 / 142.80, sevDesk 100.00 / 19.00 / 119.00 "
        "(net / VAT / gross)."
    ]
    # The same receipt amount, but the invoice unchanged: sevDesk's receipt changed.
    changed = receipt(11, "2025-0001", [("100.00", "19")])
    report = compare(FEB, [before], [changed], [sent(before, 11)])
    assert codes(report) == [("receipt_changed", "2025-0001")]


def test_a_net_and_vat_split_that_differs_at_the_same_gross() -> None:
    # Two lines at 19 %: Cobot taxes the summed net (0.66 -> 0.13 VAT). The receipt's two
    # gross positions (0.39 and 0.40, the same 0.79) give sevDesk nets of 0.33 and 0.34
    # and VAT of 0.06 each: 0.67 and 0.12. The books then differ by a cent of VAT.
    inv = invoice("2025-0001", [("0.33", "19"), ("0.33", "19")])
    assert invoice_sums(inv)["19"].amounts() == (Decimal("0.66"), Decimal("0.13"), Decimal("0.79"))
    booked = receipt(11, "2025-0001", [("0.39", "19"), ("0.40", "19")])
    assert booked.sums()["19"].amounts() == (Decimal("0.67"), Decimal("0.12"), Decimal("0.79"))
    report = compare(FEB, [inv], [booked], [sent(inv, 11)])
    assert codes(report) == [("split_differs", "2025-0001")]
    [row] = report.by_rate
    assert row.differs and row.delta("tax") == Decimal("-0.01") and row.delta("gross") == 0


def test_two_receipts_with_one_number_and_one_the_ledger_does_not_know() -> None:
    inv = invoice("2025-0001", [("100.00", "19")])
    twice = [
        receipt(11, "2025-0001", [("119.00", "19")]),
        receipt(12, "2025-0001", [("119.00", "19")]),
    ]
    report = compare(FEB, [inv], twice, [sent(inv, 11)])
    assert codes(report) == [("duplicate", "2025-0001")]
    assert report.differences[0].voucher_ids == (11, 12)
    assert report.totals[0].sevdesk.gross == Decimal("238.00")

    by_hand = [receipt(12, "2025-0001", [("119.00", "19")])]
    report = compare(FEB, [inv], by_hand, [])
    assert codes(report) == [("unknown_receipt", "2025-0001")]
    report = compare(FEB, [inv], by_hand, [LedgerRow(1, inv.id, FAILED, Message("failed"))])
    assert codes(report) == [("unknown_receipt", "2025-0001")]
    assert "failed" in report.differences[0].cause.render()


def test_receipts_whose_invoice_left_the_period_or_cobot() -> None:
    gone = invoice("2025-0001", [("100.00", "19")])
    moved = invoice("2025-0002", [("100.00", "19")], day=dt.date(2025, 3, 3))
    booked = [
        receipt(11, "2025-0001", [("119.00", "19")]),
        receipt(12, "2025-0002", [("119.00", "19")]),
    ]
    rows = [sent(gone, 11), sent(moved, 12, item_id=2)]
    needed = lookups_needed(FEB, [], [r.voucher for r in booked], rows)
    assert needed.invoice_ids == {gone.id, moved.id}
    assert cobots_receipts(FEB, [], [r.voucher for r in booked], rows) == {11, 12}
    report = compare(FEB, [], booked, rows, fetched_invoices={gone.id: None, moved.id: moved})
    assert codes(report) == [("deleted_in_cobot", "2025-0001"), ("moved_in_cobot", "2025-0002")]
    assert "2025-03-03" in report.differences[1].cause.render()
    assert report.totals[0].cobot.count == 0 and report.totals[0].sevdesk.count == 2


def test_a_draft_receipt_is_not_in_the_books_and_a_redated_or_renumbered_one_is_named() -> None:
    inv = invoice("2025-0001", [("100.00", "19")])
    draft = receipt(11, "2025-0001", [("119.00", "19")], status=50)
    report = compare(FEB, [inv], [draft], [sent(inv, 11)])
    assert codes(report) == [("receipt_draft", "2025-0001")]
    assert report.totals[0].sevdesk.count == 0
    redated = receipt(11, "2025-0001", [("119.00", "19")], day=dt.date(2025, 2, 11))
    report = compare(FEB, [inv], [redated], [sent(inv, 11)])
    assert codes(report) == [("receipt_date", "2025-0001")]
    renumbered = receipt(11, "R-17", [("119.00", "19")])
    report = compare(FEB, [inv], [renumbered], [sent(inv, 11)])
    assert codes(report) == [("receipt_number", "2025-0001")]
    assert "R-17" in report.differences[0].cause.render()


def test_a_correction_booked_as_credit_receipt_takes_revenue_back() -> None:
    original = invoice("2025-0001", [("100.00", "19")])
    correction = invoice("2025-0002", [("-100.00", "19")])
    receipts = [
        receipt(11, "2025-0001", [("119.00", "19")]),
        receipt(12, "2025-0002", [("119.00", "19")], credit_debit="C"),
    ]
    rows = [sent(original, 11), sent(correction, 12, item_id=2)]
    report = compare(FEB, [original, correction], receipts, rows)
    assert report.matches, codes(report)
    assert report.totals[0].sevdesk.gross == report.totals[0].cobot.gross == 0


def test_written_off_is_a_note_not_a_difference() -> None:
    inv = invoice("2025-0001", [("100.00", "19")], status="writtenOff")
    report = compare(FEB, [inv], [receipt(11, "2025-0001", [("119.00", "19")])], [sent(inv, 11)])
    assert report.matches
    assert [n.code for n in report.notes] == ["written_off"]


def test_the_report_survives_its_json_form() -> None:
    inv = invoice("2025-0001", [("100.00", "19"), ("5.00", "7")])
    report = compare(FEB, [inv], [receipt(11, "2025-0001", [("100.00", "19")])], [sent(inv, 11)])
    report.calls = {"Cobot": 1, "sevDesk": 3}
    again = BooksReport.from_json(report.to_json())
    assert again == report
    assert again.differences[0].details == report.differences[0].details
