"""Everything about a receipt decided and checked before anything is written: each
line's booking account, the tax rule and the accounts' consent to it, a correction's
direction and what it corrects, positions that match the invoice per tax rate to the
cent, the cost centre and the contact."""

from __future__ import annotations

import datetime as dt

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.messages import Message, _, join
from cobot_sevdesk.sevdesk.models import BookingAccount
from cobot_sevdesk.sync.contacts import ContactChoice, contact_for_invoice
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.corrections import plan_correction
from cobot_sevdesk.sync.rules import mapping
from cobot_sevdesk.sync.rules.money import receipt_positions
from cobot_sevdesk.sync.rules.taxes import TaxCase, TaxLine, check_accounts, choose_tax_rule


def plan_receipt(
    ctx: SpaceContext, item: LedgerItem, invoice: Invoice, *, refresh: bool = False
) -> tuple[mapping.ReceiptPlan, ContactChoice]:
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
    correction = plan_correction(ctx, invoice, rule)
    positions = receipt_positions(invoice, [account.datev_id for account in accounts])
    if correction.credit:
        positions = [position.negated() for position in positions]
    choice = contact_for_invoice(ctx, item, invoice)
    plan = mapping.ReceiptPlan(
        invoice=invoice,
        tax_rule=rule,
        accounts=tuple(accounts),
        positions=tuple(positions),
        payment_deadline=invoice.invoice_date + dt.timedelta(days=ctx.space.due_days),
        cost_centre_id=cost_centre_id(ctx, refresh=refresh),
        contact_id=choice.contact_id,
        credit=correction.credit,
        corrects=correction.corrects,
    )
    return plan, choice


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
