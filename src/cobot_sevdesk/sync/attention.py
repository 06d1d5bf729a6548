"""What the admin must look at although an invoice is in sevDesk: listed under "needs
your attention" until they mark it handled, and posted as a warning in Cobot."""

from __future__ import annotations

from django.conf import settings

from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import Message, Text, _
from cobot_sevdesk.sevdesk.models import receipt_url
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules import mapping

#: What the admin reads when an invoice with a receipt stops being revenue in Cobot.
STANDING: dict[str, Message] = {
    mapping.CANCELED: _(
        "Cobot shows invoice %(invoice)s as cancelled, but its sevDesk receipt %(receipt)s "
        "still counts as revenue. Nothing was changed in sevDesk: cancel or correct the "
        "receipt there, then mark this as handled."
    ),
    mapping.WRITTEN_OFF: _(
        "Cobot shows invoice %(invoice)s as written off, but its sevDesk receipt "
        "%(receipt)s still counts as an open receipt. Nothing was changed in sevDesk: book "
        "the write-off there, then mark this as handled."
    ),
    mapping.DELETED: _(
        "Invoice %(invoice)s was deleted in Cobot, but its sevDesk receipt %(receipt)s "
        "still counts as revenue. Nothing was changed in sevDesk: cancel the receipt there "
        "if the invoice should not exist, then mark this as handled."
    ),
}


def report_standing(ctx: SpaceContext, item: LedgerItem, standing: str) -> None:
    """List the item under "needs your attention" and warn in Cobot, with a link to the
    receipt, because the invoice no longer stands as the receipt says."""
    assert item.sevdesk_voucher_id is not None
    reason = STANDING[standing] % {
        "invoice": item.label or item.cobot_id,
        "receipt": item.sevdesk_voucher_id,
    }
    report(ctx, item, reason)


def report(ctx: SpaceContext, item: LedgerItem, reason: Text) -> None:
    """List the item and warn in Cobot (a problem with a receipt that exists)."""
    item.flag_attention(reason)
    if item.sevdesk_voucher_id is not None:
        link = receipt_url(settings.SEVDESK_URL, item.sevdesk_voucher_id)
        activities.post(ctx, activities.receipt_attention(item, reason, link), level="WARN")
    else:
        activities.post(ctx, activities.attention(item, reason), level="WARN")
