"""A stateful fake of the sevDesk API v1 (bookkeeping system 2.0).

It answers in the live shapes (ids, sums and flags as strings, everything inside
``objects``; single GETs as a one-element array, some helpers as a bare object) and
enforces the validation rules sevDesk documents for ``saveVoucher``. Where the real
API's behaviour is not documented, the choice is marked GUESS or LENIENT (accepting
more than the real service might, so that our client, not the sandbox, is what keeps
us safe).

Inspection API (not part of sevDesk), all under ``/_sandbox``:
``POST /accounts`` create an account with a token; ``GET /accounts/<token>`` its full
state; ``POST /accounts/<token>/booking-accounts``, ``DELETE
/accounts/<token>/booking-accounts/<number>``; ``POST /accounts/<token>/cost-centres``;
``POST /accounts/<token>/contacts``; ``POST /accounts/<token>/revoke``;
``POST /accounts/<token>/restore``; plus the request log and faults of ``App``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from cobot_sevdesk.sandbox import sevdesk_data as data
from cobot_sevdesk.sandbox.server import App, HttpError, Request, Response

BERLIN = ZoneInfo("Europe/Berlin")
CENT = Decimal("0.01")


def _s(value: Any) -> str | None:
    """sevDesk's habit: numbers and flags travel as strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    return str(value)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(BERLIN).isoformat(timespec="seconds")


def _date_out(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).isoformat(timespec="seconds")


def _error(status: int, message: str) -> HttpError:
    return HttpError(status, {"error": {"message": message, "exceptionUUID": str(uuid.uuid4())}})


def parse_date(value: Any, field_name: str) -> dt.date:
    """Dates as sevDesk documents them (dd.mm.yyyy or a Unix timestamp).

    LENIENT: ISO dates and datetimes are accepted too; whether the live API takes
    them is not documented.
    """
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(int(value), tz=BERLIN).date()
    if isinstance(value, str):
        text = value.strip()
        for pattern, order in (
            (r"^(\d{2})\.(\d{2})\.(\d{4})$", "dmy"),
            (r"^(\d{4})-(\d{2})-(\d{2})", "ymd"),
        ):
            match = re.match(pattern, text)
            if match:
                parts = [int(p) for p in match.groups()]
                day, month, year = parts if order == "dmy" else parts[::-1]
                try:
                    return dt.date(year, month, day)
                except ValueError:
                    break
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text), tz=BERLIN).date()
    raise _error(422, f"Invalid date in field {field_name}: {value!r}")


def _decimal(value: Any, field_name: str) -> Decimal:
    if isinstance(value, bool):
        raise _error(422, f"{field_name} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _error(422, f"{field_name} must be a number") from None


def _ref_id(value: Any, object_name: str, field_name: str) -> int:
    if not isinstance(value, dict) or "id" not in value:
        raise _error(400, f"{field_name} must be an object with id and objectName")
    if value.get("objectName") != object_name:
        raise _error(400, f"{field_name}.objectName must be {object_name}")
    try:
        return int(value["id"])
    except (TypeError, ValueError):
        raise _error(400, f"{field_name}.id must be an integer") from None


def _grams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


@dataclass
class Account:
    """One sevDesk client ("sevClient") with its data."""

    id: int
    name: str
    tokens: set[str]
    small_business: bool = False
    version: str = "2.0"
    revoked: bool = False
    guidance: list[dict[str, Any]] = field(default_factory=list)
    cost_centres: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[int, dict[str, Any]] = field(default_factory=dict)
    communication_ways: dict[int, dict[str, Any]] = field(default_factory=dict)
    vouchers: dict[int, dict[str, Any]] = field(default_factory=dict)
    positions: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)
    tag_relations: dict[int, dict[str, Any]] = field(default_factory=dict)
    temp_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    customer_counter: int = 1000

    #: Voucher ids by each three-letter piece of their lowercase description, so a
    #: ``descriptionLike`` lookup stays fast when a benchmark fills the account.
    voucher_grams: dict[str, set[int]] = field(default_factory=dict)

    def add_voucher(self, voucher: dict[str, Any]) -> None:
        self.vouchers[voucher["id"]] = voucher
        for gram in _grams(voucher["search"]):
            self.voucher_grams.setdefault(gram, set()).add(voucher["id"])

    def vouchers_containing(self, needle: str) -> list[dict[str, Any]]:
        """Vouchers whose description contains ``needle`` (case-insensitive)."""
        needle = needle.lower()
        grams = _grams(needle)
        if not grams:  # shorter than three letters: look at every voucher
            return [v for v in self.vouchers.values() if needle in v["search"]]
        sets = sorted((self.voucher_grams.get(g, set()) for g in grams), key=len)
        ids = set.intersection(*sets)
        found = (self.vouchers[i] for i in sorted(ids))
        return [v for v in found if needle in v["search"]]

    def account_by_datev(self, datev_id: int) -> dict[str, Any] | None:
        return next((g for g in self.guidance if g["accountDatevId"] == datev_id), None)


class SevdeskSandbox(App):
    name = "sevdesk-sandbox"

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(100)
        self.accounts: dict[int, Account] = {}
        self.tokens: dict[str, Account] = {}
        prefix = ""
        r = self.route
        r("GET", prefix + "/Tools/bookkeepingSystemVersion", self.bookkeeping_version)
        r("GET", prefix + "/Contact/Factory/getNextCustomerNumber", self.next_customer_number)
        r(
            "GET",
            prefix + "/Contact/Mapper/checkCustomerNumberAvailability",
            self.check_customer_number,
        )
        r("GET", prefix + "/Contact", self.list_contacts)
        r("POST", prefix + "/Contact", self.create_contact)
        r("GET", prefix + "/Contact/<id>", self.get_contact)
        r("GET", prefix + "/ContactAddress", self.list_addresses)
        r("POST", prefix + "/ContactAddress", self.create_address)
        r("GET", prefix + "/CommunicationWay", self.list_communication_ways)
        r("POST", prefix + "/CommunicationWay", self.create_communication_way)
        r("GET", prefix + "/CommunicationWayKey", self.communication_way_keys)
        r("GET", prefix + "/StaticCountry", self.countries)
        r("GET", prefix + "/Category", self.categories)
        r("GET", prefix + "/ReceiptGuidance/forRevenue", self.guidance_revenue)
        r("GET", prefix + "/ReceiptGuidance/forExpense", self.guidance_expense)
        r("GET", prefix + "/ReceiptGuidance/forAllAccounts", self.guidance_all)
        r("GET", prefix + "/ReceiptGuidance/forAccountNumber", self.guidance_for_number)
        r("GET", prefix + "/AccountingType", self.accounting_types)
        r("GET", prefix + "/CostCentre", self.list_cost_centres)
        r("POST", prefix + "/Voucher/Factory/uploadTempFile", self.upload_temp_file)
        r("POST", prefix + "/Voucher/Factory/saveVoucher", self.save_voucher)
        r("GET", prefix + "/Voucher", self.list_vouchers)
        r("GET", prefix + "/Voucher/<id>", self.get_voucher)
        r("GET", prefix + "/VoucherPos", self.list_positions)
        r("POST", prefix + "/Tag/Factory/create", self.create_tag)
        r("GET", prefix + "/Tag", self.list_tags)
        r("GET", prefix + "/TagRelation", self.list_tag_relations)
        # inspection
        r("POST", "/_sandbox/accounts", self._create_account)
        r("GET", "/_sandbox/accounts/<token>", self._account_state)
        r("POST", "/_sandbox/accounts/<token>/booking-accounts", self._add_booking_account)
        r(
            "DELETE",
            "/_sandbox/accounts/<token>/booking-accounts/<number>",
            self._remove_booking_account,
        )
        r("POST", "/_sandbox/accounts/<token>/cost-centres", self._add_cost_centre)
        r("POST", "/_sandbox/accounts/<token>/contacts", self._add_contact)
        r("POST", "/_sandbox/accounts/<token>/revoke", self._revoke)
        r("POST", "/_sandbox/accounts/<token>/restore", self._restore)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.accounts.clear()
            self.tokens.clear()

    def next_id(self) -> int:
        return next(self._ids)

    def create_account(
        self,
        token: str,
        *,
        name: str = "Sandbox GmbH",
        small_business: bool = False,
        version: str = "2.0",
    ) -> Account:
        with self.lock:
            if token in self.tokens:
                raise _error(409, "token already in use")
            chart = (
                data.small_business_revenue_chart()
                if small_business
                else data.regular_revenue_chart()
            )
            account = Account(
                id=self.next_id(),
                name=name,
                tokens={token},
                small_business=small_business,
                version=version,
                guidance=[*chart, *data.expense_chart()],
            )
            self.accounts[account.id] = account
            self.tokens[token] = account
            return account

    def account(self, request: Request) -> Account:
        """Token auth: the raw token is the whole Authorization header (no Bearer)."""
        token = request.header("authorization") or request.arg("token")
        account = self.tokens.get(token or "")
        if account is None or account.revoked:
            raise _error(401, "Authentication required")
        return account

    # ------------------------------------------------------------- basics
    def bookkeeping_version(self, request: Request) -> Any:
        account = self.account(request)
        return {"objects": {"version": account.version}}

    # ------------------------------------------------------------- contacts
    def _contact_out(
        self, account: Account, contact: dict[str, Any], embed: set[str]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": _s(contact["id"]),
            "objectName": "Contact",
            "create": _stamp(contact["create"]),
            "update": _stamp(contact["update"]),
            "status": _s(contact["status"]),
            "customerNumber": contact.get("customerNumber") or "",
            "category": {"id": _s(contact["category"]), "objectName": "Category"},
            "sevClient": {"id": account.id, "objectName": "SevClient"},
            "defaultCashbackTime": "",
            "exemptVat": "0",
            "governmentAgency": "0",
        }
        for key in ("name", "surename", "familyname", "name2", "description", "vatNumber"):
            if contact.get(key) is not None:
                out[key] = contact[key]
        if "addresses" in embed:
            out["addresses"] = [
                self._address_out(account, a)
                for a in account.addresses.values()
                if a["contact"] == contact["id"]
            ]
        if "communicationWays" in embed:
            out["communicationWays"] = [
                self._communication_way_out(account, c)
                for c in account.communication_ways.values()
                if c["contact"] == contact["id"]
            ]
        return out

    def _used_numbers(self, account: Account) -> set[str]:
        return {c["customerNumber"] for c in account.contacts.values() if c.get("customerNumber")}

    def next_customer_number(self, request: Request) -> Any:
        account = self.account(request)
        used = self._used_numbers(account)
        number = account.customer_counter
        while str(number) in used:
            number += 1
        return {"objects": str(number)}

    def check_customer_number(self, request: Request) -> Any:
        account = self.account(request)
        number = request.arg("customerNumber")
        if not number:
            # Documented quirk: the parameter is "optional" but leaving it out gives a 500.
            raise _error(500, "Internal error")
        return {"objects": number not in self._used_numbers(account)}

    def list_contacts(self, request: Request) -> Any:
        account = self.account(request)
        depth = request.arg("depth", "0")
        number = request.arg("customerNumber")
        name = (request.arg("name") or "").lower()
        embed = set((request.arg("embed") or "").split(","))
        found = []
        for contact in account.contacts.values():
            is_person = contact.get("name") is None
            if is_person and depth != "1":
                continue  # documented: depth=0 hides persons
            # GUESS: customerNumber filters by exact value (what real clients assume).
            if number is not None and contact.get("customerNumber") != number:
                continue
            if name and not any(
                name in (contact.get(k) or "").lower() for k in ("name", "surename", "familyname")
            ):
                continue
            found.append(self._contact_out(account, contact, embed))
        return self._page(request, found)

    def get_contact(self, request: Request) -> Any:
        account = self.account(request)
        contact = account.contacts.get(int(request.params["id"]))
        if contact is None:
            raise _error(404, "Contact not found")
        embed = set((request.arg("embed") or "").split(","))
        return {"objects": [self._contact_out(account, contact, embed)]}

    def create_contact(self, request: Request) -> Response:
        account = self.account(request)
        body = request.json()
        if not isinstance(body, dict):
            raise _error(400, "Invalid body")
        category = _ref_id(body.get("category"), "Category", "category")
        if category not in data.CONTACT_CATEGORIES:
            raise _error(422, f"Unknown category {category}")
        if not (body.get("name") or body.get("surename") or body.get("familyname")):
            raise _error(
                422, "A contact needs a name (organisation) or surename/familyname (person)"
            )
        number = body.get("customerNumber")
        # LENIENT: sevDesk's docs do not say whether a used customer number is
        # refused; the sandbox accepts it, so only our own checks prevent doubles.
        contact = self.store_contact(
            account,
            name=body.get("name"),
            surename=body.get("surename"),
            familyname=body.get("familyname"),
            customer_number=str(number) if number is not None else None,
            category=category,
            status=int(body.get("status") or 100),
            description=body.get("description"),
            vat_number=body.get("vatNumber"),
        )
        return Response(201, {"objects": self._contact_out(account, contact, set())})

    def store_contact(
        self,
        account: Account,
        *,
        name: str | None = None,
        surename: str | None = None,
        familyname: str | None = None,
        customer_number: str | None = None,
        category: int = 3,
        status: int = 1000,
        description: str | None = None,
        vat_number: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            now = dt.datetime.now(tz=BERLIN)
            if customer_number is None:
                # GUESS: without a number, the next one is assigned.
                customer_number = self.next_customer_number_for(account)
            contact: dict[str, Any] = {
                "id": self.next_id(),
                "name": name,
                "surename": surename,
                "familyname": familyname,
                "customerNumber": customer_number,
                "category": category,
                "status": status,
                "description": description,
                "vatNumber": vat_number,
                "create": now,
                "update": now,
            }
            account.contacts[contact["id"]] = contact
            if customer_number.isdigit() and int(customer_number) >= account.customer_counter:
                account.customer_counter = int(customer_number) + 1
            return contact

    def next_customer_number_for(self, account: Account) -> str:
        used = self._used_numbers(account)
        number = account.customer_counter
        while str(number) in used:
            number += 1
        return str(number)

    def _contact_ref(self, account: Account, value: Any, field_name: str = "contact") -> int:
        contact_id = _ref_id(value, "Contact", field_name)
        if contact_id not in account.contacts:
            raise _error(404, f"Contact {contact_id} not found")
        return contact_id

    def _address_out(self, account: Account, address: dict[str, Any]) -> dict[str, Any]:
        out = {
            "id": address["id"],
            "objectName": "ContactAddress",
            "create": _stamp(address["create"]),
            "update": _stamp(address["create"]),
            "contact": {"id": address["contact"], "objectName": "Contact"},
            "street": address.get("street"),
            "zip": address.get("zip"),
            "city": address.get("city"),
            "country": {"id": address["country"], "objectName": "StaticCountry"},
            "category": {"id": address["category"], "objectName": "Category"},
            "name": address.get("name"),
            "sevClient": {"id": account.id, "objectName": "SevClient"},
        }
        return out

    def list_addresses(self, request: Request) -> Any:
        account = self.account(request)
        contact = request.arg("contact[id]")
        found = [
            self._address_out(account, a)
            for a in account.addresses.values()
            if contact is None or str(a["contact"]) == contact
        ]
        return self._page(request, found)

    def create_address(self, request: Request) -> Response:
        account = self.account(request)
        body = request.json()
        contact = self._contact_ref(account, body.get("contact"))
        country = _ref_id(body.get("country"), "StaticCountry", "country")
        if country not in {c[0] for c in data.COUNTRIES}:
            raise _error(422, f"Unknown country {country}")
        category = body.get("category")
        category_id = _ref_id(category, "Category", "category") if category is not None else 47
        with self.lock:
            address = {
                "id": self.next_id(),
                "contact": contact,
                "street": body.get("street"),
                "zip": body.get("zip"),
                "city": body.get("city"),
                "name": body.get("name"),
                "country": country,
                "category": category_id,
                "create": dt.datetime.now(tz=BERLIN),
            }
            account.addresses[address["id"]] = address
        return Response(201, {"objects": self._address_out(account, address)})

    def _communication_way_out(self, account: Account, way: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _s(way["id"]),
            "objectName": "CommunicationWay",
            "create": _stamp(way["create"]),
            "update": _stamp(way["create"]),
            "contact": {"id": _s(way["contact"]), "objectName": "Contact"},
            "type": way["type"],
            "value": way["value"],
            "key": {"id": _s(way["key"]), "objectName": "CommunicationWayKey"},
            "main": _s(way["main"]),
            "sevClient": {"id": _s(account.id), "objectName": "SevClient"},
        }

    def list_communication_ways(self, request: Request) -> Any:
        account = self.account(request)
        contact = request.arg("contact[id]")
        kind = request.arg("type")
        found = [
            self._communication_way_out(account, w)
            for w in account.communication_ways.values()
            if (contact is None or str(w["contact"]) == contact)
            and (kind is None or w["type"] == kind)
        ]
        return self._page(request, found)

    def create_communication_way(self, request: Request) -> Response:
        account = self.account(request)
        body = request.json()
        contact = self._contact_ref(account, body.get("contact"))
        kind = body.get("type")
        if kind not in ("EMAIL", "PHONE", "WEB", "MOBILE", "FAX"):
            raise _error(422, f"Invalid communication way type {kind!r}")
        value = body.get("value")
        if not isinstance(value, str) or not value.strip():
            raise _error(422, "value is required")
        if kind == "EMAIL" and "@" not in value:
            raise _error(422, f"Invalid e-mail address {value!r}")
        key = _ref_id(body.get("key"), "CommunicationWayKey", "key")
        if key not in data.COMMUNICATION_KEYS:
            raise _error(422, f"Unknown communication way key {key}")
        with self.lock:
            way = {
                "id": self.next_id(),
                "contact": contact,
                "type": kind,
                "value": value.strip(),
                "key": key,
                "main": bool(body.get("main")),
                "create": dt.datetime.now(tz=BERLIN),
            }
            account.communication_ways[way["id"]] = way
        return Response(201, {"objects": self._communication_way_out(account, way)})

    def communication_way_keys(self, request: Request) -> Any:
        self.account(request)
        return {
            "objects": [
                {
                    "id": _s(k),
                    "objectName": "CommunicationWayKey",
                    "name": v,
                    "translationCode": f"COMM_WAY_KEY_{k}",
                }
                for k, v in data.COMMUNICATION_KEYS.items()
            ]
        }

    def countries(self, request: Request) -> Any:
        self.account(request)
        rows = [
            {
                "id": _s(cid),
                "objectName": "StaticCountry",
                "code": code,
                "name": name,
                "nameEn": name_en,
                "translationCode": f"COUNTRY_{code.upper()}",
                "locale": f"{code}_{code.upper()}",
                "priority": _s(100 - cid),
            }
            for cid, code, name, name_en in data.COUNTRIES
        ]
        return self._page(request, rows, default_limit=100)

    def categories(self, request: Request) -> Any:
        self.account(request)
        kind = request.arg("objectType", "Contact")
        table = data.ADDRESS_CATEGORIES if kind == "ContactAddress" else data.CONTACT_CATEGORIES
        return {
            "objects": [
                {"id": _s(k), "objectName": "Category", "name": v, "objectType": kind}
                for k, v in table.items()
            ]
        }

    # ------------------------------------------------------- booking accounts
    def _rules_table(self) -> dict[int, tuple[str, str, tuple[str, ...]]]:
        return {**data.TAX_RULES, **data.EXPENSE_RULES}

    def _guide_out(self, guide: dict[str, Any]) -> dict[str, Any]:
        rules = self._rules_table()
        return {
            "accountDatevId": guide["accountDatevId"],
            "accountNumber": guide["accountNumber"],
            "accountName": guide["accountName"],
            "description": guide["description"],
            "allowedTaxRules": [
                {
                    "id": rid,
                    "name": rules[rid][0],
                    "description": rules[rid][1],
                    "taxRates": list(rules[rid][2]),
                }
                for rid in guide["rules"]
            ],
            "allowedReceiptTypes": list(guide["receiptTypes"]),
        }

    def guidance_revenue(self, request: Request) -> Any:
        account = self.account(request)
        return {
            "objects": [
                self._guide_out(g) for g in account.guidance if "REVENUE" in g["receiptTypes"]
            ]
        }

    def guidance_expense(self, request: Request) -> Any:
        account = self.account(request)
        return {
            "objects": [
                self._guide_out(g) for g in account.guidance if "EXPENSE" in g["receiptTypes"]
            ]
        }

    def guidance_all(self, request: Request) -> Any:
        account = self.account(request)
        return {"objects": [self._guide_out(g) for g in account.guidance]}

    def guidance_for_number(self, request: Request) -> Any:
        account = self.account(request)
        number = request.arg("accountNumber")
        guide = next((g for g in account.guidance if g["accountNumber"] == number), None)
        if guide is None:
            raise _error(422, f"Account number {number} is not available")
        # Documented quirk: this helper answers with a bare object, not a list.
        return {"objects": self._guide_out(guide)}

    def accounting_types(self, request: Request) -> Any:
        """Legacy (bookkeeping 1.0) accounting types; GUESS of the shape from old clients."""
        account = self.account(request)
        rows = [
            {
                "id": _s(g["accountDatevId"]),
                "objectName": "AccountingType",
                "name": g["accountName"],
                "skr04": g["accountNumber"],
                "type": "E" if "REVENUE" in g["receiptTypes"] else "A",
                "status": "100",
                "hidden": "0",
            }
            for g in account.guidance
        ]
        return self._page(request, rows, default_limit=1000)

    def list_cost_centres(self, request: Request) -> Any:
        """Not in the current spec; shape from a 2026 .NET client (GUESS)."""
        account = self.account(request)
        rows = [
            {
                "id": _s(cid),
                "objectName": "CostCentre",
                "number": c["number"],
                "name": c["name"],
                "color": c.get("color", "#4c9a2a"),
                "postingAccount": None,
                "defaultCentre": "0",
                "sevClient": {"id": _s(account.id), "objectName": "SevClient"},
            }
            for cid, c in account.cost_centres.items()
        ]
        return self._page(request, rows)

    # ------------------------------------------------------------- vouchers
    def upload_temp_file(self, request: Request) -> Response:
        account = self.account(request)
        files = request.multipart_files()
        if "file" not in files:
            raise _error(400, "No file named 'file' in the upload")
        filename, content = files["file"]
        if not content:
            raise _error(400, "Empty file")
        if not (
            content.startswith(b"%PDF")
            or content[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1")
        ):
            raise _error(400, "Only PDF, PNG and JPG files are accepted")
        digest = hashlib.sha256(content).hexdigest()
        stored = f"{uuid.uuid4().hex}.pdf"
        with self.lock:
            account.temp_files[stored] = {"original": filename, "content": content, "hash": digest}
        return Response(
            201,
            {
                "objects": {
                    "pages": 1,
                    "mimeType": "image/jpg",
                    "originMimeType": "application/pdf",
                    "filename": stored,
                    "contentHash": digest,
                    "content": [],
                }
            },
        )

    def save_voucher(self, request: Request) -> Response:
        account = self.account(request)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("voucher"), dict):
            raise _error(400, "Body must contain a voucher object")
        voucher_in = body["voucher"]
        positions_in = body.get("voucherPosSave") or []
        if voucher_in.get("objectName") != "Voucher" or voucher_in.get("mapAll") is not True:
            raise _error(400, "voucher needs objectName 'Voucher' and mapAll true")
        if voucher_in.get("id"):
            raise _error(422, "Updating vouchers is not supported by the sandbox")
        status = voucher_in.get("status")
        if status not in (50, 100, "50", "100"):
            raise _error(
                422, "Only status 50 (draft) or 100 (open) can be saved through saveVoucher"
            )
        credit_debit = voucher_in.get("creditDebit")
        if credit_debit not in ("C", "D"):
            raise _error(422, "creditDebit must be C or D")
        if voucher_in.get("voucherType") not in ("VOU", "RV"):
            raise _error(422, "voucherType must be VOU or RV")
        supplier = voucher_in.get("supplier")
        supplier_id = self._contact_ref(account, supplier, "supplier") if supplier else None
        supplier_name = voucher_in.get("supplierName")
        if supplier_id is None and not (isinstance(supplier_name, str) and supplier_name.strip()):
            raise _error(422, "Either supplier or supplierName must be given")
        rule_id = self._tax_rule(account, voucher_in)
        voucher_date = (
            parse_date(voucher_in["voucherDate"], "voucherDate")
            if voucher_in.get("voucherDate")
            else None
        )
        delivery_date = (
            parse_date(voucher_in["deliveryDate"], "deliveryDate")
            if voucher_in.get("deliveryDate")
            else None
        )
        deadline = (
            parse_date(voucher_in["paymentDeadline"], "paymentDeadline")
            if voucher_in.get("paymentDeadline")
            else None
        )
        currency = voucher_in.get("currency") or "EUR"
        if currency != "EUR" and not (
            voucher_in.get("propertyExchangeRate")
            or voucher_in.get("propertyForeignCurrencyDeadline")
        ):
            raise _error(
                422,
                "Foreign currency vouchers need propertyExchangeRate "
                "or propertyForeignCurrencyDeadline",
            )
        cost_centre = voucher_in.get("costCentre")
        cost_centre_id = _ref_id(cost_centre, "CostCentre", "costCentre") if cost_centre else None
        if cost_centre_id is not None and cost_centre_id not in account.cost_centres:
            raise _error(422, f"Cost centre {cost_centre_id} does not exist")
        if not isinstance(positions_in, list) or not positions_in:
            raise _error(422, "A voucher needs at least one position in voucherPosSave")
        positions = [
            self._position(account, p, i, rule_id, credit_debit) for i, p in enumerate(positions_in)
        ]
        if len({p["net"] for p in positions}) > 1:
            raise _error(422, "All positions of a voucher must use the same net mode")
        filename = body.get("filename")
        document_id = None
        with self.lock:
            if filename:
                temp = account.temp_files.pop(str(filename), None)
                if temp is None:
                    raise _error(400, f"Unknown temporary file {filename!r}")
                document_id = self.next_id()
                account.documents[document_id] = {"id": document_id, "filename": filename, **temp}
            now = dt.datetime.now(tz=BERLIN)
            voucher = {
                "id": self.next_id(),
                "create": now,
                "status": int(status),
                "creditDebit": credit_debit,
                "voucherType": voucher_in["voucherType"],
                "supplier": supplier_id,
                "supplierName": supplier_name
                if supplier_id is None
                else account.contacts[supplier_id].get("name"),
                "description": voucher_in.get("description"),
                "search": (voucher_in.get("description") or "").lower(),
                "voucherDate": voucher_date,
                "deliveryDate": delivery_date,
                "deliveryDateUntil": None,
                "paymentDeadline": deadline,
                "taxRule": rule_id,
                "currency": currency,
                "costCentre": cost_centre_id,
                "document": document_id,
                "sumNet": sum((p["sumNet"] for p in positions), Decimal(0)),
                "sumTax": sum((p["sumTax"] for p in positions), Decimal(0)),
                "sumGross": sum((p["sumGross"] for p in positions), Decimal(0)),
            }
            account.add_voucher(voucher)
            for position in positions:
                position["id"] = self.next_id()
                position["voucher"] = voucher["id"]
                position["create"] = now
                account.positions[position["id"]] = position
        response = {
            "voucher": self._voucher_out(account, voucher),
            "voucherPos": [self._position_out(account, p) for p in positions],
            "filename": filename,
        }
        if document_id is not None:
            response["document"] = {
                "id": _s(document_id),
                "objectName": "Document",
                "filename": filename,
            }
        return Response(201, {"objects": response})

    def _tax_rule(self, account: Account, voucher_in: dict[str, Any]) -> int:
        rule = voucher_in.get("taxRule")
        if rule is not None:
            rule_id = _ref_id(rule, "TaxRule", "taxRule")
        elif voucher_in.get("taxType") in data.LEGACY_TAX_TYPES:
            # Documented transition: 1.0 taxTypes are mapped on 2.0 accounts.
            rule_id = data.LEGACY_TAX_TYPES[voucher_in["taxType"]]
        else:
            raise _error(422, "taxRule is required (bookkeeping system 2.0)")
        if rule_id in data.RULES_NOT_FOR_VOUCHERS:
            raise _error(422, f"Tax rule {rule_id} cannot be used on vouchers")
        if rule_id not in data.TAX_RULES and rule_id not in data.EXPENSE_RULES:
            raise _error(422, f"Unknown tax rule {rule_id}")
        return rule_id

    def _position(
        self, account: Account, raw: Any, index: int, rule_id: int, credit_debit: str
    ) -> dict[str, Any]:
        where = f"voucherPosSave[{index}]"
        if (
            not isinstance(raw, dict)
            or raw.get("objectName") != "VoucherPos"
            or raw.get("mapAll") is not True
        ):
            raise _error(400, f"{where} needs objectName 'VoucherPos' and mapAll true")
        if raw.get("accountDatev") is not None:
            datev_id = _ref_id(raw["accountDatev"], "AccountDatev", f"{where}.accountDatev")
        elif raw.get("accountingType") is not None:
            # Documented: 1.0 accounting types still work if the guidance knows the account.
            datev_id = _ref_id(raw["accountingType"], "AccountingType", f"{where}.accountingType")
        else:
            raise _error(422, f"{where}: accountDatev is required")
        guide = account.account_by_datev(datev_id)
        if guide is None:
            raise _error(
                422, f"{where}: booking account {datev_id} is not available for this client"
            )
        wanted = "REVENUE" if credit_debit == "D" else "EXPENSE"
        if wanted not in guide["receiptTypes"]:
            raise _error(
                422,
                f"{where}: account {guide['accountNumber']} "
                f"cannot be used on {wanted.lower()} receipts",
            )
        rate = _decimal(raw.get("taxRate"), f"{where}.taxRate")
        token = data.RATE_TOKENS.get(rate)
        rules = self._rules_table()
        if rule_id not in guide["rules"]:
            raise _error(
                422,
                f"{where}: tax rule {rule_id} is not allowed for account {guide['accountNumber']}",
            )
        if token is None or token not in rules[rule_id][2]:
            raise _error(
                422,
                f"{where}: tax rate {rate} is not allowed with tax rule {rule_id} "
                f"on account {guide['accountNumber']}",
            )
        net_mode = raw.get("net")
        if not isinstance(net_mode, bool):
            raise _error(422, f"{where}: net must be true or false")
        factor = 1 + rate / 100
        if net_mode:
            sum_net = _decimal(raw.get("sumNet"), f"{where}.sumNet").quantize(CENT, ROUND_HALF_UP)
            sum_tax = (sum_net * rate / 100).quantize(CENT, ROUND_HALF_UP)
            sum_gross = sum_net + sum_tax
        else:
            sum_gross = _decimal(raw.get("sumGross"), f"{where}.sumGross").quantize(
                CENT, ROUND_HALF_UP
            )
            sum_net = (sum_gross / factor).quantize(CENT, ROUND_HALF_UP)
            sum_tax = sum_gross - sum_net
        # LENIENT: negative sums (credit notes as negative receipts) are accepted;
        # whether the live API accepts them on income receipts is not documented.
        return {
            "accountDatev": datev_id,
            "taxRate": rate,
            "net": net_mode,
            "sumNet": sum_net,
            "sumTax": sum_tax,
            "sumGross": sum_gross,
            "comment": raw.get("comment"),
        }

    def _voucher_out(self, account: Account, voucher: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": _s(voucher["id"]),
            "objectName": "Voucher",
            "mapAll": True,
            "create": _stamp(voucher["create"]),
            "update": _stamp(voucher["create"]),
            "sevClient": {"id": _s(account.id), "objectName": "SevClient"},
            "createUser": {"id": "1", "objectName": "SevUser"},
            "voucherDate": _date_out(voucher["voucherDate"]),
            "supplier": (
                {"id": _s(voucher["supplier"]), "objectName": "Contact"}
                if voucher["supplier"] is not None
                else None
            ),
            "supplierName": voucher["supplierName"],
            "description": voucher["description"],
            "document": (
                {"id": _s(voucher["document"]), "objectName": "Document"}
                if voucher["document"] is not None
                else None
            ),
            "payDate": None,
            "status": _s(voucher["status"]),
            "sumNet": _s(voucher["sumNet"]),
            "sumTax": _s(voucher["sumTax"]),
            "sumGross": _s(voucher["sumGross"]),
            "sumNetAccounting": _s(voucher["sumNet"]),
            "sumTaxAccounting": _s(voucher["sumTax"]),
            "sumGrossAccounting": _s(voucher["sumGross"]),
            "sumDiscounts": "0",
            "sumDiscountsForeignCurrency": "0",
            "paidAmount": 0,
            "taxRule": {"id": voucher["taxRule"], "objectName": "TaxRule"},
            "taxType": None,
            "creditDebit": voucher["creditDebit"],
            "voucherType": voucher["voucherType"],
            "currency": voucher["currency"],
            "paymentDeadline": _date_out(voucher["paymentDeadline"]),
            "deliveryDate": _date_out(voucher["deliveryDate"] or voucher["voucherDate"]),
            "deliveryDateUntil": None,
        }
        if voucher["costCentre"] is not None:
            out["costCentre"] = {"id": _s(voucher["costCentre"]), "objectName": "CostCentre"}
        return out

    def _position_out(self, account: Account, position: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _s(position["id"]),
            "objectName": "VoucherPos",
            "create": _stamp(position["create"]),
            "update": _stamp(position["create"]),
            "sevClient": {"id": _s(account.id), "objectName": "SevClient"},
            "voucher": {"id": _s(position["voucher"]), "objectName": "Voucher"},
            "accountDatev": {"id": position["accountDatev"], "objectName": "AccountDatev"},
            "accountingType": {"id": _s(position["accountDatev"]), "objectName": "AccountingType"},
            "taxRate": _s(position["taxRate"]),
            "net": position["net"],
            "isAsset": False,
            "sumNet": _s(position["sumNet"]),
            "sumTax": _s(position["sumTax"]),
            "sumGross": _s(position["sumGross"]),
            "sumNetAccounting": _s(position["sumNet"]),
            "sumTaxAccounting": _s(position["sumTax"]),
            "sumGrossAccounting": _s(position["sumGross"]),
            "comment": position["comment"],
        }

    def list_vouchers(self, request: Request) -> Any:
        account = self.account(request)
        like = request.arg("descriptionLike")
        credit_debit = request.arg("creditDebit")
        status = request.arg("status")
        contact = request.arg("contact[id]")
        start = request.arg("startDate")
        end = request.arg("endDate")
        found = []
        candidates: Iterable[dict[str, Any]] = account.vouchers.values()
        if like is not None:
            # documented: descriptionLike is a "contains" match
            candidates = account.vouchers_containing(like)
        for voucher in candidates:
            if credit_debit and voucher["creditDebit"] != credit_debit:
                continue
            if status and str(voucher["status"]) != status:
                continue
            if contact and str(voucher["supplier"]) != contact:
                continue
            day = voucher["voucherDate"]
            if start and (day is None or day < parse_date(int(start), "startDate")):
                continue
            if end and (day is None or day > parse_date(int(end), "endDate")):
                continue
            found.append(self._voucher_out(account, voucher))
        return self._page(request, found)

    def get_voucher(self, request: Request) -> Any:
        account = self.account(request)
        voucher = account.vouchers.get(int(request.params["id"]))
        if voucher is None:
            raise _error(404, "Voucher not found")
        return {"objects": [self._voucher_out(account, voucher)]}

    def list_positions(self, request: Request) -> Any:
        account = self.account(request)
        voucher = request.arg("voucher[id]")
        if voucher is not None and request.arg("voucher[objectName]") != "Voucher":
            raise _error(400, "voucher[objectName] must be Voucher")
        found = [
            self._position_out(account, p)
            for p in account.positions.values()
            if voucher is None or str(p["voucher"]) == voucher
        ]
        return self._page(request, found)

    # ------------------------------------------------------------------ tags
    def create_tag(self, request: Request) -> Any:
        account = self.account(request)
        body = request.json()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _error(422, "name is required")
        target = body.get("object")
        if not isinstance(target, dict) or target.get("objectName") not in (
            "Invoice",
            "Voucher",
            "Order",
            "CreditNote",
        ):
            raise _error(400, "object must reference an Invoice, Voucher, Order or CreditNote")
        object_id = int(target["id"])
        if target["objectName"] == "Voucher" and object_id not in account.vouchers:
            raise _error(404, f"Voucher {object_id} not found")
        with self.lock:
            tag_id = next((tid for tid, tname in account.tags.items() if tname == name), None)
            if tag_id is None:
                tag_id = self.next_id()
                account.tags[tag_id] = name
            relation: dict[str, Any] = {
                "id": self.next_id(),
                "tag": tag_id,
                "object": {"id": object_id, "objectName": target["objectName"]},
                "create": dt.datetime.now(tz=BERLIN),
            }
            account.tag_relations[relation["id"]] = relation
        return {"objects": self._relation_out(account, relation)}

    def _relation_out(self, account: Account, relation: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _s(relation["id"]),
            "objectName": "TagRelation",
            "create": _stamp(relation["create"]),
            "tag": {"id": _s(relation["tag"]), "objectName": "Tag"},
            "object": relation["object"],
            "sevClient": {"id": _s(account.id), "objectName": "SevClient"},
        }

    def list_tags(self, request: Request) -> Any:
        account = self.account(request)
        name = request.arg("name")
        rows = [
            {
                "id": _s(tid),
                "objectName": "Tag",
                "name": tname,
                "create": _stamp(dt.datetime.now(tz=BERLIN)),
            }
            for tid, tname in account.tags.items()
            if name is None or tname == name
        ]
        return self._page(request, rows)

    def list_tag_relations(self, request: Request) -> Any:
        account = self.account(request)
        return self._page(
            request, [self._relation_out(account, r) for r in account.tag_relations.values()]
        )

    # ------------------------------------------------------------- paging
    def _page(self, request: Request, rows: list[dict[str, Any]], default_limit: int = 100) -> Any:
        """limit/offset paging. GUESS: the default page size is 100 (not documented)."""
        try:
            limit = int(request.arg("limit") or default_limit)
            offset = int(request.arg("offset") or 0)
        except ValueError:
            raise _error(400, "limit and offset must be integers") from None
        if not 1 <= limit <= 1000:
            raise _error(400, "limit must be between 1 and 1000")
        result: dict[str, Any] = {"objects": rows[offset : offset + limit]}
        if request.arg("countAll") == "true":
            result["total"] = len(rows)
        return result

    # ---------------------------------------------------------- inspection
    def _by_token(self, request: Request) -> Account:
        account = self.tokens.get(request.params["token"])
        if account is None:
            raise HttpError(404, {"error": "no such sandbox account"})
        return account

    def _create_account(self, request: Request) -> Response:
        body = request.json()
        account = self.create_account(
            body["token"],
            name=body.get("name", "Sandbox GmbH"),
            small_business=bool(body.get("small_business", False)),
            version=body.get("version", "2.0"),
        )
        for centre in body.get("cost_centres", []):
            self.add_cost_centre(account, centre["number"], centre.get("name", centre["number"]))
        for booking in body.get("booking_accounts", []):
            self.add_booking_account(account, booking)
        return Response(201, {"id": account.id})

    def add_cost_centre(self, account: Account, number: str, name: str) -> int:
        with self.lock:
            centre_id = self.next_id()
            account.cost_centres[centre_id] = {"number": str(number), "name": name}
            return centre_id

    def add_booking_account(self, account: Account, spec: dict[str, Any]) -> dict[str, Any]:
        """A custom booking account (Buchungskonto) the admin created in sevDesk.

        It behaves like the standard account it is based on (``like``, default 4400 or,
        for small businesses, 4185): same allowed tax rules.
        """
        with self.lock:
            base_number = spec.get("like") or ("4185" if account.small_business else "4400")
            base = next((g for g in account.guidance if g["accountNumber"] == base_number), None)
            rules = spec.get("rules") or (base["rules"] if base else [1])
            guide = {
                "accountDatevId": self.next_id() + 10000,
                "accountNumber": str(spec.get("number") or 4000 + len(account.guidance) * 7),
                "accountName": spec["name"],
                "description": spec.get("description", spec["name"]),
                "rules": list(rules),
                "receiptTypes": ["REVENUE"],
            }
            account.guidance.append(guide)
            return guide

    def _add_booking_account(self, request: Request) -> Response:
        account = self._by_token(request)
        return Response(201, self._guide_out(self.add_booking_account(account, request.json())))

    def _remove_booking_account(self, request: Request) -> Response:
        account = self._by_token(request)
        key = request.params["number"]
        with self.lock:
            before = len(account.guidance)
            account.guidance = [
                g for g in account.guidance if g["accountNumber"] != key and g["accountName"] != key
            ]
            if len(account.guidance) == before:
                raise HttpError(404, {"error": "no such booking account"})
        return Response(204)

    def _add_cost_centre(self, request: Request) -> Response:
        account = self._by_token(request)
        body = request.json()
        return Response(
            201, {"id": self.add_cost_centre(account, body["number"], body.get("name", ""))}
        )

    def _add_contact(self, request: Request) -> Response:
        account = self._by_token(request)
        body = request.json()
        contact = self.store_contact(
            account,
            name=body.get("name"),
            surename=body.get("surename"),
            familyname=body.get("familyname"),
            customer_number=body.get("customerNumber"),
        )
        return Response(201, {"id": contact["id"], "customerNumber": contact["customerNumber"]})

    def _revoke(self, request: Request) -> Response:
        self._by_token(request).revoked = True
        return Response(204)

    def _restore(self, request: Request) -> Response:
        self._by_token(request).revoked = False
        return Response(204)

    def _account_state(self, request: Request) -> Any:
        account = self._by_token(request)
        with self.lock:
            positions: dict[int, list[dict[str, Any]]] = {}
            for p in account.positions.values():
                positions.setdefault(p["voucher"], []).append(self._position_out(account, p))
            tags: dict[int, list[str]] = {}
            for r in account.tag_relations.values():
                if r["object"]["objectName"] == "Voucher":
                    tags.setdefault(r["object"]["id"], []).append(account.tags[r["tag"]])
            return {
                "id": account.id,
                "contacts": [
                    {
                        **self._contact_out(account, c, {"addresses", "communicationWays"}),
                        "description": c.get("description"),
                    }
                    for c in account.contacts.values()
                ],
                "vouchers": [
                    {
                        **self._voucher_out(account, v),
                        "positions": positions.get(v["id"], []),
                        "tags": tags.get(v["id"], []),
                        "documentHash": account.documents[v["document"]]["hash"]
                        if v["document"]
                        else None,
                    }
                    for v in account.vouchers.values()
                ],
                "costCentres": [{"id": cid, **c} for cid, c in account.cost_centres.items()],
                "bookingAccounts": [self._guide_out(g) for g in account.guidance],
            }
