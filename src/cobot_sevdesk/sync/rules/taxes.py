"""Which sevDesk tax rule an income receipt gets, decided in one place from the facts:
the space's country, where the recipient is (at home, elsewhere in the EU, outside
the EU), whether they gave a VAT id, and the invoice's rates.

sevDesk (bookkeeping 2.0) wants one tax rule per receipt and checks every position's
account and rate against it (422 otherwise). Its rules are German VAT law's; the
revenue rules and their rates are documented in the official API description
(sevdesk-Update 2.0 > Tax Rules, and the Voucher tag):

====  ================================================  ======  =========================
rule  name                                              rates   on receipts
====  ================================================  ======  =========================
1     Umsatzsteuerpflichtige Umsätze                    0/7/19  yes (was taxType default)
2     Ausfuhren                                         0       yes
3     Innergemeinschaftliche Lieferungen                0/7/19  yes (was taxType eu)
4     Steuerfreie Umsätze §4 UStG                       0       yes
5     Reverse Charge gem. §13b UStG                     0       yes
11    Steuer nicht erhoben nach §19 UStG                0       yes (was taxType ss)
17    Nicht im Inland steuerbare Leistung               0       yes (was taxType noteu:
                                                                "außerhalb EU, z. B.
                                                                Schweiz")
21    Reverse Charge gem. §18b UStG                     0       no: "Usage in vouchers"
                                                                is unsupported
18-20 One-Stop-Shop (goods, e-services, other)          foreign no: "Usage in vouchers"
====  ================================================  ======  =========================

The decision, in order (``CASES`` in the tests lists each case with its source):

1. A space outside Germany: refused (sevDesk's rules are German VAT law's).
2. A small business (§19 UStG, a setting): rule 11; VAT on a line is refused.
3. Rates other than 0, 7 and 19 %: refused; for a private customer elsewhere in the EU
   that is another country's VAT, i.e. One-Stop-Shop, which receipts cannot take.
4. Recipient in Germany: rule 1.
5. Recipient elsewhere in the EU, every line at 0 %, with a VAT id: a service to a
   business there, taxed by the customer (reverse charge, reported under §18b UStG):
   rule 21, which sevDesk does not accept on receipts: refused.
6. Recipient outside the EU, every line at 0 %: rule 17 (not taxable in Germany; what
   taxType "noteu" was, and what the Stripe→sevDesk sync books untaxed invoices as).
7. German VAT charged (every line at 7 or 19 %, or 0 % at home or to a private EU
   customer, whose services are taxed in Germany): rule 1.
8. A foreign recipient's invoice mixing 0 % with taxed lines: refused (a receipt has
   one rule, and the lines would need two).

Every refusal says "book this invoice by hand in sevDesk, because …". After the rule,
``check_accounts`` makes sure each line's booking account accepts the rule and the
line's rate, so sevDesk never has to refuse the receipt.

Where the recipient is comes from the invoice's recipient country (ISO code), else
from the country prefix of its VAT id; with neither, the recipient is taken to be in
the space's country (UNCERTAIN: Cobot's invoices normally carry the country).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.messages import Message, _
from cobot_sevdesk.sevdesk.models import BookingAccount

DOMESTIC_TAXABLE = 1
SMALL_BUSINESS = 11
NOT_TAXABLE_DOMESTICALLY = 17
REVERSE_CHARGE_18B = 21
SUPPORTED_RATES = frozenset({Decimal(0), Decimal(7), Decimal(19)})
HOME = "DE"

#: The EU's member states (ISO 3166 codes), 2020 onwards.
# fmt: off
EU = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
#: VAT id prefixes that are not the ISO code (Greece uses EL).
VAT_PREFIXES = {"EL": "GR"}

RULE_NAMES = {
    DOMESTIC_TAXABLE: "Umsatzsteuerpflichtige Umsätze",
    2: "Ausfuhren",
    3: "Innergemeinschaftliche Lieferungen",
    4: "Steuerfreie Umsätze §4 UStG",
    5: "Reverse Charge gem. §13b UStG",
    SMALL_BUSINESS: "Steuer nicht erhoben nach §19 UStG",
    NOT_TAXABLE_DOMESTICALLY: "Nicht im Inland steuerbare Leistung",
    REVERSE_CHARGE_18B: "Reverse Charge gem. §18b UStG",
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


def recipient_country(case: TaxCase) -> str:
    """The recipient's country code: given, else from the VAT id, else the space's."""
    if case.recipient_country and case.recipient_country.strip():
        return case.recipient_country.strip().upper()
    prefix = (case.recipient_vat_id or "").strip()[:2].upper()
    prefix = VAT_PREFIXES.get(prefix, prefix)
    if prefix in EU:
        return prefix
    return case.space_country.upper()


def by_hand(case: TaxCase, code: str, because: Message) -> BusinessRuleError:
    return BusinessRuleError(
        code,
        _(
            "Invoice %(invoice)s was not sent to sevDesk. Book this invoice by hand in "
            "sevDesk, because %(reason)s"
        )
        % {"invoice": case.invoice_number, "reason": because},
    )


def choose_tax_rule(case: TaxCase) -> int:
    """The sevDesk tax rule id for ``case``; raises ``BusinessRuleError`` if sevDesk
    receipts cannot book it."""
    if case.space_country.upper() != HOME:
        raise by_hand(
            case,
            "space_abroad",
            _(
                "sevDesk's tax rules for receipts are those of German VAT law, and this space "
                "is in %(country)s."
            )
            % {"country": case.space_country.upper()},
        )
    country = recipient_country(case)
    domestic = country == HOME
    in_eu = country in EU and not domestic
    business = bool((case.recipient_vat_id or "").strip())
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
    for line in case.lines:
        if line.rate in SUPPORTED_RATES:
            continue
        facts = {"line": line.number, "text": line.description, "rate": _rate(line.rate)}
        if in_eu and not business:
            raise by_hand(
                case,
                "one_stop_shop",
                _(
                    "line %(line)s (%(text)s) charges %(rate)s, the VAT of the customer's "
                    "country (One-Stop-Shop), and sevDesk does not accept One-Stop-Shop tax "
                    "rules on receipts."
                )
                % facts,
            )
        raise BusinessRuleError(
            "unsupported_tax_rate",
            _(
                "Invoice %(invoice)s was not sent to sevDesk: line %(line)s (%(text)s) has "
                "a tax rate of %(rate)s. sevDesk receipts take 0, 7 or 19 %% only; please "
                "book this invoice by hand."
            )
            % {"invoice": case.invoice_number, **facts},
        )
    if domestic:
        return DOMESTIC_TAXABLE
    if not taxed:
        if in_eu and business:
            raise by_hand(
                case,
                "eu_reverse_charge",
                _(
                    "it goes to a business in another EU country (%(country)s) without German "
                    "VAT: the customer pays the VAT there (reverse charge, reported under "
                    "§18b UStG), and sevDesk does not accept that tax rule on receipts. (If "
                    "these are goods delivered there, book them as an intra-Community supply.)"
                )
                % {"country": country},
            )
        if not in_eu:
            return NOT_TAXABLE_DOMESTICALLY
        return DOMESTIC_TAXABLE
    if len(taxed) < len(case.lines) and (business or not in_eu):
        untaxed = next(line for line in case.lines if not line.rate)
        raise by_hand(
            case,
            "mixed_foreign_tax",
            _(
                "it goes to a customer abroad (%(country)s) and mixes lines with German VAT "
                "and without (line %(line)s is at 0 %%): a sevDesk receipt has one tax rule, "
                "and these lines would need two."
            )
            % {"country": country, "line": untaxed.number},
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
