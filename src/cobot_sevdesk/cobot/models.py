"""Typed views of the Cobot payloads we use, and the functions that parse them.

Each ``parse_*`` takes a ``Reader`` and raises ``PayloadError`` naming the field when
the payload does not have the shape we rely on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cobot_sevdesk.payload import Reader

SERVICE = "Cobot"


@dataclass(frozen=True)
class AdminSpace:
    subdomain: str
    name: str


@dataclass(frozen=True)
class CobotUser:
    id: str
    email: str
    admin_of: tuple[AdminSpace, ...]


@dataclass(frozen=True)
class SpaceInfo:
    """API 1 ``GET /api/spaces/<subdomain>``: the id the token-binding call wants."""

    id: str
    subdomain: str
    name: str


@dataclass(frozen=True)
class Api2Space:
    id: str
    subdomain: str
    name: str
    country_code: str | None


@dataclass(frozen=True)
class Address:
    name: str | None
    company: str | None
    street: str | None
    post_code: str | None
    city: str | None
    state: str | None
    #: A country name (API 1 memberships) or None.
    country: str | None
    #: An ISO 3166 code (API 2 invoices) or None.
    country_code: str | None


@dataclass(frozen=True)
class Membership:
    id: str
    name: str
    email: str | None
    address: Address
    billing_emails: tuple[str, ...]
    customer_number: str | None
    confirmed_at: dt.date | None
    phone: str | None
    #: The membership as Cobot sent it, for the audit trail.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Tax:
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Price:
    net: Decimal
    gross: Decimal
    currency: str
    taxes: tuple[Tax, ...]

    @property
    def rate(self) -> Decimal:
        """The line's tax rate; 0 when no tax applies. One rate per line in Cobot."""
        return self.taxes[0].rate if self.taxes else Decimal(0)


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    accounting_code: str | None
    cost_center: str | None
    unit: Price
    total: Price


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    invoice_date: dt.date
    due_date: dt.date
    customer_number: str | None
    tax_id: str | None
    recipient: Address
    lines: tuple[InvoiceLine, ...]
    total: Price
    pdf_url: str | None
    paid_status: str
    debitor_type: str | None
    debitor_id: str | None
    corrected_invoice_id: str | None
    #: The API 2 id of the space the invoice belongs to.
    space_id: str | None
    #: What has been paid in Cobot (``paidAmount``), and when it was fully paid.
    paid_amount: Decimal = Decimal(0)
    paid_date: dt.date | None = None
    #: The invoice as Cobot sent it (its ``data`` object), for the audit trail.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def currency(self) -> str:
        return self.total.currency

    @property
    def recipient_name(self) -> str:
        return self.recipient.company or self.recipient.name or "Unknown recipient"


@dataclass(frozen=True)
class InvoicePage:
    invoices: tuple[Invoice, ...]
    page: int
    total_pages: int
    has_next: bool


@dataclass(frozen=True)
class AccountingCode:
    name: str
    tax_rate: Decimal | None


@dataclass(frozen=True)
class Subscription:
    id: str
    event: str
    callback_url: str
    url: str
    active: bool


# ----------------------------------------------------------------- parsers
def parse_user(r: Reader) -> CobotUser:
    return CobotUser(
        id=r.text("id"),
        email=r.opt_text("email") or "",
        admin_of=tuple(
            AdminSpace(
                subdomain=a.text("space_subdomain"),
                name=a.opt_text("space_name") or a.text("space_subdomain"),
            )
            for a in r.opt_seq("admin_of")
        ),
    )


def parse_space_info(r: Reader) -> SpaceInfo:
    return SpaceInfo(
        id=r.text("id"),
        subdomain=r.text("subdomain"),
        name=r.opt_text("name") or r.text("subdomain"),
    )


def parse_api2_admin_spaces(r: Reader) -> list[Api2Space]:
    """Spaces from ``GET /user?include=adminOf`` (only those the user administers)."""
    admin_ids = {
        ref.text("id")
        for ref in r.field("data").field("relationships").field("adminOf").opt_seq("data")
    }
    spaces = []
    for item in r.opt_seq("included"):
        if item.text("type") != "spaces" or item.text("id") not in admin_ids:
            continue
        attrs = item.field("attributes")
        spaces.append(
            Api2Space(
                id=item.text("id"),
                subdomain=attrs.text("subdomain"),
                name=attrs.opt_text("name") or attrs.text("subdomain"),
                country_code=attrs.opt_text("countryCode"),
            )
        )
    return spaces


_POSTAL_LINE = re.compile(r"^(\d{4,5})\s+(\S.*)$")


def split_full_address(full: str, country: str | None) -> tuple[str | None, str | None, str | None]:
    """(street, post code, city) from a multi-line ``full_address``.

    Cobot's documented membership address has only ``full_address`` (plus company,
    name, country); the split fields appear in Cobot's own newer code only. So when
    they are missing, the lines are read the way European addresses are written:
    the street, then "<post code> <city>", then the country. UNCERTAIN: other
    layouts give only a street line, never a wrong post code.
    """
    lines = [line.strip() for line in full.splitlines() if line.strip()]
    if country and lines and lines[-1].casefold() == country.casefold():
        lines.pop()
    for index, line in enumerate(lines):
        match = _POSTAL_LINE.match(line)
        if match:
            street = lines[index - 1] if index > 0 else None
            return street, match[1], match[2]
    return (lines[0] if lines else None), None, None


def parse_membership(r: Reader) -> Membership:
    address = r.opt("address")
    emails = [e.as_str().strip() for e in r.opt_seq("billing_emails") if e.value]
    customer_number = r.opt("customer_number")
    street = post_code = city = country = full = None
    if address is not None:
        street, post_code, city = (
            address.opt_text("address"),
            address.opt_text("post_code"),
            address.opt_text("city"),
        )
        country, full = address.opt_text("country"), address.opt_text("full_address")
        if full and not (street or post_code or city):
            street, post_code, city = split_full_address(full, country)
    return Membership(
        id=r.text("id"),
        name=r.opt_text("name") or "",
        email=r.opt_text("email"),
        address=Address(
            name=address.opt_text("name") if address else None,
            company=address.opt_text("company") if address else None,
            street=street,
            post_code=post_code,
            city=city,
            state=address.opt_text("state") if address else None,
            country=country,
            country_code=None,
        ),
        billing_emails=tuple(emails),
        # API 1 sends the number as a string in memberships but as a number on
        # invoices; normalise to text.
        customer_number=(customer_number.as_str().strip() or None) if customer_number else None,
        confirmed_at=r.opt_date("confirmed_at"),
        phone=r.opt_text("phone"),
        raw=r.value if isinstance(r.value, dict) else {},
    )


def _price(r: Reader) -> Price:
    return Price(
        net=r.decimal("net"),
        gross=r.decimal("gross"),
        currency=r.text("currency"),
        taxes=tuple(
            Tax(rate=t.decimal("rate"), amount=t.decimal("amount")) for t in r.opt_seq("taxes")
        ),
    )


def _relationship_id(rels: Reader | None, name: str) -> tuple[str | None, str | None]:
    if rels is None:
        return None, None
    rel = rels.opt(name)
    data = rel.opt("data") if rel else None
    if data is None:
        return None, None
    return data.text("type"), data.text("id")


def parse_invoice(r: Reader) -> Invoice:
    """One ``data`` element of API 2 ``GET /invoices/{id}`` or of an invoice list."""
    attrs = r.field("attributes")
    recipient = attrs.field("recipientAddress")
    rels = r.opt("relationships")
    debitor_type, debitor_id = _relationship_id(rels, "debitor")
    if debitor_id is None:
        # Older invoices may only carry the deprecated membership relationship.
        debitor_type, debitor_id = _relationship_id(rels, "membership")
    _, corrected = _relationship_id(rels, "correctedInvoice")
    _, space_id = _relationship_id(rels, "space")
    pdf = attrs.opt("pdf")
    return Invoice(
        id=r.text("id"),
        number=attrs.text("number"),
        invoice_date=attrs.date("invoiceDate"),
        due_date=attrs.date("dueDate"),
        customer_number=attrs.opt_text("customerNumber"),
        tax_id=attrs.opt_text("taxId"),
        recipient=Address(
            name=recipient.opt_text("name"),
            company=recipient.opt_text("company"),
            street=recipient.opt_text("street"),
            post_code=recipient.opt_text("postCode"),
            city=recipient.opt_text("city"),
            state=recipient.opt_text("state"),
            country=None,
            country_code=recipient.opt_text("countryCode"),
        ),
        lines=tuple(
            InvoiceLine(
                description=item.opt_text("description") or "",
                quantity=item.decimal("quantity"),
                accounting_code=item.opt_text("accountingCode"),
                cost_center=(cc.opt_text("number") if (cc := item.opt("costCenter")) else None),
                unit=_price(item.field("amount")),
                total=_price(item.field("totalAmount")),
            )
            for item in attrs.seq("items")
        ),
        total=_price(attrs.field("totalAmount")),
        pdf_url=pdf.opt_text("url") if pdf else None,
        paid_status=attrs.opt_text("paidStatus") or "unpaid",
        debitor_type=debitor_type,
        debitor_id=debitor_id,
        corrected_invoice_id=corrected,
        space_id=space_id,
        paid_amount=paid.as_decimal() if (paid := attrs.opt("paidAmount")) else Decimal(0),
        paid_date=attrs.opt_date("paidDate"),
        raw=r.value if isinstance(r.value, dict) else {},
    )


def parse_invoice_page(r: Reader) -> InvoicePage:
    meta = r.opt("meta")
    links = r.opt("links")
    page = meta.integer("currentPage") if meta and meta.has("currentPage") else 1
    total = meta.integer("totalPages") if meta and meta.has("totalPages") else 1
    return InvoicePage(
        invoices=tuple(parse_invoice(item) for item in r.seq("data")),
        page=page,
        total_pages=total,
        has_next=bool(links and links.has("next")),
    )


def parse_accounting_code(r: Reader) -> AccountingCode:
    rate = r.opt("tax_rate")
    return AccountingCode(name=r.text("name"), tax_rate=rate.as_decimal() if rate else None)


def parse_subscription(r: Reader) -> Subscription:
    return Subscription(
        id=r.text("id"),
        event=r.text("event"),
        callback_url=r.text("callback_url"),
        url=r.text("url"),
        active=r.flag("active", default=True),
    )
