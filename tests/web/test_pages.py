"""The add-on's pages through Django's test client against the sandboxes: login,
space choice, settings with live checks, dashboard, retries, disconnect, isolation."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.test import Client

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.models import LedgerItem, Space, SpaceAdmin
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.web.conftest import cobot_login, two_space_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def sevdesk_token(sandboxes: Sandboxes) -> str:
    token = secrets.token_hex(16)
    sandboxes.sevdesk.add_account(
        token,
        cost_centres=[{"number": "100", "name": "Coworking"}],
        booking_accounts=[{"name": "Desks", "like": "4400"}],
    )
    return token


def connect(client: Client, boxes: Sandboxes, subdomain: str, token: str, **fields: Any) -> Any:
    data = {"sevdesk_token": token, "cost_centre_number": "", "due_days": "0", **fields}
    return client.post(f"/s/{subdomain}/settings/", data)


def connected_admin(boxes: Sandboxes, sevdesk_token: str) -> Client:
    """Ada, admin of two spaces, logged in, with co-up connected to sevDesk."""
    cobot = two_space_admin(boxes)
    client = Client()
    cobot_login(client, boxes, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    connect(client, boxes, "co-up", sevdesk_token)
    return client


def test_login_lists_admin_spaces_and_connecting_binds_a_space_token(oauth: Sandboxes) -> None:
    cobot = two_space_admin(oauth)
    client = Client()
    response = cobot_login(client, oauth, cobot.admin["id"])
    assert response.status_code == 302 and response["Location"] == "/spaces/"
    page = client.get("/spaces/")
    assert "co.up Berlin" in page.content.decode() and "Hafenbüro" in page.content.decode()
    response = client.post("/spaces/hafen/connect/")
    assert response["Location"] == "/s/hafen/settings/"
    space = Space.objects.get(subdomain="hafen")
    assert space.cobot_space_id == "space-hafen"
    assert space.api2_id == oauth.cobot.space("hafen")["api2_id"]
    # The stored token is a space-bound one, encrypted at rest.
    assert space.cobot_token not in space.cobot_token_encrypted
    me = oauth.cobot.requests(path="^/api/access_tokens/.*/space$")
    assert len(me) == 1 and me[0]["body"] == {"space_id": "space-hafen"}


def test_single_space_admin_goes_straight_to_settings(oauth: Sandboxes) -> None:
    admin = oauth.cobot.add_user("solo@example.org", "Solo")
    oauth.cobot.add_space("solo", "Solo Space", [admin["id"]])
    response = cobot_login(Client(), oauth, admin["id"])
    assert response["Location"] == "/s/solo/settings/"


def test_callback_without_valid_state_is_refused(oauth: Sandboxes) -> None:
    client = Client()
    response = client.get("/auth/callback/?code=forged&state=forged")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not client.session.get("_auth_user_id")


def test_wrong_token_is_a_form_error_and_the_right_one_connects(
    oauth: Sandboxes, sevdesk_token: str
) -> None:
    cobot = two_space_admin(oauth)
    client = Client()
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    wrong = connect(client, oauth, "co-up", "0" * 32)
    assert wrong.status_code == 200
    assert "sevDesk does not accept this API token" in wrong.content.decode()
    space = Space.objects.get(subdomain="co-up")
    assert not space.sevdesk_token_encrypted
    bad_centre = connect(client, oauth, "co-up", sevdesk_token, cost_centre_number="999")
    assert "no cost center with the number 999" in bad_centre.content.decode()
    ok = connect(client, oauth, "co-up", sevdesk_token, cost_centre_number="100", due_days="14")
    assert ok.status_code == 302 and ok["Location"] == "/s/co-up/"
    space.refresh_from_db()
    assert (space.sevdesk_token, space.cost_centre_number, space.due_days) == (
        sevdesk_token,
        "100",
        14,
    )
    assert sevdesk_token not in space.sevdesk_token_encrypted
    subscriptions = oauth.cobot.space("co-up")["subscriptions"]
    assert {s["event"] for s in subscriptions} == set(EVENTS)
    assert all(
        s["callback_url"].startswith(f"http://testserver/hooks/{space.webhook_secret}/")
        for s in subscriptions
    )
    # Saving again reuses the subscriptions, and the token is never shown back.
    settings_page = client.get("/s/co-up/settings/").content.decode()
    assert sevdesk_token not in settings_page and sevdesk_token[-4:] in settings_page
    assert connect(client, oauth, "co-up", "").status_code == 302  # empty keeps the token
    assert len(oauth.cobot.space("co-up")["subscriptions"]) == len(EVENTS)


def test_booking_code_check_shows_matches_and_gaps(oauth: Sandboxes, sevdesk_token: str) -> None:
    cobot = two_space_admin(oauth)
    oauth.cobot.add_accounting_code("co-up", "Parking")
    oauth.cobot.add_accounting_code("co-up", "4300")
    client = Client()
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    connect(client, oauth, "co-up", sevdesk_token)
    page = client.get("/s/co-up/settings/").content.decode()
    assert "Desks" in page and "4300 Erlöse 7 % USt" in page
    assert page.count('class="unmatched"') == 1 and "Parking" in page
    assert "1 accounting code" in page or "One accounting code" in page


def test_another_spaces_admin_gets_404_everywhere(oauth: Sandboxes, sevdesk_token: str) -> None:
    connected_admin(oauth, sevdesk_token)
    space = Space.objects.get(subdomain="co-up")
    item, _ = LedgerItem.record(space, "invoice", "abc", source="webhook", label="RE-1")
    LedgerItem.objects.filter(pk=item.pk).update(state="failed")

    stranger = oauth.cobot.add_user("eve@example.org", "Eve")
    oauth.cobot.add_space("eves-space", "Eve's", [stranger["id"]])
    intruder = Client()
    cobot_login(intruder, oauth, stranger["id"])
    pages = [
        "/s/co-up/",
        "/s/co-up/settings/",
        f"/s/co-up/items/{item.pk}/",
        "/s/co-up/backfills/1/",
    ]
    actions = [
        "/s/co-up/settings/",
        "/s/co-up/disconnect/",
        "/s/co-up/retry-failed/",
        f"/s/co-up/items/{item.pk}/retry/",
        "/s/co-up/backfills/",
        "/s/co-up/backfills/1/cancel/",
        "/spaces/co-up/connect/",
    ]
    for url in pages:
        assert intruder.get(url).status_code == 404, url
    for url in actions:
        assert intruder.post(url, {"sevdesk_token": "x", "due_days": "0"}).status_code == 404, url
    space.refresh_from_db()
    assert space.status == Space.Status.ACTIVE and space.sevdesk_token == sevdesk_token
    assert LedgerItem.objects.get(pk=item.pk).state == "failed"
    # And someone not logged in is sent to the start page.
    assert Client().get("/s/co-up/").status_code == 302


def test_losing_admin_rights_in_cobot_revokes_access_at_next_login(
    oauth: Sandboxes, sevdesk_token: str
) -> None:
    cobot = two_space_admin(oauth)
    client = Client()
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    assert SpaceAdmin.objects.filter(space__subdomain="co-up").exists()
    assert client.get("/s/co-up/").status_code == 200
    # Another admin removes Ada from co-up in Cobot; at her next login, access is gone.
    oauth.cobot.set_admins("co-up", [])
    cobot_login(client, oauth, cobot.admin["id"])
    assert not SpaceAdmin.objects.filter(space__subdomain="co-up").exists()
    assert client.get("/s/co-up/").status_code == 404


def test_member_name_with_script_renders_as_text(oauth: Sandboxes, sevdesk_token: str) -> None:
    client = connected_admin(oauth, sevdesk_token)
    space = Space.objects.get(subdomain="co-up")
    item, _ = LedgerItem.record(
        space, "member", "m1", source="webhook", label="<script>alert(1)</script>"
    )
    LedgerItem.objects.filter(pk=item.pk).update(
        state="failed", last_error="<img src=x onerror=alert(2)>"
    )
    for url in ("/s/co-up/", f"/s/co-up/items/{item.pk}/"):
        page = client.get(url).content.decode()
        assert (
            "<script>alert(1)</script>" not in page
            and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        )
        assert "<img src=x" not in page


def test_dashboard_filters_searches_and_retries(oauth: Sandboxes, sevdesk_token: str) -> None:
    client = connected_admin(oauth, sevdesk_token)
    space = Space.objects.get(subdomain="co-up")
    for n, state in enumerate(["synced", "failed", "failed", "mismatch"]):
        item, _ = LedgerItem.record(space, "invoice", f"inv{n}", source="webhook", label=f"RE-{n}")
        LedgerItem.objects.filter(pk=item.pk).update(
            state=state, last_error="Booking account Parking missing" if state == "failed" else ""
        )
    page = client.get("/s/co-up/?state=failed").content.decode()
    assert "RE-1" in page and "RE-2" in page and "RE-0" not in page
    assert "2 items need your attention" in page and "Booking account Parking missing" in page
    assert "RE-3" in client.get("/s/co-up/?q=re-3").content.decode()
    # Amounts in cents show with two decimals, as on the invoice.
    item = LedgerItem.objects.get(space=space, cobot_id="inv3")
    LedgerItem.objects.filter(pk=item.pk).update(amount_cents=11900, currency="EUR")
    assert "119.00 EUR" in client.get("/s/co-up/?q=re-3").content.decode()
    assert "119.00 EUR" in client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    response = client.post("/s/co-up/retry-failed/")
    assert response.status_code == 302
    assert LedgerItem.objects.filter(space=space, state="pending").count() == 2


def test_disconnect_removes_webhooks_and_token_and_webhooks_then_get_410(
    oauth: Sandboxes, sevdesk_token: str
) -> None:
    client = connected_admin(oauth, sevdesk_token)
    space = Space.objects.get(subdomain="co-up")

    def deliver(invoice_id: str) -> int:
        url = f"{oauth.cobot.base_url}/space/co-up/api/invoices/{invoice_id}"
        return (
            Client()
            .post(
                f"/hooks/{space.webhook_secret}/created_invoice/",
                {"url": url},
                content_type="application/json",
            )
            .status_code
        )

    assert deliver("before") == 202  # the space is now in the webhook view's cache
    assert client.post("/s/co-up/disconnect/").status_code == 302
    space.refresh_from_db()
    assert space.status == Space.Status.DISCONNECTED and not space.sevdesk_token_encrypted
    assert oauth.cobot.space("co-up")["subscriptions"] == []
    assert deliver("after") == 410


def test_security_headers_allow_framing_only_by_cobot(oauth: Sandboxes) -> None:
    response = Client().get("/")
    assert "frame-ancestors 'self' https://*.cobot.me" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response


def test_forms_need_csrf_tokens(oauth: Sandboxes, sevdesk_token: str) -> None:
    cobot = two_space_admin(oauth)
    client = Client(enforce_csrf_checks=True)
    cobot_login(client, oauth, cobot.admin["id"])
    assert client.post("/spaces/co-up/connect/").status_code == 403
