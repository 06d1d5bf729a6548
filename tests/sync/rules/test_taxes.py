"""The tax rule of a receipt: decided in one place, refused with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.sevdesk.models import BookingAccount, TaxRuleOption
from cobot_sevdesk.sync.rules.taxes import TaxCase, TaxLine, check_accounts, choose_tax_rule


def case(
    *rates: str, small: bool = False, country: str | None = "DE", vat: str | None = None
) -> TaxCase:
    return TaxCase(
        "RE-1",
        small,
        "DE",
        country,
        vat,
        [TaxLine(n, f"line {n}", Decimal(r)) for n, r in enumerate(rates, start=1)],
    )


class TestTaxRule:
    def test_domestic_taxable(self) -> None:
        assert choose_tax_rule(case("19", "7", "0")) == 1

    def test_small_business(self) -> None:
        assert choose_tax_rule(case("0", "0", small=True)) == 11

    def test_small_business_charging_vat_is_refused(self) -> None:
        with pytest.raises(BusinessRuleError) as err:
            choose_tax_rule(case("0", "19", small=True))
        assert err.value.code == "small_business_with_vat" and "line 2" in str(
            err.value.admin_message
        )

    def test_foreign_business_at_zero(self) -> None:
        assert choose_tax_rule(case("0", "0", country="AT", vat="ATU1")) == 17

    def test_foreign_consumer_without_vat_id_is_domestic(self) -> None:
        assert choose_tax_rule(case("19", country="FR")) == 1

    def test_foreign_business_charged_vat_is_domestic(self) -> None:
        assert choose_tax_rule(case("19", country="AT", vat="ATU1")) == 1

    def test_foreign_business_mixing_rates_is_refused(self) -> None:
        with pytest.raises(BusinessRuleError) as err:
            choose_tax_rule(case("19", "0", country="AT", vat="ATU1"))
        assert err.value.code == "mixed_foreign_tax"

    @pytest.mark.parametrize("rate", ["16", "20", "7.7", "5"])
    def test_other_rates_are_refused(self, rate: str) -> None:
        with pytest.raises(BusinessRuleError) as err:
            choose_tax_rule(case("19", rate))
        assert err.value.code == "unsupported_tax_rate"

    def test_accounts_must_accept_rule_and_rate(self) -> None:
        only_19 = BookingAccount(
            1,
            "4400",
            "Erlöse 19 %",
            (TaxRuleOption(1, "X", frozenset({Decimal(19)})),),
        )
        check_accounts(case("19"), 1, [only_19])
        with pytest.raises(BusinessRuleError) as err:
            check_accounts(case("7"), 1, [only_19])
        assert "4400" in str(err.value.admin_message)


class TestMessages:
    def test_stored_messages_are_shown_in_the_readers_language(self) -> None:
        from django.utils import translation

        from cobot_sevdesk.messages import Message, as_message, english

        with pytest.raises(BusinessRuleError) as err:
            choose_tax_rule(case("20"))
        message = err.value.admin_message
        assert isinstance(message, Message)
        data = message.to_json()
        assert "has a tax rate of 20 %" in english(message)
        with translation.override("de"):
            assert "Steuersatz von 20 %" in str(as_message(data))
        with translation.override("fr"):
            assert "taux de TVA de 20 %" in str(as_message(data))
        assert Message.from_json(data) == message
