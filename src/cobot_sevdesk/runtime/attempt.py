"""One attempt at one ledger item: run its use case, then apply the retry policy's
verdict (done, retry later, fail, or pause the space). The only caller of the use
cases' item functions, and the only place a verdict is acted on.

The caller must hold the space's lease (``runtime.worker``): then nobody else touches
this space's items, which keeps a member's contact ahead of its invoices and makes
"running" unambiguous.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from django.conf import settings

from cobot_sevdesk.errors import AuthorizationError, Forbidden, SyncError
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.messages import _
from cobot_sevdesk.metrics import ITEMS_FINISHED, SYNC_LATENCY
from cobot_sevdesk.runtime.retry import RetryPolicy, Verdict, decide
from cobot_sevdesk.sync import activities, pages
from cobot_sevdesk.sync.changes import recheck_invoice
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.invoices import MemberFirst, sync_invoice
from cobot_sevdesk.sync.members import sync_member
from cobot_sevdesk.sync.outcome import Outcome
from cobot_sevdesk.sync.payments import sync_payment
from cobot_sevdesk.sync.reconcile import token_refused

log = logging.getLogger(__name__)
State = LedgerItem.State


class SpacePaused(Exception):
    """The space was paused while working on it; stop taking its items."""


def policy() -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.SYNC_MAX_ATTEMPTS,
        base_delay=settings.SYNC_BACKOFF_BASE,
        max_delay=settings.SYNC_BACKOFF_CAP,
    )


def refused_call(error: AuthorizationError) -> Forbidden:
    """A 401 on one call while the token works elsewhere: this call fails, not the
    space."""
    return Forbidden.of(
        error,
        _(
            "%(service)s refused this request (%(message)s), although our access token "
            "works for its other calls. Nothing was changed; check the add-on's permissions "
            "there, then retry."
        )
        % {"service": error.service, "message": error.service_message},
    )


def internal_error(exc: Exception) -> SyncError:
    """A bug of ours, said so: the item fails with a reason instead of crashing."""
    return SyncError(
        f"internal error: {type(exc).__name__}: {exc}",
        admin_message=_(
            "An internal error stopped this sync (%(error)s). It was logged; "
            "please retry, and report it if it happens again."
        )
        % {"error": type(exc).__name__},
    )


@dataclass
class Runner:
    """Runs attempts for one space with one context (clients, caches, throttle)."""

    ctx: SpaceContext
    retry_policy: RetryPolicy = field(default_factory=policy)

    @property
    def space(self) -> Space:
        return self.ctx.space

    def run(self, item: LedgerItem) -> str:
        """One attempt at ``item``; returns its state afterwards. Raises ``SpacePaused``
        when the space had to be paused (a token was refused)."""
        with activities.in_space_language(self.space):
            if item.recheck and item.state in LedgerItem.SENT_STATES:
                return self._recheck(item)
            if item.is_final:
                return item.state  # finished: running it again changes nothing
            return self._attempt(item, nested=False)

    # ------------------------------------------------------------------ attempts
    def _attempt(self, item: LedgerItem, *, nested: bool) -> str:
        if not item.start_attempt():
            return item.state  # changed meanwhile (skipped by an admin)
        try:
            outcome = self._use_case(item, nested=nested)
        except SpacePaused:
            item.undo_attempt()
            raise
        except SyncError as exc:
            return self._after_error(item, exc)
        except Exception as exc:
            log.exception(
                "unexpected error syncing %s %s of %s", item.kind, item.cobot_id, self.space
            )
            return self._after_error(item, internal_error(exc))
        return self._finish(item, outcome)

    def _use_case(self, item: LedgerItem, *, nested: bool) -> Outcome:
        if item.kind == LedgerItem.Kind.MEMBER:
            return sync_member(self.ctx, item, member=pages.take_member(self.ctx, item.cobot_id))
        if item.kind == LedgerItem.Kind.PAYMENT:
            return sync_payment(self.ctx, item)
        try:
            return sync_invoice(self.ctx, item, invoice=pages.take(self.ctx, item.cobot_id))
        except MemberFirst as first:
            # Webhooks out of order: the member's contact must exist first. It is
            # synced now, in this turn (dependencies do not nest), then the invoice
            # goes on with the invoice already fetched.
            if not nested:
                self._attempt(first.member, nested=True)
                first.member.refresh_from_db()
            return sync_invoice(self.ctx, item, invoice=first.invoice, member_tried=True)

    def _finish(self, item: LedgerItem, outcome: Outcome) -> str:
        item.finish(outcome.state, outcome.message, **outcome.fields)
        ITEMS_FINISHED.labels(item.kind, outcome.state).inc()
        assert item.finished_at is not None
        SYNC_LATENCY.labels(item.kind).observe((item.finished_at - item.created_at).total_seconds())
        return outcome.state

    def _after_error(self, item: LedgerItem, error: SyncError) -> str:
        decision = decide(error, item.attempts, self.retry_policy)
        if decision.verdict == Verdict.PAUSE_SPACE and isinstance(error, AuthorizationError):
            if token_refused(self.ctx, error.service):
                # Not the item's fault: the attempt does not count, and the space waits.
                item.undo_attempt()
                self._pause(error)
            # The token works for other calls: only this call is refused.
            error = refused_call(error)
            decision = decide(error, item.attempts, self.retry_policy)
        if decision.verdict in (Verdict.RETRY, Verdict.RETRY_AMBIGUOUS):
            assert decision.delay is not None
            item.wait(
                error.admin_message,
                error.code,
                decision.delay,
                ambiguous=decision.verdict == Verdict.RETRY_AMBIGUOUS,
            )
            return item.state
        item.fail(error.admin_message, error.code)
        ITEMS_FINISHED.labels(item.kind, State.FAILED).inc()
        log.info("%s %s of %s failed: %s", item.kind, item.cobot_id, self.space.subdomain, error)
        self._report_failure(item, error)
        return State.FAILED

    def _report_failure(self, item: LedgerItem, error: SyncError) -> None:
        """Tell the admin in Cobot, once per failure (not once per retry)."""
        if item.failure_reported:
            return
        try:
            text = activities.failure(item, error.admin_message)
            if activities.post(self.ctx, text, level="ERROR"):
                item.update(failure_reported=True)
        except AuthorizationError as exc:
            self._pause(exc)

    # ------------------------------------------------------------------ re-checks
    def _recheck(self, item: LedgerItem) -> str:
        try:
            message = recheck_invoice(self.ctx, item)
        except SyncError as exc:
            decision = decide(exc, 1, self.retry_policy)
            if isinstance(exc, AuthorizationError) and token_refused(self.ctx, exc.service):
                self._pause(exc)
            item.recheck_later(
                decision.delay,
                _("Could not check the update: %(error)s") % {"error": exc.admin_message},
            )
            return item.state
        item.end_recheck(message)
        return item.state

    # ------------------------------------------------------------------ pausing
    def _pause(self, error: AuthorizationError) -> None:
        """Stop all work for the space until its token works again (checked
        periodically and when the admin saves new settings). Raises ``SpacePaused``."""
        reason = (
            Space.PauseReason.SEVDESK_AUTH
            if error.service == "sevDesk"
            else Space.PauseReason.COBOT_AUTH
        )
        if self.space.pause(reason, error.admin_message):
            log.warning("paused %s: %s", self.space.subdomain, error)
            if reason == Space.PauseReason.SEVDESK_AUTH:
                # Cobot still works, so the admin hears about it where they are.
                with contextlib.suppress(AuthorizationError):
                    activities.post(
                        self.ctx, activities.space_paused(error.admin_message), level="ERROR"
                    )
        raise SpacePaused(str(error))
