"""Which sevDesk tax rule an income receipt gets, decided in one place.

sevDesk (bookkeeping 2.0) wants one tax rule per receipt and checks every position's
account and rate against it (422 otherwise). The cases we support, in order:

1. The space is a small business under §19 UStG (a setting): rule 11, "Steuer nicht
   erhoben nach §19 UStG". Every line must be at 0 %, since such a business charges
   no VAT; an invoice with VAT is refused.
2. The customer is a business abroad (recipient country differs from the space's and
   the invoice carries a VAT id) and every line is at 0 %: rule 17, "Nicht im Inland
   steuerbare Leistung".
3. Otherwise: rule 1, "Umsatzsteuerpflichtige Umsätze" (domestic taxable), which takes
   0, 7 and 19 %.

Refused, with a reason for the admin (never a guessed booking):
- rates other than 0, 7 and 19 % (rule 1 and sevDesk's German rules take no others);
- a foreign business customer's invoice mixing 0 % lines with taxed lines: those would
  need two rules, and a receipt has one.

After the rule, ``check_accounts`` makes sure each line's booking account accepts the
rule and the line's rate, so sevDesk never has to refuse the receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.messages import _
from cobot_sevdesk.sevdesk.models import BookingAccount

DOMESTIC_TAXABLE = 1
SMALL_BUSINESS = 11
NOT_TAXABLE_DOMESTICALLY = 17
SUPPORTED_RATES = frozenset({Decimal(0), Decimal(7), Decimal(19)})

RULE_NAMES = {
    DOMESTIC_TAXABLE: "Umsatzsteuerpflichtige Umsätze",
    SMALL_BUSINESS: "Steuer nicht erhoben nach §19 UStG",
    NOT_TAXABLE_DOMESTICALLY: "Nicht im Inland steuerbare Leistung",
}


@dataclass(frozen=True)
class TaxLine:
    """What the tax decision needs to know about one invoice line."""

    number: int  # 1-based, as the admin counts
    description: str
    rate: Decimal


@dataclass(frozen=True)
class TaxCase:
    invoice_number: str
    small_business: bool
    space_country: str
    recipient_country: str | None
    recipient_vat_id: str | None
    lines: Sequence[TaxLine]


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


def choose_tax_rule(case: TaxCase) -> int:
    """The sevDesk tax rule id for ``case``; raises ``BusinessRuleError`` if unsupported."""
    for line in case.lines:
        if line.rate not in SUPPORTED_RATES:
            raise BusinessRuleError(
                "unsupported_tax_rate",
                _(
                    "Invoice %(invoice)s was not sent to sevDesk: line %(line)s (%(text)s) has "
                    "a tax rate of %(rate)s. sevDesk receipts take 0, 7 or 19 %% only; please "
                    "book this invoice by hand."
                )
                % {
                    "invoice": case.invoice_number,
                    "line": line.number,
                    "text": line.description,
                    "rate": _rate(line.rate),
                },
            )
    taxed = [line for line in case.lines if line.rate]
    if case.small_business:
        if taxed:
            raise BusinessRuleError(
                "small_business_with_vat",
                _(
                    "Invoice %(invoice)s was not sent to sevDesk: the space is set up as a small "
                    "business (§19 UStG), which charges no VAT, but line %(line)s charges "
                    "%(rate)s. Fix the invoice or the setting, then retry."
                )
                % {
                    "invoice": case.invoice_number,
                    "line": taxed[0].number,
                    "rate": _rate(taxed[0].rate),
                },
            )
        return SMALL_BUSINESS
    foreign = bool(
        case.recipient_country and case.recipient_country.upper() != case.space_country.upper()
    )
    business_abroad = foreign and bool(case.recipient_vat_id)
    if business_abroad and not taxed:
        return NOT_TAXABLE_DOMESTICALLY
    if business_abroad and len(taxed) < len(case.lines):
        untaxed = next(line for line in case.lines if not line.rate)
        raise BusinessRuleError(
            "mixed_foreign_tax",
            _(
                "Invoice %(invoice)s was not sent to sevDesk: it goes to a business abroad and "
                "mixes lines with VAT and without (line %(line)s is at 0 %%). A sevDesk receipt "
                "has one tax rule, so please book this invoice by hand."
            )
            % {"invoice": case.invoice_number, "line": untaxed.number},
        )
    return DOMESTIC_TAXABLE


def check_accounts(case: TaxCase, rule_id: int, accounts: Sequence[BookingAccount]) -> None:
    """Each line's account (``accounts[i]`` for ``case.lines[i]``) must accept the rule
    at the line's rate; otherwise sevDesk would answer 422."""
    for line, account in zip(case.lines, accounts, strict=True):
        if not account.allows(rule_id, line.rate):
            raise BusinessRuleError(
                "account_rejects_tax",
                _(
                    "Invoice %(invoice)s was not sent to sevDesk: line %(line)s (%(text)s, "
                    "%(rate)s) is booked to the account %(account)s (%(number)s), which sevDesk "
                    "does not allow with the tax rule “%(rule)s” at that rate. Choose an "
                    "accounting code in Cobot whose sevDesk account fits, then retry."
                )
                % {
                    "invoice": case.invoice_number,
                    "line": line.number,
                    "text": line.description,
                    "rate": _rate(line.rate),
                    "account": account.name,
                    "number": account.number,
                    "rule": RULE_NAMES.get(rule_id, str(rule_id)),
                },
            )
