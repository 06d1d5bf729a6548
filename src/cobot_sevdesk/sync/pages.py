"""Page mode: a space's due invoices read from Cobot's listing, and whether their
receipts exist asked of sevDesk once per page, instead of one call of each per invoice.

Cobot's API 2 lists a space's invoices by invoice date, 200 complete invoices (lines,
totals, recipient, PDF link) a call; sevDesk lists receipts by voucher date. When at
least ``SYNC_PAGE_MIN`` invoices of a space are due that no listing holds, the worker
(``runtime.worker``) asks ``prefetch`` for them; the backfill and the periodic check
hand over the pages they list anyway (``remember``). What a listing brought is kept in
this process for ``SYNC_PAGE_MAX_AGE`` seconds, per space and token (a turn in another
process lists again and prepares its own documents: more calls, nothing else).

Safety stays as in item mode:
- a listed invoice is Cobot's state of a moment ago; a change after it arrives as
  ``updated_invoice`` and is checked like any change after sending (``changes``);
- listed receipts answer "is it in sevDesk already" only for an item's first attempt,
  when nothing of ours can have been written for it; a retry (after an unknown
  outcome, a crash or a killed worker) looks up by itself (``receipts``);
- an invoice no listing holds (a webhook for an invoice dated long ago) is fetched
  alone, as in item mode;
- the next few receipts' documents are prepared ahead (``documents_ahead``: downloaded
  from Cobot, uploaded to sevDesk's temporary store) while the worker saves the current
  receipt; a link that expired meanwhile is renewed by a fetch.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from cobot_sevdesk.cobot.models import Invoice, Membership
from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync import documents_ahead
from cobot_sevdesk.sync.context import SpaceContext

log = logging.getLogger(__name__)
PAGE_SIZE = 200
#: A listing for dated items spans at most this many days from the oldest one, so one
#: old straggler does not make it read a year of invoices.
MAX_SPAN = dt.timedelta(days=31)
#: Receipt documents prepared ahead of the receipts being saved, per lane.
AHEAD_PER_LANE = 2
#: After a listing failed, items go one by one for this long (each with its own retry).
FAILED_PAUSE = 30.0
#: Cobot allows its member listing 6 requests a minute (its documentation): one in 10 s.
MEMBER_LIST_INTERVAL = 10.0

INVOICE, MEMBER = LedgerItem.Kind.INVOICE, LedgerItem.Kind.MEMBER
#: The kinds of items whose Cobot objects can be listed.
LISTED_KINDS = (INVOICE, MEMBER)


@dataclass
class ReceiptIndex:
    """sevDesk's receipts dated ``start``..``end``, by document number."""

    start: dt.date
    end: dt.date
    at: float
    by_number: dict[str, list[Voucher]]

    @classmethod
    def of(cls, start: dt.date, end: dt.date, vouchers: Iterable[Voucher]) -> ReceiptIndex:
        index = cls(start, end, time.monotonic(), {})
        for voucher in vouchers:
            index.by_number.setdefault((voucher.description or "").strip(), []).append(voucher)
        return index

    def find(self, number: str, credit_debit: str) -> list[Voucher]:
        """Receipts with exactly this document number and direction, as the look-up by
        number (``find_vouchers_by_description``) answers."""
        found = self.by_number.get(number.strip(), [])
        return [v for v in found if v.credit_debit in (credit_debit, None)]


@dataclass(frozen=True)
class Created:
    """A receipt a first attempt created, to look at once more at the end of the turn."""

    item_id: int
    number: str
    day: dt.date
    voucher_id: int
    credit_debit: str


@dataclass
class PageCache:
    """What one space's listings brought, in this process."""

    invoices: dict[str, tuple[float, Invoice]] = field(default_factory=dict)
    members: dict[str, tuple[float, Membership]] = field(default_factory=dict)
    #: Objects a listing was asked for but did not hold (by kind and id): fetched alone
    #: from now on.
    missed: dict[tuple[str, str], float] = field(default_factory=dict)
    members_listed_at: float = -MEMBER_LIST_INTERVAL
    #: Date spans of the Cobot pages listed (when, first and last date, how many
    #: invoices), whose receipts can be listed in one go.
    spans: list[tuple[float, dt.date, dt.date, int]] = field(default_factory=list)
    receipts: list[ReceiptIndex] = field(default_factory=list)
    #: The space's due invoices in the order they are worked on (for downloading ahead).
    order: list[str] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    failed_at: float = 0.0
    pruned_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Held while receipts are listed (see ``listed_receipts``).
    listing: threading.Lock = field(default_factory=threading.Lock)

    def held(self, kind: str) -> dict[str, Any]:
        """The listed objects of ``kind`` (after ``prune``, which replaces the dicts)."""
        return self.invoices if kind == INVOICE else self.members

    def take(self, kind: str, cobot_id: str) -> Any:
        """The listed object, taken out for its item; None if no listing holds it."""
        with self.lock:
            self.prune(time.monotonic())
            entry = self.held(kind).pop(cobot_id, None)
        return entry[1] if entry else None

    @property
    def empty(self) -> bool:
        return not (self.invoices or self.members or self.missed or self.spans or self.created)

    def prune(self, now: float) -> None:
        if now - self.pruned_at < 1.0:
            return
        self.pruned_at = now
        oldest = now - settings.SYNC_PAGE_MAX_AGE
        self.invoices = {k: v for k, v in self.invoices.items() if v[0] > oldest}
        self.members = {k: v for k, v in self.members.items() if v[0] > oldest}
        self.missed = {k: at for k, at in self.missed.items() if at > oldest}
        self.spans = [s for s in self.spans if s[0] > oldest]
        self.receipts = [r for r in self.receipts if r.at > oldest]


class _Store:
    """The spaces' caches in this process. Once a minute the caches of spaces that went
    quiet are dropped, so a process serving thousands holds only recent listings."""

    def __init__(self) -> None:
        self.caches: dict[tuple[str, ...], PageCache] = {}
        self.lock = threading.Lock()
        self.swept_at = 0.0

    def get(self, key: tuple[str, ...]) -> PageCache:
        now = time.monotonic()
        with self.lock:
            if now - self.swept_at > 60.0:
                self.swept_at = now
                for old_key, cache in list(self.caches.items()):
                    with cache.lock:
                        cache.prune(now)
                        if cache.empty:
                            del self.caches[old_key]
            return self.caches.setdefault(key, PageCache())

    def clear(self) -> None:
        with self.lock:
            self.caches.clear()


_store = _Store()


def _cache(ctx: SpaceContext) -> PageCache:
    return _store.get(ctx.cache_key)


def clear() -> None:
    _store.clear()
    documents_ahead.clear()


def remember(ctx: SpaceContext, invoices: Iterable[Invoice]) -> None:
    """Keep a listed page's invoices for the items that will need them."""
    if not settings.SYNC_PAGES:
        return
    listed = list(invoices)
    if not listed:
        return
    cache = _cache(ctx)
    now = time.monotonic()
    with cache.lock:
        for invoice in listed:
            cache.invoices[invoice.id] = (now, invoice)
            cache.missed.pop((INVOICE, invoice.id), None)
        dates = [invoice.invoice_date for invoice in listed]
        cache.spans.append((now, min(dates), max(dates), len(listed)))


def remember_members(ctx: SpaceContext, members: Iterable[Membership]) -> None:
    """Keep the member listing's members (the whole listing: Cobot does not page it)."""
    if not settings.SYNC_PAGES:
        return
    cache = _cache(ctx)
    now = time.monotonic()
    with cache.lock:
        cache.members_listed_at = now
        for member in members:
            cache.members[member.id] = (now, member)
            cache.missed.pop((MEMBER, member.id), None)


def holds(ctx: SpaceContext, item: LedgerItem) -> bool:
    """Whether a listing holds the item's object or already missed it (no listing
    needed for it)."""
    cache = _cache(ctx)
    with cache.lock:
        cache.prune(time.monotonic())
        return item.cobot_id in cache.held(item.kind) or (item.kind, item.cobot_id) in cache.missed


def holds_invoice(ctx: SpaceContext, invoice_id: str) -> bool:
    """Whether a listing of the last few minutes holds the invoice (no Cobot call)."""
    cache = _cache(ctx)
    with cache.lock:
        cache.prune(time.monotonic())
        return invoice_id in cache.invoices


def take(ctx: SpaceContext, invoice_id: str) -> Invoice | None:
    """The listed invoice, if a listing of the last few minutes holds it; and the next
    ones' documents start being prepared."""
    if not settings.SYNC_PAGES:
        return None
    cache = _cache(ctx)
    invoice: Invoice | None = cache.take(INVOICE, invoice_id)
    if invoice is not None and invoice_id not in cache.order:
        order = [cobot_id for cobot_id, _day in _due(ctx, INVOICE)]
        with cache.lock:
            cache.order = order
    with cache.lock:
        # The ones after it in work order (the first ones if it is not listed there).
        start = cache.order.index(invoice_id) + 1 if invoice_id in cache.order else 0
        upcoming = cache.order[start : start + AHEAD_PER_LANE * settings.SYNC_PAGE_LANES]
        ahead = [cache.invoices[i][1] for i in upcoming if i in cache.invoices]
    documents_ahead.start(ctx, ahead)
    return invoice


def take_member(ctx: SpaceContext, membership_id: str) -> Membership | None:
    return _cache(ctx).take(MEMBER, membership_id) if settings.SYNC_PAGES else None


def prefetch(ctx: SpaceContext, kind: str) -> int:
    """List the space's due objects of ``kind`` that no listing holds, if there are
    enough of them to make a listing pay; returns how many the listings brought."""
    if not settings.SYNC_PAGES:
        return 0
    cache = _cache(ctx)
    now = time.monotonic()
    if now - cache.failed_at < FAILED_PAUSE:
        return 0
    if kind == MEMBER and now - cache.members_listed_at < MEMBER_LIST_INTERVAL:
        return 0
    due = _due(ctx, kind)
    with cache.lock:
        cache.prune(now)
        wanted = {
            cobot_id: day
            for cobot_id, day in due
            if cobot_id not in cache.held(kind) and (kind, cobot_id) not in cache.missed
        }
    if len(wanted) < settings.SYNC_PAGE_MIN:
        return 0
    try:
        if kind == MEMBER:
            members = ctx.cobot.list_memberships()
            remember_members(ctx, members)
            brought = len(members)
        else:
            spans = spans_to_list(wanted, timezone.localdate())
            brought = sum(_list(ctx, start, end, wanted) for start, end in spans)
            # Only what a listing should have held counts as missed; the rest waits for
            # a listing of its own dates.
            wanted = {
                cobot_id: day
                for cobot_id, day in wanted.items()
                if day is None or any(start <= day <= end for start, end in spans)
            }
    except SyncError as exc:
        # The items go one by one meanwhile, each under its own retry policy.
        log.warning("listing the %ss of %s: %s", kind, ctx.space.subdomain, exc)
        cache.failed_at = time.monotonic()
        return 0
    with cache.lock:
        for cobot_id in wanted:
            if cobot_id not in cache.held(kind):
                cache.missed[(kind, cobot_id)] = now
        if kind == INVOICE:
            cache.order = [cobot_id for cobot_id, _day in due]
    return brought


def _due(ctx: SpaceContext, kind: str) -> list[tuple[str, dt.date | None]]:
    """The space's next due items of ``kind`` (id and invoice date), in work order."""
    return list(
        ctx.space.items.open()
        .due(timezone.now())
        .filter(kind=kind)
        .order_by("id")
        .values_list("cobot_id", "invoice_date")[:PAGE_SIZE]
    )


def spans_to_list(
    wanted: dict[str, dt.date | None], today: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The date ranges to list: from the oldest dated item on (at most ``MAX_SPAN``),
    and around today for items whose date is not known yet (a webhook's invoice is
    almost always issued today; one that is not is fetched alone)."""
    spans = []
    dated = sorted(day for day in wanted.values() if day is not None)
    if dated:
        spans.append((dated[0], min(dated[-1], dated[0] + MAX_SPAN)))
    if len(dated) < len(wanted):
        around = (today - dt.timedelta(days=1), today + dt.timedelta(days=1))
        if not spans or around[1] < spans[0][0] or around[0] > spans[0][1]:
            spans.append(around)
        else:
            spans[0] = (min(spans[0][0], around[0]), max(spans[0][1], around[1]))
    return spans


def _list(
    ctx: SpaceContext, start: dt.date, end: dt.date, wanted: dict[str, dt.date | None]
) -> int:
    """List ``start``..``end`` page by page until every wanted invoice dated in it is
    found (undated ones may be anywhere in it)."""
    expected = {
        cobot_id for cobot_id, day in wanted.items() if day is not None and start <= day <= end
    }
    undated = any(day is None for day in wanted.values())
    brought = 0
    for page in ctx.cobot.iter_invoice_pages(ctx.space.api2_id, start, end, size=PAGE_SIZE):
        remember(ctx, page.invoices)
        brought += len(page.invoices)
        expected -= {invoice.id for invoice in page.invoices}
        if not expected and not undated:
            break
    return brought


# ------------------------------------------------------------------ sevDesk
def listed_receipts(ctx: SpaceContext, invoice: Invoice, credit_debit: str) -> list[Voucher] | None:
    """sevDesk's receipts with the invoice's number, from one listing of the dates of
    the Cobot page it came in; None when no listed page covers its date (then the
    caller looks it up alone)."""
    if not settings.SYNC_PAGES:
        return None
    cache = _cache(ctx)
    day = invoice.invoice_date
    # One listing at a time per space: the turn's two lanes would otherwise both list
    # the same dates.
    with cache.listing:
        now = time.monotonic()
        with cache.lock:
            cache.prune(now)
            index = next((r for r in cache.receipts if r.start <= day <= r.end), None)
            # A page of a few invoices is not worth listing its dates' receipts for.
            span = next(
                (
                    (start, end)
                    for _at, start, end, count in cache.spans
                    if start <= day <= end and count >= settings.SYNC_PAGE_MIN
                ),
                None,
            )
        if index is None:
            if span is None:
                return None
            index = ReceiptIndex.of(*span, ctx.sevdesk.vouchers_dated(*span))
            with cache.lock:
                cache.receipts.append(index)
    return index.find(invoice.number, credit_debit)


def check_later(ctx: SpaceContext, created: Created) -> None:
    cache = _cache(ctx)
    with cache.lock:
        cache.created.append(created)


def take_created(ctx: SpaceContext) -> list[Created]:
    cache = _cache(ctx)
    with cache.lock:
        created, cache.created = cache.created, []
    return created
