"""A new Cobot invoice becomes one sevDesk income receipt.

Everything is decided and checked before anything is written (``plan_receipt``):
each line's booking account, the tax rule and the accounts' consent to it, amounts
that match the invoice to the cent, the cost centre, the contact. Then:

- the document number is looked up in sevDesk first (exact match after
  ``descriptionLike``): a receipt that exists is adopted, never created twice; this
  also settles an attempt whose outcome was unknown;
- the PDF is fetched from Cobot's short-lived link and uploaded, and the receipt is
  saved with its positions in one call;
- a receipt without a matching contact carries the recipient's name and the tag
  ``Mismatch``.

Changes to an invoice after it was sent are not synced (the product's rule); they
are detected and the admin is warned in Cobot.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError, NotFound, PermanentError, TransientError
from cobot_sevdesk.ledger.models import ContactLink, LedgerItem
from cobot_sevdesk.messages import Message, Text, _, english, join
from cobot_sevdesk.sevdesk.models import BookingAccount
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.members import remember_contact
from cobot_sevdesk.sync.outcome import Outcome
from cobot_sevdesk.sync.payment_checks import cobot_invoice_seen
from cobot_sevdesk.sync.receipts import check_created_once, create_receipt, find_existing_receipt
from cobot_sevdesk.sync.rules import mapping
from cobot_sevdesk.sync.rules.money import check_size, in_cents, receipt_amounts
from cobot_sevdesk.sync.rules.taxes import TaxCase, TaxLine, check_accounts, choose_tax_rule
from cobot_sevdesk.sync.writes import may_write_again

log = logging.getLogger(__name__)
State = LedgerItem.State
MISMATCH_TAG = "Mismatch"


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
    item.update(
        label=invoice.number[:200],
        amount_cents=in_cents(invoice.total.gross),
        currency=invoice.currency[:3],
        customer_number=(invoice.customer_number or "")[:60],
    )
    check_size(invoice)
    if item.sevdesk_voucher_id is None:
        member_first(ctx, invoice, tried=member_tried)
        plan = plan_receipt(ctx, item, invoice)
        voucher = find_existing_receipt(ctx, invoice)
        if voucher is None:
            may_write_again(
                item,
                "receipt",
                _("the receipt for invoice %(invoice)s") % {"invoice": invoice.number},
            )
            try:
                voucher = create_receipt(ctx, item, plan)
            except PermanentError:
                # The checks ran on cached accounts and cost centres; if sevDesk refused
                # because one of them is gone, say so in our plain words.
                plan_receipt(ctx, item, invoice, refresh=True)
                raise
            check_created_once(ctx, item, invoice, voucher)
        item.update(
            sevdesk_voucher_id=voucher.id,
            sevdesk_contact_id=voucher.supplier_id,
            progress={**item.progress, "mismatch": voucher.supplier_id is None},
        )
    mismatch = bool(item.progress.get("mismatch"))
    if mismatch and not item.progress.get("tagged"):
        assert item.sevdesk_voucher_id is not None
        ctx.sevdesk.tag_voucher(item.sevdesk_voucher_id, MISMATCH_TAG)
        item.mark_step("tagged")
    # What the receipt was made from, to tell a later update that matters from one
    # that does not (see ``recheck_invoice``).
    made_from: dict[str, object] = {"fingerprint": mapping.invoice_fingerprint(invoice)}
    if mismatch:
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
    return Outcome(State.SYNCED, _("Sent to sevDesk as an income receipt."), made_from)


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


# ------------------------------------------------------------------ planning
def plan_receipt(
    ctx: SpaceContext, item: LedgerItem, invoice: Invoice, *, refresh: bool = False
) -> mapping.ReceiptPlan:
    accounts = match_accounts(ctx, invoice, refresh=refresh)
    case = TaxCase(
        invoice_number=invoice.number,
        small_business=ctx.space.small_business,
        space_country=ctx.space.country_code,
        recipient_country=invoice.recipient.country_code,
        recipient_vat_id=invoice.tax_id,
        lines=[
            TaxLine(number, line.description, line.total.rate.normalize())
            for number, line in enumerate(invoice.lines, start=1)
        ],
    )
    rule = choose_tax_rule(case)
    check_accounts(case, rule, accounts)
    amounts = receipt_amounts(invoice)
    corrects = None
    if invoice.corrected_invoice_id:
        corrected = LedgerItem.objects.filter(
            space=ctx.space, kind=LedgerItem.Kind.INVOICE, cobot_id=invoice.corrected_invoice_id
        ).first()
        corrects = (
            corrected.label if corrected and corrected.label else invoice.corrected_invoice_id
        )
    return mapping.ReceiptPlan(
        invoice=invoice,
        tax_rule=rule,
        accounts=tuple(accounts),
        amounts=tuple(amounts),
        payment_deadline=invoice.invoice_date + dt.timedelta(days=ctx.space.due_days),
        cost_centre_id=cost_centre_id(ctx, refresh=refresh),
        contact_id=contact_for_invoice(ctx, item, invoice),
        corrects=corrects,
    )


def match_accounts(
    ctx: SpaceContext, invoice: Invoice, *, refresh: bool = False
) -> list[BookingAccount]:
    """The booking account of every line, or a refusal naming each line without one."""
    found = _match(invoice, ctx.revenue_accounts(refresh=refresh))
    if any(account is None for account in found):
        # The admin may just have created the account: look once more before refusing.
        found = _match(invoice, ctx.revenue_accounts(refresh=True))
    problems: list[Message] = []
    for number, (line, account) in enumerate(zip(invoice.lines, found, strict=True), start=1):
        if account is not None:
            continue
        if not line.accounting_code:
            problems.append(
                _("line %(line)s (%(text)s) has no accounting code in Cobot")
                % {"line": number, "text": line.description}
            )
        else:
            problems.append(
                _(
                    "line %(line)s (%(text)s) has the accounting code “%(code)s”, "
                    "and sevDesk has "
                    "no booking account with that name or number"
                )
                % {"line": number, "text": line.description, "code": line.accounting_code}
            )
    if problems:
        raise BusinessRuleError(
            "missing_account",
            _(
                "Invoice %(invoice)s was not sent to sevDesk: %(problems)s. "
                "Create the booking account in sevDesk "
                "(Settings › Accounting › Booking accounts) "
                "or fix the accounting code in Cobot, then retry."
            )
            % {"invoice": invoice.number, "problems": join("; ", problems)},
        )
    return [a for a in found if a is not None]


def _match(invoice: Invoice, accounts: list[BookingAccount]) -> list[BookingAccount | None]:
    # Every account of the revenue guidance may take revenue: no filter on the
    # receipt types it lists (no document says what they mean for revenue).
    return [
        mapping.match_account(line.accounting_code, accounts) if line.accounting_code else None
        for line in invoice.lines
    ]


def cost_centre_id(ctx: SpaceContext, *, refresh: bool = False) -> int | None:
    number = ctx.space.cost_centre_number.strip()
    if not number:
        return None
    for again in (refresh, True):
        for centre in ctx.cost_centres(refresh=again):
            if centre.number.strip() == number:
                return centre.id
    raise BusinessRuleError(
        "missing_cost_centre",
        _(
            "The cost centre %(number)s set in the add-on does not exist in sevDesk. Create it in "
            "sevDesk or change the setting, then retry."
        )
        % {"number": number},
    )


def contact_for_invoice(ctx: SpaceContext, item: LedgerItem, invoice: Invoice) -> int | None:
    """The sevDesk contact whose customer number equals the invoice's; failing that, the
    contact we synced for the invoice's member; else None (a "Mismatch" receipt)."""
    number = (invoice.customer_number or "").strip()
    if number:
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
    if invoice.debitor_type == "memberships" and invoice.debitor_id:
        member = LedgerItem.objects.filter(
            space=ctx.space,
            kind=LedgerItem.Kind.MEMBER,
            cobot_id=invoice.debitor_id,
            sevdesk_contact_id__isnull=False,
        ).first()
        if member is not None:
            return member.sevdesk_contact_id
    return None


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


# ------------------------------------------------------------------ later edits
def recheck_invoice(ctx: SpaceContext, item: LedgerItem) -> Text:
    """An update arrived for an invoice already in sevDesk. sevDesk is not changed; if
    anything the receipt was made from changed, the admin is warned in Cobot."""
    try:
        invoice = fetch_invoice(ctx, item.cobot_id)
    except NotFound:
        return _("The invoice was deleted in Cobot; its sevDesk receipt was left as it is.")
    cobot_invoice_seen(ctx, item, invoice)  # a payment in Cobot comes as such an update
    fingerprint = mapping.invoice_fingerprint(invoice)
    if fingerprint == item.fingerprint:
        return _(
            "Cobot reported an update that does not touch the receipt (e.g. its payment status)."
        )
    with activities.in_space_language(ctx.space):
        activities.post(ctx, activities.invoice_changed(item), level="WARN")
    item.warn(
        _(
            "Changed in Cobot after it was sent to sevDesk. sevDesk was not changed; a warning "
            "was posted in Cobot."
        ),
    )
    item.update(fingerprint=fingerprint)
    return _("Change detected and reported.")
