"""A payment found on one side becomes a payment on the other side, once.

Payments are found by ``payment_checks`` and recorded as ledger items of kind
"payment"; the worker runs each through ``sync_payment``:

- from Cobot: booked on the receipt in sevDesk (``PUT /Voucher/{id}/bookAmount``),
  on the unbooked bank line that names the invoice with the same amount if sevDesk
  has exactly one, else on the account chosen in the settings (a clearing account);
- from sevDesk: recorded in Cobot as a payment record, whose note carries the
  payment's key, so Cobot's list tells our records from everyone else's.

Before writing, the other side is read (the receipt, or the Cobot invoice) and
compared with what the ledger accounts for there (``rules.payments``): a payment
already there is not written again, and anything ambiguous is held for the admin.
That read is also the read-back after a write whose answer was lost: a write is
noted before it is sent, and until it shows up or ``SYNC_UNKNOWN_WINDOW`` has
passed, nothing is written again (``sync.writes``), also after a worker died
mid-write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

from cobot_sevdesk.errors import BusinessRuleError, Forbidden
from cobot_sevdesk.ledger.models import (
    LedgerItem,
    PaidState,
    Payment,
    PaymentSettings,
    ledger_paid,
)
from cobot_sevdesk.messages import Message, Text, _
from cobot_sevdesk.sevdesk.banking import FULL_PAYMENT, PARTIAL, BankLine
from cobot_sevdesk.sync import activities
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.outcome import Outcome
from cobot_sevdesk.sync.rules.money import cents
from cobot_sevdesk.sync.rules.payments import Plan, Side, Verdict, matching_lines, plan_payment
from cobot_sevdesk.sync.writes import may_write_again, noting_write, outcome_unknown

State = LedgerItem.State
How = Payment.How
#: How far from the payment date a bank line may be to be this payment's.
BANK_LINE_DAYS = 14
#: The mark in the note of every payment record we write in Cobot.
MARK = "cobot-sevdesk"
_MARKED = re.compile(rf"\[{MARK} ([^\]\s]+)\]")


def in_cents(amount: Decimal) -> int:
    return int(cents(amount) * 100)


def money(amount_cents: int, currency: str) -> str:
    return f"{Decimal(amount_cents) / 100:.2f} {currency}".strip()


def record_note(item: LedgerItem, voucher_id: int | None) -> str:
    """The note of a record we write in Cobot: for people, and our key at the end."""
    return f"sevDesk: receipt {voucher_id} paid. [{MARK} {item.cobot_id}]"


def marked_key(note: str) -> str | None:
    """The payment key in the note of a record we wrote, else None."""
    match = _MARKED.search(note)
    return match[1] if match else None


# ------------------------------------------------------------------ the worker's part
def sync_payment(ctx: SpaceContext, item: LedgerItem) -> Outcome:
    payment = Payment.objects.select_related("invoice").get(item=item)
    if payment.reflected:
        return Outcome(State.SYNCED, _("Nothing left to do: the payment is on both sides."))
    setup = PaymentSettings.of(ctx.space)
    with cobot_permission():
        if payment.origin == Payment.Origin.COBOT:
            return to_sevdesk(ctx, setup, item, payment)
        return to_cobot(ctx, setup, item, payment)


def to_sevdesk(
    ctx: SpaceContext, setup: PaymentSettings, item: LedgerItem, payment: Payment
) -> Outcome:
    invoice = payment.invoice
    amount = money(payment.amount_cents, payment.currency)
    if not setup.book_cobot_payments or setup.check_account_id is None:
        return Outcome(
            State.SKIPPED,
            _("Not booked in sevDesk: booking Cobot payments there is switched off."),
        )
    assert invoice.sevdesk_voucher_id is not None
    voucher = ctx.sevdesk.get_voucher(invoice.sevdesk_voucher_id)
    paid = in_cents(voucher.paid_amount)
    PaidState.saw(invoice, sevdesk=paid)
    side = Side(
        total=in_cents(voucher.sum_gross),
        paid=paid,
        accounted=ledger_paid(invoice, excluding=payment).sevdesk,
    )
    there = _("sevDesk already shows this payment of %(amount)s on the receipt: not booked again.")
    plan, decided = decide(
        ctx, item, payment, side, service="sevDesk", there=there % {"amount": amount}
    )
    if decided is not None:
        return decided
    may_write_again(item, "booking", _("the payment of %(amount)s") % {"amount": amount})
    line = bank_line(ctx, invoice, payment)
    account_id = line.check_account_id if line is not None else setup.check_account_id
    with noting_write(item, "booking"):
        ctx.sevdesk.book_voucher(
            invoice.sevdesk_voucher_id,
            Decimal(payment.amount_cents) / 100,
            day=payment.paid_on,
            kind=FULL_PAYMENT if plan.full else PARTIAL,
            check_account_id=account_id,
            bank_line_id=line.id if line is not None else None,
        )
    PaidState.saw(invoice, sevdesk=paid + payment.amount_cents, finishing=item)
    if line is not None:
        payment.reflect(How.BANK_LINE, check_account_id=account_id, bank_line_id=line.id)
        return Outcome(
            State.SYNCED,
            _(
                "Booked %(amount)s on the receipt in sevDesk, on the bank line “%(purpose)s” "
                "(paid %(date)s in Cobot)."
            )
            % {"amount": amount, "purpose": line.purpose, "date": payment.paid_on.isoformat()},
        )
    payment.reflect(How.CLEARING, check_account_id=account_id)
    return Outcome(
        State.SYNCED,
        _(
            "Booked %(amount)s on the receipt in sevDesk, on the account “%(account)s” "
            "(paid %(date)s in Cobot)."
        )
        % {
            "amount": amount,
            "account": setup.check_account_name or account_id,
            "date": payment.paid_on.isoformat(),
        },
    )


def bank_line(ctx: SpaceContext, invoice: LedgerItem, payment: Payment) -> BankLine | None:
    """The one unbooked bank line this payment is, if sevDesk has exactly one (on a
    bank account, where a booking names its line); several is a question for the
    admin."""
    day = payment.paid_on
    lines = ctx.sevdesk.bank_lines(
        day - dt.timedelta(days=BANK_LINE_DAYS), day + dt.timedelta(days=BANK_LINE_DAYS)
    )
    found = matching_lines(lines, invoice.label, payment.amount_cents)
    if found:
        online = {a.id for a in ctx.sevdesk.check_accounts() if a.needs_bank_line}
        found = [line for line in found if line.check_account_id in online]
    if len(found) > 1:
        raise BusinessRuleError(
            "ambiguous_bank_line",
            _(
                "sevDesk has %(count)s unbooked bank lines of %(amount)s that name invoice "
                "%(invoice)s (ids %(ids)s), so the payment was not booked. Book it on the "
                "right line in sevDesk, then mark this as handled."
            )
            % {
                "count": len(found),
                "amount": money(payment.amount_cents, payment.currency),
                "invoice": invoice.label,
                "ids": ", ".join(str(line.id) for line in found),
            },
        )
    return found[0] if found else None


def to_cobot(
    ctx: SpaceContext, setup: PaymentSettings, item: LedgerItem, payment: Payment
) -> Outcome:
    invoice = payment.invoice
    amount = money(payment.amount_cents, payment.currency)
    if not setup.mark_paid_in_cobot:
        return Outcome(
            State.SKIPPED,
            _("Not recorded in Cobot: marking invoices paid there is switched off."),
        )
    if outcome_unknown(item, "record"):
        # A record we sent may be there: our key in its note tells.
        for record in ctx.cobot.list_payment_records([invoice.cobot_id]):
            if marked_key(record.note) == item.cobot_id:
                payment.reflect(How.RECORDED, cobot_record_id=record.id)
                return Outcome(
                    State.SYNCED,
                    _("Recorded %(amount)s in Cobot (found there after an unconfirmed write).")
                    % {"amount": amount},
                )
    cobot_invoice = ctx.cobot.get_invoice(invoice.cobot_id)
    paid = in_cents(cobot_invoice.paid_amount)
    PaidState.saw(invoice, cobot=paid)
    side = Side(
        total=in_cents(cobot_invoice.total.gross),
        paid=paid,
        accounted=ledger_paid(invoice, excluding=payment).cobot,
    )
    there = _("Cobot already shows this payment of %(amount)s on the invoice: not recorded again.")
    _plan, decided = decide(
        ctx, item, payment, side, service="Cobot", there=there % {"amount": amount}
    )
    if decided is not None:
        return decided
    may_write_again(item, "record", _("the payment of %(amount)s") % {"amount": amount})
    with noting_write(item, "record"):
        record = ctx.cobot.add_payment_record(
            invoice.cobot_id,
            Decimal(payment.amount_cents) / 100,
            payment.paid_on,
            record_note(item, invoice.sevdesk_voucher_id),
        )
    payment.reflect(How.RECORDED, cobot_record_id=record.id)
    PaidState.saw(invoice, cobot=paid + payment.amount_cents, finishing=item)
    return Outcome(
        State.SYNCED,
        _("Recorded %(amount)s in Cobot as paid on %(date)s, as sevDesk shows it.")
        % {"amount": amount, "date": payment.paid_on.isoformat()},
    )


# ------------------------------------------------------------------ holding
def decide(
    ctx: SpaceContext, item: LedgerItem, payment: Payment, side: Side, *, service: str, there: Text
) -> tuple[Plan, Outcome | None]:
    """The payment against one side: there already (done, with ``there``), held for the
    admin (unclear), or to be written (no outcome yet)."""
    plan = plan_payment(payment.amount_cents, side)
    if plan.verdict == Verdict.THERE:
        payment.reflect(How.FOUND)
        return plan, Outcome(State.SYNCED, there)
    if plan.verdict != Verdict.WRITE:
        return plan, hold(ctx, item, held_reason(plan, side, payment, service))
    return plan, None


def held_reason(plan: Plan, side: Side, payment: Payment, service: str) -> Message:
    values = {
        "amount": money(payment.amount_cents, payment.currency),
        "service": service,
        "paid": money(side.paid, payment.currency),
        "accounted": money(side.accounted, payment.currency),
        "total": money(side.total, payment.currency),
        "invoice": payment.invoice.label,
    }
    if plan.verdict == Verdict.REFUND:
        return (
            _(
                "A refund or negative payment of %(amount)s on invoice %(invoice)s: refunds "
                "are not booked automatically. Book it in %(service)s by hand if needed, "
                "then mark this as handled."
            )
            % values
        )
    if plan.verdict == Verdict.OVERPAID:
        return (
            _(
                "The payment of %(amount)s on invoice %(invoice)s would make it overpaid in "
                "%(service)s (paid there: %(paid)s of %(total)s), so it was not written. "
                "Settle the difference by hand, then mark this as handled."
            )
            % values
        )
    if plan.verdict == Verdict.REMOVED:
        return (
            _(
                "%(service)s shows %(paid)s paid on invoice %(invoice)s, less than the "
                "%(accounted)s the add-on booked there: a payment was removed in "
                "%(service)s. The payment of %(amount)s was not written; check the "
                "invoice there, then mark this as handled."
            )
            % values
        )
    return (
        _(
            "%(service)s shows %(paid)s paid on invoice %(invoice)s, of which the add-on "
            "knows only %(accounted)s, so it cannot tell whether the payment of %(amount)s "
            "is among them. It was not written, to avoid booking it twice. Book it in "
            "%(service)s by hand if it is missing there, then mark this as handled."
        )
        % values
    )


def hold(ctx: SpaceContext, item: LedgerItem, reason: Text) -> Outcome:
    """Not written: listed under "needs your attention" with the reason, and said in
    Cobot's feed. Marking it handled means the admin saw to it on the other side."""
    item.flag_attention(reason)
    activities.post(ctx, activities.attention(item, reason), level="WARN")
    return Outcome(State.SKIPPED, _("Held for the admin's decision."))


def handled_by_admin(item: LedgerItem) -> None:
    """The admin marked a held payment as handled: it counts as on the other side."""
    payment = Payment.objects.filter(item=item).first()
    if payment is not None and not payment.reflected and not item.is_open:
        payment.reflect(How.HANDLED)


@contextlib.contextmanager
def cobot_permission() -> Iterator[None]:
    """A 403 from Cobot on payments: the add-on's access is older than its payment
    permissions (``read_payment_records``, ``write_payment_records``)."""
    try:
        yield
    except Forbidden as exc:
        if exc.service != "Cobot" or "payment_records" not in exc.path:
            raise
        raise Forbidden.of(
            exc,
            _(
                "Cobot does not let the add-on read or record payments (%(message)s): it "
                "was connected before it asked for that permission. Open the add-on from "
                "Cobot and log in again to grant it, then retry."
            )
            % {"message": exc.service_message},
        ) from exc
