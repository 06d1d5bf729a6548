"""The books check's comparison: for a period, Cobot's invoices against the receipts in
sevDesk, per currency and tax rate to the cent, and every difference with its cause.

Pure: it is given what the reading found (``sync/books.py``): the invoices Cobot lists
for the period, the receipts sevDesk has for it with their positions, the ledger's
rows for them, and what was looked up one by one (invoices and receipts that left the
period). It decides:

- which receipts are Cobot's: linked to a ledger item, or carrying the number of one
  of the period's invoices; other receipts of the period are counted, not compared;
- the sums of both sides. Cobot's side leaves out cancelled invoices (no revenue);
  sevDesk's leaves out drafts (not booked) and counts credit receipts negative;
- for each invoice, whether exactly one booked receipt matches it to the cent at
  every rate, and if not, why: not sent (the ledger's state and reason), cancelled,
  changed or deleted in Cobot after it was sent (its fingerprint or amount then and
  now), the receipt deleted or changed in sevDesk, booked twice, or booked by someone
  else;
- whether the receipt shows what the invoice shows paid, and if not, why, from the
  ledger's payments (``books_paid``); paid amounts are summed per currency only.

The causes are told apart only from data both services give (a cancellation is
Cobot's ``paidStatus``), so the check does not depend on how the sync handled them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.messages import _
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync.rules.books_causes import (
    CANCELED,
    FAILED,
    GONE,
    SENT,
    SKIPPED,
    UNSENT,
    InvoiceCheck,
    LedgerRow,
    Period,
    orphan,
)
from cobot_sevdesk.sync.rules.books_paid import PaidRow, invoice_paid, receipt_paid
from cobot_sevdesk.sync.rules.books_report import (
    SUM_FIELDS,
    TOTAL_ONLY,
    BooksReport,
    Difference,
    Receipt,
    Sums,
    add_to,
    invoice_sums,
    receipts_by_number,
    rows_from,
)

__all__ = [
    "FAILED",
    "GONE",
    "SENT",
    "SKIPPED",
    "UNSENT",
    "LedgerRow",
    "Lookups",
    "PaidRow",
    "Period",
    "cobots_receipts",
    "compare",
    "lookups_needed",
    "safety_net",
]


@dataclass
class Lookups:
    """What the comparison needs looked up one by one: invoices whose receipt is in
    the period but which Cobot no longer lists there, and receipts of the period's
    invoices that sevDesk no longer lists there."""

    invoice_ids: set[str] = field(default_factory=set)
    voucher_ids: set[int] = field(default_factory=set)


def in_period(period: Period, vouchers: Iterable[Voucher]) -> list[Voucher]:
    return [v for v in vouchers if v.voucher_date in period]


def cobots_receipts(
    period: Period,
    invoices: Sequence[Invoice],
    vouchers: Sequence[Voucher],
    rows: Sequence[LedgerRow],
) -> set[int]:
    """The ids of the period's receipts that came from Cobot (whose positions the
    comparison needs)."""
    linked = {row.voucher_id for row in rows if row.voucher_id is not None}
    numbers = {i.number.strip() for i in invoices if i.invoice_date in period}
    return {
        v.id
        for v in in_period(period, vouchers)
        if v.id in linked or (v.description or "").strip() in numbers
    }


def lookups_needed(
    period: Period,
    invoices: Sequence[Invoice],
    vouchers: Sequence[Voucher],
    rows: Sequence[LedgerRow],
) -> Lookups:
    listed = {i.id for i in invoices if i.invoice_date in period}
    present = {v.id for v in in_period(period, vouchers)}
    return Lookups(
        invoice_ids={
            r.cobot_id for r in rows if r.voucher_id in present and r.cobot_id not in listed
        },
        voucher_ids={
            r.voucher_id
            for r in rows
            if r.cobot_id in listed
            and r.stage == SENT
            and r.voucher_id is not None
            and r.voucher_id not in present
        },
    )


def compare(
    period: Period,
    invoices: Sequence[Invoice],
    receipts: Sequence[Receipt],
    rows: Sequence[LedgerRow],
    *,
    fetched_invoices: Mapping[str, Invoice | None] | None = None,
    fetched_vouchers: Mapping[int, Voucher | None] | None = None,
) -> BooksReport:
    fetched_invoices = fetched_invoices or {}
    fetched_vouchers = fetched_vouchers or {}
    report = BooksReport(period.start, period.end)
    by_cobot = {row.cobot_id: row for row in rows}
    by_voucher = {row.voucher_id: row for row in rows if row.voucher_id is not None}
    listed: dict[str, Invoice] = {i.id: i for i in invoices if i.invoice_date in period}
    for cobot_id, looked_up in fetched_invoices.items():
        if looked_up is not None and looked_up.invoice_date in period:
            listed.setdefault(cobot_id, looked_up)  # listed on another page meanwhile
    present = [r for r in receipts if r.voucher.voucher_date in period]
    ours = cobots_receipts(period, list(listed.values()), [r.voucher for r in present], rows)
    numbered = receipts_by_number(r for r in present if r.id in ours)
    receipt_by_id = {r.id: r for r in present}

    cobot: dict[tuple[str, str], Sums] = {}
    sevdesk: dict[tuple[str, str], Sums] = {}
    #: Per currency: the number of invoices and receipts, and what they show paid.
    totals: dict[str, tuple[Sums, Sums]] = {}
    claimed: set[int] = set()
    for invoice in sorted(listed.values(), key=lambda i: (i.invoice_date, i.number, i.id)):
        row = by_cobot.get(invoice.id)
        found = {r.id: r for r in numbered.get(invoice.number.strip(), [])}
        if row is not None and row.voucher_id in receipt_by_id:
            found.setdefault(row.voucher_id, receipt_by_id[row.voucher_id])
        claimed |= set(found)
        check = InvoiceCheck(invoice, row, sorted(found.values(), key=lambda r: r.id))
        check.run(report, fetched_vouchers, period)
        if invoice.paid_status != CANCELED:
            add_to(cobot, invoice.currency, invoice_sums(invoice))
            _total(totals, invoice.currency)[0].add(Sums(1, paid=invoice_paid(invoice)))
    for receipt in present:
        if receipt.id not in ours:
            report.other_receipts += 1
            continue
        currency = receipt.voucher.currency or "EUR"
        if not receipt.is_draft:
            add_to(sevdesk, currency, receipt.sums())
            _total(totals, currency)[1].add(Sums(1, paid=receipt_paid(receipt)))
        if receipt.id not in claimed:
            orphan(report, receipt, by_voucher.get(receipt.id), fetched_invoices)
    report.rows = rows_from(cobot, sevdesk, totals)
    if not report.differences:
        safety_net(report)
    return report


def _total(totals: dict[str, tuple[Sums, Sums]], currency: str) -> tuple[Sums, Sums]:
    return totals.setdefault(currency, (Sums(paid=Decimal(0)), Sums(paid=Decimal(0))))


def safety_net(report: BooksReport) -> None:
    """Every invoice and receipt agreed, yet the sums do not: say so rather than report
    a match (no known case leads here). Paid amounts may differ by what the notes
    explain (payments under way)."""
    for sums in report.rows:
        if any(sums.delta(f) for f in SUM_FIELDS if f not in TOTAL_ONLY):
            report.differences.append(
                Difference(
                    "totals_differ",
                    _("The sums differ although no single invoice explains it."),
                    number="",
                    currency=sums.currency,
                    cobot_gross=sums.cobot.gross,
                    sevdesk_gross=sums.sevdesk.gross,
                )
            )
        explained = sum(
            (n.delta("paid") or Decimal(0) for n in report.notes if n.currency == sums.currency),
            Decimal(0),
        )
        if sums.rate is None and (sums.delta("paid") or Decimal(0)) != explained:
            report.differences.append(
                Difference(
                    "paid_totals_differ",
                    _("The paid amounts differ although no single invoice explains it."),
                    number="",
                    currency=sums.currency,
                    cobot_paid=sums.cobot.paid,
                    sevdesk_paid=sums.sevdesk.paid,
                )
            )
