"""Web fixtures: an OAuth client registered in the Cobot sandbox, and logging in
through the real authorization-code flow (state, PKCE) with Django's test client."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from cobot_sevdesk.sandbox.control import Sandboxes

CLIENT_ID = "cobot-sevdesk-test"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Cobot:
    boxes: Sandboxes
    admin: dict[str, Any]
    spaces: list[str]


@pytest.fixture
def oauth(sandboxes: Sandboxes, settings: Any) -> Sandboxes:
    settings.COBOT_CLIENT_ID = CLIENT_ID
    settings.COBOT_CLIENT_SECRET = CLIENT_SECRET
    settings.PUBLIC_URL = "http://testserver"
    sandboxes.cobot.add_client(CLIENT_ID, CLIENT_SECRET, ["http://testserver/auth/callback/"])
    return sandboxes


def cobot_login(client: Client, boxes: Sandboxes, user_id: str) -> Any:
    """Log in with Cobot: our redirect, the sandbox's consent page, the callback."""
    start = client.get("/login/")
    assert start.status_code == 302, start.content
    authorize = urlsplit(start["Location"])
    params = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert params["code_challenge_method"] == "S256" and params["state"]
    approved = requests.post(
        f"{boxes.cobot.base_url}/oauth/authorize",
        data={**params, "user_id": user_id},
        allow_redirects=False,
        timeout=10,
    )
    assert approved.status_code == 302
    back = urlsplit(approved.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def two_space_admin(boxes: Sandboxes) -> Cobot:
    admin = boxes.cobot.add_user("ada@example.org", "Ada Admin")
    for subdomain, name in (("co-up", "co.up Berlin"), ("hafen", "Hafenbüro")):
        boxes.cobot.add_space(subdomain, name, [admin["id"]])
        boxes.cobot.add_accounting_code(subdomain, "Desks")
    return Cobot(boxes, admin, ["co-up", "hafen"])


def connected_admin(boxes: Sandboxes, **settings: str) -> tuple[Client, str]:
    """An admin logged in through Cobot, with "co-up" connected to a new sevDesk
    account (its token returned) and saved with ``settings`` on top of the defaults."""
    token = secrets.token_hex(16)
    boxes.sevdesk.add_account(token, booking_accounts=[{"name": "Desks", "like": "4400"}])
    cobot = two_space_admin(boxes)
    client = Client()
    cobot_login(client, boxes, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    client.post("/s/co-up/settings/", {"sevdesk_token": token, "due_days": "0", **settings})
    return client, token
