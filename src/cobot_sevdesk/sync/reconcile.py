"""The periodic safety net: a lost webhook never means a lost invoice.

For each space, every ``RECONCILE_INTERVAL``:
1. check both tokens; a space paused for a refused token resumes by itself once the
   token works again;
2. check the webhook subscriptions and re-create any Cobot switched off;
3. list the recent invoices (``RECONCILE_DAYS``) and current members, and add ledger
   items for any that no webhook brought. Only objects from the connection day on
   count: older ones are what the backfill is for.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from cobot_sevdesk.errors import AuthorizationError, SyncError
from cobot_sevdesk.ledger import intake as ledger
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.messages import render
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.subscriptions import ensure_subscriptions

log = logging.getLogger(__name__)
PAUSED_CHECK_INTERVAL = 60.0


@dataclass
class ReconcileReport:
    sevdesk_ok: bool | None = None
    cobot_ok: bool | None = None
    resumed: bool = False
    subscriptions_created: list[str] = field(default_factory=list)
    invoices_added: int = 0
    members_added: int = 0
    error: str = ""

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


def check_health(ctx: SpaceContext, report: ReconcileReport) -> None:
    space = ctx.space
    report.sevdesk_ok = _probe(ctx.sevdesk.bookkeeping_version)
    report.cobot_ok = _probe(ctx.cobot.list_subscriptions)
    now = timezone.now()
    updates: dict[str, object] = {"health_checked_at": now}
    if report.sevdesk_ok is not None:
        updates["sevdesk_token_ok"] = report.sevdesk_ok
    if report.cobot_ok is not None:
        updates["cobot_token_ok"] = report.cobot_ok
    auth_paused = space.status == Space.Status.PAUSED and space.pause_reason in (
        Space.PauseReason.SEVDESK_AUTH,
        Space.PauseReason.COBOT_AUTH,
    )
    if auth_paused and report.sevdesk_ok and report.cobot_ok:
        updates.update(
            status=Space.Status.ACTIVE, pause_reason="", pause_message="", paused_at=None
        )
        report.resumed = True
        log.info("resumed %s: both tokens work again", space.subdomain)
    elif space.status == Space.Status.ACTIVE and (
        report.sevdesk_ok is False or report.cobot_ok is False
    ):
        service = "sevDesk" if report.sevdesk_ok is False else "Cobot"
        reason = (
            Space.PauseReason.SEVDESK_AUTH if service == "sevDesk" else Space.PauseReason.COBOT_AUTH
        )
        updates.update(
            status=Space.Status.PAUSED,
            pause_reason=reason,
            paused_at=now,
            pause_message=f"{service} refused our access token.",
        )
    Space.objects.filter(pk=space.pk).update(**updates)
    space.refresh_from_db()


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
        connected = timezone.localdate(space.connected_at) if space.connected_at else today
        start = max(connected, today - dt.timedelta(days=settings.RECONCILE_DAYS))
        for invoice in ctx.cobot.iter_invoices(space.api2_id, start, today):
            _item, created = ledger.ensure_item(
                space,
                LedgerItem.Kind.INVOICE,
                invoice.id,
                source=LedgerItem.Source.RECONCILE,
                label=invoice.number,
            )
            report.invoices_added += created
        for member in ctx.cobot.list_memberships():
            if member.confirmed_at is None or member.confirmed_at < connected:
                continue
            _item, created = ledger.ensure_item(
                space,
                LedgerItem.Kind.MEMBER,
                member.id,
                source=LedgerItem.Source.RECONCILE,
                label=member.name,
            )
            report.members_added += created
    except SyncError as exc:
        report.error = render(exc.admin_message)
        log.warning("reconciling %s: %s", space.subdomain, exc)
    finally:
        # A paused space is checked often, so it resumes soon after its token works.
        interval = settings.RECONCILE_INTERVAL
        if space.status == Space.Status.PAUSED:
            interval = min(interval, PAUSED_CHECK_INTERVAL)
        Space.objects.filter(pk=space.pk).update(
            last_reconciled_at=now,
            last_reconcile_error=report.error,
            reconcile_due_at=now + dt.timedelta(seconds=interval),
        )
    if report.added:
        log.info("reconciling %s added %s missing items", space.subdomain, report.added)
    return report
