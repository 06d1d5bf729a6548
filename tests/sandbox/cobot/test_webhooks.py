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
