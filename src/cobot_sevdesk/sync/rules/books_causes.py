"""The causes of the books check's differences: one invoice of the period against
the receipts that carry it (``InvoiceCheck``), and a receipt whose invoice left the
period (``orphan``). Pure, like the comparison in ``books.py`` that uses them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.messages import Message, _
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync.rules.books_paid import PaidRow, paid_finding
from cobot_sevdesk.sync.rules.books_report import (
    BooksReport,
    Difference,
    Receipt,
    Sums,
    cents,
    invoice_sums,
)
from cobot_sevdesk.sync.rules.mapping import invoice_fingerprint

CANCELED = "canceled"  # Cobot's paidStatus of a cancelled invoice
WRITTEN_OFF = "writtenOff"

# What the ledger says about an invoice, in the four ways that matter here.
UNSENT, FAILED, SKIPPED, SENT = "unsent", "failed", "skipped", "sent"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end


@dataclass(frozen=True)
class LedgerRow:
    """What the ledger knows of one invoice."""

    item_id: int
    cobot_id: str
    stage: str  # UNSENT, FAILED, SKIPPED or SENT
    state_label: Message
    label: str = ""
    voucher_id: int | None = None
    #: What the receipt was made from (``mapping.invoice_fingerprint``) and its gross
    #: in cents, as of sending.
    fingerprint: str = ""
    amount_cents: int | None = None
    #: Why it was not sent (the last error, or the reason it was skipped).
    reason: Message | None = None
    #: Its payments, as the ledger accounts for them on each side.
    paid: PaidRow | None = None


#: Looked up and not there (deleted), as opposed to not looked up at all.
GONE = None


def _amounts(sums: Sums) -> str:
    return " / ".join(format(v, ".2f") for v in sums.amounts())


def rate_details(cobot: Mapping[str, Sums], sevdesk: Mapping[str, Sums]) -> list[Message]:
    """One line per tax rate at which the two sides differ."""
    lines = []
    for rate in sorted({*cobot, *sevdesk}, key=Decimal):
        ours, theirs = cobot.get(rate, Sums()), sevdesk.get(rate, Sums())
        if ours.amounts() != theirs.amounts():
            lines.append(
                _("At %(rate)s %%: Cobot %(cobot)s, sevDesk %(sevdesk)s (net / VAT / gross).")
                % {"rate": rate, "cobot": _amounts(ours), "sevdesk": _amounts(theirs)}
            )
    return lines


@dataclass
class InvoiceCheck:
    """One invoice of the period against the receipts that carry it."""

    invoice: Invoice
    row: LedgerRow | None
    receipts: list[Receipt]

    def difference(self, code: str, cause: Message, **fields: Any) -> Difference:
        base = Difference(
            code,
            cause,
            number=self.invoice.number,
            currency=self.invoice.currency,
            cobot_id=self.invoice.id,
            item_id=self.row.item_id if self.row else None,
            voucher_ids=tuple(r.id for r in self.receipts),
            cobot_gross=cents(self.invoice.total.gross),
            sevdesk_gross=sum((r.gross for r in self.receipts), Decimal(0))
            if self.receipts
            else None,
        )
        return dataclasses.replace(base, **fields)

    def run(
        self, report: BooksReport, fetched: Mapping[int, Voucher | None], period: Period
    ) -> None:
        invoice, receipts = self.invoice, self.receipts
        if invoice.paid_status == CANCELED:
            if receipts:
                report.differences.append(
                    self.difference(
                        "cancelled",
                        _(
                            "Cancelled in Cobot after it was sent: the receipt in sevDesk "
                            "still books it as revenue. Cancel or correct the receipt there."
                        ),
                        cobot_gross=Decimal(0),
                    )
                )
            return
        if not receipts:
            report.differences.append(self.not_sent(fetched, period))
            return
        if len(receipts) > 1:
            report.differences.append(
                self.difference(
                    "duplicate",
                    _(
                        "sevDesk has %(count)s receipts with this number (ids %(ids)s): the "
                        "invoice is booked %(count)s times. Delete the extra ones there."
                    )
                    % {"count": len(receipts), "ids": ", ".join(str(r.id) for r in receipts)},
                )
            )
            return
        self.against(report, receipts[0])

    def not_sent(self, fetched: Mapping[int, Voucher | None], period: Period) -> Difference:
        row = self.row
        if row is None:
            return self.difference(
                "not_recorded",
                _(
                    "Not sent: the add-on has no record of this invoice (it existed before "
                    "sevDesk was connected, or Cobot has not reported it yet). A backfill "
                    "of this period sends it."
                ),
            )
        details = (row.reason,) if row.reason is not None else ()
        if row.stage == UNSENT:
            cause = _("Not sent yet (%(state)s).") % {"state": row.state_label}
            return self.difference("not_sent", cause, details=details)
        if row.stage == FAILED:
            return self.difference("failed", _("Not sent: sending failed."), details=details)
        if row.stage == SKIPPED:
            return self.difference("skipped", _("Not sent: it was skipped."), details=details)
        if row.voucher_id is not None and row.voucher_id in fetched:
            voucher = fetched[row.voucher_id]
            if voucher is GONE:
                return self.difference(
                    "receipt_deleted",
                    _(
                        "Sent to sevDesk as receipt %(id)s, which is no longer there: it was "
                        "deleted in sevDesk."
                    )
                    % {"id": row.voucher_id},
                    voucher_ids=(row.voucher_id,),
                )
            if voucher.voucher_date not in period:
                return self.difference(
                    "receipt_moved",
                    _("Its receipt %(id)s was redated in sevDesk to %(date)s, outside this period.")
                    % {"id": voucher.id, "date": str(voucher.voucher_date or "–")},
                    voucher_ids=(voucher.id,),
                    sevdesk_gross=cents(voucher.sum_gross),
                )
        return self.difference(
            "receipt_missing",
            _("Sent to sevDesk, but no receipt with its number is in this period there."),
        )

    def against(self, report: BooksReport, receipt: Receipt) -> None:
        """The invoice has exactly one receipt: is it ours, and does it match?"""
        invoice, row = self.invoice, self.row
        cobot, sevdesk = invoice_sums(invoice), receipt.sums()
        details = rate_details(cobot, sevdesk)
        currency = receipt.voucher.currency or "EUR"
        if currency != invoice.currency:
            details.insert(
                0,
                _("The receipt is in %(theirs)s, the invoice in %(ours)s.")
                % {"theirs": currency, "ours": invoice.currency},
            )
        if row is None or row.voucher_id != receipt.id:
            state = row.state_label if row is not None else _("no record")
            report.differences.append(
                self.difference(
                    "unknown_receipt",
                    _(
                        "sevDesk has a receipt with this number (id %(id)s) that the add-on "
                        "did not make (the add-on's record: %(state)s). Check it, and delete "
                        "it or the add-on's receipt."
                    )
                    % {"id": receipt.id, "state": state},
                    details=tuple(details),
                )
            )
            return
        if details:
            report.differences.append(self.amounts_differ(receipt, cobot, sevdesk, details))
        elif receipt.is_draft:
            report.differences.append(
                self.difference(
                    "receipt_draft",
                    _("The receipt is a draft again in sevDesk, so it is not booked."),
                )
            )
        elif receipt.number != invoice.number.strip():
            report.differences.append(
                self.difference(
                    "receipt_number",
                    _("The receipt's number in sevDesk is %(theirs)s, the invoice's %(ours)s.")
                    % {"theirs": receipt.number or "–", "ours": invoice.number},
                )
            )
        elif receipt.voucher.voucher_date != invoice.invoice_date:
            report.differences.append(
                self.difference(
                    "receipt_date",
                    _("The receipt is dated %(theirs)s in sevDesk, the invoice %(ours)s.")
                    % {
                        "theirs": str(receipt.voucher.voucher_date),
                        "ours": str(invoice.invoice_date),
                    },
                )
            )
        elif invoice.paid_status == WRITTEN_OFF:
            report.notes.append(
                self.difference(
                    "written_off",
                    _(
                        "Written off in Cobot: the receipt still books the revenue; the lost "
                        "payment is booked in sevDesk, not by the add-on."
                    ),
                )
            )
        if not receipt.is_draft:
            self.paid(report, receipt)

    def paid(self, report: BooksReport, receipt: Receipt) -> None:
        """Whether the receipt shows what the invoice shows paid, and if not, why."""
        assert self.row is not None
        found = paid_finding(self.invoice, receipt, self.row.paid)
        if found is None:
            return
        difference = self.difference(
            found.code,
            found.cause,
            details=found.details,
            item_id=found.item_id or self.row.item_id,
            cobot_gross=None,
            sevdesk_gross=None,
            cobot_paid=found.cobot,
            sevdesk_paid=found.sevdesk,
        )
        (report.notes if found.is_note else report.differences).append(difference)

    def amounts_differ(
        self,
        receipt: Receipt,
        cobot: Mapping[str, Sums],
        sevdesk: Mapping[str, Sums],
        details: list[Message],
    ) -> Difference:
        """Whose change made them differ: Cobot's (the invoice is not what was sent)
        or sevDesk's (the receipt is not what was sent), or neither (the receipt splits
        net and VAT differently from the invoice)."""
        invoice, row = self.invoice, self.row
        assert row is not None
        gross_now = cents(invoice.total.gross)
        changed_in_cobot = (
            row.fingerprint and row.fingerprint != invoice_fingerprint(invoice)
        ) or (row.amount_cents is not None and row.amount_cents != int(gross_now * 100))
        gross_as_sent = gross_now if row.amount_cents is None else Decimal(row.amount_cents) / 100
        grosses_differ = set(cobot) != set(sevdesk) or any(
            cobot[k].gross != sevdesk[k].gross for k in cobot if k in sevdesk
        )
        if changed_in_cobot:
            code, cause = (
                "edited",
                _(
                    "Changed in Cobot after it was sent: the invoice now totals %(now)s, the "
                    "receipt in sevDesk %(receipt)s. Correct the receipt there."
                ),
            )
        elif receipt.gross != gross_as_sent or grosses_differ:
            code, cause = (
                "receipt_changed",
                _(
                    "The receipt was changed in sevDesk: it totals %(receipt)s, the invoice "
                    "%(now)s."
                ),
            )
        else:
            code, cause = (
                "split_differs",
                _(
                    "The receipt splits net and VAT differently from the invoice (both total "
                    "%(now)s)."
                ),
            )
        params = {"now": format(gross_now, ".2f"), "receipt": format(receipt.gross, ".2f")}
        return self.difference(code, cause % params, details=tuple(details))


def orphan(
    report: BooksReport,
    receipt: Receipt,
    row: LedgerRow | None,
    fetched: Mapping[str, Invoice | None],
) -> None:
    """A receipt of the period whose invoice Cobot does not list in the period."""
    base = Difference(
        "receipt_unmatched",
        _("Cobot does not list its invoice in this period."),
        number=receipt.number,
        currency=receipt.voucher.currency or "EUR",
        cobot_id=row.cobot_id if row else None,
        item_id=row.item_id if row else None,
        voucher_ids=(receipt.id,),
        cobot_gross=Decimal(0),
        sevdesk_gross=receipt.gross,
    )
    if row is None or row.cobot_id not in fetched:
        report.differences.append(base)  # not looked up: no cause to tell
        return
    invoice = fetched[row.cobot_id]
    if invoice is GONE:
        cause = _(
            "Deleted in Cobot after it was sent: receipt %(id)s in sevDesk still books it. "
            "Cancel or correct the receipt there."
        ) % {"id": receipt.id}
        report.differences.append(dataclasses.replace(base, code="deleted_in_cobot", cause=cause))
        return
    cause = _(
        "Its invoice date was changed in Cobot to %(date)s after it was sent; receipt "
        "%(id)s is still dated %(receipt_date)s."
    ) % {
        "date": str(invoice.invoice_date),
        "id": receipt.id,
        "receipt_date": str(receipt.voucher.voucher_date),
    }
    report.differences.append(dataclasses.replace(base, code="moved_in_cobot", cause=cause))
