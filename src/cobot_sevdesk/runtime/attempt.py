"""One attempt at one ledger item: run the right sync, record the outcome.

The caller must hold the space's lease (``worker.SpaceLease``): then nobody else
touches this space's items, which keeps a member's contact ahead of its invoices and
makes "running" unambiguous.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from cobot_sevdesk.errors import AuthorizationError, SyncError
from cobot_sevdesk.ledger.intake import note
from cobot_sevdesk.ledger.models import LedgerEvent, LedgerItem, Space
from cobot_sevdesk.messages import _, english, render, to_json
from cobot_sevdesk.metrics import ITEMS_FINISHED, SYNC_LATENCY
from cobot_sevdesk.runtime.retry import RetryPolicy, Verdict, decide
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.invoices import recheck_invoice, sync_invoice
from cobot_sevdesk.sync.members import sync_member
from cobot_sevdesk.sync.outcome import Outcome, save_fields

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


@dataclass
class Engine:
    """Runs attempts for one space with one context (clients, caches, throttle)."""

    ctx: SpaceContext
    retry_policy: RetryPolicy = field(default_factory=policy)
    depth: int = 0

    @property
    def space(self) -> Space:
        return self.ctx.space

    def run(self, item: LedgerItem) -> str:
        """One attempt at ``item``; returns its state afterwards. Raises ``SpacePaused``
        when the space had to be paused (its token was refused)."""
        with activities.in_space_language(self.space):
            if item.recheck and item.state in (State.SYNCED, State.MISMATCH):
                return self._recheck(item)
            if item.is_final:
                return item.state  # finished: running it again changes nothing
            return self._attempt(item)

    def _attempt(self, item: LedgerItem) -> str:
        previous = item.state
        save_fields(item, state=State.RUNNING, attempts=item.attempts + 1, recheck=False)
        if previous in (State.AMBIGUOUS, State.RUNNING):
            note(
                item,
                LedgerEvent.Kind.ATTEMPT,
                _(
                    "Attempt %(n)s; the last one may have reached sevDesk, "
                    "so sevDesk is checked first."
                )
                % {"n": item.attempts},
            )
        try:
            outcome = self._dispatch(item)
        except AuthorizationError as exc:
            # Not the item's fault: undo the attempt and pause the whole space.
            save_fields(
                item, state=State.PENDING, attempts=max(item.attempts - 1, 0), next_attempt_at=None
            )
            self._pause(exc)
            raise SpacePaused(str(exc)) from exc
        except SpacePaused:
            save_fields(
                item, state=State.PENDING, attempts=max(item.attempts - 1, 0), next_attempt_at=None
            )
            raise
        except SyncError as exc:
            return self._failed_attempt(item, exc)
        except Exception as exc:
            log.exception(
                "unexpected error syncing %s %s of %s",
                item.kind,
                item.cobot_id,
                self.space.subdomain,
            )
            error = SyncError(
                f"internal error: {type(exc).__name__}: {exc}",
                admin_message=_(
                    "An internal error stopped this sync (%(error)s). It was logged; "
                    "please retry, and report it if it happens again."
                )
                % {"error": type(exc).__name__},
            )
            return self._failed_attempt(item, error)
        return self._finish(item, outcome)

    def _dispatch(self, item: LedgerItem) -> Outcome:
        if item.kind == LedgerItem.Kind.MEMBER:
            return sync_member(self.ctx, item)
        return sync_invoice(self.ctx, item, run_dependency=self._run_dependency)

    def _run_dependency(self, dependency: LedgerItem) -> None:
        if self.depth > 0:
            return  # dependencies do not nest
        Engine(self.ctx, self.retry_policy, depth=self.depth + 1).run(dependency)

    def _finish(self, item: LedgerItem, outcome: Outcome) -> str:
        now = timezone.now()
        save_fields(
            item,
            **outcome.fields,
            state=outcome.state,
            next_attempt_at=None,
            last_error="",
            last_error_message=None,
            error_code="",
            failure_reported=False,
            finished_at=now,
        )
        note(item, LedgerEvent.Kind.DONE, outcome.message)
        ITEMS_FINISHED.labels(item.kind, outcome.state).inc()
        SYNC_LATENCY.labels(item.kind).observe((now - item.created_at).total_seconds())
        return outcome.state

    def _failed_attempt(self, item: LedgerItem, error: SyncError) -> str:
        decision = decide(error, item.attempts, self.retry_policy)
        code = getattr(error, "code", "error")
        if decision.verdict in (Verdict.RETRY, Verdict.RETRY_AMBIGUOUS):
            assert decision.delay is not None
            when = timezone.now() + dt.timedelta(seconds=decision.delay)
            state = (
                State.AMBIGUOUS if decision.verdict == Verdict.RETRY_AMBIGUOUS else State.RETRY_WAIT
            )
            save_fields(
                item,
                state=state,
                next_attempt_at=when,
                last_error=english(error.admin_message),
                last_error_message=to_json(error.admin_message),
                error_code=code,
            )
            note(
                item,
                LedgerEvent.Kind.RETRY,
                _("%(error)s Trying again in %(seconds)s s.")
                % {"error": error.admin_message, "seconds": round(decision.delay)},
            )
            return state
        now = timezone.now()
        save_fields(
            item,
            state=State.FAILED,
            next_attempt_at=None,
            last_error=english(error.admin_message),
            last_error_message=to_json(error.admin_message),
            error_code=code,
            finished_at=now,
        )
        note(item, LedgerEvent.Kind.FAILED, error.admin_message)
        ITEMS_FINISHED.labels(item.kind, State.FAILED).inc()
        log.info("%s %s of %s failed: %s", item.kind, item.cobot_id, self.space.subdomain, error)
        self._report_failure(item, error)
        return State.FAILED

    def _report_failure(self, item: LedgerItem, error: SyncError) -> None:
        """Tell the admin in Cobot, once per failure (not once per retry)."""
        if item.failure_reported:
            return
        try:
            if activities.post(
                self.ctx, activities.failure(item, render(error.admin_message)), level="ERROR"
            ):
                save_fields(item, failure_reported=True)
        except AuthorizationError as exc:
            self._pause(exc)
            raise SpacePaused(str(exc)) from exc

    def _recheck(self, item: LedgerItem) -> str:
        save_fields(item, recheck=False)
        try:
            message = recheck_invoice(self.ctx, item)
        except AuthorizationError as exc:
            save_fields(item, recheck=True)
            self._pause(exc)
            raise SpacePaused(str(exc)) from exc
        except SyncError as exc:
            decision = decide(exc, 1, self.retry_policy)
            if decision.delay is not None:
                later = timezone.now() + dt.timedelta(seconds=decision.delay)
                save_fields(item, recheck=True, next_attempt_at=later)
            note(
                item,
                LedgerEvent.Kind.WARNING,
                _("Could not check the update: %(error)s") % {"error": exc.admin_message},
            )
            return item.state
        save_fields(item, next_attempt_at=None)
        note(item, LedgerEvent.Kind.NOTE, message)
        return item.state

    def _pause(self, error: AuthorizationError) -> None:
        pause_space(self.ctx, error)


def pause_space(ctx: SpaceContext, error: AuthorizationError) -> None:
    """Stop all work for the space until its token works again (checked periodically
    and when the admin saves new settings)."""
    space = ctx.space
    reason = (
        Space.PauseReason.SEVDESK_AUTH
        if error.service == "sevDesk"
        else Space.PauseReason.COBOT_AUTH
    )
    updated = Space.objects.filter(pk=space.pk, status=Space.Status.ACTIVE).update(
        status=Space.Status.PAUSED,
        pause_reason=reason,
        pause_message=english(error.admin_message),
        paused_at=timezone.now(),
        sevdesk_token_ok=False
        if reason == Space.PauseReason.SEVDESK_AUTH
        else space.sevdesk_token_ok,
        cobot_token_ok=False if reason == Space.PauseReason.COBOT_AUTH else space.cobot_token_ok,
    )
    space.refresh_from_db()
    log.warning("paused %s: %s", space.subdomain, error)
    if updated and reason == Space.PauseReason.SEVDESK_AUTH:
        # Cobot still works, so the admin hears about it where they are.
        with contextlib.suppress(AuthorizationError):
            activities.post(
                ctx, activities.space_paused(render(error.admin_message)), level="ERROR"
            )
