"""Huey tasks. They only wake workers: what to do is always read from the ledger."""

from __future__ import annotations

import logging

from huey.contrib.djhuey import db_task

from cobot_sevdesk.runtime.worker import drain_space, wake

log = logging.getLogger(__name__)


@db_task()  # type: ignore[untyped-decorator]
def drain(space_id: int) -> None:
    """One turn at a space (see ``worker.drain_space``)."""
    result = drain_space(space_id, enqueue=enqueue)
    if result.acquired:
        log.debug("space %s: %s items, more=%s", space_id, result.processed, result.more)


def enqueue(space_id: int, delay: float = 0.0) -> None:
    """Queue a turn at the space, now or after ``delay`` seconds."""
    if delay > 0.05:
        drain.schedule((space_id,), delay=delay)
    else:
        drain(space_id)


def wake_space(space_id: int) -> bool:
    """New work for a space (a webhook, a retry, a backfill)."""
    return wake(space_id, enqueue)
