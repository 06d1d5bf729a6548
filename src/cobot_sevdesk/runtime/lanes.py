"""A second lane in a space's turn (page mode): two invoices of one space saved at once.

In page mode an invoice that a listing brought needs no Cobot call, and its document is
prepared ahead (``sync.documents_ahead``), so what is left on its own path is sevDesk's
``saveVoucher``. One at a time, a backfill goes no faster than one save after another;
with a second lane it goes about twice as fast (sevDesk, which publishes no limit, then
sees two saves of the space at a time, beside the uploads ahead).

Safety is the one of a single lane. Each item is claimed with a conditional update and
looks up before it writes; the turn's lease covers both lanes, and an item either lane
left running when the worker died is re-run by the next lease holder, reading back
first. Only invoices a listing holds go to the second lane, and only while none of the
space's members is due, so a member's contact still comes before its invoices.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connection

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.attempt import Runner, SpacePaused
from cobot_sevdesk.sync import pages
from cobot_sevdesk.sync.context import SpaceContext

Finished = tuple[LedgerItem, str | None]  # the item and its state; None: space paused


class SecondLane:
    def __init__(self, ctx: SpaceContext, throttle: Callable[[], None]) -> None:
        self._ctx = ctx
        self._throttle = throttle
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"lane-{ctx.space.pk}")
        self._runner: Runner | None = None
        self._running: tuple[LedgerItem, Future[str | None]] | None = None

    @property
    def busy(self) -> tuple[int, ...]:
        """The item the lane is working on, for the other lane to leave alone."""
        return (self._running[0].pk,) if self._running else ()

    def takes(self, item: LedgerItem) -> bool:
        return (
            settings.SYNC_PAGES
            # The lane's own connection sees only what is committed: inside a
            # transaction (a caller's, or a test's that rolls back) one lane works alone.
            and not connection.in_atomic_block
            and self._running is None
            and item.kind == LedgerItem.Kind.INVOICE
            and not item.recheck
            and pages.holds_invoice(self._ctx, item.cobot_id)
            and not self._ctx.space.items.open().filter(kind=LedgerItem.Kind.MEMBER).exists()
        )

    def start(self, item: LedgerItem) -> None:
        self._running = (item, self._pool.submit(self._run, item))

    def _run(self, item: LedgerItem) -> str | None:
        if self._runner is None:
            # Its own space row and clients: the other lane's are in use meanwhile.
            space = Space.objects.get(pk=self._ctx.space.pk)
            self._runner = Runner(SpaceContext(space, cobot_throttle=self._throttle))
        try:
            return self._runner.run(item)
        except SpacePaused:
            return None

    def collect(self, *, wait: bool = False) -> list[Finished]:
        """The lane's item if it is done (or once it is, with ``wait``)."""
        if self._running is None or not (wait or self._running[1].done()):
            return []
        item, future = self._running
        self._running = None
        return [(item, future.result())]

    def close(self) -> list[Finished]:
        """Wait for the lane's item; the lane's database connection is closed."""
        finished = self.collect(wait=True)
        if self._runner is not None:  # the lane was used: its thread has a connection
            self._pool.submit(_close_connection).result()
        self._pool.shutdown()
        return finished


def _close_connection() -> None:
    connection.close()  # looked up in the lane's thread: its own connection
