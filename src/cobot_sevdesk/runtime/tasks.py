"""Huey tasks. They only wake workers: what to do is always read from the ledger."""

from __future__ import annotations

import logging
import threading

from django.db import connection
from huey.contrib.djhuey import db_task

from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.runtime import worker

log = logging.getLogger(__name__)


@db_task()  # type: ignore[untyped-decorator]
def drain(space_id: int) -> None:
    """One turn at a space (see ``worker.drain_space``), and the next one queued if
    the space has more work soon."""
    result = worker.drain_space(space_id)
    if result.acquired:
        log.debug("space %s: %s items, more=%s", space_id, result.processed, result.more)
    if result.requeue_in is not None:
        enqueue(space_id, result.requeue_in)


def enqueue(space_id: int, delay: float = 0.0) -> None:
    """Queue a turn at the space, now or after ``delay`` seconds."""
    if delay > 0.05:
        drain.schedule((space_id,), delay=delay)
    else:
        drain(space_id)


_WAKE_PENDING_SQL = f"SELECT wake_pending FROM {Space._meta.db_table} WHERE id = %s"  # noqa: S608 (no input)


def wake_space(space_id: int) -> bool:
    """New work arrived (a webhook, a retry, a backfill): queue a turn unless one is
    already queued.

    Called after the work was recorded. The flag is read first and only flipped when
    it is down, so a burst of webhooks costs one write each, not two; a turn that
    clears the flag afterwards checks for due work itself (see ``drain_space``)."""
    with connection.cursor() as cursor:  # the webhook hot path: no ORM query building
        cursor.execute(_WAKE_PENDING_SQL, [space_id])
        row = cursor.fetchone()
    if row is None or row[0]:
        return False
    if Space.objects.filter(pk=space_id, wake_pending=False).update(wake_pending=True):
        enqueue(space_id)
        return True
    return False


def sweep() -> list[int]:
    """Queue a turn for every space with due work and a free lease (runs every
    ``SWEEP_INTERVAL`` in every worker process): a lost queue message or a crashed
    worker delays work by one sweep, never loses it."""
    queued = worker.spaces_with_due_work()
    for space_id in queued:
        enqueue(space_id)
    return queued


def sweep_until(stop: threading.Event, interval: float) -> None:
    """Sweep now and then every ``interval`` seconds until ``stop`` is set: a thread of
    every worker process. A failed sweep is logged; the next one tries again."""
    while True:
        try:
            sweep()
        except Exception:
            log.exception("sweep failed")
        finally:
            connection.close()
        if stop.wait(interval):
            return
