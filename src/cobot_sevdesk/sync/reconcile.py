"""The periodic safety net: a lost webhook never means a lost invoice.

For each space, every ``RECONCILE_INTERVAL``:
1. check both tokens; a space paused for a refused token resumes by itself once the
   token works again;
2. check the webhook subscriptions and re-create any Cobot switched off;
3. list the invoices dated within ``RECONCILE_DAYS`` and the current members, and add
   ledger items for any that no webhook brought. Invoices that existed at connection
   (noted then, ``take_baseline``) and members confirmed before it are left alone:
   they are what the backfill is for. So an invoice created after the connection is
   caught whatever its invoice date, as long as that date is within the window.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cobot_sevdesk.errors import AuthorizationError, SyncError
from cobot_sevdesk.ledger.models import LedgerItem, PreexistingInvoice, Space
from cobot_sevdesk.messages import Text, _, as_message
from cobot_sevdesk.sync import pages
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.subscriptions import ensure_subscriptions

log = logging.getLogger(__name__)
PAUSED_CHECK_INTERVAL = 60.0
REFUSED = _("%(service)s refused our access token.")


@dataclass
class ReconcileReport:
    sevdesk_ok: bool | None = None
    cobot_ok: bool | None = None
    resumed: bool = False
    subscriptions_created: list[str] = field(default_factory=list)
    invoices_added: int = 0
    members_added: int = 0
    error: Text | None = None

    @property
    def added(self) -> int:
        return self.invoices_added + self.members_added


def _probe(check: Callable[[], object]) -> bool | None:
    """True: works; False: the token was refused; None: could not tell (outage)."""
    try:
        check()
    except AuthorizationError:
        return False
    except SyncError:
        return None
    return True


def token_refused(ctx: SpaceContext, service: str) -> bool:
    """Whether ``service`` refuses our token for its health call too: a 401 on one
    call pauses the space only when this confirms it (else the space would be paused,
    resumed by the next check and paused again by the same item)."""
    probe = (
        ctx.sevdesk.bookkeeping_version if service == "sevDesk" else ctx.cobot.list_subscriptions
    )
    return _probe(probe) is False


def check_health(ctx: SpaceContext, report: ReconcileReport) -> None:
    """Probe both tokens. A space paused for a refused token resumes once both work;
    an active space whose token is refused is paused."""
    space = ctx.space
    report.sevdesk_ok = _probe(ctx.sevdesk.bookkeeping_version)
    report.cobot_ok = _probe(ctx.cobot.list_subscriptions)
    updates: dict[str, object] = {"health_checked_at": timezone.now()}
    if report.sevdesk_ok is not None:
        updates["sevdesk_token_ok"] = report.sevdesk_ok
    if report.cobot_ok is not None:
        updates["cobot_token_ok"] = report.cobot_ok
    Space.objects.filter(pk=space.pk).update(**updates)
    space.refresh_from_db()
    if report.sevdesk_ok and report.cobot_ok:
        report.resumed = space.resume(only=Space.AUTH_PAUSES)
        if report.resumed:
            log.info("resumed %s: both tokens work again", space.subdomain)
    elif report.sevdesk_ok is False:
        space.pause(Space.PauseReason.SEVDESK_AUTH, REFUSED % {"service": "sevDesk"})
    elif report.cobot_ok is False:
        space.pause(Space.PauseReason.COBOT_AUTH, REFUSED % {"service": "Cobot"})


def reconcile(ctx: SpaceContext, *, today: dt.date | None = None) -> ReconcileReport:
    space = ctx.space
    report = ReconcileReport()
    now = timezone.now()
    try:
        check_health(ctx, report)
        if space.status != Space.Status.ACTIVE:
            return report
        report.subscriptions_created = ensure_subscriptions(ctx)
        today = today or timezone.localdate()
        # Cobot writes confirmation times in its own zone (UTC in its examples) and we
        # read only their date; a day of slack keeps a member confirmed just after the
        # connection from looking older than it in another zone. A member confirmed
        # the day before is added too: syncing a member twice is harmless.
        connected = timezone.localdate(space.connected_at) if space.connected_at else today
        connected -= dt.timedelta(days=1)
        report.invoices_added = _record_new_invoices(ctx, today)
        members = ctx.cobot.list_memberships()
        pages.remember_members(ctx, members)
        for member in members:
            if member.confirmed_at is None or member.confirmed_at < connected:
                continue
            _item, created = LedgerItem.record(
                space,
                LedgerItem.Kind.MEMBER,
                member.id,
                source=LedgerItem.Source.RECONCILE,
                label=member.name,
            )
            report.members_added += created
    except SyncError as exc:
        report.error = exc.admin_message
        log.warning("reconciling %s: %s", space.subdomain, exc)
    finally:
        _checked(space, now, report.error)
    if report.added:
        log.info("reconciling %s added %s missing items", space.subdomain, report.added)
    return report


def invoice_window(today: dt.date) -> tuple[dt.date, dt.date]:
    """Invoice dates the check looks at: ``RECONCILE_DAYS`` back (an invoice can be
    created with an earlier date) and as far ahead (or with a later one)."""
    days = dt.timedelta(days=settings.RECONCILE_DAYS)
    return today - days, today + days


def take_baseline(ctx: SpaceContext) -> int:
    """Note the invoices that exist right now (at connection), so the periodic check
    can tell them from invoices created later. Returns how many were noted."""
    space = ctx.space
    start, end = invoice_window(timezone.localdate())
    ids = [invoice.id for invoice in ctx.cobot.iter_invoices(space.api2_id, start, end)]
    with transaction.atomic():
        PreexistingInvoice.objects.filter(space=space).delete()
        PreexistingInvoice.objects.bulk_create(
            [PreexistingInvoice(space=space, cobot_id=cobot_id) for cobot_id in ids],
            ignore_conflicts=True,
        )
        Space.objects.filter(pk=space.pk).update(baseline_at=timezone.now())
    space.refresh_from_db(fields=["baseline_at"])
    return len(ids)


def _record_new_invoices(ctx: SpaceContext, today: dt.date) -> int:
    """Ledger items for listed invoices that are neither known nor pre-existing."""
    space = ctx.space
    added = 0
    start, end = invoice_window(today)
    for page in ctx.cobot.iter_invoice_pages(space.api2_id, start, end):
        ids = [invoice.id for invoice in page.invoices]
        known = set(
            space.items.filter(kind=LedgerItem.Kind.INVOICE, cobot_id__in=ids).values_list(
                "cobot_id", flat=True
            )
        ) | set(space.preexisting.filter(cobot_id__in=ids).values_list("cobot_id", flat=True))
        new = [invoice for invoice in page.invoices if invoice.id not in known]
        for invoice in new:
            _item, created = LedgerItem.record(
                space,
                LedgerItem.Kind.INVOICE,
                invoice.id,
                source=LedgerItem.Source.RECONCILE,
                label=invoice.number,
                invoice_date=invoice.invoice_date,
            )
            added += created
        pages.remember(ctx, new)  # their items need not fetch them again
    return added


def reconcile_crashed(space: Space, reason: Text) -> None:
    """The check itself crashed (a bug): shown on the dashboard, tried again after the
    usual interval, and the space's items go on meanwhile."""
    _checked(space, timezone.now(), reason)


def _checked(space: Space, now: dt.datetime, error: Text | None) -> None:
    # A paused space is checked often, so it resumes soon after its token works.
    interval = settings.RECONCILE_INTERVAL
    if space.status == Space.Status.PAUSED:
        interval = min(interval, PAUSED_CHECK_INTERVAL)
    Space.objects.filter(pk=space.pk).update(
        last_reconciled_at=now,
        last_reconcile_error=as_message(error),
        reconcile_due_at=now + dt.timedelta(seconds=interval),
    )
