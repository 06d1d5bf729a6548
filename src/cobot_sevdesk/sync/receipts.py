"""Writing receipts to sevDesk, never twice: look up by document number before a
create (a receipt that exists is adopted: ours from an attempt whose answer was lost,
or one the admin made by hand), note a create whose outcome is unknown, and look
again after a create."""

from __future__ import annotations

import logging

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import _
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules import mapping
from cobot_sevdesk.sync.rules.money import cents
from cobot_sevdesk.sync.writes import noting_unknown_outcome

log = logging.getLogger(__name__)


def find_existing_receipt(
    ctx: SpaceContext, invoice: Invoice, *, credit: bool = False
) -> Voucher | None:
    """A receipt with this document number that is already in sevDesk (ours from an
    attempt whose answer was lost, or one the admin made by hand). ``credit``: the
    invoice is booked as a credit receipt ("C"), with the invoice's amounts negated."""
    found = ctx.sevdesk.find_vouchers_by_description(invoice.number, direction(credit))
    if len(found) > 1:
        raise BusinessRuleError(
            "ambiguous_receipt",
            _(
                "sevDesk already has %(count)s receipts with the document number %(invoice)s, "
                "so this "
                "invoice was not sent again. Delete the extra ones in sevDesk, then retry."
            )
            % {"count": len(found), "invoice": invoice.number},
        )
    if not found:
        return None
    voucher = found[0]
    expected = -cents(invoice.total.gross) if credit else cents(invoice.total.gross)
    if voucher.sum_gross != expected:
        raise BusinessRuleError(
            "receipt_differs",
            _(
                "sevDesk already has a receipt with the document number %(invoice)s, but for "
                "%(theirs)s instead of %(ours)s. Nothing was changed; check the receipt in sevDesk."
            )
            % {
                "invoice": invoice.number,
                "theirs": voucher.sum_gross,
                "ours": expected,
            },
        )
    return voucher


def create_receipt(ctx: SpaceContext, item: LedgerItem, plan: mapping.ReceiptPlan) -> Voucher:
    invoice = plan.invoice
    filename = None
    if invoice.pdf_url:
        pdf = ctx.cobot.download_pdf(invoice.pdf_url)
        filename = ctx.sevdesk.upload_temp_file(mapping.pdf_filename(invoice), pdf)
    else:
        log.warning("invoice %s of %s has no PDF link", invoice.id, ctx.space.subdomain)
    body = mapping.receipt_body(plan, filename)
    item.keep(sevdesk=[{"request": "POST /Voucher/Factory/saveVoucher", "body": body}])
    with noting_unknown_outcome(item, "receipt"):
        return ctx.sevdesk.save_voucher(body)


def direction(credit: bool) -> str:
    """sevDesk's creditDebit: D for revenue, C for a reduction of it."""
    return "C" if credit else "D"


def tag_once(ctx: SpaceContext, item: LedgerItem, step: str, tag: str) -> None:
    """Tag the item's receipt, unless an earlier attempt did."""
    if item.progress.get(step):
        return
    assert item.sevdesk_voucher_id is not None
    ctx.sevdesk.tag_voucher(item.sevdesk_voucher_id, tag)
    item.mark_step(step)


def check_created_once(
    ctx: SpaceContext, item: LedgerItem, invoice: Invoice, voucher: Voucher, *, credit: bool = False
) -> None:
    """After a create, look once more: a write of an earlier attempt that sevDesk
    committed late would show up as a second receipt. sevDesk's API cannot delete
    receipts, so the admin is told which one to delete."""
    others = [
        v
        for v in ctx.sevdesk.find_vouchers_by_description(invoice.number, direction(credit))
        if v.id != voucher.id
    ]
    if not others:
        return
    reason = _(
        "sevDesk has %(count)s receipts with the document number %(invoice)s (ids %(ids)s), "
        "so this invoice is booked more than once. Delete the extra receipt %(extra)s in "
        "sevDesk (its API cannot delete receipts), then mark this as handled."
    ) % {
        "count": len(others) + 1,
        "invoice": invoice.number,
        "ids": ", ".join(str(v.id) for v in sorted([voucher, *others], key=lambda v: v.id)),
        "extra": voucher.id,
    }
    item.flag_attention(reason)
    activities.post(ctx, activities.attention(item, reason), level="WARN")
