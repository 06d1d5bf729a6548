"""Working through a space: one active worker per space, oldest item first.

``drain_space`` is what the queue runs. It takes the space's lease (a row-level
claim with an expiry, renewed by a heartbeat while it works), does the space's due
housekeeping (token check, webhook check, reconciliation, a backfill page, a books
check) and then its due ledger items, oldest first, for at most
``SYNC_SLICE_SECONDS``. Then it lets go and, if work is left, queues itself again
behind everyone else: a space with a 10,000-invoice backlog gets a fair share of
workers, not all of them.

A worker that dies mid-item leaves the item "running" and its lease runs out; the
next holder finds the item due and re-runs it, reading back before it writes. In page
mode a turn has more lanes for invoices a listing brought (``runtime.lanes``).

``spaces_with_due_work`` is what the periodic sweep (``runtime.tasks.sweep``) queues:
spaces with due work whose lease is free, so a lost queue message or a crashed worker
delays work by one sweep, never loses it.

A crash in a space's housekeeping (a bug, not an API error) is logged, recorded where
the admin sees it and pushed back by one interval; the space's items still go through.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import Backfill, BooksCheck, LedgerItem, Space
from cobot_sevdesk.runtime.attempt import Runner, SpacePaused, internal_error
from cobot_sevdesk.runtime.lanes import Lanes
from cobot_sevdesk.runtime.throttle import CobotThrottle
from cobot_sevdesk.sync import backfill, books, pages, payment_checks, receipts
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.reconcile import reconcile, reconcile_crashed, take_baseline

log = logging.getLogger(__name__)

#: Set when the worker process is asked to stop: finish the current item, take no more.
stop_requested = threading.Event()
#: How many items in a row may fail transiently before the space's turn ends (the
#: service is probably down; do not keep sending it requests).
MAX_TRANSIENT_STREAK = 3

#: How many due items a turn reads at once; an item that falls due meanwhile waits for
#: the next read, a second or so.
DUE_BATCH = 16
#: A next turn due within this many seconds is queued at once (see ``drain_space``).
THROTTLE_WAIT_IN_TURN = 2.0


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class SpaceLease:
    """The right to work on one space, with an expiry, held in the database."""

    def __init__(self, space_id: int, owner: str, ttl: float) -> None:
        self.space_id = space_id
        self.owner = owner
        self.ttl = dt.timedelta(seconds=ttl)

    def acquire(self) -> bool:
        now = timezone.now()
        free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
        return (
            Space.objects.filter(free, pk=self.space_id).update(
                lease_owner=self.owner, lease_until=now + self.ttl
            )
            == 1
        )

    def renew(self) -> bool:
        return (
            Space.objects.filter(pk=self.space_id, lease_owner=self.owner).update(
                lease_until=timezone.now() + self.ttl
            )
            == 1
        )

    def release(self) -> None:
        Space.objects.filter(pk=self.space_id, lease_owner=self.owner).update(
            lease_owner="", lease_until=None
        )

    @contextlib.contextmanager
    def heartbeat(self) -> Iterator[threading.Event]:
        """Renew the lease every third of its lifetime while the body runs. The
        yielded event is set if the lease was lost (another worker took over)."""
        lost = threading.Event()
        done = threading.Event()
        interval = self.ttl.total_seconds() / 3

        def beat() -> None:
            try:
                while not done.wait(interval):
                    if not self.renew():
                        lost.set()
                        return
            finally:
                connection.close()

        thread = threading.Thread(target=beat, name=f"lease-{self.space_id}", daemon=True)
        thread.start()
        try:
            yield lost
        finally:
            done.set()
            thread.join()


@dataclass
class DrainResult:
    acquired: bool
    processed: int = 0
    more: bool = False
    #: When the space has work next (a retry or throttle wait), if known.
    next_due: dt.datetime | None = None
    #: Queue the next turn in this many seconds (None: the sweep will, if need be).
    requeue_in: float | None = None


def drain_space(space_id: int, *, slice_seconds: float | None = None) -> DrainResult:
    """One turn at a space; the result says when to queue the next one."""
    lease = SpaceLease(space_id, owner_id(), settings.SYNC_LEASE_SECONDS)
    if not lease.acquire():
        return DrainResult(acquired=False)
    result = DrainResult(acquired=True)
    throttle: CobotThrottle | None = None
    try:
        space = Space.objects.get(pk=space_id)
        if space.is_configured and space.status != Space.Status.DISCONNECTED:
            throttle = CobotThrottle.for_space(space, settings.COBOT_REQUESTS_PER_MINUTE)
            ctx = SpaceContext(space, cobot_throttle=throttle)
            with lease.heartbeat() as lost:
                _housekeeping(ctx)
                if space.status == Space.Status.ACTIVE:
                    slice_length = (
                        settings.SYNC_SLICE_SECONDS if slice_seconds is None else slice_seconds
                    )
                    _work(ctx, throttle, result, lost, slice_length)
    finally:
        if throttle is not None:
            throttle.save()
        lease.release()
        # Cleared after letting go, then checked: a webhook that came in meanwhile is
        # either seen by the check below or sets the flag again and queues a turn.
        Space.objects.filter(pk=space_id).update(wake_pending=False)
    turn = next_turn(space_id)
    follow_up = turn.at if turn is not None else None
    result.next_due = follow_up
    if turn is not None:
        delay = max((turn.at - timezone.now()).total_seconds(), 0.0)
        if delay <= 0 or (delay <= THROTTLE_WAIT_IN_TURN and turn.throttled):
            # Items are due and at most the Cobot throttle holds them back for a moment:
            # queue the next turn now; it waits for the exact slot itself, instead of
            # losing up to a second to the queue's scheduler.
            result.requeue_in = 0.0
        elif delay <= settings.SWEEP_INTERVAL:  # later than that, the sweep will do it
            result.requeue_in = delay
    result.more = follow_up is not None and follow_up <= timezone.now()
    return result


def _housekeeping(ctx: SpaceContext) -> None:
    space = ctx.space
    now = timezone.now()
    if space.connected_at is not None and space.baseline_at is None:
        # Noting the existing invoices failed when the space was connected: now, before
        # anything else, so the gap stays as short as possible.
        try:
            take_baseline(ctx)
        except SyncError as exc:
            log.warning("noting the invoices of %s: %s", space.subdomain, exc)
    if space.reconcile_due_at is None or space.reconcile_due_at <= now:
        try:
            reconcile(ctx)
        except Exception as exc:
            log.exception("the periodic check of %s crashed", space.subdomain)
            reconcile_crashed(space, internal_error(exc).admin_message)
        space.refresh_from_db()
    if space.status != Space.Status.ACTIVE:
        return
    if payment_checks.check_due(space, now):
        try:
            payment_checks.check_payments(ctx, now=now)
        except Exception as exc:
            log.exception("the payment check of %s crashed", space.subdomain)
            payment_checks.check_crashed(space, internal_error(exc).admin_message)
    running = Backfill.active_for(space.pk)
    if running is not None and running.ready(now):
        # One page per turn, so a long backfill shares the space with live work.
        try:
            backfill.step(ctx, running)
        except SyncError as exc:
            log.warning("backfill %s of %s: %s", running.pk, space.subdomain, exc)
        except Exception as exc:
            log.exception("backfill %s of %s crashed", running.pk, space.subdomain)
            running.stalled(internal_error(exc).admin_message, retry_in=settings.SWEEP_INTERVAL)
    _books_check(ctx)


def _books_check(ctx: SpaceContext) -> None:
    """The month's books check once it is due, and one queued check per turn."""
    books.note_monthly(ctx.space)
    check = BooksCheck.due(ctx.space)
    if check is None:
        return
    try:
        books.run(ctx, check)
    except Exception as exc:
        log.exception("books check %s of %s crashed", check.pk, ctx.space.subdomain)
        monthly = check.trigger == BooksCheck.Trigger.MONTHLY
        check.failed(
            internal_error(exc).admin_message,
            retry_in=settings.RECONCILE_INTERVAL if monthly else None,
        )


def _work(
    ctx: SpaceContext,
    throttle: CobotThrottle,
    result: DrainResult,
    lost: threading.Event,
    slice_seconds: float,
) -> None:
    runner = Runner(ctx)
    lanes = Lanes(ctx, throttle)
    deadline = time.monotonic() + slice_seconds
    streak = 0
    batch: list[LedgerItem] = []

    def counted(finished: list[tuple[LedgerItem, str | None]]) -> bool:
        """Count finished attempts; False when the turn must end."""
        nonlocal streak
        for item, state in finished:
            if state is None:
                return False  # the space was paused
            result.processed += 1
            if item.error_code == "rate_limited":
                # Respect the server's pause for the whole space, not just this item.
                if item.next_attempt_at is not None:
                    throttle.hold_off((item.next_attempt_at - timezone.now()).total_seconds())
                return False
            waiting = state in (LedgerItem.State.RETRY_WAIT, LedgerItem.State.AMBIGUOUS)
            streak = streak + 1 if waiting else 0
            if streak >= MAX_TRANSIENT_STREAK:
                return False
        return True

    try:
        while not stop_requested.is_set() and not lost.is_set() and time.monotonic() < deadline:
            if throttle.delay() > deadline - time.monotonic():
                break  # the next Cobot call is beyond this turn; give the worker back
            if not counted(lanes.collect()):
                break
            if not batch:  # read a few at a time: two queries for every item cost CPU
                batch = ctx.space.items.due_next(exclude=lanes.busy, limit=DUE_BATCH)
            item = batch.pop(0) if batch else None
            if item is None:
                if lanes.busy and counted(lanes.collect(wait=True)):
                    continue  # a lane's item may have made more work due
                break
            if item.kind in pages.LISTED_KINDS and not pages.holds(ctx, item):
                pages.prefetch(ctx, item.kind)  # many due: read them from Cobot's listing
            if lanes.take(item):
                continue
            try:
                state: str | None = runner.run(item)
            except SpacePaused:
                state = None
            if not counted([(item, state)]):
                break
    finally:
        counted(lanes.close())
    try:
        receipts.check_created_in_turn(ctx)
    except SyncError as exc:
        log.warning("looking for second receipts of %s: %s", ctx.space.subdomain, exc)
    except Exception:
        log.exception("looking for second receipts of %s crashed", ctx.space.subdomain)


@dataclass(frozen=True)
class NextTurn:
    at: dt.datetime
    #: Items are due already; only the space's Cobot throttle holds them back.
    throttled: bool = False


def next_turn(space_id: int) -> NextTurn | None:
    """When the space next has work: its earliest due item, or a running backfill."""
    space = Space.objects.filter(pk=space_id).first()
    if space is None or not space.is_processing:
        return None
    now = timezone.now()
    running = Backfill.active_for(space_id)
    if running is not None:
        return NextTurn(running.not_before or now)
    if BooksCheck.due(space, now) is not None:
        return NextTurn(now)
    times = []
    for query in (space.items.open(), space.items.to_recheck()):
        if query.filter(next_attempt_at__isnull=True).exists():
            return NextTurn(now)
        times.append(
            query.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
        )
    earliest = min((t for t in times if t is not None), default=None)
    if earliest is None:
        return None
    if space.cobot_tat:
        # A throttled space cannot start before its next Cobot slot anyway.
        slot = dt.datetime.fromtimestamp(space.cobot_tat, tz=dt.UTC)
        if slot > earliest:
            return NextTurn(slot, throttled=earliest <= now)
    return NextTurn(earliest)


def spaces_with_due_work() -> list[int]:
    """Spaces with due work (items, a reconciliation, a backfill) and a free lease.
    Safe to call in many processes at once."""
    now = timezone.now()
    work = LedgerItem.objects.due(now).filter(space=OuterRef("pk"))
    open_due = work.filter(state__in=LedgerItem.OPEN_STATES)
    recheck_due = work.filter(recheck=True)
    active_backfills = Backfill.objects.filter(space=OuterRef("pk"), state__in=Backfill.ACTIVE)
    books_checks = BooksCheck.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        space=OuterRef("pk"),
        trigger__in=BooksCheck.QUEUED_TRIGGERS,
        state__in=(BooksCheck.State.QUEUED, BooksCheck.State.RUNNING),
    )
    candidates = (
        Space.objects.exclude(status=Space.Status.DISCONNECTED)
        .exclude(cobot_token_encrypted="")
        .exclude(sevdesk_token_encrypted="")
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(
            Q(reconcile_due_at__isnull=True)
            | Q(reconcile_due_at__lte=now)
            | (
                Q(status=Space.Status.ACTIVE)
                & (
                    Exists(open_due)
                    | Exists(recheck_due)
                    | Exists(active_backfills)
                    | Exists(books_checks)
                    | Q(payment_settings__check_due_at__lte=now)
                )
            )
        )
        .values_list("pk", flat=True)
    )
    return list(candidates)
