"""The payment settings (their own fieldset on the settings page) and payments on the
dashboard and item pages, through the real login and the sandboxes."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client

from cobot_sevdesk.ledger.models import LedgerItem, Payment, PaymentSettings, Space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.web.test_pages import connected_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def sevdesk_token(sandboxes: Sandboxes) -> str:
    token = secrets.token_hex(16)
    sandboxes.sevdesk.add_account(token, booking_accounts=[{"name": "Desks", "like": "4400"}])
    return token


@pytest.fixture
def client(oauth: Sandboxes, sevdesk_token: str) -> Client:
    return connected_admin(oauth, sevdesk_token)


def post(client: Client, **fields: str) -> object:
    data = {"check_account": "", "new_account_name": "Cobot", "new_account_number": "", **fields}
    return client.post("/s/co-up/payments/", data)


def test_both_switches_are_off_and_explained(client: Client) -> None:
    page = client.get("/s/co-up/settings/").content.decode()
    assert 'id="payment-settings"' in page
    assert "Book payments made in Cobot in sevDesk" in page
    assert "Mark invoices paid in Cobot when sevDesk shows the receipt as paid" in page
    assert "stops reminding the member" in page and "clearing account" in page
    assert "Geschäftskonto (1800)" in page  # sevDesk's base account can be chosen
    setup = PaymentSettings.of(Space.objects.get(subdomain="co-up"))
    assert not setup.enabled and setup.pk is None


def test_a_clearing_account_is_created_on_request(
    client: Client, oauth: Sandboxes, sevdesk_token: str
) -> None:
    missing = post(client, book_cobot_payments="on", check_account="new")
    assert missing.status_code == 400  # type: ignore[attr-defined]
    assert "Enter the booking account number" in missing.content.decode()  # type: ignore[attr-defined]
    saved = post(
        client,
        book_cobot_payments="on",
        check_account="new",
        new_account_name="Cobot payments",
        new_account_number="1460",
        mark_paid_in_cobot="on",
    )
    assert saved.status_code == 302  # type: ignore[attr-defined]
    [created] = [
        a
        for a in oauth.sevdesk.state(sevdesk_token)["checkAccounts"]
        if a["name"] == "Cobot payments"
    ]
    assert created["accountingNumber"] == "1460" and created["type"] == "offline"
    setup = PaymentSettings.of(Space.objects.get(subdomain="co-up"))
    assert setup.book_cobot_payments and setup.mark_paid_in_cobot
    assert setup.check_account_id == int(created["id"]) and setup.check_due_at is not None
    # sevDesk refuses a number that is taken: said in the form.
    again = post(client, book_cobot_payments="on", check_account="new", new_account_number="1460")
    assert "sevDesk did not create the account" in again.content.decode()  # type: ignore[attr-defined]
    # The settings page shows the choice.
    page = client.get("/s/co-up/settings/").content.decode()
    assert f'<option value="{created["id"]}" selected>Cobot payments (1460)</option>' in page


def test_an_account_must_be_chosen_to_book(client: Client) -> None:
    response = post(client, book_cobot_payments="on")
    assert "Choose the sevDesk account" in response.content.decode()  # type: ignore[attr-defined]
    assert post(client, mark_paid_in_cobot="on").status_code == 302  # type: ignore[attr-defined]
    setup = PaymentSettings.of(Space.objects.get(subdomain="co-up"))
    assert setup.mark_paid_in_cobot and not setup.book_cobot_payments


def test_payments_on_the_dashboard_and_the_pages(client: Client, oauth: Sandboxes) -> None:
    base = next(
        a for a in oauth.sevdesk.state(_token())["checkAccounts"] if a["baseAccount"] == "1"
    )
    post(client, book_cobot_payments="on", check_account=base["id"], mark_paid_in_cobot="on")
    space = Space.objects.get(subdomain="co-up")
    invoice = oauth.cobot.add_invoice(
        "co-up", [invoice_line("Desk", "100", "19", "Desks")], customer_number="K-9"
    )
    from tests.world import World

    world = World(oauth, space, "co-up", _token(), space.cobot_token, "")
    world.receive_invoice(invoice)
    world.drain()
    oauth.cobot.pay_invoice("co-up", invoice["id"], amount="50.00", paid_at="2026-03-05")
    world.receive_invoice(invoice, event="updated_invoice")
    world.drain()
    [payment] = Payment.objects.all()
    assert payment.how == "account"
    dashboard = client.get("/s/co-up/").content.decode()
    assert 'data-kind="payment"' in dashboard
    assert 'data-cobot="partly" data-sevdesk="partly"' in dashboard
    assert "partly paid on both sides" in dashboard
    assert "Payments checked" in dashboard
    only = client.get("/s/co-up/?kind=payment").content.decode()
    assert only.count('data-kind="payment"') == 1 and 'data-kind="invoice"' not in only
    invoice_page = client.get(f"/s/co-up/items/{payment.invoice.pk}/").content.decode()
    assert 'id="payments"' in invoice_page and "50.00 EUR" in invoice_page
    assert "Paid in Cobot" in invoice_page and "booked in sevDesk" in invoice_page
    payment_page = client.get(f"/s/co-up/items/{payment.item.pk}/").content.decode()
    assert "Payment on invoice" in payment_page and 'id="payment"' in payment_page
    assert str(base["id"]) in payment_page


def test_a_held_payment_is_handled_from_its_page(client: Client, oauth: Sandboxes) -> None:
    base = next(
        a for a in oauth.sevdesk.state(_token())["checkAccounts"] if a["baseAccount"] == "1"
    )
    post(client, book_cobot_payments="on", check_account=base["id"])
    space = Space.objects.get(subdomain="co-up")
    invoice = oauth.cobot.add_invoice("co-up", [invoice_line("Desk", "100", "19", "Desks")])
    from tests.world import World

    world = World(oauth, space, "co-up", _token(), space.cobot_token, "")
    world.receive_invoice(invoice)
    world.drain()
    oauth.cobot.pay_invoice("co-up", invoice["id"], amount="500.00")  # overpaid
    world.receive_invoice(invoice, event="updated_invoice")
    world.drain()
    [payment] = Payment.objects.all()
    dashboard = client.get("/s/co-up/").content.decode()
    assert "needs your attention" in dashboard and "overpaid" in dashboard
    response = client.post(f"/s/co-up/items/{payment.item.pk}/handled/")
    assert response.status_code == 302
    payment.refresh_from_db()
    assert payment.how == Payment.How.HANDLED
    assert payment.item.state == LedgerItem.State.SKIPPED


def _token() -> str:
    return Space.objects.get(subdomain="co-up").sevdesk_token
