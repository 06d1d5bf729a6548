"""Deciding what to do with one payment on the other side, and which bank line it is.
Pure: amounts in cents in, a verdict out.

A payment found on one side (Cobot or sevDesk) is written to the other side only when
that is unambiguous. The other side's paid amount is compared with what the ledger
accounts for there:

- it shows exactly this payment more: it is there already (the same money recorded
  by hand, or our own earlier write whose answer was lost), so nothing is written;
- it shows nothing more: the payment is written, unless it would pay more than the
  invoice's total;
- anything else (another amount more, or less than accounted for) is a question for
  the admin, with the numbers: never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar


class Verdict(StrEnum):
    #: Write it; ``full`` says whether it settles the invoice.
    WRITE = "write"
    #: The other side shows it already: nothing to write.
    THERE = "there"
    #: A refund or a negative payment: not booked automatically.
    REFUND = "refund"
    #: The other side shows more paid than the ledger knows, but not this amount.
    UNKNOWN = "unknown"
    #: The other side shows less paid than the ledger accounts for (removed there).
    REMOVED = "removed"
    #: Writing it would pay more than the invoice's total.
    OVERPAID = "overpaid"


@dataclass(frozen=True)
class Side:
    """The other side, for one invoice, in cents."""

    total: int
    #: What it shows as paid now.
    paid: int
    #: What the ledger accounts for there (without the payment in question).
    accounted: int

    @property
    def unexplained(self) -> int:
        return self.paid - self.accounted


@dataclass(frozen=True)
class Plan:
    verdict: Verdict
    full: bool = False


def plan_payment(amount: int, side: Side) -> Plan:
    """What to do with a payment of ``amount`` cents for ``side``."""
    if amount <= 0:
        return Plan(Verdict.REFUND)
    if side.unexplained == amount:
        return Plan(Verdict.THERE)
    if side.unexplained > 0:
        return Plan(Verdict.UNKNOWN)
    if side.unexplained < 0:
        return Plan(Verdict.REMOVED)
    if side.paid + amount > side.total:
        return Plan(Verdict.OVERPAID)
    return Plan(Verdict.WRITE, full=side.paid + amount == side.total)


def names_invoice(purpose: str, number: str) -> bool:
    """Whether a bank line's purpose names the invoice number as a whole word ("RE
    2026-0001 Jane" names 2026-0001, "2026-00011" does not), in any case."""
    if not number.strip():
        return False
    pattern = rf"(?<![0-9a-z]){re.escape(number.strip().lower())}(?![0-9a-z])"
    return re.search(pattern, purpose.lower()) is not None


class Line(Protocol):
    """What a bank line must tell (``sevdesk.banking.BankLine`` does)."""

    @property
    def amount(self) -> Decimal: ...

    @property
    def purpose(self) -> str: ...

    @property
    def unbooked(self) -> bool: ...


L = TypeVar("L", bound=Line)


def matching_lines(lines: Sequence[L], number: str, amount: int) -> list[L]:
    """Unbooked incoming lines of exactly ``amount`` cents whose purpose names the
    invoice."""
    return [
        line
        for line in lines
        if line.unbooked and line.amount * 100 == amount and names_invoice(line.purpose, number)
    ]
