"""Webhooks are delivered over HTTP, as Cobot does: retried at growing intervals,
switched off after the last failed retry or at once on 410, redirects not followed."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from cobot_sevdesk.cobot.client import CobotClient, CobotUrls
from cobot_sevdesk.errors import NotFound
from cobot_sevdesk.sandbox.app import App, Request, Response
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.server import serve_in_thread
from tests.processes import wait_until


@dataclass
class Received:
    at: float
    hook: str
    payload: Any


class Receiver(App):
    """A webhook receiver that answers with a scripted sequence of statuses."""

    name = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.script: list[int] = []
        self.received: list[Received] = []
        self.route("POST", "/hook/<name>", self.hook)

    def hook(self, request: Request) -> Response:
        self.received.append(Received(time.monotonic(), request.params["name"], request.json()))
        status = self.script.pop(0) if self.script else 200
        headers = {"Location": "http://127.0.0.1:9/elsewhere"} if status in (301, 302) else {}
        return Response(status, {"ok": status < 300}, headers)

    def hits(self, hook: str) -> list[Received]:
        return [r for r in self.received if r.hook == hook]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    server = serve_in_thread(app)
    yield app
    server.stop()


def wait_for(predicate: Callable[[], bool]) -> None:
    wait_until(predicate, timeout=10.0, interval=0.02)


def subscribe(sandboxes: Sandboxes, token: str, event: str, callback: str) -> dict[str, Any]:
    response = requests.post(
        f"{sandboxes.cobot.base_url}/space/co-up/api/subscriptions",
        json={"event": event, "callback_url": callback},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 201
    subscription: dict[str, Any] = response.json()
    return subscription


@pytest.fixture
def space(sandboxes: Sandboxes, receiver: Receiver) -> dict[str, Any]:
    c = sandboxes.cobot
    admin = c.add_user("admin@example.org", "Ada")
    c.add_space("co-up", "co.up", [admin["id"]])
    token = c.add_token(admin["id"], client_id="addon")
    c.configure_webhooks(retry_delays=[0.05, 0.1, 0.2])
    callback = f"{receiver.base_url}/hook/invoices"
    subscription = subscribe(sandboxes, token, "created_invoice", callback)
    return {"token": token, "subscription": subscription, "callback": callback}


LINE = [{"description": "Desk", "quantity": "1", "unit_net": "100", "tax_rate": "19"}]


def test_webhook_is_delivered_with_the_api1_url(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: Receiver
) -> None:
    invoice = sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: len(receiver.received) == 1)
    assert receiver.received[0].payload == {
        "url": f"{sandboxes.cobot.base_url}/space/co-up/api/invoices/{invoice['id']}"
    }
    # The receiver sees the request before the sandbox records its answer, so wait for
    # the delivery's own state rather than reading it once.
    wait_for(lambda: [d["state"] for d in sandboxes.cobot.deliveries()] == ["delivered"])


def test_failed_deliveries_are_retried_at_growing_intervals(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: Receiver
) -> None:
    receiver.script = [500, 503]
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: len(receiver.received) == 3)
    gaps = [b.at - a.at for a, b in itertools.pairwise(receiver.received)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "delivered")
    assert [a["outcome"] for a in sandboxes.cobot.deliveries()[0]["attempts"]] == [
        "500",
        "503",
        "200",
    ]


def test_subscription_is_deactivated_after_the_last_failed_retry(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: Receiver
) -> None:
    receiver.script = [500] * 10
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "deactivated")
    assert len(receiver.hits("invoices")) == 4  # first try + 3 retries
    [sub] = sandboxes.cobot.space("co-up")["subscriptions"]
    assert sub["active"] is False
    # A deactivated subscription gets nothing more, while an active one to the same
    # event still does: once that one has its delivery, the next invoice is through.
    receiver.script.clear()
    other = subscribe(
        sandboxes, space["token"], "created_invoice", f"{receiver.base_url}/hook/other"
    )
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[-1]["state"] == "delivered")
    assert [d["subscription"] for d in sandboxes.cobot.deliveries()] == [sub["id"], other["id"]]
    assert len(receiver.hits("other")) == 1
    assert len(receiver.hits("invoices")) == 4


def test_410_deactivates_at_once(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: Receiver
) -> None:
    receiver.script = [410]
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "deactivated")
    assert len(receiver.received) == 1
    assert sandboxes.cobot.space("co-up")["subscriptions"][0]["active"] is False


def test_redirects_are_not_followed(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: Receiver
) -> None:
    receiver.script = [302, 302, 302, 302]
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "deactivated")
    attempts = sandboxes.cobot.deliveries()[0]["attempts"]
    assert [a["outcome"] for a in attempts] == ["302"] * 4


def test_cancelling_writing_off_and_deleting_an_invoice_fire_their_events(
    sandboxes: Sandboxes,
) -> None:
    admin = sandboxes.cobot.add_user("ada@example.org")
    sandboxes.cobot.add_space("co-up", "co.up", [admin["id"]])
    token = sandboxes.cobot.add_token(admin["id"], space="co-up")
    cobot = sandboxes.cobot
    client = CobotClient(
        token,
        subdomain="co-up",
        urls=CobotUrls(cobot.base_url, cobot.space_url_template, cobot.api2_url),
    )
    for event in ("updated_invoice", "wrote_off_invoice", "deleted_invoice"):
        client.create_subscription(event, f"http://127.0.0.1:9/{event}")
    lines = [{"description": "Desk", "quantity": "1", "unit_net": "10", "tax_rate": "19"}]
    first, second, third = (cobot.add_invoice("co-up", lines) for _ in range(3))
    assert cobot.cancel_invoice("co-up", first["id"])["attributes"]["paidStatus"] == "canceled"
    assert cobot.write_off_invoice("co-up", second["id"])["attributes"]["paidStatus"] == (
        "writtenOff"
    )
    cobot.delete_invoice("co-up", third["id"])
    assert client.get_invoice(first["id"]).paid_status == "canceled"
    with pytest.raises(NotFound):
        client.get_invoice(third["id"])
    fired = [(d["event"], d["payload"]["url"].rsplit("/", 1)[1]) for d in cobot.deliveries()]
    assert fired == [
        ("updated_invoice", first["id"]),
        ("wrote_off_invoice", second["id"]),
        ("deleted_invoice", third["id"]),
    ]


@pytest.mark.parametrize(("mode", "status"), [("store", 200), ("ignore", 200), ("refuse", 403)])
def test_the_write_back_can_be_ignored_or_refused(
    sandboxes: Sandboxes, mode: str, status: int
) -> None:
    admin = sandboxes.cobot.add_user("ada@example.org")
    sandboxes.cobot.add_space("co-up", "co.up", [admin["id"]])
    token = sandboxes.cobot.add_token(admin["id"], space="co-up")
    member = sandboxes.cobot.add_member("co-up", "Jane Doe", customer_number="C-1")
    sandboxes.cobot.write_back("co-up", mode, 403)
    url = f"{sandboxes.cobot.space_url_template.format(subdomain='co-up')}/api/memberships/"
    answer = requests.put(
        url + member["id"],
        json={"customer_number": "1000"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == status
    kept = requests.get(
        url + member["id"], headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert kept.json()["customer_number"] == ("1000" if mode == "store" else "C-1")
