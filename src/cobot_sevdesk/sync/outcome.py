"""What a sync step reports, and how steps save their progress on the ledger item."""

from __future__ import annotations

from dataclasses import dataclass, field

from cobot_sevdesk.ledger.intake import note
from cobot_sevdesk.ledger.models import LedgerEvent, LedgerItem
from cobot_sevdesk.messages import Text


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended when it did not raise: the item's new state, a sentence
    for its history, and other fields to save with the state (in one write)."""

    state: str
    message: Text
    fields: dict[str, object] = field(default_factory=dict)


def save_fields(item: LedgerItem, **fields: object) -> None:
    """Change fields of the item and save just those, at once, so a crash after this
    point does not lose them and concurrent updates of other fields survive."""
    for key, value in fields.items():
        setattr(item, key, value)
    item.save(update_fields=[*fields, "updated_at"])


def mark_step(item: LedgerItem, name: str) -> None:
    """Record that step ``name`` is done; a retry skips it."""
    save_fields(item, progress={**item.progress, name: True})


def warn(item: LedgerItem, message: Text) -> None:
    note(item, LedgerEvent.Kind.WARNING, message)
