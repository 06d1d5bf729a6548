"""Typed views of the sevDesk payloads we use, and their parsers.

sevDesk's quirks are handled here, once each: numbers, ids and flags arrive as
strings (``Reader`` converts), dates as ISO datetimes with an offset (we keep the
calendar date as written: sevDesk writes it in the account's zone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cobot_sevdesk.payload import Reader

SERVICE = "sevDesk"

# sevDesk's documented vocabulary, used to build request bodies.
CUSTOMER_CATEGORY = 3  # documented default category "Kunde"
INVOICE_ADDRESS_CATEGORY = 47  # documented address category "Rechnungsanschrift"
WORK_KEY = 2  # documented communication way key "Arbeit"
INVOICING_KEY = 8  # documented communication way key "Rechnungsadresse"


def sevdesk_date(day: dt.date) -> str:
    """Dates go to sevDesk as ``dd.mm.yyyy``, one of the two documented input forms."""
    return day.strftime("%d.%m.%Y")


def receipt_url(api_base: str, voucher_id: int) -> str:
    """Where an admin opens a receipt in sevDesk's web app.

    UNCERTAIN: sevDesk documents no links into its web app. This is the pattern an
    open-source sevDesk integration uses (Nerdscave/SevDesk-V2-WHMCS-Module:
    ``https://my.sevdesk.de/#/ex/detail/id/<id>``), on the API's host; the one place
    it is decided.
    """
    origin = api_base.split("/api/", 1)[0].rstrip("/")
    return f"{origin}/#/ex/detail/id/{voucher_id}"


#: Allowed position tax rates come as tokens in the receipt guidance.
RATE_TOKENS = {"ZERO": Decimal(0), "SEVEN": Decimal(7), "NINETEEN": Decimal(19)}


@dataclass(frozen=True)
class Contact:
    id: int
    customer_number: str | None
    name: str | None
    surename: str | None
    familyname: str | None

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return " ".join(p for p in (self.surename, self.familyname) if p) or f"#{self.id}"


@dataclass(frozen=True)
class ContactAddress:
    id: int
    contact_id: int
    street: str | None
    zip: str | None
    city: str | None
    country_id: int | None


@dataclass(frozen=True)
class CommunicationWay:
    id: int
    contact_id: int
    type: str
    value: str


@dataclass(frozen=True)
class Country:
    id: int
    code: str
    name: str
    name_en: str


@dataclass(frozen=True)
class TaxRuleOption:
    id: int
    code: str
    rates: frozenset[Decimal]


@dataclass(frozen=True)
class BookingAccount:
    """One entry of the receipt guidance: an account and the tax rules it accepts."""

    datev_id: int
    number: str
    name: str
    rules: tuple[TaxRuleOption, ...]

    def allows(self, rule_id: int, rate: Decimal) -> bool:
        return any(r.id == rule_id and rate in r.rates for r in self.rules)

    def allows_rule(self, rule_id: int) -> bool:
        return any(r.id == rule_id for r in self.rules)


@dataclass(frozen=True)
class CostCentre:
    id: int
    number: str
    name: str


@dataclass(frozen=True)
class Voucher:
    id: int
    description: str | None
    status: int
    credit_debit: str | None
    supplier_id: int | None
    supplier_name: str | None
    sum_gross: Decimal
    sum_net: Decimal
    voucher_date: dt.date | None
    tax_rule_id: int | None
    cost_centre_id: int | None
    has_document: bool
    #: ISO code; sevDesk's default (None here) is the account's currency.
    currency: str | None = None
    #: What sevDesk shows as paid on the receipt, and the date of the (last) payment.
    paid_amount: Decimal = Decimal(0)
    pay_date: dt.date | None = None


@dataclass(frozen=True)
class VoucherPosition:
    id: int
    voucher_id: int
    account_datev_id: int | None
    tax_rate: Decimal
    sum_gross: Decimal
    sum_net: Decimal
    comment: str | None
    #: sevDesk's own VAT of the position (read-only there); when an answer leaves it
    #: out, gross minus net, which is what it is by definition.
    sum_tax: Decimal | None = None

    @property
    def tax(self) -> Decimal:
        return self.sum_tax if self.sum_tax is not None else self.sum_gross - self.sum_net


@dataclass(frozen=True)
class TempFile:
    filename: str


def _ref_id(r: Reader, name: str) -> int | None:
    ref = r.opt(name)
    if ref is None:
        return None
    return ref.integer("id")


def parse_contact(r: Reader) -> Contact:
    return Contact(
        id=r.integer("id"),
        customer_number=r.opt_text("customerNumber"),
        name=r.opt_text("name"),
        surename=r.opt_text("surename"),
        familyname=r.opt_text("familyname"),
    )


def parse_contact_address(r: Reader) -> ContactAddress:
    return ContactAddress(
        id=r.integer("id"),
        contact_id=r.field("contact").integer("id"),
        street=r.opt_text("street"),
        zip=r.opt_text("zip"),
        city=r.opt_text("city"),
        country_id=_ref_id(r, "country"),
    )


def parse_communication_way(r: Reader) -> CommunicationWay:
    return CommunicationWay(
        id=r.integer("id"),
        contact_id=r.field("contact").integer("id"),
        type=r.text("type"),
        value=r.text("value"),
    )


def parse_country(r: Reader) -> Country:
    return Country(
        id=r.integer("id"),
        code=(r.opt_text("code") or "").lower(),
        name=r.opt_text("name") or "",
        name_en=r.opt_text("nameEn") or "",
    )


def parse_booking_account(r: Reader) -> BookingAccount:
    rules = []
    for rule in r.opt_seq("allowedTaxRules"):
        rates = set()
        for token in rule.opt_seq("taxRates"):
            text = token.as_str()
            if text in RATE_TOKENS:
                rates.add(RATE_TOKENS[text])
            else:
                # A token we do not know (a future rate) must not be silently
                # treated as some other rate: such an account then allows nothing
                # at that rate, and the admin gets a clear refusal.
                continue
        rules.append(
            TaxRuleOption(
                id=rule.integer("id"), code=rule.opt_text("name") or "", rates=frozenset(rates)
            )
        )
    return BookingAccount(
        datev_id=r.integer("accountDatevId"),
        number=r.text("accountNumber"),
        name=r.opt_text("accountName") or "",
        rules=tuple(rules),
    )


def parse_cost_centre(r: Reader) -> CostCentre:
    return CostCentre(
        id=r.integer("id"), number=r.opt_text("number") or "", name=r.opt_text("name") or ""
    )


def parse_voucher(r: Reader) -> Voucher:
    rule = r.opt("taxRule")
    return Voucher(
        id=r.integer("id"),
        description=r.opt_text("description"),
        status=r.integer("status"),
        credit_debit=r.opt_text("creditDebit"),
        supplier_id=_ref_id(r, "supplier"),
        supplier_name=r.opt_text("supplierName"),
        sum_gross=r.decimal("sumGross"),
        sum_net=r.decimal("sumNet"),
        voucher_date=r.opt_date("voucherDate"),
        tax_rule_id=rule.integer("id") if rule else None,
        cost_centre_id=_ref_id(r, "costCentre"),
        has_document=r.has("document"),
        currency=r.opt_text("currency"),
        paid_amount=paid.as_decimal() if (paid := r.opt("paidAmount")) else Decimal(0),
        pay_date=r.opt_date("payDate"),
    )


def parse_voucher_position(r: Reader) -> VoucherPosition:
    return VoucherPosition(
        id=r.integer("id"),
        voucher_id=r.field("voucher").integer("id"),
        account_datev_id=_ref_id(r, "accountDatev"),
        tax_rate=r.decimal("taxRate"),
        sum_gross=r.decimal("sumGross"),
        sum_net=r.decimal("sumNet"),
        comment=r.opt_text("comment"),
        sum_tax=r.decimal("sumTax") if r.has("sumTax") else None,
    )
