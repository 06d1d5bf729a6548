"""A confirmed Cobot member becomes a sevDesk customer contact, and sevDesk's customer
number goes back to the member in Cobot (checked by reading it back: ``writeback``).

Never a duplicate contact, in this order:
1. the stored link (a contact we made or linked for this membership before);
2. the member's own Cobot customer number, if a sevDesk contact has exactly it;
3. after an attempt whose create may or may not have gone through: the number we
   were about to use;
4. only then a new contact, with sevDesk's next free number.
Several contacts with the same number: stop and report, never guess.

Each step's result is saved on the ledger item before the next one starts, so a retry
continues where the last attempt stopped.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from cobot_sevdesk.cobot.models import Membership
from cobot_sevdesk.errors import BusinessRuleError, NotFound
from cobot_sevdesk.ledger.models import ContactLink, LedgerItem
from cobot_sevdesk.messages import _
from cobot_sevdesk.sevdesk.models import Contact
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.outcome import Outcome
from cobot_sevdesk.sync.rules import mapping
from cobot_sevdesk.sync.writeback import FAILED, WriteBack, problem, write_back
from cobot_sevdesk.sync.writes import may_write_again, noting_unknown_outcome

log = logging.getLogger(__name__)
State = LedgerItem.State


def sync_member(
    ctx: SpaceContext, item: LedgerItem, *, member: Membership | None = None
) -> Outcome:
    """Make the item's member a sevDesk contact; ``member``: as a listing brought it."""
    if member is None:
        try:
            member = ctx.cobot.get_membership(item.cobot_id)
        except NotFound:
            return Outcome(State.SKIPPED, _("The membership no longer exists in Cobot."))
    item.update(label=(member.name or member.email or item.cobot_id)[:200])
    if item.sevdesk_contact_id is None:
        item.keep(cobot=member.raw)
    if member.confirmed_at is None:
        return Outcome(
            State.SKIPPED, _("Not confirmed yet; it syncs once the membership is confirmed.")
        )

    if item.sevdesk_contact_id is None:
        contact, number, created = find_or_create_contact(ctx, item, member)
        item.update(
            sevdesk_contact_id=contact.id,
            customer_number=number,
            progress={**item.progress, "created": created},
        )
        remember_contact(ctx, number, contact.id, member.id)
    created = bool(item.progress.get("created"))
    number = item.customer_number
    contact_id = item.sevdesk_contact_id
    assert contact_id is not None

    if created:
        add_address(ctx, item, member, contact_id)
        add_emails(ctx, item, member, contact_id)
    if not item.progress.get("written_back"):
        result, detail = write_back(ctx, member, number)
        item.mark_step("written_back", result.value)
        if result in FAILED:
            item.flag_attention(problem(result, detail, number))
    written = str(item.progress.get("written_back"))
    if not item.progress.get("announced"):
        name = member.address.company or member.name
        text = activities.contact_announced(
            member.name, name, number, created=created, written=written == WriteBack.VERIFIED
        )
        if item.attention is not None and written in FAILED:
            activities.post(ctx, activities.attention_after(item, text), level="WARN")
        else:
            activities.post(ctx, text)
        item.mark_step("announced")
    message = (
        _("Created sevDesk contact with customer number %(number)s.")
        if created
        else _("Linked to the existing sevDesk contact with customer number %(number)s.")
    ) % {"number": number}
    return Outcome(State.SYNCED, message)


def find_or_create_contact(
    ctx: SpaceContext, item: LedgerItem, member: Membership
) -> tuple[Contact, str, bool]:
    """(contact, customer number, created by us)."""
    link = ContactLink.objects.filter(space=ctx.space, membership_id=member.id).first()
    if link is not None:
        try:
            contact = ctx.sevdesk.get_contact(link.sevdesk_contact_id)
            return contact, contact.customer_number or link.customer_number, False
        except NotFound:
            link.delete()  # the contact was deleted in sevDesk; look again
    if member.customer_number:
        found = _unique_by_number(ctx, member.customer_number, member)
        if found is not None:
            return found, member.customer_number, False
    intended = item.progress.get("intended_number")
    if intended:
        # The last attempt may have created the contact before the connection broke.
        found = _unique_by_number(ctx, intended, member)
        if found is not None:
            return found, intended, True
        may_write_again(item, "contact", _("the contact for %(member)s") % {"member": member.name})
    number = _free_customer_number(ctx)
    item.mark_step("intended_number", number)
    body = mapping.contact_body(member, number)
    sent(item, "POST /Contact", body)
    with noting_unknown_outcome(item, "contact"):
        contact = ctx.sevdesk.create_contact(body)
    return contact, contact.customer_number or number, True


def _unique_by_number(ctx: SpaceContext, number: str, member: Membership) -> Contact | None:
    found = ctx.sevdesk.find_contacts_by_customer_number(number)
    if len(found) > 1:
        names = ", ".join(c.display_name for c in found[:5])
        raise BusinessRuleError(
            "ambiguous_contact",
            _(
                "Several sevDesk contacts have the customer number %(number)s (%(names)s), so "
                "the member %(member)s could not be matched. Merge or renumber them in sevDesk, "
                "then retry."
            )
            % {"number": number, "names": names, "member": member.name},
        )
    return found[0] if found else None


def _free_customer_number(ctx: SpaceContext) -> str:
    """sevDesk's next number, checked right before use: two contacts created at the same
    time elsewhere in sevDesk could otherwise get the same one."""
    number = ctx.sevdesk.next_customer_number()
    for _attempt in range(5):
        if ctx.sevdesk.customer_number_available(number):
            return number
        number = str(int(number) + 1) if number.isdigit() else ctx.sevdesk.next_customer_number()
    raise BusinessRuleError(
        "no_customer_number",
        _("sevDesk did not offer a free customer number after several tries; please retry later."),
    )


def remember_contact(
    ctx: SpaceContext, number: str, contact_id: int, membership_id: str = ""
) -> None:
    """Store the number -> contact link the invoices will use (unique per space)."""
    try:
        with transaction.atomic():
            ContactLink.objects.update_or_create(
                space=ctx.space,
                customer_number=number,
                defaults={
                    "sevdesk_contact_id": contact_id,
                    **({"membership_id": membership_id} if membership_id else {}),
                },
            )
    except IntegrityError:
        # Another number already links this membership: keep the newest number.
        ContactLink.objects.filter(space=ctx.space, membership_id=membership_id).delete()
        ContactLink.objects.update_or_create(
            space=ctx.space,
            customer_number=number,
            defaults={"sevdesk_contact_id": contact_id, "membership_id": membership_id},
        )


def add_address(ctx: SpaceContext, item: LedgerItem, member: Membership, contact_id: int) -> None:
    if item.progress.get("address") or not mapping.has_postal_address(member.address):
        return
    country = mapping.resolve_country(member.address, ctx.countries(), ctx.space.country_code)
    if country is None:
        item.warn(
            _("The member's country %(country)s is unknown to sevDesk; the address was not added.")
            % {"country": member.address.country},
        )
    else:
        existing = ctx.sevdesk.list_contact_addresses(contact_id) if item.attempts > 1 else []
        if not any(
            (a.street, a.zip, a.city)
            == (member.address.street, member.address.post_code, member.address.city)
            for a in existing
        ):
            body = mapping.address_body(contact_id, member.address, country)
            sent(item, "POST /ContactAddress", body)
            ctx.sevdesk.create_contact_address(body)
    item.mark_step("address")


def add_emails(ctx: SpaceContext, item: LedgerItem, member: Membership, contact_id: int) -> None:
    done: list[str] = list(item.progress.get("emails", []))
    emails = mapping.member_emails(member)
    if all(email in done for email, _billing in emails):
        return
    existing = (
        {w.value.casefold() for w in ctx.sevdesk.list_communication_ways(contact_id)}
        if item.attempts > 1
        else set()
    )
    for position, (email, billing) in enumerate(emails):
        if email in done:
            continue
        if email.casefold() not in existing:
            body = mapping.email_body(contact_id, email, billing=billing, main=position == 0)
            sent(item, "POST /CommunicationWay", body)
            ctx.sevdesk.create_communication_way(body)
        done.append(email)
        item.mark_step("emails", done)


def sent(item: LedgerItem, request: str, body: dict[str, Any]) -> None:
    """Add a request body to what the item keeps of what was sent to sevDesk."""
    before = item.sevdesk_data if isinstance(item.sevdesk_data, list) else []
    item.keep(sevdesk=[*before, {"request": request, "body": body}])
