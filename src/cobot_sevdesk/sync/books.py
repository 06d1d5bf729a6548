"""The books check: read what Cobot, sevDesk and the ledger say about a period, and
compare them (``sync.rules.books``, pure).

What is read, and why this way (measured, see docs/DECISIONS.md):

- Cobot: the period's invoices from API 2's list by invoice date, 200 a page.
- sevDesk: the period's vouchers from ``GET /Voucher`` with ``startDate``/``endDate``
  (Unix timestamps on the voucher date), 1,000 a page. The documents disagree whether
  the bounds are inclusive, so a day more is asked for on each side and the dates are
  compared here.
- sevDesk's positions (net, VAT and gross per rate), only of Cobot's receipts. sevDesk
  documents no way to ask for the positions of several vouchers (``embed`` takes only
  what a voucher refers to, and positions refer to their voucher, not the other way
  round): either one call per voucher, or every position of the account, 1,000 a
  page. One ``countAll`` call tells which is fewer calls. Read all at once, a
  voucher whose positions do not add up to its gross (a page that shifted while it
  was read) is asked for on its own.
- The ledger's rows for those invoices and receipts, with their payments as the
  ledger accounts for them on each side (``paid_by_invoice``); then, one by one, the
  few invoices and receipts that left the period (deleted, or redated). What each
  side shows paid now comes with what was read already: Cobot's ``paidAmount`` on
  the listed invoices, sevDesk's ``paidAmount`` on the listed vouchers.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.utils import timezone, translation

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import AuthorizationError, NotFound, SyncError
from cobot_sevdesk.ledger.models import (
    BooksCheck,
    LedgerEvent,
    LedgerItem,
    Space,
    paid_by_invoice,
)
from cobot_sevdesk.messages import Message
from cobot_sevdesk.sevdesk.client import MAX_PAGE_SIZE
from cobot_sevdesk.sevdesk.models import Voucher, VoucherPosition
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules import books
from cobot_sevdesk.sync.rules.books_report import BooksReport, Receipt

log = logging.getLogger(__name__)
#: Ids per database query (well under any database's limit on parameters).
CHUNK = 500
State = LedgerItem.State
T = TypeVar("T")
Period = books.Period


def month(text: str) -> books.Period:
    """The period of a month written ``YYYY-MM``."""
    first = dt.date.fromisoformat(f"{text}-01")
    return month_of(first)


def month_of(day: dt.date) -> books.Period:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return books.Period(first, following - dt.timedelta(days=1))


def previous_month(today: dt.date) -> books.Period:
    return month_of(today.replace(day=1) - dt.timedelta(days=1))


# ------------------------------------------------------------------ the ledger
def stage(state: str) -> str:
    if state in LedgerItem.SENT_STATES:
        return books.SENT
    if state == State.FAILED:
        return books.FAILED
    if state == State.SKIPPED:
        return books.SKIPPED
    return books.UNSENT


def _chunks(values: Iterable[T]) -> Iterable[list[T]]:
    listed = list(values)
    for start in range(0, len(listed), CHUNK):
        yield listed[start : start + CHUNK]


def ledger_rows(space: Space, cobot_ids: set[str], voucher_ids: set[int]) -> list[books.LedgerRow]:
    """The ledger's invoice items with these Cobot ids or sevDesk receipts."""
    items: dict[int, LedgerItem] = {}
    invoices = space.items.filter(kind=LedgerItem.Kind.INVOICE)
    for part in _chunks(cobot_ids):
        items.update((i.pk, i) for i in invoices.filter(cobot_id__in=part))
    for ids in _chunks(voucher_ids):
        items.update((i.pk, i) for i in invoices.filter(sevdesk_voucher_id__in=ids))
    reasons = _skip_reasons([i.pk for i in items.values() if i.state == State.SKIPPED])
    paid = _payments(space, [i.cobot_id for i in items.values()])
    with translation.override("en"):  # the state's name as its (translatable) template
        labels = {value: str(label) for value, label in State.choices}
    return [
        books.LedgerRow(
            item_id=item.pk,
            cobot_id=item.cobot_id,
            stage=stage(item.state),
            state_label=Message(labels[item.state]),
            label=item.label,
            voucher_id=item.sevdesk_voucher_id,
            fingerprint=item.fingerprint,
            amount_cents=item.amount_cents,
            reason=item.last_error or reasons.get(item.pk),
            paid=paid.get(item.cobot_id),
        )
        for item in items.values()
    ]


def _payments(space: Space, cobot_ids: list[str]) -> dict[str, books.PaidRow]:
    """The payments of these invoices as the ledger accounts for them (three queries
    per ``CHUNK`` invoices)."""
    found: dict[str, books.PaidRow] = {}
    for part in _chunks(cobot_ids):
        for cobot_id, paid in paid_by_invoice(space, part).items():
            found[cobot_id] = books.PaidRow(
                cobot=paid.ledger.cobot,
                sevdesk=paid.ledger.sevdesk,
                under_way=paid.under_way,
                held=paid.held_items,
                failed=paid.failed_items,
            )
    return found


def _skip_reasons(item_ids: list[int]) -> dict[int, Message]:
    """Why each skipped item was skipped: the last note or outcome in its history."""
    reasons: dict[int, Message] = {}
    kinds = (LedgerEvent.Kind.DONE, LedgerEvent.Kind.NOTE)
    for part in _chunks(item_ids):
        events = LedgerEvent.objects.filter(item_id__in=part, kind__in=kinds).order_by("at", "id")
        for event in events:
            if event.message is not None:
                reasons[event.item_id] = event.message
    return reasons


# ------------------------------------------------------------------ sevDesk's positions
def positions_of(ctx: SpaceContext, vouchers: list[Voucher]) -> dict[int, list[VoucherPosition]]:
    """The positions of these vouchers, in as few calls as sevDesk documents a way to."""
    found: dict[int, list[VoucherPosition]] = {v.id: [] for v in vouchers}
    if len(vouchers) > 1:
        total = ctx.sevdesk.count_voucher_positions()
        if total is not None and math.ceil(total / MAX_PAGE_SIZE) < len(vouchers):
            for position in ctx.sevdesk.all_voucher_positions():
                if position.voucher_id in found:
                    found[position.voucher_id].append(position)
    for voucher in vouchers:
        positions = found[voucher.id]
        if sum((p.sum_gross for p in positions), Decimal(0)) != voucher.sum_gross:
            found[voucher.id] = ctx.sevdesk.voucher_positions(voucher.id)
    return found


# ------------------------------------------------------------------ the check
def read(ctx: SpaceContext, period: books.Period) -> BooksReport:
    """Read both services and the ledger for ``period`` and compare them."""
    space = ctx.space
    cobot_before, sevdesk_before = ctx.cobot.api2.calls, ctx.sevdesk.calls
    invoices = [
        invoice
        for page in ctx.cobot.iter_invoice_pages(space.api2_id, period.start, period.end)
        for invoice in page.invoices
    ]
    listed = ctx.sevdesk.vouchers_dated(period.start, period.end)
    vouchers = books.in_period(period, listed)
    rows = ledger_rows(space, {i.id for i in invoices}, {v.id for v in vouchers})
    needed = books.lookups_needed(period, invoices, vouchers, rows)
    fetched_invoices: dict[str, Invoice | None] = {}
    for cobot_id in sorted(needed.invoice_ids):
        try:
            fetched_invoices[cobot_id] = ctx.cobot.get_invoice(cobot_id)
        except NotFound:
            fetched_invoices[cobot_id] = books.GONE
    fetched_vouchers: dict[int, Voucher | None] = {}
    for voucher_id in sorted(needed.voucher_ids):
        try:
            fetched_vouchers[voucher_id] = ctx.sevdesk.get_voucher(voucher_id)
        except NotFound:
            fetched_vouchers[voucher_id] = books.GONE
    # A receipt looked up on its own that is in the period after all (it was on a
    # page that shifted): compared like the others.
    vouchers += [
        v
        for v in fetched_vouchers.values()
        if v is not None and v.voucher_date in period and v.id not in {u.id for u in vouchers}
    ]
    ours = books.cobots_receipts(period, invoices, vouchers, rows)
    positions = positions_of(ctx, [v for v in vouchers if v.id in ours])
    receipts = [Receipt(v, tuple(positions.get(v.id, ()))) for v in vouchers]
    report = books.compare(
        period,
        invoices,
        receipts,
        rows,
        fetched_invoices=fetched_invoices,
        fetched_vouchers=fetched_vouchers,
    )
    report.calls = {
        "Cobot": ctx.cobot.api2.calls - cobot_before,
        "sevDesk": ctx.sevdesk.calls - sevdesk_before,
    }
    return report


def run(ctx: SpaceContext, check: BooksCheck) -> BooksReport | None:
    """Make ``check``; its result (or why it could not be made) is stored on it. A
    monthly check that could not be made is tried again later; a monthly result is
    posted to Cobot's activity feed once."""
    monthly = check.trigger == BooksCheck.Trigger.MONTHLY
    check.start()
    try:
        report = read(ctx, books.Period(check.start_date, check.end_date))
    except SyncError as exc:
        log.warning("books check %s of %s: %s", check.pk, ctx.space.subdomain, exc)
        check.failed(exc.admin_message, retry_in=settings.RECONCILE_INTERVAL if monthly else None)
        return None
    check.done(report.to_json(), len(report.differences))
    log.info(
        "books check %s of %s (%s..%s): %s differences, %s",
        check.pk,
        ctx.space.subdomain,
        check.start_date,
        check.end_date,
        len(report.differences),
        report.calls,
    )
    if monthly and check.posted is None:
        with activities.in_space_language(ctx.space):
            text = activities.books_result(ctx.space, report)
            try:
                posted = activities.post(ctx, text, level=None if report.matches else "WARN")
            except AuthorizationError as exc:
                # The check is made; the refused token is the periodic check's to handle.
                log.warning("posting books check %s of %s: %s", check.pk, ctx.space, exc)
                posted = False
        check.mark_posted(posted)
    return report


def monthly_due(space: Space, today: dt.date) -> books.Period | None:
    """The month whose check is due: the previous one, from ``BOOKS_CHECK_DAY`` of
    this month on, if the space was connected by that month's first day (an earlier
    month would list every invoice from before the connection as a difference)."""
    # Days 1 to 28 exist in every month.
    if today.day < min(max(settings.BOOKS_CHECK_DAY, 1), 28) or space.connected_at is None:
        return None
    period = previous_month(today)
    if timezone.localdate(space.connected_at) > period.start:
        return None
    return period


def note_monthly(space: Space, today: dt.date | None = None) -> BooksCheck | None:
    """Queue the month's check when it is due and was not made yet (once per month
    and space); the worker then makes it like any queued check."""
    period = monthly_due(space, today or timezone.localdate())
    return BooksCheck.monthly(space, period.start, period.end) if period else None
