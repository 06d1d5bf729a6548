"""What a use case reports when an item is done."""

from __future__ import annotations

from dataclasses import dataclass, field

from cobot_sevdesk.messages import Text


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended when it did not raise: the item's final state, a sentence
    for its history, and other fields to save with the state (in one write)."""

    state: str
    message: Text
    fields: dict[str, object] = field(default_factory=dict)
