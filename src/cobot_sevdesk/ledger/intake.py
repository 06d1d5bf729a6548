"""Webhook intake: one ledger row per Cobot object, committed before Cobot gets its
answer, then a worker is woken.

Every function here is safe to call twice: the unique key (space, kind, Cobot id)
makes a second recording of the same object a no-op.

Group commit: each webhook must be committed before it is answered. Committed one by
one, that is one database round trip and one WAL flush (PostgreSQL) or one write lock
(SQLite) per call. So concurrent calls in one process share: the first caller becomes
the leader and inserts everything queued at that moment in one statement; callers
that arrive meanwhile wait for the next batch, whose leader is the first of them.
Alone, a caller is its own leader at no extra cost. Every caller still gets its answer
only after its row is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.db import connection
from django.utils import timezone

from cobot_sevdesk.cobot.events import Action, Event
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.messages import _, join
from cobot_sevdesk.runtime import tasks

log = logging.getLogger(__name__)
State = LedgerItem.State
Key = tuple[int, str, str]  # (space id, kind, Cobot id)
InsertMany = Callable[[Sequence[Key], str], dict[Key, int]]

#: How long a waiting caller trusts the current leader before giving up with an error.
WAIT_SECONDS = 30.0
MAX_BATCH = 256


@dataclass(frozen=True)
class Intake:
    item_id: int
    created: bool
    #: The item has new work (new, re-opened, or to be re-checked).
    due: bool


def receive(space: Space, event: Event, cobot_id: str) -> Intake:
    """Record one webhook delivery; wake a worker if it made work due."""
    intake = record(space, event, cobot_id)
    if intake.due:
        try:
            tasks.wake_space(space.pk)
        except Exception:
            # The item is recorded; the sweep will queue it. Never fail Cobot's call.
            log.exception("could not queue a turn for %s", space.subdomain)
    return intake


def record(space: Space, event: Event, cobot_id: str) -> Intake:
    """New objects become pending; an update to a synced invoice is flagged for a
    re-check (we warn, we do not change sevDesk); a failed one is tried again; a member
    confirmed after being skipped as unconfirmed is re-opened."""
    key, source = (space.pk, event.kind.value, cobot_id), LedgerItem.Source.WEBHOOK
    if connection.in_atomic_block:
        # Inside a caller's transaction a shared batch would commit (or roll back)
        # other requests' rows with it: insert alone.
        new_id = insert_many([key], source).get(key)
    else:
        new_id = _batch.insert(key, source)
    if new_id is not None:
        return Intake(new_id, True, True)
    item = LedgerItem.objects.get(space=space, kind=event.kind.value, cobot_id=cobot_id)
    if event.action == Action.UPDATED:
        report = event.report or _("Cobot reports a change to this invoice.")
        if item.state in LedgerItem.SENT_STATES:
            item.flag_recheck(report)
            return Intake(item.pk, False, True)
        if item.state == State.FAILED:
            item.reopen(join(" ", [report, _("Trying again.")]))
            return Intake(item.pk, False, True)
    if event.action == Action.CONFIRMED and item.state == State.SKIPPED:
        item.reopen(_("The membership was confirmed."))
        return Intake(item.pk, False, True)
    return Intake(item.pk, False, False)


# ------------------------------------------------------------------ the insert
def insert_many(keys: Sequence[Key], source: str) -> dict[Key, int]:
    """Insert pending items for (space id, kind, Cobot id) keys unless they exist: one
    statement, no read before it; returns the ids of the rows it created.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (SQLite 3.35+ and PostgreSQL) lets
    the unique key decide. Every other column gets the model's own default, prepared by
    the model's fields once per process (this is the webhook hot path).
    """
    columns, defaults = _defaults(source, connection.vendor)
    now = _TIMESTAMP.get_db_prep_save(timezone.now(), connection)
    values: list[Any] = []
    for key in keys:
        values.extend(key)
        values.extend(defaults)
        values.extend((now, now))
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(columns, len(keys)), values)
        return {(row[1], row[2], row[3]): int(row[0]) for row in cursor.fetchall()}


_KEY = ("space_id", "kind", "cobot_id")
_STAMPS = ("created_at", "updated_at")
_TIMESTAMP = LedgerItem._meta.get_field("created_at")


@lru_cache(maxsize=8)
def _defaults(source: str, vendor: str) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """Column names (key, defaults, timestamps) and the default values of a new item."""
    item = LedgerItem(source=source)
    fields = [
        f
        for f in LedgerItem._meta.concrete_fields
        if not f.primary_key and f.attname not in _KEY and f.attname not in _STAMPS
    ]
    values = tuple(f.get_db_prep_save(f.pre_save(item, add=True), connection) for f in fields)
    columns = (*_KEY, *(str(f.column) for f in fields), *_STAMPS)
    return columns, values


@lru_cache(maxsize=64)
def _insert_sql(columns: tuple[str, ...], rows: int) -> str:
    quote = connection.ops.quote_name
    row = f"({', '.join(['%s'] * len(columns))})"
    table = quote(LedgerItem._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    # Only model metadata goes into the text; every value is a bound parameter.
    return (
        f"INSERT INTO {table} ({names}) VALUES {', '.join([row] * rows)} "  # noqa: S608
        "ON CONFLICT (space_id, kind, cobot_id) DO NOTHING RETURNING id, space_id, kind, cobot_id"
    )


# ------------------------------------------------------------------ group commit
@dataclass(eq=False)
class _Pending:
    key: Key
    source: str
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: int | None = None
    error: BaseException | None = None


class GroupCommit:
    """Webhooks arriving together in one process are inserted by one statement."""

    def __init__(self, insert: InsertMany | None = None, max_batch: int = MAX_BATCH) -> None:
        # ``insert`` is for tests that count statements; the product uses ``insert_many``.
        self._insert = insert or insert_many
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._leader_active = False

    def insert(self, key: Key, source: str) -> int | None:
        """Insert one row unless it exists; returns its new id or None."""
        me = _Pending(key, source)
        with self._lock:
            self._queue.append(me)
            leading = not self._leader_active
            if leading:
                self._leader_active = True
        if not leading:
            if not me.done.wait(WAIT_SECONDS):
                raise TimeoutError("no batch committed this webhook in time")
            if not me.lead:
                if me.error is not None:
                    raise me.error
                return me.result
        self._lead()
        if me.error is not None:
            raise me.error
        return me.result

    def _lead(self) -> None:
        """Commit one batch (which holds this caller), then pass the lead on."""
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        by_source: dict[str, list[_Pending]] = {}
        for pending in batch:
            by_source.setdefault(pending.source, []).append(pending)
        try:
            for source, group in by_source.items():
                ids = self._insert([p.key for p in group], source)
                for pending in group:
                    pending.result = ids.get(pending.key)
        except BaseException as exc:
            for pending in batch:
                pending.error = exc
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leader_active = False
                else:
                    successor.lead = True
            for pending in batch:
                pending.done.set()
            if successor is not None:
                successor.done.set()


_batch = GroupCommit()
