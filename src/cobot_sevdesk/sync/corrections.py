"""Correction invoices: how a reduction of revenue reaches sevDesk.

Cobot makes a correction invoice with a ``correctedInvoice`` relationship; one that
reduces the revenue has a negative total. sevDesk 2.0 cannot make a credit note for a
receipt ("Creating a credit note for a voucher is no longer possible", official API
description, sevdesk-Update 2.0, Credit Notes), and its help centre says a credit
note "stellt einen Ausgabebeleg dar" (is booked as an expense receipt) that reduces the
revenue. So a reduction is booked the way the Stripe→sevDesk sync books refunds: a
credit receipt (``creditDebit: "C"``) with positive amounts, on the same revenue
accounts, under the original receipt's tax rule, its positions naming the original.

Booked automatically only when that is safe; otherwise the admin is asked to book it
by hand, with the receipt it corrects named:

- the corrected invoice has a receipt in sevDesk (ours, or one found by its number);
- that receipt's tax rule is the one the correction's own facts give;
- a reduction without a corrected invoice is not guessed at.

A correction that raises the amount is an ordinary income receipt naming the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError, NotFound
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import _
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules.taxes import RULE_NAMES


@dataclass(frozen=True)
class Correction:
    #: A reduction of revenue: a credit ("C") receipt with positive amounts.
    credit: bool
    #: For each position's text, in the space's language: what it corrects.
    corrects: str | None


NOT_A_CORRECTION = Correction(credit=False, corrects=None)


def plan_correction(ctx: SpaceContext, invoice: Invoice, rule: int) -> Correction:
    """How ``invoice`` is booked if it corrects another; refuses what is not safe."""
    reduction = invoice.total.gross < 0
    if not invoice.corrected_invoice_id:
        if reduction:
            raise BusinessRuleError(
                "correction_by_hand",
                _(
                    "Invoice %(invoice)s has a negative total but names no invoice it "
                    "corrects. Book this correction by hand in sevDesk: a reduction of "
                    "revenue needs the receipt it reduces."
                )
                % {"invoice": invoice.number},
            )
        return NOT_A_CORRECTION
    number, original = corrected_receipt(ctx, invoice)
    voucher_id = original.id
    if original.tax_rule_id is not None and original.tax_rule_id != rule:
        raise BusinessRuleError(
            "correction_by_hand",
            _(
                "Book this correction by hand in sevDesk; it corrects receipt %(receipt)s "
                "(invoice %(original)s). That receipt is booked under the tax rule "
                "“%(theirs)s”, but this correction would be “%(ours)s”, and a correction "
                "must keep the tax treatment of what it corrects."
            )
            % {
                "receipt": voucher_id,
                "original": number,
                "theirs": RULE_NAMES.get(original.tax_rule_id, str(original.tax_rule_id)),
                "ours": RULE_NAMES.get(rule, str(rule)),
            },
        )
    text = _("Correction of %(invoice)s (sevDesk receipt %(receipt)s)") % {
        "invoice": number,
        "receipt": voucher_id,
    }
    return Correction(credit=reduction, corrects=text.render())


def corrected_receipt(ctx: SpaceContext, invoice: Invoice) -> tuple[str, Voucher]:
    """(number, sevDesk receipt) of the invoice ``invoice`` corrects: ours from the
    ledger, else a receipt in sevDesk with its number (made by hand, or by Cobot's old
    add-on). Refuses when there is none."""
    corrected_id = invoice.corrected_invoice_id
    assert corrected_id is not None
    original = LedgerItem.objects.filter(
        space=ctx.space, kind=LedgerItem.Kind.INVOICE, cobot_id=corrected_id
    ).first()
    number = original.label if original and original.label else ""
    if original is not None and original.sevdesk_voucher_id is not None:
        try:
            return number or corrected_id, ctx.sevdesk.get_voucher(original.sevdesk_voucher_id)
        except NotFound:
            pass  # deleted in sevDesk since: look for it by number below
    if not number:
        try:
            number = ctx.cobot.get_invoice(corrected_id).number
        except NotFound:
            number = ""
    found = ctx.sevdesk.find_vouchers_by_description(number) if number else []
    if len(found) == 1:
        return number, found[0]
    raise BusinessRuleError(
        "correction_by_hand",
        _(
            "Book this correction by hand in sevDesk; it corrects invoice %(original)s, "
            "which has %(what)s in sevDesk, so there is no receipt to reduce automatically."
        )
        % {
            "original": number or corrected_id,
            "what": _("no receipt") if not found else _("several receipts"),
        },
    )
