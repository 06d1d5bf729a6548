"""Writing to the ledger: recording Cobot objects, their history, and admin retries.

Every function here is safe to call twice: the unique key (space, kind, Cobot id)
makes a second recording of the same object a no-op.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cobot_sevdesk.cobot.client import CobotUrls
from cobot_sevdesk.ledger.batching import GroupCommit
from cobot_sevdesk.ledger.models import LedgerEvent, LedgerItem, Space
from cobot_sevdesk.messages import Text, _, english, to_json

Kind = LedgerItem.Kind
State = LedgerItem.State

#: Webhook events and what they mean for the ledger.
MEMBER_EVENTS = frozenset({"created_membership", "confirmed_membership"})
INVOICE_CREATED = "created_invoice"
INVOICE_UPDATED = "updated_invoice"
HANDLED_EVENTS = MEMBER_EVENTS | {INVOICE_CREATED, INVOICE_UPDATED}

_RESOURCE = re.compile(r"^/api/(memberships|invoices)/([A-Za-z0-9_-]{1,64})/?$")


class ForeignUrl(ValueError):
    """The webhook's URL does not point into this space's Cobot API."""


def parse_resource_url(space: Space, url: str, urls: CobotUrls | None = None) -> tuple[str, str]:
    """(kind, Cobot id) of a webhook's resource URL, after checking that it belongs to
    the space's own Cobot host: same scheme and host, under the space's API 1 path."""
    base = urlsplit((urls or CobotUrls.from_settings()).space(space.subdomain))
    target = urlsplit(url)
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        raise ForeignUrl(f"host {target.netloc!r} is not the space's Cobot host")
    prefix = base.path.rstrip("/")
    if not target.path.startswith(prefix + "/api/"):
        raise ForeignUrl("path is outside the space's API")
    match = _RESOURCE.match(target.path[len(prefix) :])
    if match is None or target.query or target.fragment:
        raise ForeignUrl("not a membership or invoice URL")
    kind = Kind.MEMBER if match[1] == "memberships" else Kind.INVOICE
    return kind, match[2]


def note(item: LedgerItem, kind: str, message: Text) -> None:
    LedgerEvent.objects.create(
        item=item, kind=kind, message=english(message), data=to_json(message)
    )


def ensure_item(
    space: Space,
    kind: str,
    cobot_id: str,
    *,
    source: str = LedgerItem.Source.WEBHOOK,
    label: str = "",
) -> tuple[LedgerItem, bool]:
    """The ledger item for a Cobot object, created pending if new."""
    existing = LedgerItem.objects.filter(space=space, kind=kind, cobot_id=cobot_id).first()
    if existing is not None:
        return existing, False
    try:
        # One row, one write: the history's first line ("recorded from ...") is derived
        # from the item's source and creation time, not stored (see LedgerItem.history).
        with transaction.atomic():
            item = LedgerItem.objects.create(
                space=space, kind=kind, cobot_id=cobot_id, source=source, label=label[:200]
            )
            return item, True
    except IntegrityError:
        # Two deliveries raced; the other one recorded it.
        return LedgerItem.objects.get(space=space, kind=kind, cobot_id=cobot_id), False


@dataclass(frozen=True)
class Intake:
    item_id: int
    created: bool
    #: The item has new work (new, re-opened, or to be re-checked).
    due: bool


def insert_many(
    keys: Sequence[tuple[int, str, str]], source: str
) -> dict[tuple[int, str, str], int]:
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


#: Webhooks arriving together in one process are committed together (see batching.py).
_intake = GroupCommit(insert_many)


def record_event(space: Space, event: str, kind: str, cobot_id: str) -> Intake:
    """Record one webhook delivery. New objects become pending; an update to a synced
    invoice is flagged for a re-check (we warn, we do not change sevDesk); a member
    confirmed after being skipped as unconfirmed is re-opened."""
    key, source = (space.pk, kind, cobot_id), LedgerItem.Source.WEBHOOK
    if connection.in_atomic_block:
        # Inside a caller's transaction a shared batch would commit (or roll back)
        # other requests' rows with it: insert alone.
        new_id = insert_many([key], source).get(key)
    else:
        new_id = _intake.insert(key, source)
    if new_id is not None:
        return Intake(new_id, True, True)
    item = LedgerItem.objects.get(space=space, kind=kind, cobot_id=cobot_id)
    now = timezone.now()
    if event == INVOICE_UPDATED and kind == Kind.INVOICE:
        if item.state in (State.SYNCED, State.MISMATCH):
            LedgerItem.objects.filter(pk=item.pk).update(
                recheck=True, next_attempt_at=now, updated_at=now
            )
            note(item, LedgerEvent.Kind.RECEIVED, _("Cobot reports a change to this invoice."))
            return Intake(item.pk, False, True)
        if item.state == State.FAILED:
            # The admin may have fixed the invoice itself; try again.
            reopen(item, _("Cobot reports a change to this invoice; trying again."))
            return Intake(item.pk, False, True)
    if event == "confirmed_membership" and item.state == State.SKIPPED:
        reopen(item, _("The membership was confirmed."))
        return Intake(item.pk, False, True)
    return Intake(item.pk, False, False)


def reopen(item: LedgerItem, message: Text) -> None:
    """Make a finished item pending again, with a fresh attempt budget."""
    LedgerItem.objects.filter(pk=item.pk).update(
        state=State.PENDING,
        attempts=0,
        next_attempt_at=None,
        failure_reported=False,
        updated_at=timezone.now(),
    )
    note(item, LedgerEvent.Kind.NOTE, message)


def retry(item: LedgerItem) -> bool:
    """The admin's retry button. Only failed and skipped items can be retried."""
    if item.state not in (State.FAILED, State.SKIPPED):
        return False
    reopen(item, _("Retry requested."))
    return True


def retry_failed(space: Space) -> int:
    count = 0
    for item in space.items.filter(state=State.FAILED).only("pk", "state"):
        count += retry(item)
    return count


def due_now(now: dt.datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


#: The open states as SQL literals: a planner can match a partial index's condition
#: only against literals, not against bound parameters (SQLite never does).
_OPEN_SQL = "state IN ({})".format(", ".join(f"'{state}'" for state in LedgerItem.OPEN_STATES))


def open_items(space: Space) -> QuerySet[LedgerItem]:
    """Items with work left, served by a partial index however large the ledger."""
    return space.items.extra(where=[_OPEN_SQL])  # noqa: S610 (constant SQL, no input)


def recheck_items(space: Space) -> QuerySet[LedgerItem]:
    """Synced items with a reported change to check (also a partial index)."""
    return space.items.extra(where=["recheck"])


def next_due_item(space: Space, now: dt.datetime | None = None) -> LedgerItem | None:
    """The space's oldest item with work to do now.

    ``running`` items are included: whoever holds the space's lease is the only
    worker, so a running item found by the lease holder was left by a worker that
    died mid-item. Its next attempt reads back before it writes.

    Two queries, not one with OR: each walks its partial index in id order and stops
    at the first due row, so a 10,000-item backlog costs no more than a short one.
    """
    now = now or timezone.now()
    candidates = [
        query.filter(due_now(now)).order_by("id").first()
        for query in (open_items(space), recheck_items(space))
    ]
    due = [item for item in candidates if item is not None]
    return min(due, key=lambda item: item.pk) if due else None
