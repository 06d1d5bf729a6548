"""Writing receipts to sevDesk, never twice: look up by document number before a
create (a receipt that exists is adopted: ours from an attempt whose answer was lost,
or one the admin made by hand), note a create whose outcome is unknown, and look
again after a create that follows an earlier attempt.

Until a create was sent for an invoice, no receipt of ours can exist for it: in page
mode its look-up is answered by the receipts listed for its page's dates
(``pages.listed_receipts``), and no late commit can follow its create. After a create
was sent, every look-up is made by itself, and made again after the next create."""

from __future__ import annotations

import logging

from django.conf import settings

from cobot_sevdesk.cobot.client import LinkExpired
from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError, SyncError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import _
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync import activities, documents_ahead, pages
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules import mapping
from cobot_sevdesk.sync.rules.money import cents
from cobot_sevdesk.sync.writes import noting_unknown_outcome

log = logging.getLogger(__name__)


def find_existing_receipt(
    ctx: SpaceContext, item: LedgerItem, invoice: Invoice, *, credit: bool = False
) -> Voucher | None:
    """A receipt with this document number that is already in sevDesk (ours from an
    attempt whose answer was lost, or one the admin made by hand). ``credit``: the
    invoice is booked as a credit receipt ("C"), with the invoice's amounts negated."""
    found = (
        pages.listed_receipts(ctx, invoice, direction(credit)) if not sent_before(item) else None
    )
    if found is None:
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
        filename = documents_ahead.take(ctx, invoice.id) or ctx.sevdesk.upload_temp_file(
            mapping.pdf_filename(invoice), download_pdf(ctx, invoice)
        )
    else:
        log.warning("invoice %s of %s has no PDF link", invoice.id, ctx.space.subdomain)
    body = mapping.receipt_body(plan, filename)
    item.keep(sevdesk=[{"request": "POST /Voucher/Factory/saveVoucher", "body": body}])
    with noting_unknown_outcome(item, "receipt"):
        return ctx.sevdesk.save_voucher(body)


def download_pdf(ctx: SpaceContext, invoice: Invoice) -> bytes:
    assert invoice.pdf_url is not None
    try:
        return ctx.cobot.download_pdf(invoice.pdf_url)
    except LinkExpired:
        # Listed some minutes ago, its link has expired: a fetch brings a fresh one.
        fresh = ctx.cobot.get_invoice(invoice.id)
        if not fresh.pdf_url:
            raise
        return ctx.cobot.download_pdf(fresh.pdf_url)


def sent_before(item: LedgerItem) -> bool:
    """Whether an earlier attempt sent a create (its body is kept just before it goes,
    ``create_receipt``): only then can a receipt of ours exist that the ledger does not
    know (an answer lost, a worker killed, a commit late)."""
    return item.sevdesk_data is not None


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


def check_created(
    ctx: SpaceContext,
    item: LedgerItem,
    invoice: Invoice,
    voucher: Voucher,
    *,
    credit: bool,
    earlier: bool,
) -> None:
    """After a create, look once more for a second receipt with its number: a write of
    an earlier attempt (``earlier``) that sevDesk committed late, or one made by hand
    at the same moment. In page mode a first attempt's look is made at the end of the
    turn, for all its receipts at once (``check_created_in_turn``)."""
    if settings.SYNC_PAGES and not earlier:
        day = invoice.invoice_date
        pages.check_later(
            ctx, pages.Created(item.pk, invoice.number, day, voucher.id, direction(credit))
        )
        return
    found = ctx.sevdesk.find_vouchers_by_description(invoice.number, direction(credit))
    _report_duplicates(ctx, item, invoice.number, voucher.id, found)


def check_created_in_turn(ctx: SpaceContext) -> None:
    """The deferred look of ``check_created``: one listing of the receipts' dates. It
    sees a second receipt with the same date (a late commit of ours has it; one made by
    hand usually does); the monthly books check sees the rest."""
    created = pages.take_created(ctx)
    if not created:
        return
    start, end = min(c.day for c in created), max(c.day for c in created)
    try:
        index = pages.ReceiptIndex.of(start, end, ctx.sevdesk.vouchers_dated(start, end))
    except SyncError:
        for entry in created:  # the next turn looks again
            pages.check_later(ctx, entry)
        raise
    items = LedgerItem.objects.in_bulk([c.item_id for c in created])
    for entry in created:
        item = items.get(entry.item_id)
        if item is not None:
            found = index.find(entry.number, entry.credit_debit)
            _report_duplicates(ctx, item, entry.number, entry.voucher_id, found)


def _report_duplicates(
    ctx: SpaceContext, item: LedgerItem, number: str, voucher_id: int, found: list[Voucher]
) -> None:
    """sevDesk's API cannot delete receipts, so the admin is told which one to delete."""
    others = [v for v in found if v.id != voucher_id]
    if not others:
        return
    reason = _(
        "sevDesk has %(count)s receipts with the document number %(invoice)s (ids %(ids)s), "
        "so this invoice is booked more than once. Delete the extra receipt %(extra)s in "
        "sevDesk (its API cannot delete receipts), then mark this as handled."
    ) % {
        "count": len(others) + 1,
        "invoice": number,
        "ids": ", ".join(str(i) for i in sorted([voucher_id, *(v.id for v in others)])),
        "extra": voucher_id,
    }
    item.flag_attention(reason)
    activities.post(ctx, activities.attention(item, reason), level="WARN")
