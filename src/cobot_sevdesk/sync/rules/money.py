"""Receipt amounts that add up to the Cobot invoice to the cent.

Cobot gives each line a gross total, but computes the invoice's tax per rate on the
summed net of that rate. Line grosses therefore need not add up to the invoice's
gross. The receipt must: so per rate, the difference (at most a cent or so per line)
goes onto that rate's largest line. Larger gaps mean the invoice is inconsistent, and
we refuse rather than book wrong numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.messages import _

CENT = Decimal("0.01")
#: The largest amount we send. sevDesk documents no limit and types its sums as
#: floats (UNCERTAIN: its real limit); below this a float still holds every cent
#: exactly, and no coworking invoice comes near it. Larger amounts are refused.
MAX_AMOUNT = Decimal("999999999.99")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmount:
    """What one receipt position books: the line's gross total at its tax rate."""

    index: int
    rate: Decimal
    gross: Decimal


def in_cents(value: Decimal) -> int | None:
    """``value`` as whole cents, for storing; None when it is beyond ``MAX_AMOUNT``."""
    return None if abs(value) > MAX_AMOUNT else int(cents(value) * 100)


def check_size(invoice: Invoice) -> None:
    """Refuse amounts no receipt can hold (an absurd or broken invoice), naming them."""
    amounts = [invoice.total.gross, invoice.total.net]
    for line in invoice.lines:
        amounts += [line.total.gross, line.total.net]
    largest = max((abs(a) for a in amounts), default=Decimal(0))
    if largest > MAX_AMOUNT:
        raise BusinessRuleError(
            "amount_too_large",
            _(
                "Invoice %(invoice)s was not sent to sevDesk: it holds an amount of "
                "%(amount)s %(currency)s, more than the %(limit)s a receipt can take. "
                "Please check the invoice in Cobot."
            )
            % {
                "invoice": invoice.number,
                "amount": f"{largest:,.2f}",
                "currency": invoice.currency,
                "limit": f"{MAX_AMOUNT:,.2f}",
            },
        )


def receipt_amounts(invoice: Invoice) -> list[LineAmount]:
    """Gross amount per invoice line such that, per tax rate and in total, the receipt
    equals the invoice to the cent. Raises ``BusinessRuleError`` if the invoice's own
    numbers do not fit together."""
    if not invoice.lines:
        raise BusinessRuleError(
            "empty_invoice",
            _("Invoice %(invoice)s has no lines, so there is nothing to book.")
            % {"invoice": invoice.number},
        )
    amounts = [
        LineAmount(index, line.total.rate.normalize(), cents(line.total.gross))
        for index, line in enumerate(invoice.lines)
    ]
    net_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line, amount in zip(invoice.lines, amounts, strict=True):
        net_by_rate[amount.rate] += line.total.net
    tax_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for tax in invoice.total.taxes:
        tax_by_rate[tax.rate.normalize()] += tax.amount
    unknown_rates = {r for r, t in tax_by_rate.items() if t and r not in net_by_rate}
    if unknown_rates:
        rates = ", ".join(f"{r} %" for r in sorted(unknown_rates))
        raise BusinessRuleError(
            "inconsistent_invoice",
            _(
                "Invoice %(invoice)s lists tax at %(rates)s, but no line has that rate. "
                "Nothing was sent to sevDesk; please check the invoice in Cobot."
            )
            % {"invoice": invoice.number, "rates": rates},
        )

    adjusted = list(amounts)
    for rate, net in net_by_rate.items():
        target = cents(net + tax_by_rate.get(rate, Decimal(0)))
        members = [a for a in adjusted if a.rate == rate]
        gap = target - sum((a.gross for a in members), Decimal(0))
        if abs(gap) > CENT * len(members):
            raise BusinessRuleError(
                "inconsistent_invoice",
                _(
                    "The lines at %(rate)s %% of invoice %(invoice)s add up to %(sum)s, but the "
                    "invoice's own total for that rate is %(total)s. Nothing was sent to sevDesk; "
                    "please check the invoice."
                )
                % {
                    "rate": rate,
                    "invoice": invoice.number,
                    "total": target,
                    "sum": sum((a.gross for a in members), Decimal(0)),
                },
            )
        if gap:
            largest = max(members, key=lambda a: (abs(a.gross), -a.index))
            adjusted[largest.index] = LineAmount(largest.index, rate, largest.gross + gap)

    total = sum((a.gross for a in adjusted), Decimal(0))
    if total != cents(invoice.total.gross):
        raise BusinessRuleError(
            "inconsistent_invoice",
            _(
                "Invoice %(invoice)s totals %(total)s, but its lines and taxes add up to %(sum)s. "
                "Nothing was sent to sevDesk; please check the invoice."
            )
            % {"invoice": invoice.number, "total": cents(invoice.total.gross), "sum": total},
        )
    return adjusted
