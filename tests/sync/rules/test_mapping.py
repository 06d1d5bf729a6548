"""Names, booking accounts and countries: the pure mapping from Cobot to sevDesk."""

from __future__ import annotations

import pytest

from cobot_sevdesk.cobot.models import Address
from cobot_sevdesk.sevdesk.models import BookingAccount, Country
from cobot_sevdesk.sync.rules.mapping import match_account, resolve_country, split_person_name


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
