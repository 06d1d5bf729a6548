"""What a books check reports, and the sums it compares: per currency and tax rate,
the count, net, VAT and gross of Cobot's invoices and of sevDesk's receipts, and every
difference with its cause. Pure data with a JSON form (a check's result is stored and
shown later, in the reader's language).

The compared sums are named once, in ``SUM_FIELDS``: the page, the CSV and the command
show the columns listed there, so a new column is one more field of ``Sums``, one more
entry there, and the code that fills it. The paid amounts are such a column, filled in
the total rows only (``TOTAL_ONLY``): a payment pays an invoice, not a tax rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.messages import Message, _
from cobot_sevdesk.sevdesk.models import Voucher, VoucherPosition

CENT = Decimal("0.01")
#: sevDesk's voucher status for a draft: not booked, so not in the books.
DRAFT = 50
#: The sums compared per currency and rate, in the order they are shown; each has a
#: header for people (``SUM_HEADERS``).
SUM_FIELDS: tuple[str, ...] = ("count", "net", "tax", "gross", "paid")
SUM_HEADERS: dict[str, Message] = {
    "count": _("Count"),
    "net": _("Net"),
    "tax": _("VAT"),
    "gross": _("Gross"),
    "paid": _("Paid"),
}
#: Compared per currency only, in the total rows (empty in a rate's row): Cobot and
#: sevDesk both record a payment against the whole invoice, and splitting it over the
#: rates would show numbers neither side has.
TOTAL_ONLY: frozenset[str] = frozenset({"paid"})
#: The sums whose difference (sevDesk minus Cobot) is shown next to both sides.
DELTA_FIELDS: tuple[str, ...] = ("gross", "paid")
DELTA_HEADERS: dict[str, Message] = {
    "gross": _("Difference (gross)"),
    "paid": _("Difference (paid)"),
}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def rate_key(rate: Decimal) -> str:
    """A tax rate as text, the same however it was written ("19", "19.0", "19.00")."""
    return format(rate.normalize(), "f")


@dataclass
class Sums:
    count: int = 0
    net: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    gross: Decimal = Decimal(0)
    #: What the invoices or receipts show as paid; None where it is not compared (a
    #: rate's row, or a check made before paid amounts were).
    paid: Decimal | None = None

    def add(self, other: Sums) -> None:
        self.count += other.count
        self.net += other.net
        self.tax += other.tax
        self.gross += other.gross
        if other.paid is not None:
            self.paid = (self.paid or Decimal(0)) + other.paid

    def amounts(self) -> tuple[Decimal, Decimal, Decimal]:
        return (cents(self.net), cents(self.tax), cents(self.gross))

    def value(self, name: str) -> int | Decimal | None:
        value: int | Decimal | None = getattr(self, name)
        return value

    def to_json(self) -> dict[str, Any]:
        return {name: str(value) for name in SUM_FIELDS if (value := self.value(name)) is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Sums:
        def amount(key: str) -> Decimal:
            return Decimal(str(data.get(key, "0")))

        paid = data.get("paid")
        return cls(
            count=int(data.get("count", 0)),
            net=amount("net"),
            tax=amount("tax"),
            gross=amount("gross"),
            paid=None if paid is None else Decimal(str(paid)),
        )


def invoice_sums(invoice: Invoice) -> dict[str, Sums]:
    """An invoice's net, VAT and gross per tax rate, as Cobot states them: the lines'
    net totals of each rate, and the invoice's tax of that rate (Cobot computes it on
    the summed net, so it need not equal the sum of the lines' taxes)."""
    net: dict[str, Decimal] = {}
    line_tax: dict[str, Decimal] = {}
    for line in invoice.lines:
        key = rate_key(line.total.rate)
        net[key] = net.get(key, Decimal(0)) + line.total.net
        line_tax[key] = line_tax.get(key, Decimal(0)) + sum(
            (t.amount for t in line.total.taxes), Decimal(0)
        )
    tax: dict[str, Decimal] = {}
    for entry in invoice.total.taxes:
        key = rate_key(entry.rate)
        tax[key] = tax.get(key, Decimal(0)) + entry.amount
    if not invoice.total.taxes:
        tax = line_tax  # an invoice that states no taxes of its own: its lines' taxes
    sums = {}
    for key in sorted({*net, *tax}, key=Decimal):
        n, t = cents(net.get(key, Decimal(0))), cents(tax.get(key, Decimal(0)))
        sums[key] = Sums(1, n, t, n + t)
    return sums


@dataclass(frozen=True)
class Receipt:
    """A receipt as sevDesk has it: the voucher and its positions."""

    voucher: Voucher
    positions: tuple[VoucherPosition, ...] = ()

    @property
    def id(self) -> int:
        return self.voucher.id

    @property
    def number(self) -> str:
        return (self.voucher.description or "").strip()

    @property
    def sign(self) -> int:
        """A credit receipt ("C") takes revenue back: it counts negative. Correction
        invoices are booked as such or as negative debit receipts; both add up."""
        return -1 if self.voucher.credit_debit == "C" else 1

    @property
    def is_draft(self) -> bool:
        return self.voucher.status == DRAFT

    def sums(self) -> dict[str, Sums]:
        """Net, VAT and gross per tax rate as sevDesk computed them (its positions)."""
        sums: dict[str, Sums] = {}
        for position in self.positions:
            key = rate_key(position.tax_rate)
            part = Sums(
                0,
                self.sign * position.sum_net,
                self.sign * position.tax,
                self.sign * position.sum_gross,
            )
            sums.setdefault(key, Sums(1)).add(part)
        return {k: Sums(s.count, *s.amounts()) for k, s in sorted(sums.items(), key=_by_rate)}

    @property
    def gross(self) -> Decimal:
        return cents(self.sign * self.voucher.sum_gross)


def _by_rate(item: tuple[str, Sums]) -> Decimal:
    return Decimal(item[0])


@dataclass(frozen=True)
class Difference:
    """One thing in which Cobot and sevDesk disagree, with its cause in plain words."""

    code: str
    cause: Message
    number: str
    currency: str = ""
    cobot_id: str | None = None
    item_id: int | None = None
    voucher_ids: tuple[int, ...] = ()
    cobot_gross: Decimal | None = None
    sevdesk_gross: Decimal | None = None
    details: tuple[Message, ...] = ()
    #: What each side shows paid, for a difference in the paid amounts.
    cobot_paid: Decimal | None = None
    sevdesk_paid: Decimal | None = None

    def amount(self, name: str, side: str) -> Decimal | None:
        """The difference's amount in one of ``SUM_FIELDS`` on ``side`` ("cobot" or
        "sevdesk"), where it has one (gross and paid)."""
        value: Decimal | None = getattr(self, f"{side}_{name}", None)
        return value

    def delta(self, name: str) -> Decimal | None:
        """sevDesk minus Cobot in ``name``, a side without an amount counting zero."""
        cobot, sevdesk = self.amount(name, "cobot"), self.amount(name, "sevdesk")
        if cobot is None and sevdesk is None:
            return None
        return (sevdesk or Decimal(0)) - (cobot or Decimal(0))

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "cause": self.cause.to_json(),
            "number": self.number,
            "currency": self.currency,
            "cobot_id": self.cobot_id,
            "item_id": self.item_id,
            "voucher_ids": list(self.voucher_ids),
            "cobot_gross": None if self.cobot_gross is None else str(self.cobot_gross),
            "sevdesk_gross": None if self.sevdesk_gross is None else str(self.sevdesk_gross),
            "details": [d.to_json() for d in self.details],
            "cobot_paid": None if self.cobot_paid is None else str(self.cobot_paid),
            "sevdesk_paid": None if self.sevdesk_paid is None else str(self.sevdesk_paid),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Difference:
        def amount(key: str) -> Decimal | None:
            return None if data.get(key) is None else Decimal(str(data[key]))

        return cls(
            code=str(data["code"]),
            cause=Message.from_json(data["cause"]),
            number=str(data.get("number", "")),
            currency=str(data.get("currency", "")),
            cobot_id=data.get("cobot_id"),
            item_id=data.get("item_id"),
            voucher_ids=tuple(int(v) for v in data.get("voucher_ids", [])),
            cobot_gross=amount("cobot_gross"),
            sevdesk_gross=amount("sevdesk_gross"),
            details=tuple(Message.from_json(d) for d in data.get("details", [])),
            cobot_paid=amount("cobot_paid"),
            sevdesk_paid=amount("sevdesk_paid"),
        )


@dataclass
class RateRow:
    """Both sides' sums at one currency and tax rate (``rate`` None: all rates)."""

    currency: str
    rate: str | None
    cobot: Sums = field(default_factory=Sums)
    sevdesk: Sums = field(default_factory=Sums)

    @property
    def differs(self) -> bool:
        return any(self.cobot.value(f) != self.sevdesk.value(f) for f in SUM_FIELDS)

    def delta(self, name: str) -> int | Decimal | None:
        """sevDesk minus Cobot, for one of ``SUM_FIELDS`` (None where not compared)."""
        cobot, sevdesk = self.cobot.value(name), self.sevdesk.value(name)
        if cobot is None or sevdesk is None:
            return None
        return sevdesk - cobot

    def to_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "rate": self.rate,
            "cobot": self.cobot.to_json(),
            "sevdesk": self.sevdesk.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RateRow:
        return cls(
            currency=str(data["currency"]),
            rate=data.get("rate"),
            cobot=Sums.from_json(data["cobot"]),
            sevdesk=Sums.from_json(data["sevdesk"]),
        )


@dataclass
class BooksReport:
    start: dt.date
    end: dt.date
    #: Per currency and rate, then one row per currency with all rates (``rate`` None).
    rows: list[RateRow] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    #: Worth knowing but not a difference in the books (an invoice written off).
    notes: list[Difference] = field(default_factory=list)
    #: Receipts of the period that did not come from Cobot (not compared).
    other_receipts: int = 0
    #: Calls made to read both sides, by service (a measure of the check's cost).
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def matches(self) -> bool:
        return not self.differences

    @property
    def totals(self) -> list[RateRow]:
        return [row for row in self.rows if row.rate is None]

    @property
    def by_rate(self) -> list[RateRow]:
        return [row for row in self.rows if row.rate is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": [row.to_json() for row in self.rows],
            "differences": [d.to_json() for d in self.differences],
            "notes": [d.to_json() for d in self.notes],
            "other_receipts": self.other_receipts,
            "calls": dict(self.calls),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BooksReport:
        return cls(
            start=dt.date.fromisoformat(data["start"]),
            end=dt.date.fromisoformat(data["end"]),
            rows=[RateRow.from_json(r) for r in data.get("rows", [])],
            differences=[Difference.from_json(d) for d in data.get("differences", [])],
            notes=[Difference.from_json(d) for d in data.get("notes", [])],
            other_receipts=int(data.get("other_receipts", 0)),
            calls={str(k): int(v) for k, v in data.get("calls", {}).items()},
        )


def rows_from(
    cobot: Mapping[tuple[str, str], Sums],
    sevdesk: Mapping[tuple[str, str], Sums],
    totals: Mapping[str, tuple[Sums, Sums]],
) -> list[RateRow]:
    """The rows of a report from both sides' sums per (currency, rate), with a total
    row per currency; ``totals`` gives each currency's number of invoices and
    receipts (an invoice at two rates counts in both rate rows, once in the total)
    and what they show paid, Cobot's side first."""
    rows: list[RateRow] = []
    currencies = sorted({c for c, _r in (*cobot, *sevdesk)} | set(totals))
    for currency in currencies:
        total = RateRow(currency, None)
        keys = sorted({r for c, r in (*cobot, *sevdesk) if c == currency}, key=Decimal)
        for rate in keys:
            row = RateRow(
                currency,
                rate,
                _copy(cobot.get((currency, rate))),
                _copy(sevdesk.get((currency, rate))),
            )
            rows.append(row)
            total.cobot.add(Sums(0, row.cobot.net, row.cobot.tax, row.cobot.gross))
            total.sevdesk.add(Sums(0, row.sevdesk.net, row.sevdesk.tax, row.sevdesk.gross))
        ours, theirs = totals.get(currency, (Sums(), Sums()))
        total.cobot.count, total.sevdesk.count = ours.count, theirs.count
        total.cobot.paid = ours.paid or Decimal(0)
        total.sevdesk.paid = theirs.paid or Decimal(0)
        rows.append(total)
    return rows


def _copy(sums: Sums | None) -> Sums:
    """A rate's sums, without what is compared in the totals only."""
    return Sums() if sums is None else Sums(sums.count, sums.net, sums.tax, sums.gross)


def add_to(table: dict[tuple[str, str], Sums], currency: str, sums: Mapping[str, Sums]) -> None:
    for rate, part in sums.items():
        table.setdefault((currency, rate), Sums()).add(part)


def receipts_by_number(receipts: Iterable[Receipt]) -> dict[str, list[Receipt]]:
    found: dict[str, list[Receipt]] = {}
    for receipt in receipts:
        if receipt.number:
            found.setdefault(receipt.number, []).append(receipt)
    return found
