"""sevdesk's own documented payloads (fixtures/, each with its source) through our real
client: HTTP, the ``objects`` envelope, paging, the parsers and the error mapping.

The bodies are what sevdesk's documentation shows as response samples (built from the
official document's property examples, see tests/payloads.py). Where a documented
example does not work with our code, the test says what we want and is marked
``xfail(strict=True)`` with the reason: a known bug, to be fixed in the product.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from cobot_sevdesk.cobot.models import parse_invoice
from cobot_sevdesk.errors import NotFound, PermanentError
from cobot_sevdesk.payload import Reader
from cobot_sevdesk.sevdesk.client import SevdeskClient
from cobot_sevdesk.sevdesk.models import BookingAccount, TaxRuleOption, Voucher, VoucherPosition
from cobot_sevdesk.sync import planning
from tests.payloads import recorded, serving


@contextmanager
def served(*routes: tuple[str, str, str]) -> Iterator[SevdeskClient]:
    """A client whose sevDesk answers each (method, route) with the named fixture."""
    with serving(*((m, r, recorded("sevdesk", name)) for m, r, name in routes)) as server:
        yield SevdeskClient("0123456789abcdef0123456789abcdef", base_url=server.url)


# ----------------------------------------------------------------- basics
def test_bookkeeping_system_version() -> None:
    with served(("GET", "/Tools/bookkeepingSystemVersion", "bookkeeping-system-version")) as c:
        assert c.bookkeeping_version() == "2.0"


def test_next_customer_number() -> None:
    route = ("GET", "/Contact/Factory/getNextCustomerNumber", "next-customer-number")
    with served(route) as c:
        assert c.next_customer_number() == "string"  # the schema's placeholder


def test_customer_number_availability() -> None:
    route = (
        "GET",
        "/Contact/Mapper/checkCustomerNumberAvailability",
        "customer-number-availability",
    )
    with served(route) as c:
        assert c.customer_number_available("Customer-1337") is True


# ----------------------------------------------------------------- contacts
def test_contacts_found_by_customer_number_and_by_id() -> None:
    with served(("GET", "/Contact", "contacts"), ("GET", "/Contact/<id>", "contacts")) as c:
        [found] = c.find_contacts_by_customer_number("Customer-1337")
        by_id = c.get_contact(0)
    assert found == by_id
    assert (found.id, found.customer_number) == (0, "Customer-1337")
    assert (found.name, found.surename, found.familyname) == ("string", "John", "Snow")
    assert found.display_name == "string"


def test_contact_addresses() -> None:
    with served(("GET", "/ContactAddress", "contact-addresses")) as c:
        [address] = c.list_contact_addresses(0)
    assert (address.id, address.contact_id, address.country_id) == (0, 0, 0)
    assert (address.street, address.zip, address.city) == ("South road 15", "12345", "The North")


def test_communication_ways() -> None:
    with served(("GET", "/CommunicationWay", "communication-ways")) as c:
        [way] = c.list_communication_ways(0)
    assert (way.id, way.contact_id, way.type, way.value) == (0, 0, "EMAIL", "string")


def test_created_contact_as_documented() -> None:
    with served(("POST", "/Contact", "contact-created")) as c:
        contact = c.create_contact({"name": "x", "category": {"id": 3, "objectName": "Category"}})
    assert (contact.id, contact.customer_number) == (0, "Customer-1337")


def test_created_contact_address_as_documented() -> None:
    with served(("POST", "/ContactAddress", "contact-address-created")) as c:
        address = c.create_contact_address({"contact": {"id": 0, "objectName": "Contact"}})
    assert (address.id, address.contact_id, address.city) == (0, 0, "The North")


def test_created_communication_way_as_documented() -> None:
    with served(("POST", "/CommunicationWay", "communication-way-created")) as c:
        way = c.create_communication_way({"contact": {"id": 0, "objectName": "Contact"}})
    assert (way.id, way.type) == (0, "EMAIL")


def test_missing_contact_as_documented_is_not_found() -> None:
    with served(("GET", "/Contact/<id>", "contact-not-found")) as c, pytest.raises(NotFound):
        c.get_contact(0)


# ----------------------------------------------------------------- vouchers
def assert_documented_voucher(voucher: Voucher, *, tax_rule_id: int = 1) -> None:
    assert (voucher.id, voucher.description, voucher.status) == (0, "Voucher-1000", 50)
    assert (voucher.credit_debit, voucher.supplier_id, voucher.supplier_name) == (
        "C",
        0,
        "John Snow",
    )
    assert (voucher.sum_gross, voucher.sum_net) == (Decimal(0), Decimal(0))
    assert (voucher.tax_rule_id, voucher.cost_centre_id, voucher.has_document) == (
        tax_rule_id,
        0,
        True,
    )
    assert voucher.voucher_date is not None
    assert voucher.voucher_date.isoformat() == "2020-01-01"


def test_saved_voucher_as_documented() -> None:
    with served(("POST", "/Voucher/Factory/saveVoucher", "save-voucher")) as c:
        voucher = c.save_voucher({"voucher": {}, "voucherPosSave": []})
    assert_documented_voucher(voucher)


def test_saved_voucher_as_the_community_document_corrects_it() -> None:
    with served(("POST", "/Voucher/Factory/saveVoucher", "save-voucher-community")) as c:
        voucher = c.save_voucher({"voucher": {}, "voucherPosSave": []})
    # The community document types taxRule.id as an integer without an example: 0.
    assert_documented_voucher(voucher, tax_rule_id=0)


def test_voucher_list_and_voucher_as_documented() -> None:
    with served(("GET", "/Voucher", "vouchers"), ("GET", "/Voucher/<id>", "vouchers")) as c:
        [found] = c.find_vouchers_by_description("Voucher-1000")
        assert_documented_voucher(found)
        assert_documented_voucher(c.get_voucher(0))


def test_missing_voucher_as_documented_is_not_found() -> None:
    with served(("GET", "/Voucher/<id>", "voucher-not-found")) as c, pytest.raises(NotFound):
        c.get_voucher(0)


def test_voucher_positions() -> None:
    with served(("GET", "/VoucherPos", "voucher-positions")) as c:
        positions = c.voucher_positions(0)
    assert positions == [
        VoucherPosition(
            id=0,
            voucher_id=0,
            account_datev_id=0,
            tax_rate=Decimal(19),
            sum_gross=Decimal(119),
            sum_net=Decimal(100),
            comment="string",
            sum_tax=Decimal(19),
        )
    ]


def test_tagging_with_the_documented_answer() -> None:
    with served(("POST", "/Tag/Factory/create", "tag-created")) as c:
        assert c.tag_voucher(0, "Mismatch") is None  # the answer (a TagRelation) is not read


def test_documented_validation_error_is_permanent_with_its_message() -> None:
    with (
        served(("POST", "/Voucher/Factory/saveVoucher", "error-validation")) as c,
        pytest.raises(PermanentError) as err,
    ):
        c.save_voucher({"voucher": {}, "voucherPosSave": []})
    assert err.value.status == 422
    # {"error": {"message": ..., "exceptionUUID": ...}}: the UUID is kept for support.
    assert err.value.service_message == "string (ref string)"


# ----------------------------------------------------------------- booking accounts
def documented_accounts() -> list[BookingAccount]:
    with served(("GET", "/ReceiptGuidance/forRevenue", "receipt-guidance-revenue")) as c:
        return c.revenue_accounts()


def test_receipt_guidance_for_revenue() -> None:
    [account] = documented_accounts()
    assert (account.datev_id, account.number, account.name) == (0, "4000", "Umsatzerlöse")
    assert account.rules == (
        TaxRuleOption(
            id=1, code="USTPFL_UMS_EINN", rates=frozenset({Decimal(0), Decimal(7), Decimal(19)})
        ),
    )
    assert account.allows(1, Decimal(19)) and not account.allows(11, Decimal(0))


class _Context:
    """What match_accounts asks of a space's context: its revenue accounts."""

    def __init__(self, accounts: list[BookingAccount]) -> None:
        self.accounts = accounts

    def revenue_accounts(self, *, refresh: bool = False) -> list[BookingAccount]:
        return self.accounts


def test_documented_revenue_account_books_a_cobot_line_named_like_it() -> None:
    cobot = recorded("cobot", "api2-invoice").body
    invoice = parse_invoice(Reader(cobot, "Cobot").field("data"))
    # The documented Cobot line, with the accounting code naming the documented account.
    line = dataclasses.replace(invoice.lines[0], accounting_code="4000")
    invoice = dataclasses.replace(invoice, lines=(line,))
    context: Any = _Context(documented_accounts())
    [account] = planning.match_accounts(context, invoice)
    assert account.number == "4000"
