"""Access follows Cobot: an admin removed from a space in Cobot loses it within a
minute (at once for anything that changes state), a token Cobot refuses ends the
session, and when Cobot cannot be asked nothing changes. Through the real pages,
against the Cobot sandbox."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cobot_sevdesk import crypto
from cobot_sevdesk.ledger.models import LedgerItem, Space, SpaceAdmin
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.web.access import SESSION_CONFIRMED, SESSION_TOKEN
from tests.web.conftest import cobot_login, two_space_admin
from tests.web.test_pages import connect, sevdesk_token  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

SETTINGS = {"cost_centre_number": "", "due_days": "0"}


def age_confirmation(client: Client, seconds: float) -> None:
    """As if Cobot's last answer came ``seconds`` earlier."""
    session = client.session
    session[SESSION_CONFIRMED] -= seconds
    session.save()


def user_calls(boxes: Sandboxes) -> int:
    return len(boxes.cobot.requests(method="GET", path="^/api/user$"))


@pytest.fixture
def ada(oauth: Sandboxes, sevdesk_token: str) -> tuple[Client, dict[str, Any]]:  # noqa: F811
    """Ada, admin of co-up and hafen, logged in, co-up connected, one failed item."""
    cobot = two_space_admin(oauth)
    client = Client()
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    assert connect(client, oauth, "co-up", sevdesk_token).status_code == 302
    space = Space.objects.get(subdomain="co-up")
    item, _ = LedgerItem.record(space, "invoice", "inv-1", source="webhook", label="RE-1")
    LedgerItem.objects.filter(pk=item.pk).update(state="failed")
    return client, cobot.admin


def test_an_admin_removed_in_cobot_loses_the_space_within_a_minute(
    oauth: Sandboxes,
    ada: tuple[Client, dict[str, Any]],
    sevdesk_token: str,  # noqa: F811
) -> None:
    client, _admin = ada
    space = Space.objects.get(subdomain="co-up")
    assert client.get("/s/co-up/").status_code == 200
    # Another admin removes Ada from co-up in Cobot (she stays admin of hafen).
    oauth.cobot.set_admins("co-up", [])
    # Anything that changes state asks Cobot at once.
    assert client.post("/s/co-up/retry-failed/").status_code == 404
    assert LedgerItem.objects.get(cobot_id="inv-1").state == "failed"
    assert not SpaceAdmin.objects.filter(space=space).exists()
    other = "f" * 32
    oauth.sevdesk.add_account(other)
    response = client.post("/s/co-up/settings/", {"sevdesk_token": other, **SETTINGS})
    assert response.status_code == 404
    space.refresh_from_db()
    assert space.sevdesk_token == sevdesk_token
    assert client.get("/s/co-up/").status_code == 404
    assert client.post("/spaces/co-up/connect/").status_code == 404
    assert "co.up Berlin" not in client.get("/spaces/").content.decode()


def test_pages_ask_cobot_again_after_a_minute_and_not_before(
    oauth: Sandboxes, ada: tuple[Client, dict[str, Any]]
) -> None:
    client, admin = ada
    client.get("/s/co-up/")
    calls = user_calls(oauth)
    for _ in range(3):
        assert client.get("/s/co-up/").status_code == 200
    assert user_calls(oauth) == calls  # within the minute: Cobot's last answer counts
    oauth.cobot.set_admins("co-up", [])
    assert client.get("/s/co-up/").status_code == 200  # not asked yet
    age_confirmation(client, 60)
    assert client.get("/s/co-up/").status_code == 404  # asked: gone
    assert user_calls(oauth) == calls + 1
    # Made admin again in Cobot: back at the next check, no new login needed.
    oauth.cobot.set_admins("co-up", [admin["id"]])
    age_confirmation(client, 60)
    assert client.get("/s/co-up/").status_code == 200


def test_a_token_cobot_refuses_ends_the_session(
    oauth: Sandboxes, ada: tuple[Client, dict[str, Any]]
) -> None:
    client, _admin = ada
    oauth.cobot.revoke_token(crypto.decrypt(client.session[SESSION_TOKEN]))
    response = client.post("/s/co-up/retry-failed/", follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "Cobot no longer accepts your login" in response.content.decode()
    assert not client.session.get("_auth_user_id")
    assert LedgerItem.objects.get(cobot_id="inv-1").state == "failed"
    assert client.get("/s/co-up/").status_code == 302  # signed out: to the start page


def test_while_cobot_cannot_be_asked_nothing_changes_and_pages_expire(
    oauth: Sandboxes, ada: tuple[Client, dict[str, Any]]
) -> None:
    client, _admin = ada
    oauth.cobot.fault("^/api/user$", status=503, times=None)
    refused = client.post("/s/co-up/retry-failed/", follow=True)
    assert refused.redirect_chain == [("/s/co-up/", 302)]
    assert "Cobot could not be reached to confirm" in refused.content.decode()
    assert LedgerItem.objects.get(cobot_id="inv-1").state == "failed"
    age_confirmation(client, 120)  # stale, but within the grace period: still shown
    assert client.get("/s/co-up/").status_code == 200
    age_confirmation(client, 600)
    unavailable = client.get("/s/co-up/")
    assert unavailable.status_code == 503
    assert "Cobot could not be reached" in unavailable.content.decode()
    oauth.cobot.clear_faults()
    assert client.get("/s/co-up/").status_code == 200
    assert client.post("/s/co-up/retry-failed/").status_code == 302
    assert LedgerItem.objects.get(cobot_id="inv-1").state == "pending"


def test_a_session_whose_token_belongs_to_someone_else_ends(
    oauth: Sandboxes, ada: tuple[Client, dict[str, Any]]
) -> None:
    client, _admin = ada
    mallory = oauth.cobot.add_user("mallory@example.org", "Mallory")
    oauth.cobot.set_admins("co-up", [mallory["id"]])
    session = client.session
    session[SESSION_TOKEN] = crypto.encrypt(oauth.cobot.add_token(mallory["id"]))
    session.save()
    assert client.post("/s/co-up/retry-failed/").status_code == 302
    assert not client.session.get("_auth_user_id")
