"""Syncing what existed before the space was connected, for a date range.

A backfill lists Cobot's invoices page by page (200 a page) and adds a ledger item
for each invoice the ledger does not know; the normal worker then syncs them, under
the same per-space throttle as everything else. Each page's progress is committed,
so a stopped backfill resumes at the page it had reached. A dry run adds nothing and
shows what would be added.
"""

from __future__ import annotations

import logging
from typing import Any

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import Backfill, LedgerItem
from cobot_sevdesk.sync import pages
from cobot_sevdesk.sync.context import SpaceContext

log = logging.getLogger(__name__)
PAGE_SIZE = 200
PREVIEW_LIMIT = 500


def step(ctx: SpaceContext, backfill: Backfill) -> bool:
    """List one page; returns True while there is more to list."""
    space = ctx.space
    backfill.start()
    try:
        page = ctx.cobot.list_invoices_page(
            space.api2_id,
            backfill.start_date,
            backfill.end_date,
            page=backfill.next_page,
            size=PAGE_SIZE,
        )
    except SyncError as exc:
        # A transient failure leaves the backfill where it was: the next turn retries
        # the same page. A refused token pauses the space through the sync as usual.
        backfill.stalled(exc.admin_message)
        raise
    known = set(
        space.items.filter(
            kind=LedgerItem.Kind.INVOICE, cobot_id__in=[i.id for i in page.invoices]
        ).values_list("cobot_id", flat=True)
    )
    preview: list[dict[str, Any]] = list(backfill.preview)
    added: list[Invoice] = []
    for invoice in page.invoices:
        backfill.found += 1
        if invoice.id in known:
            backfill.already_known += 1
            continue
        if backfill.dry_run:
            backfill.added += 1
            if len(preview) < PREVIEW_LIMIT:
                preview.append(
                    {
                        "number": invoice.number,
                        "date": invoice.invoice_date.isoformat(),
                        "recipient": invoice.recipient_name,
                        "total": str(invoice.total.gross),
                        "currency": invoice.currency,
                    }
                )
            continue
        _item, created = LedgerItem.record(
            space,
            LedgerItem.Kind.INVOICE,
            invoice.id,
            source=LedgerItem.Source.BACKFILL,
            label=invoice.number,
            invoice_date=invoice.invoice_date,
        )
        backfill.added += created
        backfill.already_known += not created
        if created:
            added.append(invoice)
    pages.remember(ctx, added)  # the items it added need not fetch them again
    backfill.preview = preview
    backfill.total_pages = page.total_pages
    backfill.next_page += 1
    backfill.stepped()
    more = page.has_next and backfill.next_page <= page.total_pages
    if not more:
        if backfill.include_members and not backfill.dry_run:
            backfill.members_added = _members(ctx, backfill)
        backfill.complete()
    backfill.save()
    return more


def _members(ctx: SpaceContext, backfill: Backfill) -> int:
    """Current members confirmed within the range (Cobot lists only current members)."""
    added = 0
    members = ctx.cobot.list_memberships()
    pages.remember_members(ctx, members)
    for member in members:
        if (
            member.confirmed_at is None
            or not backfill.start_date <= member.confirmed_at <= backfill.end_date
        ):
            continue
        _item, created = LedgerItem.record(
            ctx.space,
            LedgerItem.Kind.MEMBER,
            member.id,
            source=LedgerItem.Source.BACKFILL,
            label=member.name,
        )
        added += created
    return added
