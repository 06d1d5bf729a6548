"""Pure mapping from Cobot data to sevDesk request bodies. No I/O here."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cobot_sevdesk.cobot.models import Address, Invoice, InvoiceLine, Membership
from cobot_sevdesk.sevdesk.models import (
    CUSTOMER_CATEGORY,
    INVOICE_ADDRESS_CATEGORY,
    INVOICING_KEY,
    WORK_KEY,
    BookingAccount,
    Country,
    sevdesk_date,
)
from cobot_sevdesk.sync.rules.money import Position

ACTIVE_CONTACT = 1000  # sevDesk contact status "Active"

_COUNTRY_ALIASES = {
    "deutschland": "de",
    "germany": "de",
    "allemagne": "de",
    "österreich": "at",
    "oesterreich": "at",
    "austria": "at",
    "schweiz": "ch",
    "switzerland": "ch",
    "suisse": "ch",
    "united kingdom": "gb",
    "uk": "gb",
    "great britain": "gb",
    "usa": "us",
    "united states of america": "us",
}


def norm(text: str | None) -> str:
    """Trimmed, case-folded, inner whitespace collapsed: how names are compared."""
    return re.sub(r"\s+", " ", (text or "").strip()).casefold()


# ----------------------------------------------------------------- contacts
def split_person_name(full_name: str) -> tuple[str | None, str]:
    """(first name, family name). "Doe, Jane" and "Jane Doe" both give ("Jane", "Doe");
    a single word is the family name; several given names stay together."""
    name = re.sub(r"\s+", " ", full_name).strip()
    if "," in name:
        family, _, given = name.partition(",")
        return (given.strip() or None), family.strip()
    if " " not in name:
        return None, name
    given, _, family = name.rpartition(" ")
    return given, family


def contact_body(membership: Membership, customer_number: str) -> dict[str, Any]:
    """A customer contact: an organisation when the billing address names a company,
    otherwise a person. The full Cobot name always survives in the description."""
    company = membership.address.company
    name = membership.name or membership.address.name or membership.email or membership.id
    body: dict[str, Any] = {
        "category": {"id": CUSTOMER_CATEGORY, "objectName": "Category"},
        "customerNumber": customer_number,
        "status": ACTIVE_CONTACT,
    }
    if company:
        body["name"] = company
        body["description"] = f"Cobot member {name} (contact person)"
    else:
        given, family = split_person_name(name)
        body["familyname"] = family
        if given:
            body["surename"] = given  # sic: sevDesk's field for the first name
        body["description"] = f"Cobot member {name}"
    return body


def resolve_country(
    address: Address, countries: Sequence[Country], default_code: str
) -> Country | None:
    """sevDesk's country for a Cobot address: by ISO code, or by German/English name.
    No country given means the space's own; an unknown one gives None."""
    wanted = address.country_code or address.country or default_code
    key = norm(wanted)
    code = _COUNTRY_ALIASES.get(key, key if len(key) == 2 else None)
    for country in countries:
        if code and country.code == code:
            return country
        if key in (norm(country.name), norm(country.name_en)):
            return country
    return None


def has_postal_address(address: Address) -> bool:
    return bool(address.street or address.city or address.post_code)


def address_body(contact_id: int, address: Address, country: Country) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contact": {"id": contact_id, "objectName": "Contact"},
        "street": address.street,
        "zip": address.post_code,
        "city": address.city,
        "country": {"id": country.id, "objectName": "StaticCountry"},
        "category": {"id": INVOICE_ADDRESS_CATEGORY, "objectName": "Category"},
    }
    if address.name:
        body["name"] = address.name
    return body


def member_emails(membership: Membership) -> list[tuple[str, bool]]:
    """(address, is_billing) for each distinct e-mail of the member; the billing
    addresses first, since invoices go there."""
    seen: set[str] = set()
    result: list[tuple[str, bool]] = []
    for email, billing in [
        *((e, True) for e in membership.billing_emails),
        (membership.email, False),
    ]:
        if email and "@" in email and email.casefold() not in seen:
            seen.add(email.casefold())
            result.append((email.strip(), billing))
    return result


def email_body(contact_id: int, email: str, *, billing: bool, main: bool) -> dict[str, Any]:
    return {
        "contact": {"id": contact_id, "objectName": "Contact"},
        "type": "EMAIL",
        "value": email,
        "key": {"id": INVOICING_KEY if billing else WORK_KEY, "objectName": "CommunicationWayKey"},
        "main": main,
    }


# ----------------------------------------------------------------- receipts
def match_account(code: str, accounts: Sequence[BookingAccount]) -> BookingAccount | None:
    """The revenue account for a Cobot accounting code: same name (trimmed, any case),
    or the code is the account number. Name matches win over number matches."""
    key = norm(code)
    by_name = [a for a in accounts if norm(a.name) == key]
    if by_name:
        return by_name[0]
    by_number = [a for a in accounts if norm(a.number) == key]
    return by_number[0] if by_number else None


@dataclass(frozen=True)
class ReceiptPlan:
    """Everything decided about a receipt before anything is written."""

    invoice: Invoice
    tax_rule: int
    #: The booking account of each invoice line.
    accounts: tuple[BookingAccount, ...]
    #: The positions as sent: for a reduction of revenue (``credit``) with the
    #: opposite sign of the invoice's amounts.
    positions: tuple[Position, ...]
    payment_deadline: dt.date
    cost_centre_id: int | None
    contact_id: int | None
    #: A reduction of revenue: booked as a credit ("C") receipt with positive amounts.
    credit: bool = False
    #: What a correction invoice corrects, in words ("RE-1, sevDesk receipt 123").
    corrects: str | None = None


def foreign_currency_fields(invoice: Invoice) -> dict[str, Any]:
    """sevDesk needs an exchange rate or a rate date for receipts not in EUR.

    UNCERTAIN: which of the two sevDesk prefers is undocumented; we give the invoice
    date as ``propertyForeignCurrencyDeadline`` so sevDesk applies that day's rate.
    """
    if invoice.currency == "EUR":
        return {}
    return {"propertyForeignCurrencyDeadline": sevdesk_date(invoice.invoice_date)}


def _rate_number(rate: Decimal) -> Decimal:
    return rate.normalize() if rate == rate.to_integral_value() else rate


def receipt_body(plan: ReceiptPlan, filename: str | None) -> dict[str, Any]:
    invoice = plan.invoice
    voucher: dict[str, Any] = {
        "objectName": "Voucher",
        "mapAll": True,
        "voucherType": "VOU",
        # D: revenue, "you sold something"; C for a reduction of revenue (a credit
        # note is an expense receipt in sevDesk, see ``sync/corrections.py``).
        "creditDebit": "C" if plan.credit else "D",
        "status": 100,  # open / unpaid
        "voucherDate": sevdesk_date(invoice.invoice_date),
        "deliveryDate": sevdesk_date(invoice.invoice_date),
        "paymentDeadline": sevdesk_date(plan.payment_deadline),
        "description": invoice.number,
        "taxRule": {"id": plan.tax_rule, "objectName": "TaxRule"},
        "currency": invoice.currency,
        **foreign_currency_fields(invoice),
    }
    if plan.contact_id is not None:
        voucher["supplier"] = {"id": plan.contact_id, "objectName": "Contact"}
    else:
        voucher["supplierName"] = invoice.recipient_name
    if plan.cost_centre_id is not None:
        voucher["costCentre"] = {"id": plan.cost_centre_id, "objectName": "CostCentre"}
    positions = []
    for position in plan.positions:
        account = plan.accounts[position.lines[0]]
        comment = "; ".join(_line_text(invoice.lines[i]) for i in position.lines)
        if plan.corrects:
            # First, so that a long text never cuts it off.
            comment = f"{plan.corrects}: {comment}"
        positions.append(
            {
                "objectName": "VoucherPos",
                "mapAll": True,
                "accountDatev": {"id": account.datev_id, "objectName": "AccountDatev"},
                "taxRate": _rate_number(position.rate),
                # Gross amounts are authoritative; sevDesk derives the net from each
                # (documented), and it comes out as sent here (``rules/money.py``).
                # sumNet is read-only then, and sent because both API descriptions
                # require it.
                "net": False,
                "sumNet": position.net,
                "sumGross": position.gross,
                "comment": comment[:250],
            }
        )
    body: dict[str, Any] = {
        "voucher": voucher,
        "voucherPosSave": positions,
        "voucherPosDelete": None,
    }
    if filename:
        body["filename"] = filename
    return body


def _line_text(line: InvoiceLine) -> str:
    if line.quantity != 1:
        return f"{line.quantity.normalize():f} × {line.description}"
    return line.description


def pdf_filename(invoice: Invoice) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", invoice.number).strip("-") or invoice.id
    return f"{safe}.pdf"


#: Paid statuses (API 2 ``paidStatus``) under which an invoice no longer stands as
#: revenue the way its receipt says; and our word for an invoice Cobot deleted.
CANCELED = "canceled"
WRITTEN_OFF = "writtenOff"
DELETED = "deleted"


def standing(invoice: Invoice) -> str:
    """``CANCELED`` or ``WRITTEN_OFF`` if Cobot says so, else "" (paid, unpaid, ...)."""
    return invoice.paid_status if invoice.paid_status in (CANCELED, WRITTEN_OFF) else ""


def invoice_fingerprint(invoice: Invoice) -> str:
    """A hash of what a receipt is made of, and of whether the invoice still stands.

    Payments and reminders are left out, so they are not changes; a cancellation or a
    write-off is one. (The standing is added only when there is one, so fingerprints
    stored before it was part of them still match an unchanged invoice.)
    """
    content: dict[str, object] = {
        "number": invoice.number,
        "date": invoice.invoice_date.isoformat(),
        "customer": invoice.customer_number,
        "recipient": [invoice.recipient.company, invoice.recipient.name],
        "currency": invoice.currency,
        "total": str(invoice.total.gross),
        "lines": [
            [
                line.description,
                str(line.quantity),
                line.accounting_code,
                str(line.total.gross),
                str(line.total.rate),
            ]
            for line in invoice.lines
        ],
    }
    if standing(invoice):
        content["standing"] = standing(invoice)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
