"""Finding payments on synced invoices, on both sides, and recording each once.

- Cobot: its payment records (API 1) are the payments; each record is one payment,
  keyed by its id. They are read when ``updated_invoice`` reports a changed paid
  amount (``cobot_invoice_seen``, one call) and by the periodic check for every
  watched invoice (one call per ``RECORDS_PER_CALL`` invoices). Records we wrote
  carry our mark in their note and are never taken for new payments (no loop).
- sevDesk has no webhooks: the periodic check asks for receipts changed since the
  last check (``updateAfter``, one call per page), and once a day reads every watched
  receipt (``FULL_CHECK_EVERY``), in case a payment does not change a receipt's
  ``update`` time (UNCERTAIN). A receipt showing more paid than the ledger accounts
  for has a new payment: the difference, keyed by the receipt and its paid amount.

Watched are synced invoices of the last ``PAYMENT_CHECK_DAYS`` with a positive total
and a receipt, until both sides show them paid in full with no payment under way.
An invoice with a payment under way is not looked at for new sevDesk payments until
that payment is done, so our own booking is never taken for a new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.cobot.payments import PaymentRecord
from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import (
    LedgerItem,
    PaidState,
    Payment,
    PaymentSettings,
    Space,
    ledger_paid,
    open_payments,
)
from cobot_sevdesk.messages import Message, Text, _
from cobot_sevdesk.sevdesk.models import Voucher
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.payments import cobot_permission, in_cents, marked_key, money

log = logging.getLogger(__name__)
#: How often every watched receipt is read, not only the ones sevDesk reports changed.
FULL_CHECK_EVERY = dt.timedelta(hours=24)
#: Receipts changed this long before the last check are asked for again: sevDesk's
#: clock is not ours, and a change may be committed while we read.
SEVDESK_OVERLAP = dt.timedelta(minutes=10)
RECORDS_PER_CALL = 50


@dataclass
class CheckReport:
    watched: int = 0
    cobot_found: int = 0
    sevdesk_found: int = 0
    full: bool = False
    error: Text | None = None


def add_payment(
    invoice: LedgerItem,
    origin: str,
    key: str,
    amount_cents: int,
    paid_on: dt.date,
    *,
    record_id: str = "",
) -> LedgerItem | None:
    """Record a payment found on ``origin``'s side, once: its key is unique per space.
    Returns the new item, or None when it was recorded before."""
    try:
        with transaction.atomic():
            item = LedgerItem.objects.create(
                space_id=invoice.space_id,
                kind=LedgerItem.Kind.PAYMENT,
                cobot_id=key[:64],
                source=LedgerItem.Source.PAYMENT,
                label=invoice.label,
                amount_cents=amount_cents,
                currency=invoice.currency,
                customer_number=invoice.customer_number,
            )
            Payment.objects.create(
                item=item,
                invoice=invoice,
                origin=origin,
                amount_cents=amount_cents,
                currency=invoice.currency,
                paid_on=paid_on,
                cobot_record_id=record_id,
            )
    except IntegrityError:
        return None
    log.info("payment %s of %s on %s found", key, amount_cents, invoice.label)
    return item


def flag_once(ctx: SpaceContext, item: LedgerItem, reason: Message) -> None:
    """List the invoice under "needs your attention" and say so in Cobot's feed, once
    for each reason."""
    if item.attention != reason:
        item.flag_attention(reason)
        with activities.in_space_language(ctx.space):
            activities.post(ctx, activities.attention(item, reason), level="WARN")


# ------------------------------------------------------------------ Cobot
def cobot_invoice_seen(ctx: SpaceContext, item: LedgerItem, invoice: Invoice) -> None:
    """An update of a synced invoice came in and ``invoice`` is what Cobot shows now:
    if its paid amount changed, read its payment records (one call)."""
    setup = PaymentSettings.of(ctx.space)
    if not setup.book_cobot_payments or item.sevdesk_voucher_id is None:
        return
    if (item.amount_cents or 0) <= 0:
        return
    paid = in_cents(invoice.paid_amount)
    row = PaidState.objects.filter(invoice=item).first()
    if paid == (row.cobot_cents if row is not None and row.cobot_cents is not None else 0):
        return
    with cobot_permission():
        records = ctx.cobot.list_payment_records([item.cobot_id])
    cobot_records_seen(ctx, item, records, api2_paid=paid)


def cobot_records_seen(
    ctx: SpaceContext,
    invoice: LedgerItem,
    records: Sequence[PaymentRecord],
    *,
    api2_paid: int | None = None,
) -> int:
    """The payment records Cobot lists for a synced invoice; new ones (not ours, not
    known) become payments. Returns how many."""
    known = set(
        invoice.payments.exclude(cobot_record_id="").values_list("cobot_record_id", flat=True)
    )
    added = 0
    for record in records:
        if record.id in known or marked_key(record.note) is not None:
            continue
        amount = in_cents(record.amount)
        found = add_payment(
            invoice,
            Payment.Origin.COBOT,
            f"cobot:{record.id}",
            amount,
            record.paid_on,
            record_id=record.id,
        )
        added += found is not None
    recorded = sum(in_cents(r.amount) for r in records)
    paid = recorded if api2_paid is None else max(api2_paid, recorded)
    before = PaidState.objects.filter(invoice=invoice).values_list("cobot_cents", flat=True).first()
    PaidState.saw(invoice, cobot=paid)
    values = {
        "invoice": invoice.label,
        "paid": money(paid, invoice.currency),
        "recorded": money(recorded, invoice.currency),
        "before": money(before or 0, invoice.currency),
    }
    if api2_paid is not None and api2_paid > recorded:
        # UNCERTAIN whether every payment Cobot takes leaves a payment record: when one
        # does not, say so instead of booking a guess.
        flag_once(
            ctx,
            invoice,
            _(
                "Cobot shows %(paid)s paid on invoice %(invoice)s, but its payment records "
                "add up to %(recorded)s: the difference was paid in a way the add-on cannot "
                "see, so it was not booked in sevDesk. Book it there by hand, then mark "
                "this as handled."
            )
            % values,
        )
    elif before is not None and paid < before:
        flag_once(
            ctx,
            invoice,
            _(
                "The paid amount of invoice %(invoice)s went down in Cobot, from %(before)s "
                "to %(paid)s: a payment was removed or refunded there. sevDesk was not "
                "changed; correct the receipt's payments there if needed, then mark this "
                "as handled."
            )
            % values,
        )
    return added


def cobot_side(ctx: SpaceContext, invoices: Sequence[LedgerItem]) -> int:
    by_id = {invoice.cobot_id: invoice for invoice in invoices}
    ids = list(by_id)
    added = 0
    for start in range(0, len(ids), RECORDS_PER_CALL):
        batch = ids[start : start + RECORDS_PER_CALL]
        grouped: dict[str, list[PaymentRecord]] = defaultdict(list)
        for record in ctx.cobot.list_payment_records(batch):
            grouped[record.invoice_id].append(record)
        for cobot_id in batch:
            added += cobot_records_seen(ctx, by_id[cobot_id], grouped[cobot_id])
    return added


# ------------------------------------------------------------------ sevDesk
def sevdesk_receipt_seen(ctx: SpaceContext, invoice: LedgerItem, voucher: Voucher) -> int:
    """What sevDesk shows paid on a watched receipt; more than the ledger accounts for
    is a new payment. Returns 1 if one was recorded."""
    paid = in_cents(voucher.paid_amount)
    PaidState.saw(invoice, sevdesk=paid)
    if open_payments(invoice).exists():
        return 0  # looked at again once the payment under way is done
    accounted = ledger_paid(invoice).sevdesk
    if paid < accounted:
        flag_once(
            ctx,
            invoice,
            _(
                "sevDesk shows %(paid)s paid on the receipt of invoice %(invoice)s, less than "
                "the %(accounted)s known: a payment was removed there. Cobot was not changed; "
                "correct it there if needed, then mark this as handled."
            )
            % {
                "paid": money(paid, invoice.currency),
                "accounted": money(accounted, invoice.currency),
                "invoice": invoice.label,
            },
        )
        return 0
    if paid == accounted:
        return 0
    found = add_payment(
        invoice,
        Payment.Origin.SEVDESK,
        f"sevdesk:{voucher.id}:{paid}",
        paid - accounted,
        voucher.pay_date or timezone.localdate(),
    )
    return int(found is not None)


def sevdesk_side(
    ctx: SpaceContext, setup: PaymentSettings, invoices: Sequence[LedgerItem], *, full: bool
) -> int:
    by_voucher = {i.sevdesk_voucher_id: i for i in invoices if i.sevdesk_voucher_id}
    if full or setup.sevdesk_seen_until is None:
        vouchers = [ctx.sevdesk.get_voucher(voucher_id) for voucher_id in by_voucher]
    else:
        since = setup.sevdesk_seen_until - SEVDESK_OVERLAP
        vouchers = [v for v in ctx.sevdesk.vouchers_updated_since(since) if v.id in by_voucher]
    return sum(sevdesk_receipt_seen(ctx, by_voucher[v.id], v) for v in vouchers)


# ------------------------------------------------------------------ the periodic check
def watched_invoices(space: Space, now: dt.datetime) -> list[LedgerItem]:
    since = now - dt.timedelta(days=settings.PAYMENT_CHECK_DAYS)
    return list(
        space.items.filter(
            kind=LedgerItem.Kind.INVOICE,
            state__in=LedgerItem.SENT_STATES,
            sevdesk_voucher_id__isnull=False,
            amount_cents__gt=0,
            created_at__gte=since,
        )
        .exclude(paid__settled=True)
        .order_by("id")
    )


def check_due(space: Space, now: dt.datetime) -> bool:
    return PaymentSettings.objects.filter(space=space, check_due_at__lte=now).exists()


def check_payments(ctx: SpaceContext, *, now: dt.datetime | None = None) -> CheckReport:
    """Look on both sides for payments on watched invoices (the switched-on sides)."""
    report = CheckReport()
    setup = PaymentSettings.of(ctx.space)
    if setup.pk is None or not setup.enabled:
        return report
    now = now or timezone.now()
    report.full = (
        setup.sevdesk_seen_until is None
        or setup.last_full_check_at is None
        or now - setup.last_full_check_at >= FULL_CHECK_EVERY
    )
    seen: dict[str, dt.datetime] = {}
    invoices = watched_invoices(ctx.space, now)
    report.watched = len(invoices)
    # Each side on its own: one that cannot be read does not keep the other waiting.
    # Nothing watched, nothing to ask either side.
    if setup.book_cobot_payments and invoices:
        with _noting(ctx, report):
            report.cobot_found = cobot_side(ctx, invoices)
    if setup.mark_paid_in_cobot:
        with _noting(ctx, report):
            if invoices:
                report.sevdesk_found = sevdesk_side(ctx, setup, invoices, full=report.full)
            seen["sevdesk_seen_until"] = now
            if report.full:
                seen["last_full_check_at"] = now
    setup.checked(now, settings.PAYMENT_CHECK_INTERVAL, report.error, **seen)
    if report.cobot_found or report.sevdesk_found:
        log.info(
            "payment check of %s: %s from Cobot, %s from sevDesk",
            ctx.space.subdomain,
            report.cobot_found,
            report.sevdesk_found,
        )
    return report


@contextlib.contextmanager
def _noting(ctx: SpaceContext, report: CheckReport) -> Iterator[None]:
    """An API error stops this side of the check and is shown on the dashboard."""
    try:
        with cobot_permission():
            yield
    except SyncError as exc:
        report.error = report.error or exc.admin_message
        log.warning("payment check of %s: %s", ctx.space.subdomain, exc)


def check_crashed(space: Space, reason: Text) -> None:
    """The check itself crashed (a bug): shown on the dashboard, tried again later."""
    PaymentSettings.of(space).checked(timezone.now(), settings.PAYMENT_CHECK_INTERVAL, reason)
