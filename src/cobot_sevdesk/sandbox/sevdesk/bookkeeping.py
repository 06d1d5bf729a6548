"""Booking accounts and tax rules: the receipt guidance (which account takes which tax
rules and rates), the legacy accounting types, cost centres and the bookkeeping
system version.

Sources of the reference data: ``reference/sevdesk-api.md`` (tax rule ids and allowed
rates, known AccountDatev ids). Everything else here is a sandbox guess and is marked
so; our code never hard-codes these ids but resolves them through the API, so a wrong
guess cannot hide a bug.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, Request
from cobot_sevdesk.sandbox.sevdesk.state import Account, SevdeskState, error, page, s

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

#: Expense rule 9 exists so expense accounts validate; not used for income receipts.
EXPENSE_RULES: dict[int, tuple[str, str, tuple[str, ...]]] = {
    9: ("VORST_ABZUGSF_AUFW", "Vorsteuerabziehbare Aufwendungen", ("ZERO", "SEVEN", "NINETEEN")),
}

#: Every tax rule an account can allow, revenue and expense.
ALL_RULES = {**TAX_RULES, **EXPENSE_RULES}

#: Rules sevDesk documents as not usable on vouchers (One-Stop-Shop, §18b).
RULES_NOT_FOR_VOUCHERS = frozenset({18, 19, 20, 21})

#: taxType values of bookkeeping 1.0 that 2.0 still maps for a transition period.
LEGACY_TAX_TYPES = {"default": 1, "eu": 3, "noteu": 17, "ss": 11}


def _guide(
    datev_id: int,
    number: str,
    name: str,
    rules: tuple[int, ...] | list[int],
    receipt_type: str = "REVENUE",
) -> dict[str, Any]:
    """A booking account as the sandbox keeps it (``guide_json`` shows it)."""
    return {
        "accountDatevId": datev_id,
        "accountNumber": number,
        "accountName": name,
        "description": name,
        "rules": list(rules),
        "receiptTypes": [receipt_type],
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
    return [
        _guide(4285, "6855", "Nebenkosten des Geldverkehrs", (9,), "EXPENSE"),
        _guide(4200, "6815", "Bürobedarf", (9,), "EXPENSE"),
    ]


def chart(small_business: bool) -> list[dict[str, Any]]:
    """The booking accounts a new account starts with."""
    revenue = small_business_revenue_chart() if small_business else regular_revenue_chart()
    return [*revenue, *expense_chart()]


def add_booking_account(
    state: SevdeskState, account: Account, spec: dict[str, Any]
) -> dict[str, Any]:
    """A custom booking account (Buchungskonto) the admin created in sevDesk.

    It behaves like the standard account it is based on (``like``, default 4400 or,
    for small businesses, 4185): same allowed tax rules.
    """
    with state.lock:
        base_number = spec.get("like") or ("4185" if account.small_business else "4400")
        base = next((g for g in account.guidance if g["accountNumber"] == base_number), None)
        rules = spec.get("rules") or (base["rules"] if base else [1])
        guide = _guide(
            state.next_id() + 10000,
            str(spec.get("number") or 4000 + len(account.guidance) * 7),
            spec["name"],
            rules,
        )
        guide["description"] = spec.get("description", spec["name"])
        account.guidance.append(guide)
        return guide


def add_cost_centre(state: SevdeskState, account: Account, number: str, name: str) -> int:
    with state.lock:
        centre_id = state.next_id()
        account.cost_centres[centre_id] = {"number": str(number), "name": name}
        return centre_id


def guide_json(guide: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountDatevId": guide["accountDatevId"],
        "accountNumber": guide["accountNumber"],
        "accountName": guide["accountName"],
        "description": guide["description"],
        "allowedTaxRules": [
            {
                "id": rid,
                "name": ALL_RULES[rid][0],
                "description": ALL_RULES[rid][1],
                "taxRates": list(ALL_RULES[rid][2]),
            }
            for rid in guide["rules"]
        ],
        "allowedReceiptTypes": list(guide["receiptTypes"]),
    }


class Bookkeeping(Area[SevdeskState]):
    def register(self, app: App) -> None:
        r = app.route
        r("GET", "/Tools/bookkeepingSystemVersion", self.bookkeeping_version)
        r("GET", "/ReceiptGuidance/forRevenue", self.guidance_revenue)
        r("GET", "/ReceiptGuidance/forExpense", self.guidance_expense)
        r("GET", "/ReceiptGuidance/forAllAccounts", self.guidance_all)
        r("GET", "/ReceiptGuidance/forAccountNumber", self.guidance_for_number)
        r("GET", "/AccountingType", self.accounting_types)
        r("GET", "/CostCentre", self.list_cost_centres)

    def bookkeeping_version(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        return {"objects": {"version": account.version}}

    def _guidance(self, request: Request, receipt_type: str | None) -> Any:
        account = self.state.authenticate(request)
        return {
            "objects": [
                guide_json(g)
                for g in account.guidance
                if receipt_type is None or receipt_type in g["receiptTypes"]
            ]
        }

    def guidance_revenue(self, request: Request) -> Any:
        return self._guidance(request, "REVENUE")

    def guidance_expense(self, request: Request) -> Any:
        return self._guidance(request, "EXPENSE")

    def guidance_all(self, request: Request) -> Any:
        return self._guidance(request, None)

    def guidance_for_number(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        number = request.arg("accountNumber")
        guide = next((g for g in account.guidance if g["accountNumber"] == number), None)
        if guide is None:
            raise error(422, f"Account number {number} is not available")
        # Documented quirk: this helper answers with a bare object, not a list.
        return {"objects": guide_json(guide)}

    def accounting_types(self, request: Request) -> Any:
        """Legacy (bookkeeping 1.0) accounting types; GUESS of the shape from old clients."""
        account = self.state.authenticate(request)
        rows = [
            {
                "id": s(g["accountDatevId"]),
                "objectName": "AccountingType",
                "name": g["accountName"],
                "skr04": g["accountNumber"],
                "type": "E" if "REVENUE" in g["receiptTypes"] else "A",
                "status": "100",
                "hidden": "0",
            }
            for g in account.guidance
        ]
        return page(request, rows, default_limit=1000)

    def list_cost_centres(self, request: Request) -> Any:
        """Not in the current spec; shape from a 2026 .NET client (GUESS)."""
        account = self.state.authenticate(request)
        rows = [
            {
                "id": s(cid),
                "objectName": "CostCentre",
                "number": c["number"],
                "name": c["name"],
                "color": c.get("color", "#4c9a2a"),
                "postingAccount": None,
                "defaultCentre": "0",
                "sevClient": account.client_ref,
            }
            for cid, c in account.cost_centres.items()
        ]
        return page(request, rows)
