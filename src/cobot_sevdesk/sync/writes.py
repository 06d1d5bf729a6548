"""Writes whose outcome is unknown: sevDesk has no idempotency keys, so a request that
timed out may still be committed, even many seconds later. After such a write, the
object is looked up before anything is written again, and nothing is written again
until look-ups spread over ``SYNC_UNKNOWN_WINDOW`` (longer than any request can take)
have all found nothing.

The step's progress key ``<step>_unknown_since`` holds when it became unknown.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

from cobot_sevdesk.errors import OutcomeUnknown, TransientError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import Text, _

#: The first look-up after an unknown outcome waits at least this long; later ones
#: wait as long as has passed since, so they spread over the window.
FIRST_READ_BACK = 15.0


class ReadBackPending(OutcomeUnknown):
    """A look-up found nothing yet, but a late commit is still possible: look again
    later, write nothing now. Not an attempt that can run out."""

    code = "read_back_pending"


def _key(step: str) -> str:
    return f"{step}_unknown_since"


@contextlib.contextmanager
def noting_unknown_outcome(item: LedgerItem, step: str) -> Iterator[None]:
    """Around the write of ``step``: if its outcome is unknown, remember since when."""
    try:
        yield
    except OutcomeUnknown:
        if _key(step) not in item.progress:
            item.mark_step(_key(step), timezone.now().isoformat())
        raise


def may_write_again(item: LedgerItem, step: str, what: Text) -> None:
    """The look-up for ``step`` found nothing: write now, unless an earlier write of it
    might still be committed (then raise ``ReadBackPending``)."""
    since = item.progress.get(_key(step))
    if since is None:
        return
    elapsed = (timezone.now() - dt.datetime.fromisoformat(since)).total_seconds()
    remaining = settings.SYNC_UNKNOWN_WINDOW - elapsed
    if remaining <= 0:
        # Nothing appeared in all that time: the write never happened.
        _forget(item, step)
        return
    wait = min(remaining, max(FIRST_READ_BACK, elapsed))
    message = _(
        "sevDesk did not confirm whether %(what)s was saved, and it is not there yet. "
        "It is looked up again before anything is sent a second time, so it is never "
        "booked twice."
    ) % {"what": what}
    raise ReadBackPending("sevDesk", str(message), retry_after=wait, admin_message=message)


@contextlib.contextmanager
def noting_write(item: LedgerItem, step: str) -> Iterator[None]:
    """Note the write of ``step`` before it is sent, so a worker that dies while it
    is under way leaves it unknown; clear the note once the answer says it was not
    applied (a refusal, a connection that never opened). A 5xx keeps it: the service
    may have applied it before failing. (Payments use this; receipts note only a
    write whose answer was lost, ``noting_unknown_outcome``, and keep the sent body.)"""
    if _key(step) not in item.progress:
        item.mark_step(_key(step), timezone.now().isoformat())
    try:
        yield
    except OutcomeUnknown:
        raise
    except TransientError as exc:
        if exc.status is None or exc.status < 500:
            _forget(item, step)
        raise
    except BaseException:
        _forget(item, step)
        raise
    _forget(item, step)


def outcome_unknown(item: LedgerItem, step: str) -> bool:
    """Whether a write of ``step`` may have been applied without our knowing."""
    return _key(step) in item.progress


def _forget(item: LedgerItem, step: str) -> None:
    item.update(progress={k: v for k, v in item.progress.items() if k != _key(step)})
