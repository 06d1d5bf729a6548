"""CobotClient against the Cobot sandbox over real HTTP: API 1 (www and per space),
API 2 with paging, PDFs, activities, the error classes and the rate limit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.errors import (
    AuthorizationError,
    Forbidden,
    NotFound,
    PayloadError,
    PermanentError,
    RateLimited,
    TransientError,
)
from cobot_sevdesk.sandbox.control import Sandboxes


@pytest.fixture
def cobot(sandboxes: Sandboxes) -> dict[str, str]:
    c = sandboxes.cobot
    admin = c.add_user("admin@co-up.example", "Ada Admin")
    space = c.add_space("co-up", "co.up", [admin["id"]])
    c.add_space("elsewhere", "Elsewhere", [])
    token = c.add_token(admin["id"])
    return {
        "admin": admin["id"],
        "token": token,
        "api2_id": space["api2_id"],
        "api1_id": space["api1_id"],
    }


def urls(sandboxes: Sandboxes) -> CobotUrls:
    c = sandboxes.cobot
    return CobotUrls(c.base_url, c.space_url_template, c.api2_url)


def test_user_lists_admin_spaces_in_api1_and_api2(
    sandboxes: Sandboxes, cobot: dict[str, str]
) -> None:
    client = CobotClient(cobot["token"], urls=urls(sandboxes))
    user = client.get_user()
    assert user.id == cobot["admin"]
    assert [(s.subdomain, s.name) for s in user.admin_of] == [("co-up", "co.up")]
    [space] = client.get_admin_spaces_api2()
    assert (space.id, space.subdomain, space.country_code) == (cobot["api2_id"], "co-up", "DE")
    [logged] = sandboxes.cobot.requests(path="^/api/user$")
    assert logged["headers"]["authorization"] == f"Bearer {cobot['token']}"


def test_space_bound_token_only_sees_its_space(sandboxes: Sandboxes, cobot: dict[str, str]) -> None:
    client = CobotClient(cobot["token"], urls=urls(sandboxes))
    info = client.get_space_info("co-up")
    assert info.id == cobot["api1_id"]
    bound = client.bind_token_to_space(info.id)
    assert bound != cobot["token"]
    bound_client = CobotClient(bound, subdomain="co-up", urls=urls(sandboxes))
    assert bound_client.list_accounting_codes() == []
    with pytest.raises(Forbidden) as err:
        CobotClient(bound, subdomain="elsewhere", urls=urls(sandboxes)).list_accounting_codes()
    assert err.value.status == 403
    assert "does not allow this add-on to read the accounting codes" in str(err.value.admin_message)


def test_membership_read_and_customer_number_write_back(
    sandboxes: Sandboxes, cobot: dict[str, str]
) -> None:
    member = sandboxes.cobot.add_member(
        "co-up",
        "Jane Doe",
        company="ACME GmbH",
        street="Hauptstr. 1",
        post_code="10115",
        city="Berlin",
        country="Germany",
        billing_emails=["billing@acme.example"],
        customer_number="C-7",
    )
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    got = client.get_membership(member["id"])
    assert (got.name, got.address.company, got.address.city, got.customer_number) == (
        "Jane Doe",
        "ACME GmbH",
        "Berlin",
        "C-7",
    )
    assert got.billing_emails == ("billing@acme.example",)
    assert got.confirmed_at == dt.datetime.now(tz=dt.UTC).date()
    client.set_customer_number(member["id"], "1000")
    assert client.get_membership(member["id"]).customer_number == "1000"
    assert [m.id for m in client.list_memberships()] == [member["id"]]


def test_invoice_in_api2_shape_with_pdf(sandboxes: Sandboxes, cobot: dict[str, str]) -> None:
    member = sandboxes.cobot.add_member("co-up", "Jane Doe", customer_number="1000")
    created = sandboxes.cobot.add_invoice(
        "co-up",
        [
            {
                "description": "Fix desk",
                "quantity": "1",
                "unit_net": "250.00",
                "tax_rate": "19",
                "accounting_code": "Desks",
            },
            {
                "description": "Coffee",
                "quantity": "3",
                "unit_net": "1.99",
                "tax_rate": "7",
                "accounting_code": "Food",
            },
        ],
        membership_id=member["id"],
        invoice_date="2026-03-01",
    )
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    invoice = client.get_invoice(created["id"])
    assert invoice.number == created["attributes"]["number"]
    assert invoice.invoice_date == dt.date(2026, 3, 1)
    assert invoice.customer_number == "1000"
    assert (invoice.debitor_type, invoice.debitor_id) == ("memberships", member["id"])
    assert [line.accounting_code for line in invoice.lines] == ["Desks", "Food"]
    assert invoice.lines[1].total.net == Decimal("5.97")
    assert invoice.lines[1].total.rate == Decimal(7)
    assert invoice.total.gross == Decimal("303.89")
    assert invoice.pdf_url
    pdf = client.download_pdf(invoice.pdf_url)
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    # The download carried no API token.
    [download] = sandboxes.cobot.requests(path=r"\.pdf$")
    assert "authorization" not in download["headers"]


def test_expired_pdf_link_is_refused(sandboxes: Sandboxes, cobot: dict[str, str]) -> None:
    sandboxes.cobot.configure_webhooks(pdf_lifetime=-1)
    created = sandboxes.cobot.add_invoice(
        "co-up", [{"description": "x", "quantity": "1", "unit_net": "1", "tax_rate": "19"}]
    )
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    invoice = client.get_invoice(created["id"])
    assert invoice.pdf_url
    # Not the token's fault: a transient error, so a new attempt fetches a fresh link.
    with pytest.raises(TransientError, match="PDF link expired"):
        client.download_pdf(invoice.pdf_url)


def test_invoice_list_pages_lazily(sandboxes: Sandboxes, cobot: dict[str, str]) -> None:
    for day in range(1, 8):
        sandboxes.cobot.add_invoice(
            "co-up",
            [{"description": "d", "quantity": "1", "unit_net": "10", "tax_rate": "19"}],
            invoice_date=f"2026-01-{day:02d}",
        )
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    invoices = list(
        client.iter_invoices(cobot["api2_id"], dt.date(2026, 1, 2), dt.date(2026, 1, 6), size=2)
    )
    assert [i.invoice_date.day for i in invoices] == [2, 3, 4, 5, 6]
    pages = sandboxes.cobot.requests(path="/api2/spaces/.*/invoices")
    assert [p["query"]["page[number]"] for p in pages] == [["1"], ["2"], ["3"]]


def test_unknown_invoice_is_not_found(sandboxes: Sandboxes, cobot: dict[str, str]) -> None:
    with pytest.raises(NotFound):
        CobotClient(cobot["token"], urls=urls(sandboxes)).get_invoice("nope")


def test_subscriptions_create_list_delete_and_conflict(
    sandboxes: Sandboxes, cobot: dict[str, str]
) -> None:
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    sub = client.create_subscription(
        "created_invoice", "https://addon.example/hooks/s3cret/created_invoice/"
    )
    assert sub.active
    with pytest.raises(PermanentError) as err:
        client.create_subscription(
            "created_invoice", "https://addon.example/hooks/s3cret/created_invoice/"
        )
    assert err.value.status == 409
    with pytest.raises(PermanentError) as err:
        client.create_subscription("no_such_event", "https://addon.example/x")
    assert err.value.status == 422
    assert "event" in err.value.service_message
    assert [s.id for s in client.list_subscriptions()] == [sub.id]
    client.delete_subscription(sub)
    assert client.list_subscriptions() == []


def test_activity_is_posted_to_the_admin_channel(
    sandboxes: Sandboxes, cobot: dict[str, str]
) -> None:
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    assert client.post_activity("hello <b>admins</b>", level="WARN")
    [activity] = sandboxes.cobot.space("co-up")["activities"]
    assert activity["attributes"]["text"] == "hello <b>admins</b>"
    assert (activity["level"], activity["channels"]) == ("WARN", ["admin"])


def test_revoked_token_is_an_authorization_error(
    sandboxes: Sandboxes, cobot: dict[str, str]
) -> None:
    sandboxes.cobot.revoke_token(cobot["token"])
    with pytest.raises(AuthorizationError) as err:
        CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes)).list_accounting_codes()
    assert err.value.status == 401


def test_rate_limit_answers_429_with_retry_after(
    sandboxes: Sandboxes, cobot: dict[str, str]
) -> None:
    sandboxes.cobot.rate_limit(3)
    client = CobotClient(cobot["token"], subdomain="co-up", urls=urls(sandboxes))
    for _ in range(3):
        client.list_accounting_codes()
    with pytest.raises(RateLimited) as err:
        client.list_accounting_codes()
    assert err.value.retry_after is not None
    assert 1 <= err.value.retry_after <= 60


def test_malformed_invoice_names_the_field(sandboxes: Sandboxes, cobot: dict[str, str]) -> None:
    created = sandboxes.cobot.add_invoice(
        "co-up", [{"description": "x", "quantity": "1", "unit_net": "1", "tax_rate": "19"}]
    )
    bad = {
        "data": {
            "id": created["id"],
            "type": "invoices",
            "attributes": {
                **created["attributes"],
                "totalAmount": {"net": "1.00", "currency": "EUR"},
            },
        }
    }
    sandboxes.cobot.fault("/api2/invoices/", status=200, body=bad)
    with pytest.raises(PayloadError) as err:
        CobotClient(cobot["token"], urls=urls(sandboxes)).get_invoice(created["id"])
    assert err.value.field == "data.attributes.totalAmount.gross"
