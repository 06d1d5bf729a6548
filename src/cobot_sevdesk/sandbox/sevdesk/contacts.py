"""Contacts: contacts and their customer numbers, addresses, communication ways
(e-mail, phone), and the static lists they refer to (countries, categories, keys).

Reference data from ``reference/sevdesk-api.md``: StaticCountry ids 1-3, category and
communication key ids; the other countries are sandbox GUESSES. Our code never
hard-codes these ids but resolves them through the API, so a wrong guess cannot hide a
bug.
"""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, Request, Response
from cobot_sevdesk.sandbox.sevdesk.state import (
    Account,
    SevdeskState,
    error,
    now,
    page,
    ref,
    ref_id,
    s,
    stamp,
)

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


#: An organisation has a ``name``; a person has ``surename`` and ``familyname``.
NAME_FIELDS = ("name", "surename", "familyname")


def names(body: dict[str, Any]) -> dict[str, Any]:
    """The name fields of a contact in a request body."""
    return {key: body.get(key) for key in NAME_FIELDS}


def _used_numbers(account: Account) -> set[str]:
    return {c["customerNumber"] for c in account.contacts.values() if c.get("customerNumber")}


def next_customer_number(account: Account) -> str:
    used = _used_numbers(account)
    number = account.customer_counter
    while str(number) in used:
        number += 1
    return str(number)


def store_contact(
    state: SevdeskState,
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
    with state.lock:
        created = now()
        if customer_number is None:
            # GUESS: without a number, the next one is assigned.
            customer_number = next_customer_number(account)
        contact: dict[str, Any] = {
            "id": state.next_id(),
            "name": name,
            "surename": surename,
            "familyname": familyname,
            "customerNumber": customer_number,
            "category": category,
            "status": status,
            "description": description,
            "vatNumber": vat_number,
            "create": created,
            "update": created,
        }
        account.contacts[contact["id"]] = contact
        if customer_number.isdigit() and int(customer_number) >= account.customer_counter:
            account.customer_counter = int(customer_number) + 1
        return contact


def _address_json(account: Account, address: dict[str, Any]) -> dict[str, Any]:
    # The ids here are numbers, not strings as elsewhere (as the sandbox always did).
    return {
        "id": address["id"],
        "objectName": "ContactAddress",
        "create": stamp(address["create"]),
        "update": stamp(address["create"]),
        "contact": {"id": address["contact"], "objectName": "Contact"},
        "street": address.get("street"),
        "zip": address.get("zip"),
        "city": address.get("city"),
        "country": {"id": address["country"], "objectName": "StaticCountry"},
        "category": {"id": address["category"], "objectName": "Category"},
        "name": address.get("name"),
        "sevClient": {"id": account.id, "objectName": "SevClient"},
    }


def _communication_way_json(account: Account, way: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": s(way["id"]),
        "objectName": "CommunicationWay",
        "create": stamp(way["create"]),
        "update": stamp(way["create"]),
        "contact": ref(way["contact"], "Contact"),
        "type": way["type"],
        "value": way["value"],
        "key": ref(way["key"], "CommunicationWayKey"),
        "main": s(way["main"]),
        "sevClient": account.client_ref,
    }


def contact_json(account: Account, contact: dict[str, Any], embed: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s(contact["id"]),
        "objectName": "Contact",
        "create": stamp(contact["create"]),
        "update": stamp(contact["update"]),
        "status": s(contact["status"]),
        "customerNumber": contact.get("customerNumber") or "",
        "category": ref(contact["category"], "Category"),
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
            _address_json(account, a)
            for a in account.addresses.values()
            if a["contact"] == contact["id"]
        ]
    if "communicationWays" in embed:
        out["communicationWays"] = [
            _communication_way_json(account, c)
            for c in account.communication_ways.values()
            if c["contact"] == contact["id"]
        ]
    return out


def contact_ref(account: Account, value: Any, field_name: str = "contact") -> int:
    """The id of a reference to a contact of ``account``."""
    contact_id = ref_id(value, "Contact", field_name)
    if contact_id not in account.contacts:
        raise error(404, f"Contact {contact_id} not found")
    return contact_id


def _embed(request: Request) -> set[str]:
    return set((request.arg("embed") or "").split(","))


class Contacts(Area[SevdeskState]):
    def register(self, app: App) -> None:
        r = app.route
        r("GET", "/Contact/Factory/getNextCustomerNumber", self.next_customer_number)
        r("GET", "/Contact/Mapper/checkCustomerNumberAvailability", self.check_customer_number)
        r("GET", "/Contact", self.list_contacts)
        r("POST", "/Contact", self.create_contact)
        r("GET", "/Contact/<id>", self.get_contact)
        r("GET", "/ContactAddress", self.list_addresses)
        r("POST", "/ContactAddress", self.create_address)
        r("GET", "/CommunicationWay", self.list_communication_ways)
        r("POST", "/CommunicationWay", self.create_communication_way)
        r("GET", "/CommunicationWayKey", self.communication_way_keys)
        r("GET", "/StaticCountry", self.countries)
        r("GET", "/Category", self.categories)

    # -- contacts and customer numbers ----------------------------------------------
    def next_customer_number(self, request: Request) -> Any:
        return {"objects": next_customer_number(self.state.authenticate(request))}

    def check_customer_number(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        number = request.arg("customerNumber")
        if not number:
            # Documented quirk: the parameter is "optional" but leaving it out gives a 500.
            raise error(500, "Internal error")
        return {"objects": number not in _used_numbers(account)}

    def list_contacts(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        depth = request.arg("depth", "0")
        number = request.arg("customerNumber")
        name = (request.arg("name") or "").lower()
        embed = _embed(request)
        found = []
        for contact in account.contacts.values():
            is_person = contact.get("name") is None
            if is_person and depth != "1":
                continue  # documented: depth=0 hides persons
            # GUESS: customerNumber filters by exact value (what real clients assume).
            if number is not None and contact.get("customerNumber") != number:
                continue
            if name and not any(name in (contact.get(k) or "").lower() for k in NAME_FIELDS):
                continue
            found.append(contact_json(account, contact, embed))
        return page(request, found)

    def get_contact(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        contact = account.contacts.get(int(request.params["id"]))
        if contact is None:
            raise error(404, "Contact not found")
        return {"objects": [contact_json(account, contact, _embed(request))]}

    def create_contact(self, request: Request) -> Response:
        account = self.state.authenticate(request)
        body = request.json()
        if not isinstance(body, dict):
            raise error(400, "Invalid body")
        category = ref_id(body.get("category"), "Category", "category")
        if category not in CONTACT_CATEGORIES:
            raise error(422, f"Unknown category {category}")
        if not any(names(body).values()):
            raise error(
                422, "A contact needs a name (organisation) or surename/familyname (person)"
            )
        number = body.get("customerNumber")
        # LENIENT: sevDesk's docs do not say whether a used customer number is
        # refused; the sandbox accepts it, so only our own checks prevent doubles.
        contact = store_contact(
            self.state,
            account,
            **names(body),
            customer_number=str(number) if number is not None else None,
            category=category,
            status=int(body.get("status") or 100),
            description=body.get("description"),
            vat_number=body.get("vatNumber"),
        )
        return Response(201, {"objects": contact_json(account, contact, set())})

    # -- addresses and communication ways -----------------------------------------------
    def list_addresses(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        contact = request.arg("contact[id]")
        found = [
            _address_json(account, a)
            for a in account.addresses.values()
            if contact is None or str(a["contact"]) == contact
        ]
        return page(request, found)

    def create_address(self, request: Request) -> Response:
        account = self.state.authenticate(request)
        body = request.json()
        contact = contact_ref(account, body.get("contact"))
        country = ref_id(body.get("country"), "StaticCountry", "country")
        if country not in {c[0] for c in COUNTRIES}:
            raise error(422, f"Unknown country {country}")
        category = body.get("category")
        category_id = ref_id(category, "Category", "category") if category is not None else 47
        with self.state.lock:
            address = {
                "id": self.state.next_id(),
                "contact": contact,
                "street": body.get("street"),
                "zip": body.get("zip"),
                "city": body.get("city"),
                "name": body.get("name"),
                "country": country,
                "category": category_id,
                "create": now(),
            }
            account.addresses[address["id"]] = address
        return Response(201, {"objects": _address_json(account, address)})

    def list_communication_ways(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        contact = request.arg("contact[id]")
        kind = request.arg("type")
        found = [
            _communication_way_json(account, w)
            for w in account.communication_ways.values()
            if (contact is None or str(w["contact"]) == contact)
            and (kind is None or w["type"] == kind)
        ]
        return page(request, found)

    def create_communication_way(self, request: Request) -> Response:
        account = self.state.authenticate(request)
        body = request.json()
        contact = contact_ref(account, body.get("contact"))
        kind = body.get("type")
        if kind not in ("EMAIL", "PHONE", "WEB", "MOBILE", "FAX"):
            raise error(422, f"Invalid communication way type {kind!r}")
        value = body.get("value")
        if not isinstance(value, str) or not value.strip():
            raise error(422, "value is required")
        if kind == "EMAIL" and "@" not in value:
            raise error(422, f"Invalid e-mail address {value!r}")
        key = ref_id(body.get("key"), "CommunicationWayKey", "key")
        if key not in COMMUNICATION_KEYS:
            raise error(422, f"Unknown communication way key {key}")
        with self.state.lock:
            way = {
                "id": self.state.next_id(),
                "contact": contact,
                "type": kind,
                "value": value.strip(),
                "key": key,
                "main": bool(body.get("main")),
                "create": now(),
            }
            account.communication_ways[way["id"]] = way
        return Response(201, {"objects": _communication_way_json(account, way)})

    # -- static lists ------------------------------------------------------------------
    def communication_way_keys(self, request: Request) -> Any:
        self.state.authenticate(request)
        return {
            "objects": [
                {
                    "id": s(k),
                    "objectName": "CommunicationWayKey",
                    "name": v,
                    "translationCode": f"COMM_WAY_KEY_{k}",
                }
                for k, v in COMMUNICATION_KEYS.items()
            ]
        }

    def countries(self, request: Request) -> Any:
        self.state.authenticate(request)
        rows = [
            {
                "id": s(cid),
                "objectName": "StaticCountry",
                "code": code,
                "name": name,
                "nameEn": name_en,
                "translationCode": f"COUNTRY_{code.upper()}",
                "locale": f"{code}_{code.upper()}",
                "priority": s(100 - cid),
            }
            for cid, code, name, name_en in COUNTRIES
        ]
        return page(request, rows, default_limit=100)

    def categories(self, request: Request) -> Any:
        self.state.authenticate(request)
        kind = request.arg("objectType", "Contact")
        table = ADDRESS_CATEGORIES if kind == "ContactAddress" else CONTACT_CATEGORIES
        return {
            "objects": [
                {"id": s(k), "objectName": "Category", "name": v, "objectType": kind}
                for k, v in table.items()
            ]
        }
