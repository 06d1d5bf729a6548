"""The tax rule of a receipt: chosen from the facts in one place, or refused with a
reason. ``CASES`` is the table of cases, each with its source; ``tests/sync/
test_tax_cases.py`` runs every case through the real entry points too."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.sevdesk.models import BookingAccount, TaxRuleOption
from cobot_sevdesk.sync.rules.taxes import TaxCase, TaxLine, check_accounts, choose_tax_rule

#: Where the rules come from. sevDesk's: the official API description
#: (specs/sevdesk-openapi.yaml). The facts behind each case: German VAT law (UStG).
RULES_TABLE = (
    "sevDesk API, sevdesk-Update 2.0 > Tax Rules: revenue rules and their rates; "
    "rule 21 and One-Stop-Shop 18-20 list 'Usage in vouchers' as unsupported"
)
SMALL_TABLE = "sevDesk API, Tax Rules, small business owner: rule 11 (0.0), was taxType ss"
NOTEU = (
    "sevDesk API, Voucher tag: rule 17 replaces taxType noteu, whose description is "
    "'Steuerschuldnerschaft des Leistungsempfängers (außerhalb EU, z. B. Schweiz)'"
)
B2C = "§3a (1) UStG: services to private customers are taxed where the supplier is"
B2B_EU = "§3a (2), §13b UStG: services to EU businesses are taxed by the customer (§18b UStG)"


@dataclass(frozen=True)
class Case:
    name: str
    rates: tuple[str, ...]
    source: str
    country: str | None = "DE"  # the recipient's
    vat: str | None = None
    space: str = "DE"
    small: bool = False
    rule: int | None = None
    refused: str | None = None
    says: str = ""

    def tax_case(self) -> TaxCase:
        return TaxCase(
            "RE-1",
            self.small,
            self.space,
            self.country,
            self.vat,
            [TaxLine(n, f"line {n}", Decimal(r)) for n, r in enumerate(self.rates, start=1)],
        )


BY_HAND = "Book this invoice by hand in sevDesk, because"

CASES = [
    Case("domestic, 19/7/0 %", ("19", "7", "0"), RULES_TABLE, rule=1),
    Case("domestic business", ("19",), RULES_TABLE, vat="DE123456789", rule=1),
    Case("small business", ("0", "0"), SMALL_TABLE, small=True, rule=11),
    Case(
        "small business charging VAT",
        ("0", "19"),
        f"{SMALL_TABLE}; §19 UStG: no VAT is charged",
        small=True,
        refused="small_business_with_vat",
        says="line 2",
    ),
    Case(
        "EU business, 0 %: reverse charge",
        ("0",),
        f"{RULES_TABLE}; {B2B_EU}",
        country="AT",
        vat="ATU12345678",
        refused="eu_reverse_charge",
        says=f"{BY_HAND} it goes to a business in another EU country (AT)",
    ),
    Case(
        "EU business charged German VAT",
        ("19",),
        f"{RULES_TABLE}; §3a (3) UStG (e.g. services connected with property in Germany)",
        country="AT",
        vat="ATU12345678",
        rule=1,
    ),
    Case(
        "EU business, German VAT and 0 % mixed",
        ("19", "0"),
        "a receipt has one taxRule (sevDesk API, Voucher tag)",
        country="AT",
        vat="ATU12345678",
        refused="mixed_foreign_tax",
        says=f"{BY_HAND} it goes to a customer abroad (AT)",
    ),
    Case("EU private customer, German VAT", ("19",), f"{RULES_TABLE}; {B2C}", country="FR", rule=1),
    Case("EU private customer, 0 %", ("0",), f"{RULES_TABLE}; {B2C}", country="FR", rule=1),
    Case(
        "EU private customer, the customer's VAT: One-Stop-Shop",
        ("20",),
        f"{RULES_TABLE}; §18j UStG (One-Stop-Shop)",
        country="FR",
        refused="one_stop_shop",
        says=f"{BY_HAND} line 1 (",
    ),
    Case(
        "business outside the EU, 0 %",
        ("0", "0"),
        f"{NOTEU}; §3a (2) UStG",
        country="CH",
        vat="CHE-123.456.789",
        rule=17,
    ),
    Case(
        "customer outside the EU without a VAT id, 0 %",
        ("0",),
        f"{NOTEU} (no VAT id needed: outside the EU most businesses have none)",
        country="US",
        rule=17,
    ),
    Case("customer outside the EU, German VAT", ("7",), RULES_TABLE, country="GB", rule=1),
    Case(
        "customer outside the EU, German VAT and 0 % mixed",
        ("19", "0"),
        "a receipt has one taxRule (sevDesk API, Voucher tag)",
        country="US",
        refused="mixed_foreign_tax",
        says=BY_HAND,
    ),
    Case(
        "a rate sevDesk does not take",
        ("19", "16"),
        f"{RULES_TABLE}: rule 1 takes 0.0, 7.0 and 19.0",
        refused="unsupported_tax_rate",
        says="line 2 (",
    ),
    Case(
        "no country, an EU VAT id: the VAT id's country",
        ("0",),
        f"{RULES_TABLE}; {B2B_EU}",
        country=None,
        vat="ATU12345678",
        refused="eu_reverse_charge",
        says="(AT)",
    ),
    Case(
        "no country, a Greek VAT id (EL)",
        ("0",),
        f"{RULES_TABLE}; {B2B_EU}",
        country=None,
        vat="EL123456789",
        refused="eu_reverse_charge",
        says="(GR)",
    ),
    Case("no country, no VAT id: the space's", ("19",), RULES_TABLE, country=None, rule=1),
    Case(
        "a space outside Germany",
        ("19",),
        "sevDesk's tax rules are those of German VAT law (UStG; sevDesk API, Tax Rules)",
        space="AT",
        country="AT",
        refused="space_abroad",
        says=f"{BY_HAND} sevDesk's tax rules for receipts are those of German VAT law",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_table_of_tax_cases(case: Case) -> None:
    assert case.source
    if case.rule is not None:
        assert choose_tax_rule(case.tax_case()) == case.rule
        return
    with pytest.raises(BusinessRuleError) as err:
        choose_tax_rule(case.tax_case())
    assert err.value.code == case.refused
    assert case.says in str(err.value.admin_message)


def test_accounts_must_accept_rule_and_rate() -> None:
    only_19 = BookingAccount(
        1,
        "4400",
        "Erlöse 19 %",
        (TaxRuleOption(1, "X", frozenset({Decimal(19)})),),
    )
    case = Case("x", ("19",), "x").tax_case()
    check_accounts(case, 1, [only_19])
    with pytest.raises(BusinessRuleError) as err:
        check_accounts(Case("x", ("7",), "x").tax_case(), 1, [only_19])
    assert "4400" in str(err.value.admin_message)


def test_stored_messages_are_shown_in_the_readers_language() -> None:
    from django.utils import translation

    from cobot_sevdesk.messages import Message, as_message, english

    with pytest.raises(BusinessRuleError) as err:
        choose_tax_rule(Case("x", ("20",), "x").tax_case())
    message = err.value.admin_message
    assert isinstance(message, Message)
    data = message.to_json()
    assert "has a tax rate of 20 %" in english(message)
    with translation.override("de"):
        assert "Steuersatz von 20 %" in str(as_message(data))
    with translation.override("fr"):
        assert "taux de TVA de 20 %" in str(as_message(data))
    assert Message.from_json(data) == message
