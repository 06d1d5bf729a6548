"""Receipt positions whose net, tax and gross per tax rate equal the Cobot invoice's to
the cent, as sevDesk computes them from what we send.

What each side computes:

- Cobot (our model, ``sandbox/rounding.py``): each line's total net is rounded to the
  cent; the invoice's tax is computed per rate on the summed net of that rate's lines.
- sevDesk: we send gross positions (``net: false``); sevDesk takes the gross as sent
  and derives net = round(gross / (1 + rate)), tax = gross - net (documented: "if net
  is false we use the sumGross and calculate the other values from there"; the
  rounding is our assumption, ``sandbox/sevdesk/positions.py``).

A position (net n, tax t) survives that round trip exactly when |t - rate * n| is
below half a cent times (1 + rate): then sevDesk derives n back from n + t. We call
such a pair *consistent*. So per rate we choose consistent positions whose nets add up
to the rate's net and whose taxes add up to the rate's tax, in this order:

1. one position per invoice line, each Cobot's own line net and tax, when those taxes
   add up to the rate's tax (always so for a rate with one line, and at 0 %);
2. otherwise one position per booking account at that rate (the account's lines
   merged), the account's net kept and the rate's tax split between the accounts;
3. if no such split is consistent (several accounts, each with its own rounding), a
   cent or two of net moves between those accounts' positions: as few as possible.

Per rate the receipt then has exactly Cobot's net, tax and gross, and so in total. An
invoice whose own numbers do not fit together (a rate's tax far from its net times
the rate, totals that do not add up) is refused rather than booked with wrong numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
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
#: The search of step 3 first tries moving at most this many cents per position, then
#: more, up to what the rate needs: one cent of net moves the tax by rate/100 of a cent,
#: so at 7 % it can take eight cents to bring a position's tax within reach.
SHIFT_STEPS = (0, 1, 2, 4)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Position:
    """One receipt position: the invoice lines it books (their indexes), at one rate,
    with the net and tax sevDesk derives from its gross."""

    lines: tuple[int, ...]
    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax

    def negated(self) -> Position:
        """The same position with the opposite sign (a reduction of revenue)."""
        return Position(self.lines, self.rate, -self.net, -self.tax)


@dataclass(frozen=True)
class RateTotal:
    """What an invoice bills at one tax rate."""

    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


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


def consistent(net: int, tax: int, rate: Decimal) -> bool:
    """sevDesk derives ``net`` back from the gross ``net + tax`` (amounts in cents)."""
    return abs(tax * 100 - rate * net) * 2 < 100 + rate


def rate_totals(invoice: Invoice) -> list[RateTotal]:
    """Net and tax per rate as the invoice bills them, checked to add up."""
    if not invoice.lines:
        raise BusinessRuleError(
            "empty_invoice",
            _("Invoice %(invoice)s has no lines, so there is nothing to book.")
            % {"invoice": invoice.number},
        )
    net_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in invoice.lines:
        net_by_rate[line.total.rate.normalize()] += cents(line.total.net)
    tax_by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for tax in invoice.total.taxes:
        tax_by_rate[tax.rate.normalize()] += cents(tax.amount)
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
    totals = [RateTotal(r, n, tax_by_rate.get(r, Decimal(0))) for r, n in net_by_rate.items()]
    total = sum((t.gross for t in totals), Decimal(0))
    if total != cents(invoice.total.gross):
        raise BusinessRuleError(
            "inconsistent_invoice",
            _(
                "Invoice %(invoice)s totals %(total)s, but its lines and taxes add up to %(sum)s. "
                "Nothing was sent to sevDesk; please check the invoice."
            )
            % {"invoice": invoice.number, "total": cents(invoice.total.gross), "sum": total},
        )
    return totals


def receipt_positions(invoice: Invoice, accounts: Sequence[Hashable]) -> list[Position]:
    """The positions of the invoice's receipt; ``accounts[i]`` identifies the booking
    account of line ``i``. Raises ``BusinessRuleError`` if the invoice's own numbers do
    not fit together."""
    positions: list[Position] = []
    for total in rate_totals(invoice):
        lines = [
            i for i, line in enumerate(invoice.lines) if line.total.rate.normalize() == total.rate
        ]
        found = _per_line(invoice, lines, total) or _per_account(invoice, lines, accounts, total)
        if found is None:
            raise BusinessRuleError(
                "inconsistent_invoice",
                _(
                    "The tax of %(tax)s at %(rate)s %% of invoice %(invoice)s does not fit its "
                    "net of %(net)s at that rate. Nothing was sent to sevDesk; please check "
                    "the invoice."
                )
                % {
                    "tax": total.tax,
                    "rate": total.rate,
                    "invoice": invoice.number,
                    "net": total.net,
                },
            )
        positions += found
    return sorted(positions, key=lambda p: p.lines[0])


def _per_line(invoice: Invoice, lines: list[int], total: RateTotal) -> list[Position] | None:
    positions = []
    for i in lines:
        amount = invoice.lines[i].total
        net, tax = cents(amount.net), cents(amount.gross) - cents(amount.net)
        if not consistent(_c(net), _c(tax), total.rate):
            return None
        positions.append(Position((i,), total.rate, net, tax))
    if sum((p.tax for p in positions), Decimal(0)) != total.tax:
        return None
    return positions


def _per_account(
    invoice: Invoice, lines: list[int], accounts: Sequence[Hashable], total: RateTotal
) -> list[Position] | None:
    groups: dict[Hashable, list[int]] = {}
    for i in lines:
        groups.setdefault(accounts[i], []).append(i)
    members = list(groups.values())
    nets = [_c(sum((cents(invoice.lines[i].total.net) for i in g), Decimal(0))) for g in members]
    split = split_rate(nets, _c(total.tax), total.rate)
    if split is None:
        return None
    return [
        Position(tuple(group), total.rate, Decimal(n) / 100, Decimal(t) / 100)
        for group, (n, t) in zip(members, split, strict=True)
    ]


def max_shift(rate: Decimal) -> int:
    """Cents of net that move a position's tax fraction by more than a cent's width."""
    return 1 if rate <= 0 else int(-(-(100 + rate) // rate)) + 1


def split_rate(nets: Sequence[int], tax: int, rate: Decimal) -> list[tuple[int, int]] | None:
    """Consistent (net, tax) pairs in cents, one per group of net ``nets[i]``, that add
    up to ``sum(nets)`` and ``tax``; each net as close to its group's as possible
    (fewest cents moved), each tax as close to its net times the rate. None if there
    is none.

    A search over the groups (dynamic programming on the cents moved so far and the tax
    so far), allowing a few cents per group first and more only if needed: a rate
    rarely has more than a few accounts, and only the reachable sums are kept.
    """
    if len(nets) == 1:
        return [(nets[0], tax)] if consistent(nets[0], tax, rate) else None
    widest = max_shift(rate)
    for limit in (*(s for s in SHIFT_STEPS if s < widest), widest):
        found = _search(nets, tax, rate, limit)
        if found is not None:
            return found
    return None


def _search(
    nets: Sequence[int], tax: int, rate: Decimal, limit: int
) -> list[tuple[int, int]] | None:
    count = len(nets)
    # Per group: the options (shift, net, tax, cost), cheapest first.
    options = []
    for net in nets:
        choices = []
        for shift in range(-limit, limit + 1):
            moved = net + shift
            ideal = rate * moved / 100
            for t in (int(ideal.to_integral_value(ROUND_HALF_UP)) + d for d in (-1, 0, 1)):
                if consistent(moved, t, rate):
                    choices.append(
                        (shift, moved, t, abs(shift) * 1000 + abs(t * 100 - rate * moved))
                    )
        options.append(choices)
    # Bounds on the tax the remaining groups can still add, to prune hopeless sums.
    low = [0] * (count + 1)
    high = [0] * (count + 1)
    for i in range(count - 1, -1, -1):
        low[i] = low[i + 1] + min(c[2] for c in options[i])
        high[i] = high[i + 1] + max(c[2] for c in options[i])
    # state (cents moved so far, tax so far) -> (cost, chosen (net, tax) pairs)
    states: dict[tuple[int, int], tuple[Decimal, tuple[tuple[int, int], ...]]] = {
        (0, 0): (Decimal(0), ())
    }
    for i, choices in enumerate(options):
        left = count - i - 1
        following: dict[tuple[int, int], tuple[Decimal, tuple[tuple[int, int], ...]]] = {}
        for (moved_sum, tax_sum), (cost, chosen) in states.items():
            for shift, net, t, extra in choices:
                key = (moved_sum + shift, tax_sum + t)
                if abs(key[0]) > left * limit:
                    continue
                if not low[i + 1] <= tax - key[1] <= high[i + 1]:
                    continue
                value = (cost + extra, (*chosen, (net, t)))
                if key not in following or value[0] < following[key][0]:
                    following[key] = value
        states = following
    best = states.get((0, tax))
    return list(best[1]) if best else None


def _c(value: Decimal) -> int:
    return int(cents(value) * 100)
