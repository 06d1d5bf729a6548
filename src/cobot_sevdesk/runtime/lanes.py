"""More lanes in a space's turn (page mode): several invoices of one space saved at once.

In page mode an invoice that a listing brought needs no Cobot call, and its document is
prepared ahead (``sync.documents_ahead``), so what is left on its own path is sevDesk's
``saveVoucher`` and, with the "Import" tag on, ``Tag/Factory/create`` (sevDesk takes no
tags in the save). One at a time, a backfill goes no faster than one save and tag after
another; with ``SYNC_PAGE_LANES`` lanes (the worker's own and the others here) it goes
that many times as fast, until sevDesk or the worker's CPU sets the pace. sevDesk, which
publishes no limit, then sees that many saves of the space at a time, beside the uploads
ahead; a 429 holds the whole space back for its Retry-After.

Safety is the one of a single lane. Each item is claimed with a conditional update and
looks up before it writes; the turn's lease covers all lanes, and an item any lane
left running when the worker died is re-run by the next lease holder, reading back
first. Only invoices a listing holds go to the other lanes, and only while none of the
space's members is due, so a member's contact still comes before its invoices.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.attempt import Runner, SpacePaused
from cobot_sevdesk.sync import pages
from cobot_sevdesk.sync.context import SpaceContext

Finished = tuple[LedgerItem, str | None]  # the item and its state; None: space paused


class Lane:
    """One lane beside the worker's own: one item at a time, in a thread of its own."""

    def __init__(self, ctx: SpaceContext, throttle: Callable[[], None]) -> None:
        self._ctx = ctx
        self._throttle = throttle
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"lane-{ctx.space.pk}")
        self._runner: Runner | None = None
        #: The item the lane works on, and its outcome to come.
        self.running: tuple[LedgerItem, Future[str | None]] | None = None

    def start(self, item: LedgerItem) -> None:
        self.running = (item, self._pool.submit(self._run, item))

    def _run(self, item: LedgerItem) -> str | None:
        if self._runner is None:
            # Its own space row and clients: the other lanes' are in use meanwhile.
            space = Space.objects.get(pk=self._ctx.space.pk)
            self._runner = Runner(SpaceContext(space, cobot_throttle=self._throttle))
        try:
            return self._runner.run(item)
        except SpacePaused:
            return None

    def collect(self, *, wait: bool = False) -> list[Finished]:
        """The lane's item if it is done (or once it is, with ``wait``)."""
        if self.running is None or not (wait or self.running[1].done()):
            return []
        item, future = self.running
        self.running = None
        return [(item, future.result())]

    def close(self) -> list[Finished]:
        """Wait for the lane's item; the lane's database connection is closed."""
        finished = self.collect(wait=True)
        if self._runner is not None:  # the lane was used: its thread has a connection
            self._pool.submit(_close_connection).result()
        self._pool.shutdown()
        return finished


class Lanes:
    """The lanes beside the worker's own (``SYNC_PAGE_LANES`` in all), for one turn."""

    def __init__(self, ctx: SpaceContext, throttle: Callable[[], None]) -> None:
        self._ctx = ctx
        count = settings.SYNC_PAGE_LANES - 1 if settings.SYNC_PAGES else 0
        self._lanes = [Lane(ctx, throttle) for _ in range(count)]

    @property
    def busy(self) -> tuple[int, ...]:
        """The items the lanes are working on, for the worker's lane to leave alone."""
        return tuple(lane.running[0].pk for lane in self._lanes if lane.running)

    def take(self, item: LedgerItem) -> bool:
        """Start the item in a free lane if one may take it; False: the caller runs it."""
        lane = next((lane for lane in self._lanes if lane.running is None), None)
        if (
            lane is None
            # A lane's own connection sees only what is committed: inside a
            # transaction (a caller's, or a test's that rolls back) one lane works alone.
            or connection.in_atomic_block
            or item.kind != LedgerItem.Kind.INVOICE
            or item.recheck
            or not pages.holds_invoice(self._ctx, item.cobot_id)
            or self._ctx.space.items.open().filter(kind=LedgerItem.Kind.MEMBER).exists()
        ):
            return False
        lane.start(item)
        return True

    def collect(self, *, wait: bool = False) -> list[Finished]:
        """The lanes' items that are done; with ``wait``, the first to finish at least
        (nothing if all lanes are free)."""
        if wait:
            running = [lane.running[1] for lane in self._lanes if lane.running]
            if running:
                futures.wait(running, return_when=futures.FIRST_COMPLETED)
        return [done for lane in self._lanes for done in lane.collect()]

    def close(self) -> list[Finished]:
        """Wait for every lane's item; the lanes' database connections are closed."""
        return [done for lane in self._lanes for done in lane.close()]


def _close_connection() -> None:
    connection.close()  # looked up in the lane's thread: its own connection
