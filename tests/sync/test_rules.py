"""The pure decisions: tax rule, names, account matching, countries, retry policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cobot_sevdesk.cobot.models import Address
from cobot_sevdesk.errors import (
    AuthorizationError,
    BusinessRuleError,
    NotFound,
    OutcomeUnknown,
    PayloadError,
    PermanentError,
    RateLimited,
    TransientError,
)
from cobot_sevdesk.runtime.retry import RetryPolicy, Verdict, decide
from cobot_sevdesk.sevdesk.models import BookingAccount, Country, TaxRuleOption
from cobot_sevdesk.sync.rules.mapping import match_account, resolve_country, split_person_name
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


class TestNames:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("Jane Doe", ("Jane", "Doe")),
            ("Jane Mary  Doe", ("Jane Mary", "Doe")),
            ("Doe, Jane", ("Jane", "Doe")),
            ("Cher", (None, "Cher")),
            ("  Émilie   du Châtelet ", ("Émilie du", "Châtelet")),
        ],
    )
    def test_split(self, name: str, expected: tuple[str | None, str]) -> None:
        assert split_person_name(name) == expected


def account(name: str, number: str) -> BookingAccount:
    return BookingAccount(len(name), number, name, ())


class TestAccountMatching:
    accounts = [account("Desks", "4400"), account("Meeting Rooms", "4401"), account("4401", "9999")]

    def test_name_trimmed_and_any_case(self) -> None:
        assert match_account("  meeting   rooms ", self.accounts) == self.accounts[1]

    def test_number(self) -> None:
        assert match_account("4400", self.accounts) == self.accounts[0]

    def test_name_wins_over_number(self) -> None:
        assert match_account("4401", self.accounts) == self.accounts[2]

    def test_no_match(self) -> None:
        assert match_account("Parking", self.accounts) is None


class TestCountries:
    countries = [
        Country(1, "de", "Deutschland", "Germany"),
        Country(3, "at", "Österreich", "Austria"),
    ]

    def address(self, country: str | None = None, code: str | None = None) -> Address:
        return Address(None, None, "x", "1", "y", None, country, code)

    def test_by_code_name_and_default(self) -> None:
        assert resolve_country(self.address(code="AT"), self.countries, "DE") == self.countries[1]
        assert resolve_country(self.address("austria"), self.countries, "DE") == self.countries[1]
        assert (
            resolve_country(self.address("Deutschland"), self.countries, "DE") == self.countries[0]
        )
        assert resolve_country(self.address(), self.countries, "DE") == self.countries[0]

    def test_unknown(self) -> None:
        assert resolve_country(self.address("Atlantis"), self.countries, "DE") is None


class TestRetryPolicy:
    policy = RetryPolicy(max_attempts=5, base_delay=10, max_delay=100)

    def test_authorization_pauses_the_space(self) -> None:
        assert (
            decide(AuthorizationError("sevDesk", "no", status=401), 1, self.policy).verdict
            == Verdict.PAUSE_SPACE
        )

    @pytest.mark.parametrize(
        "error",
        [
            PermanentError("sevDesk", "bad", status=422),
            NotFound("sevDesk", "gone", status=404),
            PayloadError("sevDesk", "objects", "is missing"),
            BusinessRuleError("missing_account", "no account"),
            ValueError("a bug"),
        ],
    )
    def test_permanent_errors_fail_at_once(self, error: Exception) -> None:
        assert decide(error, 1, self.policy).verdict == Verdict.FAIL

    def test_backoff_doubles_with_jitter_and_is_capped(self) -> None:
        low = [
            decide(TransientError("x", "503"), n, self.policy, rand=lambda: 0.0).delay
            for n in (1, 2, 3, 4)
        ]
        high = [
            decide(TransientError("x", "503"), n, self.policy, rand=lambda: 1.0).delay
            for n in (1, 2, 3, 4)
        ]
        assert low == [5, 10, 20, 40]
        assert high == [10, 20, 40, 80]
        capped = RetryPolicy(max_attempts=20, base_delay=10, max_delay=100)
        assert decide(TransientError("x", "503"), 9, capped, rand=lambda: 1.0).delay == 100

    def test_retry_after_is_honoured(self) -> None:
        decision = decide(
            RateLimited("Cobot", "slow down", retry_after=42), 1, self.policy, rand=lambda: 0.0
        )
        assert (decision.verdict, decision.delay) == (Verdict.RETRY, 42)
        long = decide(RateLimited("Cobot", "slow down", retry_after=5000), 1, self.policy)
        assert long.delay == 100

    def test_unknown_outcome_retries_as_ambiguous(self) -> None:
        decision = decide(OutcomeUnknown("sevDesk", "dropped"), 2, self.policy)
        assert decision.verdict == Verdict.RETRY_AMBIGUOUS and decision.delay

    def test_attempts_run_out(self) -> None:
        assert decide(TransientError("x", "503"), 5, self.policy).verdict == Verdict.FAIL
        assert decide(TransientError("x", "503"), 4, self.policy).verdict == Verdict.RETRY


class TestMessages:
    def test_stored_messages_are_shown_in_the_readers_language(self) -> None:
        from django.utils import translation

        from cobot_sevdesk.messages import Message, english, shown, to_json

        with pytest.raises(BusinessRuleError) as err:
            choose_tax_rule(case("20"))
        message = err.value.admin_message
        assert isinstance(message, Message)
        data = to_json(message)
        assert "has a tax rate of 20 %" in english(message)
        with translation.override("de"):
            assert "Steuersatz von 20 %" in shown(english(message), data)
        with translation.override("fr"):
            assert "taux de TVA de 20 %" in shown(english(message), data)
        assert Message.from_json(data) == message
