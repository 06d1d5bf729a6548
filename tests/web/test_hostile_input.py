"""Hostile input is a 4xx or a form error, never a 500: deeply nested JSON, oversized
and malformed webhook bodies, tokens HTTP headers cannot carry, NUL bytes in URLs and
searches (which PostgreSQL refuses to store or compare)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.test import Client

from cobot_sevdesk.errors import PermanentError
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sevdesk.client import SevdeskClient
from tests.web.conftest import cobot_login, two_space_admin
from tests.world import World

pytestmark = pytest.mark.django_db


def hook(world: World, body: bytes | str, content_type: str = "application/json") -> Any:
    # raise_request_exception=False: a crash must show as the 500 a caller would get.
    return Client(raise_request_exception=False).post(
        f"/hooks/{world.space.webhook_secret}/created_invoice/", body, content_type=content_type
    )


def test_deeply_nested_json_is_a_400(world: World) -> None:
    for depth in (1_000, 30_000):  # 60 kB: under the size limit, far over recursion's
        response = hook(world, "[" * depth + "]" * depth)
        assert response.status_code == 400, depth
        assert response.json()["status"] == "malformed"
    response = hook(world, '{"url": ' + "[" * 30_000 + "]" * 30_000 + "}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url",
    ["http://[", "http://[::1", "https://[zz]/api/invoices/1", "http://a:b:c/x", "\x00", "é" * 300],
)
def test_urls_that_do_not_even_parse_are_a_400(world: World, url: str) -> None:
    response = hook(world, f'{{"url": "{url}"}}'.encode())
    assert response.status_code == 400, response.content
    assert LedgerItem.objects.count() == 0


def test_oversized_and_many_field_bodies_are_refused(world: World) -> None:
    big = hook(world, '{"url": "' + "a" * 70_000 + '"}')
    assert big.status_code == 413 and big.json()["status"] == "too_large"
    many = hook(
        world,
        "&".join(f"f{n}=1" for n in range(2_000)),
        content_type="application/x-www-form-urlencoded",
    )
    assert many.status_code == 400 and many.json()["status"] == "malformed"


def test_a_token_http_cannot_carry_is_a_form_error_not_a_500(oauth: Sandboxes) -> None:
    token = secrets.token_hex(16)
    oauth.sevdesk.add_account(token, booking_accounts=[{"name": "Desks", "like": "4400"}])
    cobot = two_space_admin(oauth)
    client = Client(raise_request_exception=False)
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    oauth.sevdesk.clear_requests()
    for bad in ("tökén-€-" + token, "ключ", token[:10] + " " + token[10:], "😀" * 5):
        response = client.post(
            "/s/co-up/settings/", {"sevdesk_token": bad, "cost_centre_number": "", "due_days": "0"}
        )
        assert response.status_code == 200, bad
        assert "This is not an API token from sevDesk" in response.content.decode()
    assert oauth.sevdesk.requests() == []  # refused before anything was sent
    assert not Space.objects.get(subdomain="co-up").sevdesk_token_encrypted
    ok = client.post(
        "/s/co-up/settings/", {"sevdesk_token": token, "cost_centre_number": "", "due_days": "0"}
    )
    assert ok.status_code == 302


def test_the_http_layer_turns_an_unsendable_header_into_a_permanent_error(
    sandboxes: Sandboxes,
) -> None:
    client = SevdeskClient("tökén€", base_url=sandboxes.sevdesk.base_url)
    with pytest.raises(PermanentError, match="could not be sent"):
        client.bookkeeping_version()
    assert sandboxes.sevdesk.requests() == []


def test_nul_bytes_in_paths_and_searches_are_404_or_ignored(oauth: Sandboxes) -> None:
    cobot = two_space_admin(oauth)
    client = Client(raise_request_exception=False)
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    assert client.get("/s/co-up/?q=%00abc%00").status_code == 200
    assert client.get("/s/co-up/?page=%00&state=%00&kind=%00").status_code == 200
    assert client.get("/s/co%00up/").status_code == 404
    assert client.get("/s/%00/settings/").status_code == 404
    assert client.post("/spaces/co%00up/connect/").status_code == 404
    assert client.get("/auth/callback/?code=%00&state=%00").status_code == 302
