"""Every request our clients send and every sandbox answer they rely on, validated
against the official OpenAPI documents (and ours for what they lack)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest
import requests

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sevdesk.client import SevdeskClient
from tests.world import make_world

from .checker import ContractChecker, Exchange, recording

TOKEN = "c" * 32


def tour(sandboxes: Sandboxes) -> None:
    """Use every client call the product makes."""
    c, s = sandboxes.cobot, sandboxes.sevdesk
    admin = c.add_user("admin@example.org", "Ada")
    space = c.add_space("co-up", "co.up", [admin["id"]])
    member = c.add_member(
        "co-up",
        "Jane Doe",
        company="ACME GmbH",
        street="Hauptstr. 1",
        post_code="10115",
        city="Berlin",
        country="Germany",
        billing_emails=["billing@acme.example"],
    )
    c.add_accounting_code("co-up", "Desks", "19.0")
    invoice = c.add_invoice(
        "co-up",
        [
            {
                "description": "Desk",
                "quantity": "1.5",
                "unit_net": "100",
                "tax_rate": "19",
                "accounting_code": "Desks",
            },
            {
                "description": "Credit",
                "quantity": "1",
                "unit_net": "-10",
                "tax_rate": "19",
                "accounting_code": "Desks",
            },
        ],
        membership_id=member["id"],
        invoice_date="2026-03-01",
    )
    urls = CobotUrls(c.base_url, c.space_url_template, c.api2_url)
    user_token = c.add_token(admin["id"], client_id="addon")
    cobot = CobotClient(user_token, urls=urls)
    cobot.get_user()
    cobot.get_admin_spaces_api2()
    bound = cobot.bind_token_to_space(cobot.get_space_info("co-up").id)
    space_client = CobotClient(bound, subdomain="co-up", urls=urls)
    space_client.get_membership(member["id"])
    space_client.list_memberships()
    space_client.set_customer_number(member["id"], "1000")
    space_client.list_accounting_codes()
    sub = space_client.create_subscription(
        "created_invoice", "https://addon.example/hooks/x/created_invoice/"
    )
    space_client.list_subscriptions()
    space_client.delete_subscription(sub)
    space_client.post_activity("Contact created", level="WARN")
    got = space_client.get_invoice(invoice["id"])
    assert got.pdf_url
    space_client.download_pdf(got.pdf_url)
    list(
        space_client.iter_invoices(
            space["api2_id"], dt.date(2026, 1, 1), dt.date(2026, 12, 31), size=1
        )
    )
    space_client.add_payment_record(
        invoice["id"], Decimal("50.00"), dt.date(2026, 3, 5), "sevDesk: receipt 1 paid."
    )
    c.pay_invoice("co-up", invoice["id"], charge=True)  # paid in full: paidDate set
    space_client.list_payment_records([invoice["id"]])
    assert space_client.get_invoice(invoice["id"]).paid_date is not None

    s.add_account(TOKEN, cost_centres=[{"number": "100", "name": "Coworking"}])
    sev = SevdeskClient(TOKEN, base_url=s.base_url)
    sev.bookkeeping_version()
    number = sev.next_customer_number()
    sev.customer_number_available(number)
    sev.find_contacts_by_customer_number(number)
    contact = sev.create_contact(
        {
            "name": "ACME GmbH",
            "customerNumber": number,
            "status": 1000,
            "category": {"id": 3, "objectName": "Category"},
        }
    )
    sev.get_contact(contact.id)
    countries = sev.countries()
    sev.create_contact_address(
        {
            "contact": {"id": contact.id, "objectName": "Contact"},
            "street": "Hauptstr. 1",
            "zip": "10115",
            "city": "Berlin",
            "country": {"id": countries[0].id, "objectName": "StaticCountry"},
            "category": {"id": 47, "objectName": "Category"},
        }
    )
    sev.list_contact_addresses(contact.id)
    sev.create_communication_way(
        {
            "contact": {"id": contact.id, "objectName": "Contact"},
            "type": "EMAIL",
            "value": "billing@acme.example",
            "key": {"id": 8, "objectName": "CommunicationWayKey"},
            "main": True,
        }
    )
    sev.list_communication_ways(contact.id)
    accounts = sev.revenue_accounts()
    sev.accounting_types()
    centres = sev.cost_centres()
    filename = sev.upload_temp_file("2026-0001.pdf", b"%PDF-1.4 x")
    account = next(a for a in accounts if a.number == "4400")
    voucher = sev.save_voucher(
        {
            "voucher": {
                "objectName": "Voucher",
                "mapAll": True,
                "voucherType": "VOU",
                "creditDebit": "D",
                "status": 100,
                "voucherDate": "01.03.2026",
                "deliveryDate": "01.03.2026",
                "paymentDeadline": "15.03.2026",
                "supplier": {"id": contact.id, "objectName": "Contact"},
                "description": "2026-0001",
                "taxRule": {"id": 1, "objectName": "TaxRule"},
                "currency": "EUR",
                "costCentre": {"id": centres[0].id, "objectName": "CostCentre"},
            },
            "voucherPosSave": [
                {
                    "objectName": "VoucherPos",
                    "mapAll": True,
                    "accountDatev": {"id": account.datev_id, "objectName": "AccountDatev"},
                    "taxRate": Decimal(19),
                    "net": False,
                    "sumNet": Decimal("150.00"),
                    "sumGross": Decimal("178.50"),
                    "comment": "Desk",
                }
            ],
            "voucherPosDelete": None,
            "filename": filename,
        }
    )
    sev.find_vouchers_by_description("2026-0001")
    sev.find_vouchers_by_description("2026-0001", "C")
    sev.get_voucher(voucher.id)
    sev.voucher_positions(voucher.id)
    sev.tag_voucher(voucher.id, "Mismatch")
    # The books check's reads: vouchers by date, all positions counted and paged.
    assert [v.id for v in sev.vouchers_dated(dt.date(2026, 3, 1), dt.date(2026, 3, 2))] == [
        voucher.id
    ]
    assert sev.count_voucher_positions() == 1
    assert [p.voucher_id for p in sev.all_voucher_positions()] == [voucher.id]
    # Payments: accounts, bank lines, a booking, and the receipt paid.
    clearing = sev.create_clearing_account("Cobot payments", 1460)
    bank = s.add_bank_account(TOKEN, "Sparkasse", "1801")
    s.import_bank_line(TOKEN, bank, "78.50", "RE 2026-0001", value_date="2026-03-05")
    sev.check_accounts()
    [line] = sev.bank_lines(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    sev.book_voucher(
        voucher.id,
        Decimal("100.00"),
        day=dt.date(2026, 3, 5),
        kind="N",
        check_account_id=clearing.id,
    )
    sev.book_voucher(
        voucher.id,
        Decimal("78.50"),
        day=dt.date(2026, 3, 5),
        kind="FULL_PAYMENT",
        check_account_id=bank,
        bank_line_id=line.id,
    )
    assert sev.get_voucher(voucher.id).paid_amount == Decimal("178.50")
    list(sev.vouchers_updated_since(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))


@pytest.fixture
def checker(sandboxes: Sandboxes) -> ContractChecker:
    return ContractChecker(sandboxes.cobot.base_url, sandboxes.sevdesk.base_url)


def test_every_exchange_of_the_tour_matches_the_specs(
    sandboxes: Sandboxes, checker: ContractChecker
) -> None:
    with recording() as exchanges:
        tour(sandboxes)
    checked = [e for e in exchanges if checker.route(e.request.url or "")]
    docs = {checker.route(e.request.url or "")[0] for e in checked}  # type: ignore[index]
    assert docs == {"sevdesk", "sevdesk-extra", "cobot-api1", "cobot-api2"}
    assert len(checked) >= 45
    problems = [p for e in checked for p in checker.check(e)]
    assert problems == [], "\n".join(str(p) for p in problems)


def _mutated(
    exchange: Exchange,
    change: dict[str, object] | None = None,
    path: tuple[str, ...] = (),
    drop: str | None = None,
) -> Exchange:
    body = json.loads(exchange.response.content)
    target = body
    for key in path:
        target = target[key]
    if drop:
        del target[drop]
    target.update(change or {})
    response = copy.copy(exchange.response)
    response._content = json.dumps(body).encode()
    return Exchange(exchange.request, response)


@pytest.mark.django_db
def test_what_the_sync_sends_matches_both_descriptions(
    sandboxes: Sandboxes, checker: ContractChecker
) -> None:
    """The requests the product really makes (built by its mapping, not by hand):
    a member, a multi-rate invoice, a walk-in's Mismatch receipt and a correction
    booked as a credit receipt, held to the official and the community description."""
    world = make_world(sandboxes)
    with recording() as exchanges:
        member = world.member("Jane Doe", company="ACME GmbH", city="Berlin", email="j@x.org")
        world.run(world.receive_member(member))
        lines = [
            invoice_line("Desk", "250.00", "19", "Desks"),
            invoice_line("Prints", "0.33", "19", "Desks", quantity="3"),
            invoice_line("Coffee", "1.87", "7", "Food"),
        ]
        original = world.invoice(lines, membership_id=member["id"])
        world.run(world.receive_invoice(original))
        world.run(world.receive_invoice(world.invoice(customer_number="999")))
        refund = [invoice_line("Desk (refund)", "-250.00", "19", "Desks")]
        correction = world.invoice(
            refund, membership_id=member["id"], corrected_invoice=original["id"]
        )
        world.run(world.receive_invoice(correction))
    sent = [
        e
        for e in exchanges
        if e.request.method == "POST" and "saveVoucher" in (e.request.url or "")
    ]
    assert [json.loads(e.request.body or b"{}")["voucher"]["creditDebit"] for e in sent] == [
        "D",
        "D",
        "C",
    ]
    checked = [e for e in exchanges if checker.route(e.request.url or "")]
    problems = [p for e in checked for p in checker.check(e)]
    assert problems == [], "\n".join(str(p) for p in problems)


def test_a_wrong_shape_is_caught(sandboxes: Sandboxes, checker: ContractChecker) -> None:
    with recording() as exchanges:
        tour(sandboxes)

    def find(fragment: str, method: str = "GET") -> Exchange:
        return next(
            e
            for e in exchanges
            if e.request.method == method
            and fragment in (e.request.url or "")
            and e.response.status_code < 400
        )

    invoice = find("/api2/invoices/")
    assert checker.check(invoice) == []
    # sevDesk sums are strings; a number is a contract break.
    voucher = find("/Voucher/Factory/saveVoucher", "POST")
    broken = _mutated(voucher, {"sumGross": 178.5}, ("objects", "voucher"))
    assert any("sumGross" in p.message for p in checker.check(broken))
    # Cobot API 2 invoices must have a number.
    broken = _mutated(invoice, path=("data", "attributes"), drop="number")
    assert any("number" in p.message for p in checker.check(broken))
    # API 1 (our own document): activity responses need their attributes.
    activity = find("/api/activities", "POST")
    broken = _mutated(activity, drop="attributes")
    assert any("attributes" in p.message for p in checker.check(broken))
    # A request the spec does not allow is caught too: a bad tax rule object.
    bad_request = voucher.request.copy()
    bad_request.body = json.dumps(
        {
            "voucher": {"objectName": "Voucher", "mapAll": True, "status": "open"},
            "voucherPosSave": [],
        }
    ).encode()
    assert any(
        "status" in p.message for p in checker.check(Exchange(bad_request, voucher.response))
    )


def test_the_allowed_exceptions_are_needed(sandboxes: Sandboxes, checker: ContractChecker) -> None:
    """Each documented exception must still be hit; a stale one is removed, not kept."""
    from . import checker as checker_module

    with recording() as exchanges:
        tour(sandboxes)
    saved = checker_module.ALLOWED
    try:
        for allowed in saved:
            checker_module.ALLOWED = [a for a in saved if a is not allowed]
            problems = [p for e in exchanges for p in checker.check(e)]
            assert problems, f"exception no longer needed: {allowed.reason}"
    finally:
        checker_module.ALLOWED = saved


def test_unrouted_urls_are_not_checked(checker: ContractChecker) -> None:
    request = requests.Request("GET", "http://elsewhere.example/x").prepare()
    assert checker.route(request.url or "") is None
