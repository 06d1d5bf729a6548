"""The ledger's queries: what the worker, the sweep and the dashboard ask for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone

if TYPE_CHECKING:
    from cobot_sevdesk.ledger.models.items import LedgerItem

#: The open states as SQL literals: a planner can match a partial index's condition
#: only against literals, not against bound parameters (SQLite never does).
OPEN_STATES = ("pending", "running", "retry_wait", "ambiguous")
OPEN_SQL = "state IN ({})".format(", ".join(f"'{state}'" for state in OPEN_STATES))


class LedgerItemQuerySet(models.QuerySet["LedgerItem"]):
    def open(self) -> LedgerItemQuerySet:
        """Items with work left, served by a partial index however large the ledger."""
        return self.extra(where=[OPEN_SQL])  # type: ignore[return-value]  # noqa: S610 (constant SQL)

    def to_recheck(self) -> LedgerItemQuerySet:
        """Synced items with a reported change to check (also a partial index)."""
        return self.extra(where=["recheck"])  # type: ignore[return-value]

    def retry_failed(self) -> int:
        """Retry every failed item of these; returns how many."""
        return sum(item.retry() for item in self.filter(state="failed"))

    def due(self, now: dt.datetime) -> LedgerItemQuerySet:
        return self.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))

    def needing_attention(self) -> LedgerItemQuerySet:
        """Failed items and done items with something for the admin to look at."""
        return self.filter(Q(state="failed") | Q(attention__isnull=False))

    def due_next(
        self, now: dt.datetime | None = None, *, exclude: Collection[int] = (), limit: int
    ) -> list[LedgerItem]:
        """The oldest items with work to do now (of a space's items), at most ``limit``,
        oldest first.

        ``running`` items are included: whoever holds the space's lease is the only
        worker, so a running item found by the lease holder was left by a worker that
        died mid-item. Its next attempt reads back before it writes.

        Two queries, not one with OR: each walks its partial index in id order and
        stops after ``limit`` due rows, so a 10,000-item backlog costs no more than a
        short one. ``exclude``: items the turn's other lanes work on (``runtime.lanes``).
        A list read a moment ago is safe to work through: each item is claimed by a
        conditional update on the state it was read in (``LedgerItem.start_attempt``).
        """
        now = now or timezone.now()
        queries = [self.open(), self.to_recheck()]
        if exclude:  # items another lane of this turn is working on
            queries = [q.exclude(pk__in=exclude) for q in queries]
        found = [item for q in queries for item in q.due(now).order_by("id")[:limit]]
        return sorted(found, key=lambda item: item.pk)[:limit]
