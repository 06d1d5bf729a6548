"""Group commit for webhook intake: many threads, one INSERT.

Each webhook must be committed before it is answered. Committed one by one, that is
one database round trip and one WAL flush (PostgreSQL) or one write lock (SQLite) per
call. Here concurrent calls in one process share: the first caller becomes the leader
and inserts everything queued at that moment in one statement; callers that arrive
meanwhile wait for the next batch, whose leader is the first of them. Alone, a caller
is its own leader at no extra cost. Every caller still gets its answer only after its
row is committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Key = tuple[int, str, str]  # (space id, kind, Cobot id)
InsertMany = Callable[[Sequence[Key], str], dict[Key, int]]

#: How long a waiting caller trusts the current leader before giving up with an error.
WAIT_SECONDS = 30.0


@dataclass(eq=False)
class _Pending:
    key: Key
    source: str
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: int | None = None
    error: BaseException | None = None


class GroupCommit:
    def __init__(self, insert_many: InsertMany, max_batch: int = 256) -> None:
        self._insert_many = insert_many
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
                ids = self._insert_many([p.key for p in group], source)
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
