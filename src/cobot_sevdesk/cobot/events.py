"""The Cobot webhook events we handle: one table, from which the subscriptions, the
webhook view and the intake all derive.

Cobot's webhook body holds only the resource URL (``{"url": ...}``), so the event
name travels in our callback path (``/hooks/<secret>/<event>/``) and the kind of
object is checked against the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from cobot_sevdesk.messages import Message, _


class Kind(StrEnum):
    """What the URL of an event points at (the ledger's item kinds)."""

    MEMBER = "member"
    INVOICE = "invoice"


class Action(StrEnum):
    """What the intake does with an event's object."""

    #: Record the object; a new one is synced.
    RECORD = "record"
    #: Record it; one that was skipped as unconfirmed is synced now.
    CONFIRMED = "confirmed"
    #: An object already in sevDesk changed in Cobot (edited, cancelled, written off,
    #: deleted): check it and warn; a failed one is tried again (the admin may have
    #: fixed it).
    UPDATED = "updated"


@dataclass(frozen=True)
class Event:
    name: str
    kind: Kind
    action: Action
    #: For the item's history: what Cobot reported (events that update an item).
    report: Message | None = None


#: Cobot event name -> what it is about and what we do with it. Event names: Cobot's
#: webhook documentation (as listed in reference/cobot-api.md, section 5). A
#: cancellation has no event of its own: it is an ``updated_invoice`` whose invoice
#: has ``paidStatus: canceled``.
EVENTS: dict[str, Event] = {
    event.name: event
    for event in (
        Event("created_membership", Kind.MEMBER, Action.RECORD),
        Event("confirmed_membership", Kind.MEMBER, Action.CONFIRMED),
        Event("created_invoice", Kind.INVOICE, Action.RECORD),
        Event(
            "updated_invoice",
            Kind.INVOICE,
            Action.UPDATED,
            _("Cobot reports a change to this invoice."),
        ),
        Event(
            "wrote_off_invoice",
            Kind.INVOICE,
            Action.UPDATED,
            _("Cobot reports that this invoice was written off."),
        ),
        Event(
            "deleted_invoice",
            Kind.INVOICE,
            Action.UPDATED,
            _("Cobot reports that this invoice was deleted."),
        ),
    )
}

_RESOURCE = re.compile(r"^/api/(memberships|invoices)/([A-Za-z0-9_-]{1,64})/?$")
_KINDS = {"memberships": Kind.MEMBER, "invoices": Kind.INVOICE}


class ForeignUrl(ValueError):
    """A webhook's URL does not point into the space's Cobot API."""


def resource_of(url: str, space_api: str) -> tuple[Kind, str]:
    """(kind, Cobot id) of a webhook's resource URL, after checking that it belongs to
    the space's own API 1 base ``space_api``: same scheme and host, under its path."""
    base = urlsplit(space_api)
    try:
        target = urlsplit(url)
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 literal)
        raise ForeignUrl("not a URL") from None
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        raise ForeignUrl(f"host {target.netloc!r} is not the space's Cobot host")
    prefix = base.path.rstrip("/")
    if not target.path.startswith(prefix + "/api/"):
        raise ForeignUrl("path is outside the space's API")
    match = _RESOURCE.match(target.path[len(prefix) :])
    if match is None or target.query or target.fragment:
        raise ForeignUrl("not a membership or invoice URL")
    return _KINDS[match[1]], match[2]
