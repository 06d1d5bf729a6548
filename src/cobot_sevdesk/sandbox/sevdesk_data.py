"""Reference data of the sevDesk sandbox: tax rules, a SKR04-like revenue chart,
countries and categories.

Sources: ``reference/sevdesk-api.md`` (tax rule ids and allowed rates, known
AccountDatev ids, StaticCountry ids 1-3, category and key ids). Everything else
here is a sandbox guess and is marked so; our code never hard-codes these ids but
resolves them through the API, so a wrong guess cannot hide a bug.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

RATE_TOKENS = {Decimal(0): "ZERO", Decimal(7): "SEVEN", Decimal(19): "NINETEEN"}

#: Revenue-side tax rules: id -> (internal code, description, allowed rate tokens).
#: Codes verified by a client library against forAllAccounts (2026-07); the code of
#: rule 11 was not observed anywhere: GUESS.
TAX_RULES: dict[int, tuple[str, str, tuple[str, ...]]] = {
    1: ("USTPFL_UMS_EINN", "Umsatzsteuerpflichtige Umsätze", ("ZERO", "SEVEN", "NINETEEN")),
    2: ("AUSFUHREN", "Ausfuhren", ("ZERO",)),
    3: ("INNERGEM_LIEF", "Innergemeinschaftliche Lieferungen", ("ZERO", "SEVEN", "NINETEEN")),
    4: ("STFREIE_UMS_P4", "Steuerfreie Umsätze §4 UStG", ("ZERO",)),
    5: ("REV_CHARGE_13B_1", "Reverse Charge gem. §13b UStG", ("ZERO",)),
    11: ("STEUER_NICHT_ERHOBEN_P19", "Steuer nicht erhoben nach §19 UStG", ("ZERO",)),
    17: ("NICHT_IM_INLAND_STEUERBAR", "Nicht im Inland steuerbare Leistung", ("ZERO",)),
}

#: Rules sevDesk documents as not usable on vouchers (One-Stop-Shop, §18b).
RULES_NOT_FOR_VOUCHERS = frozenset({18, 19, 20, 21})

#: taxType values of bookkeeping 1.0 that 2.0 still maps for a transition period.
LEGACY_TAX_TYPES = {"default": 1, "eu": 3, "noteu": 17, "ss": 11}


def _guide(datev_id: int, number: str, name: str, rules: tuple[int, ...]) -> dict[str, Any]:
    return {
        "accountDatevId": datev_id,
        "accountNumber": number,
        "accountName": name,
        "description": name,
        "rules": list(rules),
        "receiptTypes": ["REVENUE"],
    }


def regular_revenue_chart() -> list[dict[str, Any]]:
    """Revenue accounts of a standard-taxed ("Regelbesteuerer") SKR04 client.

    The ids 3510, 3610, 3617, 3618, 3631, 3753, 5186 and 5192 and their numbers are
    from a client library's snapshot; the allowed rules per account are a GUESS
    shaped after sevDesk's documentation of which rule takes which rates.
    """
    return [
        _guide(3510, "4000", "Umsatzerlöse", (1,)),
        _guide(3610, "4100", "Steuerfreie Umsätze §4 Nr. 8 ff. UStG", (4,)),
        _guide(3617, "4120", "Steuerfreie Umsätze §4 Nr. 1a UStG", (2,)),
        _guide(3618, "4125", "Steuerfreie innergemeinschaftliche Lieferungen", (3,)),
        _guide(3631, "4200", "Erlöse", (1, 17)),
        _guide(5186, "4300", "Erlöse 7 % USt", (1,)),
        _guide(5192, "4400", "Erlöse 19 % USt", (1,)),
        _guide(3640, "4338", "Erlöse aus im Inland nicht steuerbaren Leistungen", (17,)),
        _guide(3753, "4830", "Sonstige betriebliche Erträge", (1,)),
    ]


def small_business_revenue_chart() -> list[dict[str, Any]]:
    """A Kleinunternehmer client sees only §19 revenue (GUESS: account 4185 SKR04)."""
    return [
        _guide(3631, "4200", "Erlöse", (11,)),
        _guide(3602, "4185", "Erlöse als Kleinunternehmer i.S.d. §19 Abs. 1 UStG", (11,)),
    ]


def expense_chart() -> list[dict[str, Any]]:
    """A few expense accounts, so forAllAccounts is not revenue-only (GUESS)."""
    rules = (9,)
    return [
        {
            **_guide(4285, "6855", "Nebenkosten des Geldverkehrs", rules),
            "receiptTypes": ["EXPENSE"],
        },
        {**_guide(4200, "6815", "Bürobedarf", rules), "receiptTypes": ["EXPENSE"]},
    ]


#: Expense rule 9 exists so expense accounts validate; not used for income receipts.
EXPENSE_RULES: dict[int, tuple[str, str, tuple[str, ...]]] = {
    9: ("VORST_ABZUGSF_AUFW", "Vorsteuerabziehbare Aufwendungen", ("ZERO", "SEVEN", "NINETEEN")),
}

#: StaticCountry: ids 1-3 documented; the rest are sandbox GUESSES.
COUNTRIES: list[tuple[int, str, str, str]] = [
    (1, "de", "Deutschland", "Germany"),
    (2, "ch", "Schweiz", "Switzerland"),
    (3, "at", "Österreich", "Austria"),
    (4, "fr", "Frankreich", "France"),
    (5, "nl", "Niederlande", "Netherlands"),
    (6, "be", "Belgien", "Belgium"),
    (7, "lu", "Luxemburg", "Luxembourg"),
    (8, "it", "Italien", "Italy"),
    (9, "es", "Spanien", "Spain"),
    (10, "pl", "Polen", "Poland"),
    (11, "dk", "Dänemark", "Denmark"),
    (12, "cz", "Tschechien", "Czech Republic"),
    (13, "gb", "Vereinigtes Königreich", "United Kingdom"),
    (14, "us", "Vereinigte Staaten", "United States"),
    (15, "se", "Schweden", "Sweden"),
    (16, "pt", "Portugal", "Portugal"),
    (17, "ie", "Irland", "Ireland"),
    (18, "fi", "Finnland", "Finland"),
    (19, "no", "Norwegen", "Norway"),
    (20, "gr", "Griechenland", "Greece"),
]

#: Category ids from sevDesk's docs: contact 3 = customer; address 47 = invoice address.
CONTACT_CATEGORIES = {2: "Lieferant", 3: "Kunde", 4: "Partner", 28: "Interessent"}
ADDRESS_CATEGORIES = {43: "Arbeit", 44: "Privat", 47: "Rechnungsanschrift", 48: "Lieferanschrift"}
COMMUNICATION_KEYS = {1: "Privat", 2: "Arbeit", 3: "Fax", 4: "Mobil", 8: "Rechnungsadresse"}
