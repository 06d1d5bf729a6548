"""Invoices that change in Cobot after their receipt exists: edited, cancelled, written
off or deleted. sevDesk is never changed (the product's rule); the admin is told.

- An edit of what the receipt was made of: a warning in the item's history and in
  Cobot's activity feed.
- A cancellation, a write-off or a deletion: the receipt still counts as revenue in
  sevDesk, so the item is listed under "needs your attention" (with a link to the
  receipt) until the admin marks it handled, and a warning goes to Cobot.
- A payment, a reminder, a sent e-mail: nothing the receipt is made of; nothing to say.
"""

from __future__ import annotations

from cobot_sevdesk.errors import NotFound
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import Text, _
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.attention import report_standing
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.invoices import fetch_invoice
from cobot_sevdesk.sync.payment_checks import cobot_invoice_seen
from cobot_sevdesk.sync.rules import mapping

#: The fingerprint of an invoice that Cobot no longer has.
GONE = "deleted"


def recheck_invoice(ctx: SpaceContext, item: LedgerItem) -> Text:
    """An update arrived for an invoice already in sevDesk: warn about what matters."""
    try:
        invoice = fetch_invoice(ctx, item.cobot_id)
    except NotFound:
        if item.fingerprint == GONE:
            return _("Deleted in Cobot; this was reported already.")
        item.update(fingerprint=GONE)
        report_standing(ctx, item, mapping.DELETED)
        return _("Deleted in Cobot; the sevDesk receipt was left as it is.")
    cobot_invoice_seen(ctx, item, invoice)  # a payment in Cobot comes as such an update
    fingerprint = mapping.invoice_fingerprint(invoice)
    if fingerprint == item.fingerprint:
        return _(
            "Cobot reported an update that does not touch the receipt (e.g. its payment status)."
        )
    item.update(fingerprint=fingerprint)
    standing = mapping.standing(invoice)
    if standing:
        report_standing(ctx, item, standing)
        return _("Reported: the receipt no longer matches the invoice's status in Cobot.")
    activities.post(ctx, activities.invoice_changed(item), level="WARN")
    item.warn(
        _(
            "Changed in Cobot after it was sent to sevDesk. sevDesk was not changed; a warning "
            "was posted in Cobot."
        ),
    )
    return _("Change detected and reported.")
