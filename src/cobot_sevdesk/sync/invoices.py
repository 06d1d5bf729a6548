"""A new Cobot invoice becomes one sevDesk income receipt.

Everything is decided and checked before anything is written (``planning``). Then:

- the document number is looked up in sevDesk first (exact match after
  ``descriptionLike``): a receipt that exists is adopted, never created twice; this
  also settles an attempt whose outcome was unknown;
- the PDF is fetched from Cobot's short-lived link and uploaded, and the receipt is
  saved with its positions in one call;
- the receipt is tagged "Import" (a setting) and, without the right contact,
  "Mismatch"; what the admin must know (a customer-number conflict, a write-off) is
  listed under "needs your attention".

An invoice already cancelled when first seen is not booked. Changes after the receipt
exists are not synced (the product's rule); ``changes`` reports them.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError, NotFound, PermanentError, TransientError
from cobot_sevdesk.ledger.models import LedgerEvent, LedgerItem
from cobot_sevdesk.messages import Message, _, as_message, english
from cobot_sevdesk.sync import attention
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.outcome import Outcome
from cobot_sevdesk.sync.planning import plan_receipt
from cobot_sevdesk.sync.receipts import (
    check_created,
    create_receipt,
    find_existing_receipt,
    sent_before,
    tag_once,
)
from cobot_sevdesk.sync.rules import mapping
from cobot_sevdesk.sync.rules.money import check_size, in_cents
from cobot_sevdesk.sync.writes import may_write_again

log = logging.getLogger(__name__)
State = LedgerItem.State
MISMATCH_TAG = "Mismatch"
IMPORT_TAG = "Import"


class MemberFirst(Exception):
    """The invoice's member has work due that must come first (its contact).

    Raised before anything is written; the runtime syncs ``member`` and calls
    ``sync_invoice`` again with ``invoice`` (no second fetch) and ``member_tried``.
    """

    def __init__(self, member: LedgerItem, invoice: Invoice) -> None:
        super().__init__(f"member {member.cobot_id} first")
        self.member = member
        self.invoice = invoice


def sync_invoice(
    ctx: SpaceContext,
    item: LedgerItem,
    *,
    invoice: Invoice | None = None,
    member_tried: bool = False,
) -> Outcome:
    """Make the item's invoice a sevDesk receipt (or find the one that exists)."""
    if invoice is None:
        try:
            invoice = fetch_invoice(ctx, item.cobot_id)
        except NotFound:
            return Outcome(State.SKIPPED, _("The invoice no longer exists in Cobot."))
    item.keep(
        cobot=invoice.raw if item.sevdesk_voucher_id is None else None,  # the receipt's source
        label=invoice.number[:200],
        amount_cents=in_cents(invoice.total.gross),
        currency=invoice.currency[:3],
        customer_number=(invoice.customer_number or "")[:60],
        invoice_date=invoice.invoice_date,
    )
    check_size(invoice)
    if item.sevdesk_voucher_id is None:
        if mapping.standing(invoice) == mapping.CANCELED:
            skipped = cancelled_before_sending(ctx, item, invoice)
            if skipped is not None:
                return skipped
        else:
            send_receipt(ctx, item, invoice, member_tried=member_tried)
    after_receipt(ctx, item, invoice)
    return outcome(item, invoice)


def send_receipt(
    ctx: SpaceContext, item: LedgerItem, invoice: Invoice, *, member_tried: bool
) -> None:
    member_first(ctx, invoice, tried=member_tried)
    plan, choice = plan_receipt(ctx, item, invoice)
    earlier = sent_before(item)
    voucher = find_existing_receipt(ctx, item, invoice, credit=plan.credit)
    if voucher is None:
        may_write_again(
            item, "receipt", _("the receipt for invoice %(invoice)s") % {"invoice": invoice.number}
        )
        try:
            voucher = create_receipt(ctx, item, plan)
        except PermanentError:
            # The checks ran on cached accounts and cost centres; if sevDesk refused
            # because one of them is gone, say so in our plain words.
            plan_receipt(ctx, item, invoice, refresh=True)
            raise
        check_created(ctx, item, invoice, voucher, credit=plan.credit, earlier=earlier)
    mismatch = voucher.supplier_id is None or (
        choice.conflict is not None and voucher.supplier_id == choice.contact_id
    )
    # Saved with the receipt's id in one write, so a retry after a crash still
    # tags, notes and warns what this attempt decided.
    item.update(
        sevdesk_voucher_id=voucher.id,
        sevdesk_contact_id=voucher.supplier_id,
        progress={
            **item.progress,
            "mismatch": mismatch,
            "credit": plan.credit,
            **({"conflict": choice.conflict.to_json()} if choice.conflict and mismatch else {}),
            **({"contact_note": choice.note.to_json()} if choice.note else {}),
        },
    )


def cancelled_before_sending(
    ctx: SpaceContext, item: LedgerItem, invoice: Invoice
) -> Outcome | None:
    """An invoice cancelled before it reached sevDesk is not booked; but a receipt an
    earlier attempt (or the admin) made for it is adopted and reported."""
    voucher = find_existing_receipt(ctx, item, invoice, credit=invoice.total.gross < 0)
    if voucher is None:
        # A write of an earlier attempt may still be committed late: look again first.
        may_write_again(
            item, "receipt", _("the receipt for invoice %(invoice)s") % {"invoice": invoice.number}
        )
        return Outcome(
            State.SKIPPED,
            _("Cancelled in Cobot before it was sent to sevDesk, so it was not booked."),
        )
    item.update(sevdesk_voucher_id=voucher.id, sevdesk_contact_id=voucher.supplier_id)
    return None


def after_receipt(ctx: SpaceContext, item: LedgerItem, invoice: Invoice) -> None:
    """Tags, notes and warnings for the receipt that exists; each step once."""
    voucher_id = item.sevdesk_voucher_id
    assert voucher_id is not None
    progress = item.progress
    if progress.get("mismatch"):
        tag_once(ctx, item, "tagged", MISMATCH_TAG)
    if ctx.space.tag_import:
        tag_once(ctx, item, "import_tagged", IMPORT_TAG)
    note = as_message(progress.get("contact_note"))
    if note is not None and not progress.get("contact_noted"):
        item.note(LedgerEvent.Kind.NOTE, note)
        item.mark_step("contact_noted")
    conflict = as_message(progress.get("conflict"))
    if conflict is not None and not progress.get("conflict_reported"):
        attention.report(ctx, item, conflict)
        item.mark_step("conflict_reported")
    standing = mapping.standing(invoice)
    if standing and not progress.get("standing_reported"):
        # Written off before we saw it (booked, then reported), or cancelled with a
        # receipt that exists already.
        attention.report_standing(ctx, item, standing)
        item.mark_step("standing_reported")


def outcome(item: LedgerItem, invoice: Invoice) -> Outcome:
    # What the receipt was made from, to tell a later update that matters from one
    # that does not (``changes.recheck_invoice``).
    made_from: dict[str, object] = {"fingerprint": mapping.invoice_fingerprint(invoice)}
    progress = item.progress
    if progress.get("conflict"):
        return Outcome(
            State.MISMATCH,
            _(
                "Sent to sevDesk for the member's contact, tagged “Mismatch”: the invoice's "
                "customer number %(number)s belongs to another sevDesk contact."
            )
            % {"number": invoice.customer_number or "–"},
            made_from,
        )
    if progress.get("mismatch"):
        return Outcome(
            State.MISMATCH,
            _(
                "Sent to sevDesk without a contact: no sevDesk contact has the customer "
                "number %(number)s. "
                "The receipt is tagged “Mismatch”."
            )
            % {"number": invoice.customer_number or "–"},
            made_from,
        )
    message: Message = (
        _("Sent to sevDesk as a credit receipt that reduces the revenue it corrects.")
        if progress.get("credit")
        else _("Sent to sevDesk as an income receipt.")
    )
    return Outcome(State.SYNCED, message, made_from)


def fetch_invoice(ctx: SpaceContext, invoice_id: str) -> Invoice:
    """The invoice from Cobot, checked to be this space's own before anything is
    written: a webhook carries only an id, and a token that reaches several spaces
    would otherwise book another space's invoice here."""
    invoice = ctx.cobot.get_invoice(invoice_id)
    if invoice.space_id and ctx.space.api2_id and invoice.space_id != ctx.space.api2_id:
        raise BusinessRuleError(
            "foreign_invoice",
            _(
                "Cobot says invoice %(invoice)s belongs to another space, so it was not sent "
                "to this space's sevDesk. If a webhook pointed here by mistake, nothing else "
                "needs doing."
            )
            % {"invoice": invoice.number},
        )
    return invoice


def member_first(ctx: SpaceContext, invoice: Invoice, *, tried: bool) -> None:
    """Out-of-order webhooks: an invoice can arrive before its member's contact exists.
    The member goes first (``MemberFirst``), so the receipt finds its contact; while
    the member waits for a retry, so does the invoice."""
    if invoice.debitor_type != "memberships" or not invoice.debitor_id:
        return
    member, _created = LedgerItem.record(
        ctx.space, LedgerItem.Kind.MEMBER, invoice.debitor_id, source=LedgerItem.Source.DEPENDENCY
    )
    due = member.next_attempt_at is None or member.next_attempt_at <= timezone.now()
    if member.is_open and due and not tried:
        raise MemberFirst(member, invoice)
    if member.is_open:
        wait = (
            (member.next_attempt_at - timezone.now()).total_seconds()
            if member.next_attempt_at
            else 5.0
        )
        waiting = _("Waiting for the member %(member)s to reach sevDesk first.") % {
            "member": member.label or member.cobot_id
        }
        raise TransientError(
            "sync", english(waiting), retry_after=max(wait, 1.0), admin_message=waiting
        )
