"""The webhook endpoint: thin, fast, authenticated by its secret, and safe against
forged and replayed calls. Also driven by real deliveries from the Cobot sandbox."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.subscriptions import ensure_subscriptions
from tests.processes import wait_until
from tests.world import World

pytestmark = pytest.mark.django_db


def post(space: Space, event: str, body: Any, secret: str | None = None, **extra: Any) -> Any:
    return Client().post(
        f"/hooks/{secret or space.webhook_secret}/{event}/",
        body,
        content_type="application/json",
        **extra,
    )


def resource(world: World, kind: str, cobot_id: str) -> str:
    return f"{world.boxes.cobot.base_url}/space/{world.subdomain}/api/{kind}/{cobot_id}"


def test_recorded_and_answered_at_once_without_calling_cobot_or_sevdesk(world: World) -> None:
    world.boxes.cobot.clear_requests()
    started = time.monotonic()
    response = post(world.space, "created_invoice", {"url": resource(world, "invoices", "inv-1")})
    elapsed = time.monotonic() - started
    assert response.status_code == 202
    item = LedgerItem.objects.get(pk=response.json()["item"])
    assert (item.kind, item.cobot_id, item.state) == ("invoice", "inv-1", "pending")
    assert world.boxes.cobot.requests() == [] and world.boxes.sevdesk.requests() == []
    assert elapsed < 0.5
    assert Space.objects.get(pk=world.space.pk).wake_pending  # a worker was woken


def test_replayed_webhook_creates_nothing_new(world: World) -> None:
    body = {"url": resource(world, "invoices", "inv-1")}
    first = post(world.space, "created_invoice", body)
    again = post(world.space, "created_invoice", body)
    assert first.status_code == again.status_code == 202
    assert first.json()["item"] == again.json()["item"]
    assert LedgerItem.objects.count() == 1


@pytest.mark.parametrize(
    ("secret", "event", "body", "status"),
    [
        ("wrong-secret", "created_invoice", None, 404),
        (None, "created_invoice", "not json", 400),
        (None, "created_invoice", {"no": "url"}, 400),
        (None, "created_invoice", {"url": 42}, 400),
        (None, "created_invoice", {"url": "https://evil.example/space/co-up/api/invoices/1"}, 400),
        (None, "created_invoice", {"url": "OTHER_SPACE"}, 400),
        (None, "created_invoice", {"url": "PATH_TRICK"}, 400),
        (None, "created_invoice", {"url": "MEMBER_URL"}, 400),
        (None, "created_booking", {"url": "INVOICE_URL"}, 200),
    ],
)
def test_forged_or_malformed_calls_create_nothing(
    world: World, secret: str | None, event: str, body: Any, status: int
) -> None:
    base = f"{world.boxes.cobot.base_url}/space"
    replacements = {
        "OTHER_SPACE": f"{base}/other/api/invoices/1",
        "PATH_TRICK": f"{base}/co-up/api/../../other/api/invoices/1",
        "MEMBER_URL": f"{base}/co-up/api/memberships/1",
        "INVOICE_URL": f"{base}/co-up/api/invoices/1",
    }
    if isinstance(body, dict) and body.get("url") in replacements:
        body = {"url": replacements[body["url"]]}
    response = post(world.space, event, body, secret=secret)
    assert response.status_code == status
    assert LedgerItem.objects.count() == 0


def test_only_post_is_accepted(world: World) -> None:
    assert Client().get(f"/hooks/{world.space.webhook_secret}/created_invoice/").status_code == 405


def test_update_of_a_synced_invoice_is_flagged_for_a_check(world: World) -> None:
    response = post(world.space, "created_invoice", {"url": resource(world, "invoices", "inv-1")})
    LedgerItem.objects.filter(pk=response.json()["item"]).update(state="synced")
    post(world.space, "updated_invoice", {"url": resource(world, "invoices", "inv-1")})
    item = LedgerItem.objects.get()
    assert item.state == "synced" and item.recheck


def test_real_deliveries_from_the_cobot_sandbox_end_in_sevdesk(
    world: World, live_server: Any, settings: Any, transactional_db: Any
) -> None:
    settings.PUBLIC_URL = live_server.url
    ensure_subscriptions(SpaceContext(world.space))
    member = world.member("Jane Doe")
    invoice = world.invoice(membership_id=member["id"])
    wait_until(
        lambda: LedgerItem.objects.count() == 2, timeout=10, message="both webhooks recorded"
    )
    wait_until(
        lambda: all(d["state"] == "delivered" for d in world.boxes.cobot.deliveries()), timeout=10
    )
    world.drain()
    assert set(LedgerItem.objects.values_list("state", flat=True)) == {"synced"}
    assert world.vouchers()[0]["description"] == invoice["attributes"]["number"]
    assert world.vouchers()[0]["supplier"]["id"] == world.contacts()[0]["id"]
