"""Which sevDesk contact a receipt goes to: the right customer, or an honest "Mismatch".

The rule, in order:

1. The member the invoice belongs to decides. Once we linked that membership to a
   contact, its receipts go to that contact, whatever customer number the invoice
   carries. A number that no contact has (typically Cobot's own number from before
   sevDesk's was written back) is noted in the item's history.
2. A number on the invoice that belongs to a *different* contact than the member's is
   a conflict: the receipt still goes to the member's contact, is tagged "Mismatch",
   and the admin is warned with both contacts named. Never the other customer.
3. For recipients we never linked (teams, walk-in guests, members we do not sync),
   the customer number decides: the contact with exactly that number, else no contact
   ("Mismatch", the recipient's name on the receipt). Several contacts with the number:
   stop and report, never guess.

This refines the original add-on's "by customer number, else Mismatch": a member's
first invoice often carries the number from before the write-back, and if that number
is another contact's in sevDesk, matching by number alone books the receipt to the
wrong customer, silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.ledger.models import ContactLink, LedgerItem
from cobot_sevdesk.messages import Message, _
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.members import remember_contact


@dataclass(frozen=True)
class ContactChoice:
    """The contact a receipt goes to, and what the admin should know about it."""

    contact_id: int | None
    #: The invoice's number belongs to another contact than the member's: the receipt
    #: goes to the member's contact, tagged "Mismatch", and the admin is warned.
    conflict: Message | None = None
    #: For the item's history (a stale customer number on the invoice).
    note: Message | None = None

    @property
    def mismatch(self) -> bool:
        return self.contact_id is None or self.conflict is not None


def contact_for_invoice(ctx: SpaceContext, item: LedgerItem, invoice: Invoice) -> ContactChoice:
    number = (invoice.customer_number or "").strip()
    member = linked_member(ctx, invoice)
    if member is not None:
        return _for_member(ctx, invoice, member, number)
    if not number:
        return ContactChoice(None)
    return ContactChoice(_by_number(ctx, item, invoice, number))


def linked_member(ctx: SpaceContext, invoice: Invoice) -> LedgerItem | None:
    """The ledger item of the invoice's member, if we linked it to a contact."""
    if invoice.debitor_type != "memberships" or not invoice.debitor_id:
        return None
    return LedgerItem.objects.filter(
        space=ctx.space,
        kind=LedgerItem.Kind.MEMBER,
        cobot_id=invoice.debitor_id,
        sevdesk_contact_id__isnull=False,
    ).first()


def _for_member(
    ctx: SpaceContext, invoice: Invoice, member: LedgerItem, number: str
) -> ContactChoice:
    mine = member.sevdesk_contact_id
    assert mine is not None
    if not number or number == member.customer_number:
        return ContactChoice(mine)
    link = ContactLink.objects.filter(space=ctx.space, customer_number=number).first()
    if link is not None and link.sevdesk_contact_id == mine:
        return ContactChoice(mine)
    others = [c for c in ctx.sevdesk.find_contacts_by_customer_number(number) if c.id != mine]
    facts = {
        "invoice": invoice.number,
        "number": number,
        "member": member.label or member.cobot_id,
        "mine": member.customer_number or "–",
    }
    if not others:
        return ContactChoice(
            mine,
            note=_(
                "The invoice carries the customer number %(number)s, which no sevDesk contact "
                "has (a number from before sevDesk's was written back to Cobot, for example). "
                "The receipt went to the contact of the member %(member)s, customer number "
                "%(mine)s."
            )
            % facts,
        )
    named = ", ".join(f"{c.display_name} (#{c.id})" for c in others[:3])
    return ContactChoice(
        mine,
        conflict=_(
            "Invoice %(invoice)s carries the customer number %(number)s, which belongs to the "
            "sevDesk contact %(other)s, but it is an invoice of the member %(member)s, whose "
            "contact has the customer number %(mine)s. The receipt went to the member's "
            "contact and is tagged “Mismatch”. Check the customer number on the invoice in "
            "Cobot and the receipt in sevDesk, then mark this as handled."
        )
        % {**facts, "other": named},
    )


def _by_number(ctx: SpaceContext, item: LedgerItem, invoice: Invoice, number: str) -> int | None:
    """The contact whose customer number is exactly ``number``, else None."""
    link = ContactLink.objects.filter(space=ctx.space, customer_number=number).first()
    # A cached link is trusted on the first attempt; a retry asks sevDesk again, in
    # case the contact changed there.
    if link is not None and item.attempts <= 1:
        return link.sevdesk_contact_id
    found = ctx.sevdesk.find_contacts_by_customer_number(number)
    if len(found) > 1:
        raise BusinessRuleError(
            "ambiguous_contact",
            _(
                "Invoice %(invoice)s was not sent to sevDesk: "
                "%(count)s sevDesk contacts have the "
                "customer number %(number)s. Merge or renumber them in sevDesk, then retry."
            )
            % {"invoice": invoice.number, "count": len(found), "number": number},
        )
    if found:
        remember_contact(ctx, number, found[0].id)
        return found[0].id
    return None
