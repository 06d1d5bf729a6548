"""How Cobot rounds the amounts of an invoice: our model of it.

GUESS: Cobot does not publish its rounding. This module is the one place the guess is
made (docs/DECISIONS.md, Cobot guess 5). The Cobot sandbox computes every invoice it
shows with it, and ``tests/sync/rules/test_money.py`` uses it as the oracle for "the receipt
equals the invoice to the cent".

What it assumes, for lines of (unit net price, quantity, VAT rate in percent):

- Every rounding is to the cent, half up (away from zero on a tie), never half-even.
- A line's unit net price is kept as given (it may have more than two decimals) and
  only shown rounded to the cent.
- A line's unit tax is unit net times rate, rounded; the unit gross shown is the
  unrounded unit net plus that tax, rounded.
- A line's total net is the unrounded unit net times quantity, rounded once (not the
  rounded unit net times quantity); its total tax is that total net times rate,
  rounded; its total gross is total net plus total tax.
- The invoice's net is the sum of the lines' total nets.
- The invoice's tax is computed once per rate, on the summed total net of that rate's
  lines, and rounded; a rate of 0 % has no tax entry, any other rate has one (even if
  it comes to 0.00). The invoice's gross is its net plus those taxes.

So the line grosses need not add up to the invoice's gross, nor the line taxes of a
rate to the invoice's tax of that rate: the harder case for a receipt that must match
the invoice to the cent. Negative prices and quantities (corrections) follow the same
rules.

Amounts are shown the way API 2 shows them: ``{"net", "gross", "currency", "taxes"}``
with sums as strings of two decimals and each tax as ``{"name": "VAT", "rate",
"amount"}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def to_cent(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An amount as Cobot shows it: rounded to the cent, two decimals."""
    return format(to_cent(value), "f")


def amount_json(
    net: Decimal, tax: Decimal, taxes: Iterable[tuple[Decimal, Decimal]], currency: str
) -> dict[str, Any]:
    """Cobot's amount object: ``net`` and its ``tax``, made of ``taxes`` as (rate, tax)."""
    return {
        "net": money(net),
        "gross": money(net + tax),
        "currency": currency,
        "taxes": [
            {"name": "VAT", "rate": format(rate, "f"), "amount": money(amount)}
            for rate, amount in taxes
        ],
    }


@dataclass(frozen=True)
class LineAmounts:
    rate: Decimal
    quantity: Decimal
    unit_net: Decimal  # as given, not rounded
    unit_tax: Decimal
    total_net: Decimal
    total_tax: Decimal

    def _taxes(self, tax: Decimal) -> list[tuple[Decimal, Decimal]]:
        return [(self.rate, tax)] if self.rate else []

    def unit_json(self, currency: str) -> dict[str, Any]:
        return amount_json(self.unit_net, self.unit_tax, self._taxes(self.unit_tax), currency)

    def total_json(self, currency: str) -> dict[str, Any]:
        return amount_json(self.total_net, self.total_tax, self._taxes(self.total_tax), currency)


@dataclass(frozen=True)
class InvoiceAmounts:
    lines: tuple[LineAmounts, ...]
    net: Decimal
    taxes: tuple[tuple[Decimal, Decimal], ...]  # (rate, tax) per non-zero rate, by rate

    @property
    def tax(self) -> Decimal:
        return sum((tax for _, tax in self.taxes), Decimal(0))

    def total_json(self, currency: str) -> dict[str, Any]:
        return amount_json(self.net, self.tax, self.taxes, currency)


def _tax(net: Decimal, rate: Decimal) -> Decimal:
    return to_cent(net * rate / 100)


def invoice_amounts(lines: Iterable[Mapping[str, Any]]) -> InvoiceAmounts:
    """The amounts of an invoice whose lines give ``unit_net``, ``quantity``, ``tax_rate``."""
    out = []
    net_by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = Decimal(str(line["tax_rate"]))
        unit_net = Decimal(str(line["unit_net"]))
        quantity = Decimal(str(line["quantity"]))
        total_net = to_cent(unit_net * quantity)
        net_by_rate[rate] = net_by_rate.get(rate, Decimal(0)) + total_net
        out.append(
            LineAmounts(
                rate=rate,
                quantity=quantity,
                unit_net=unit_net,
                unit_tax=_tax(unit_net, rate),
                total_net=total_net,
                total_tax=_tax(total_net, rate),
            )
        )
    return InvoiceAmounts(
        lines=tuple(out),
        net=sum(net_by_rate.values(), Decimal(0)),
        taxes=tuple((rate, _tax(net, rate)) for rate, net in sorted(net_by_rate.items()) if rate),
    )
