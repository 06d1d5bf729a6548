"""Cobot's own documented payloads (fixtures/, each with its source) through our real
client: HTTP, JSON with exact decimals, the parsers, and the webhook intake.

The sandbox tests show that we read what our sandbox writes; these show that we read
what Cobot documents. Where a documented example does not work with our code, the test
says what we want and is marked ``xfail(strict=True)`` with the reason: a known bug.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.events import resource_of
from cobot_sevdesk.cobot.models import AdminSpace, Api2Space, Invoice
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sync.rules import mapping
from tests.contracts.checker import ContractChecker, recording
from tests.payloads import Recorded, recorded, serving

SUBDOMAIN = "co-up"


def fixture(name: str) -> Recorded:
    return recorded("cobot", name)


#: fixture -> (method, route on the fixture server, the client call that reads it).
#: The server lays out Cobot like the sandbox: www at /, a space's API 1 under
#: /space/<subdomain>, API 2 under /api2.
CALLS: dict[str, tuple[str, str, Callable[[CobotClient], Any]]] = {
    "api2-invoice": ("GET", "/api2/invoices/<id>", lambda c: c.get_invoice("14c12f62")),
    "api2-space-invoices": (
        "GET",
        "/api2/spaces/<id>/invoices",
        lambda c: c.list_invoices_page("e0c19a71", dt.date(2019, 1, 1), dt.date(2019, 1, 31)),
    ),
    "api2-user-admin-of": ("GET", "/api2/user", lambda c: c.get_admin_spaces_api2()),
    "api1-user": ("GET", "/api/user", lambda c: c.get_user()),
    "api1-membership": (
        "GET",
        f"/space/{SUBDOMAIN}/api/memberships/<id>",
        lambda c: c.get_membership("0c4f"),
    ),
    "api1-membership-docs-address": (
        "GET",
        f"/space/{SUBDOMAIN}/api/memberships/<id>",
        lambda c: c.get_membership("0c4f"),
    ),
    "api1-accounting-codes": (
        "GET",
        f"/space/{SUBDOMAIN}/api/accounting_codes",
        lambda c: c.list_accounting_codes(),
    ),
    "api1-subscription": (
        "POST",
        f"/space/{SUBDOMAIN}/api/subscriptions",
        lambda c: c.create_subscription(
            "confirmed_membership", "https://addon.example/hooks/s3cret/confirmed_membership/"
        ),
    ),
    "api1-activity": (
        "POST",
        f"/space/{SUBDOMAIN}/api/activities",
        lambda c: c.post_activity("trial text", level="ERROR"),
    ),
}


@contextmanager
def served(*names: str) -> Iterator[tuple[CobotClient, str]]:
    """A space-bound client whose Cobot answers with the named fixtures."""
    routes = [(CALLS[n][0], CALLS[n][1], fixture(n)) for n in names]
    with serving(*routes) as server:
        urls = CobotUrls(server.url, f"{server.url}/space/{{subdomain}}", f"{server.url}/api2")
        yield CobotClient("documented-token", subdomain=SUBDOMAIN, urls=urls), server.url


def read(name: str) -> Any:
    with served(name) as (client, _):
        return CALLS[name][2](client)


# ----------------------------------------------------------------- API 2
def assert_documented_invoice(invoice: Invoice) -> None:
    """The fields of the example in ``get-invoice`` that the sync uses."""
    assert invoice.id == "14c12f62ac8df98d29de357180d673e1"
    assert invoice.number == "CW-2019-100"
    assert (invoice.invoice_date, invoice.due_date) == (dt.date(2019, 1, 10), dt.date(2019, 1, 10))
    assert (invoice.customer_number, invoice.tax_id) == ("100", "DE12345")
    recipient = invoice.recipient
    assert (recipient.name, recipient.company) == ("Jane Smith", "Acme Inc.")
    assert (recipient.street, recipient.post_code, recipient.city) == (
        "2 Coworking Road",
        "88888",
        "Big City",
    )
    assert (recipient.state, recipient.country_code) == ("Coworking State", "US")
    assert invoice.recipient_name == "Acme Inc."
    [line] = invoice.lines
    assert (line.description, line.quantity) == ("2h meeting room", Decimal("2.0"))
    assert (line.accounting_code, line.cost_center) == ("MTR-200", "MTR-200")
    assert (line.unit.net, line.unit.gross, line.unit.currency) == (
        Decimal("20.0"),
        Decimal("22.0"),
        "EUR",
    )
    assert (line.unit.rate, line.unit.taxes[0].amount) == (Decimal("10.0"), Decimal("2.0"))
    assert (line.total.net, line.total.gross, line.total.rate) == (
        Decimal("40.0"),
        Decimal("44.0"),
        Decimal("10.0"),
    )
    assert (invoice.total.net, invoice.total.gross, invoice.currency) == (
        Decimal("40.0"),
        Decimal("44.0"),
        "EUR",
    )
    assert invoice.total.taxes[0].amount == Decimal("4.0")
    assert invoice.pdf_url == (
        "https://api.cobot.me/invoices/14c12f62ac8df98d29de357180d673e1.pdf?token=34976"
    )
    assert invoice.paid_status == "unpaid"
    assert (invoice.debitor_type, invoice.debitor_id) == (
        "memberships",
        "c9a99a71ac8df98d29de357180d273d3",
    )
    assert invoice.corrected_invoice_id is None


def test_api2_invoice() -> None:
    assert_documented_invoice(read("api2-invoice"))


def test_api2_invoice_list_page() -> None:
    page = read("api2-space-invoices")
    # The example has no `meta` or `links`: one page, nothing after it.
    assert (page.page, page.total_pages, page.has_next) == (1, 1, False)
    [invoice] = page.invoices
    assert_documented_invoice(invoice)


def test_api2_invoice_list_is_iterated_to_its_end() -> None:
    with served("api2-space-invoices") as (client, _):
        invoices = list(client.iter_invoices("e0c19a71", dt.date(2019, 1, 1), dt.date(2019, 1, 31)))
    assert [i.number for i in invoices] == ["CW-2019-100"]


def test_api2_user_admin_spaces() -> None:
    [space] = read("api2-user-admin-of")
    assert space == Api2Space(
        id="99da6cb66b5e6b39007690854fd66df9", subdomain="co-up", name="co.up", country_code="DE"
    )


# ----------------------------------------------------------------- API 1
def test_api1_user_admin_of() -> None:
    user = read("api1-user")
    assert (user.id, user.email) == ("user-abc", "admin@example.org")
    assert user.admin_of == (AdminSpace(subdomain="some-space", name="Some Space"),)


def test_api1_membership() -> None:
    member = read("api1-membership")
    assert (member.id, member.name, member.email, member.phone) == (
        "0c4f…",
        "Jane Doe",
        "jane@example.org",
        "+49 …",
    )
    address = member.address
    assert (address.company, address.name) == ("ACME GmbH", "Jane Doe")
    assert (address.street, address.post_code, address.city, address.state) == (
        "Street 1",
        "12345",
        "Berlin",
        None,
    )
    assert (address.country, address.country_code) == ("Germany", None)
    assert member.billing_emails == ("billing@acme.example",)
    assert member.customer_number == "10000"
    assert member.confirmed_at == dt.date(2015, 1, 1)
    assert mapping.has_postal_address(address)


def test_api1_membership_list() -> None:
    body = fixture("api1-membership")
    listed = Recorded(body.path, body.source, 200, body.content_type, [body.body])
    with serving(("GET", f"/space/{SUBDOMAIN}/api/memberships", listed)) as server:
        urls = CobotUrls(server.url, f"{server.url}/space/{{subdomain}}", f"{server.url}/api2")
        [member] = CobotClient("t", subdomain=SUBDOMAIN, urls=urls).list_memberships()
    assert (member.id, member.customer_number) == ("0c4f…", "10000")


def test_api1_membership_with_the_documented_address_only() -> None:
    member = read("api1-membership-docs-address")
    assert (member.address.company, member.address.country) == ("ACME GmbH", "Germany")
    assert (member.address.street, member.address.post_code, member.address.city) == (
        "Street 1",
        "12345",
        "Berlin",
    )
    assert mapping.has_postal_address(member.address)
    assert (member.address.street, member.address.post_code, member.address.city) == (
        "Street 1",
        "12345",
        "Berlin",
    )


def test_api1_accounting_codes() -> None:
    codes = read("api1-accounting-codes")
    assert [(c.name, c.tax_rate) for c in codes] == [("ABC", Decimal("10.5")), ("ABC-0", None)]


def test_api1_subscription() -> None:
    subscription = read("api1-subscription")
    assert (subscription.id, subscription.event, subscription.active) == (
        "12345",
        "confirmed_membership",
        True,
    )
    assert subscription.url == "https://co-up.cobot.me/api/subscriptions/12345"
    assert subscription.callback_url == "https://addon.example/hooks/s3cret/confirmed_membership/"


def test_api1_activity_is_accepted() -> None:
    assert read("api1-activity") is True


# ----------------------------------------------------------------- the descriptions
@pytest.mark.parametrize("name", list(CALLS))
def test_documented_example_satisfies_the_description_we_test_against(name: str) -> None:
    """API 2 examples against Cobot's spec, API 1 examples against our own API 1 document
    (which holds the sandbox): a document stricter than Cobot's examples is a bug."""
    with served(name) as (client, url), recording() as exchanges:
        CALLS[name][2](client)
    checker = ContractChecker(url, "http://sevdesk.invalid")
    problems = [p for e in exchanges for p in checker.check(e)]
    assert problems == [], "\n".join(str(p) for p in problems)


# ----------------------------------------------------------------- webhooks
PRODUCTION = CobotUrls(
    "https://www.cobot.me", "https://{subdomain}.cobot.me", "https://api.cobot.me"
)


@pytest.mark.parametrize(
    ("name", "subdomain", "expected"),
    [
        ("webhook-membership", "co-up", (LedgerItem.Kind.MEMBER, "93207605")),
        ("webhook-invoice", "try", (LedgerItem.Kind.INVOICE, "12345")),
    ],
)
def test_webhook_url_points_into_the_space(
    name: str, subdomain: str, expected: tuple[str, str]
) -> None:
    assert resource_of(fixture(name).body["url"], PRODUCTION.space(subdomain)) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "subdomain", "event", "expected"),
    [
        ("webhook-membership", "co-up", "confirmed_membership", ("member", "93207605")),
        ("webhook-invoice", "try", "created_invoice", ("invoice", "12345")),
    ],
)
def test_webhook_body_is_recorded(
    name: str, subdomain: str, event: str, expected: tuple[str, str], settings: Any
) -> None:
    """The body exactly as Cobot posts it, through the real webhook view."""
    settings.COBOT_URL, settings.COBOT_SPACE_URL, settings.COBOT_API2_URL = (
        PRODUCTION.www,
        PRODUCTION.space_template,
        PRODUCTION.api2,
    )
    space = Space(subdomain=subdomain, name=subdomain, cobot_space_id="x")
    space.save()
    response = Client().post(
        f"/hooks/{space.webhook_secret}/{event}/",
        fixture(name).content(),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    item = LedgerItem.objects.get(pk=response.json()["item"])
    assert (item.kind, item.cobot_id) == expected
