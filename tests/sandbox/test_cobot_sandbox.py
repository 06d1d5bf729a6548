"""The Cobot sandbox behaves like Cobot where the product depends on it: webhooks are
delivered over HTTP with retries and deactivation, OAuth with PKCE, faults."""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.server import App, Request, Response, SandboxServer, serve_in_thread


class Receiver(App):
    """A webhook receiver that answers with a scripted sequence of statuses."""

    name = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.script: list[int] = []
        self.received: list[tuple[float, Any]] = []
        self.route("POST", "/hook/<name>", self.hook)

    def hook(self, request: Request) -> Response:
        self.received.append((time.monotonic(), request.json()))
        status = self.script.pop(0) if self.script else 200
        headers = {"Location": "http://127.0.0.1:9/elsewhere"} if status in (301, 302) else {}
        return Response(status, {"ok": status < 300}, headers)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, SandboxServer]]:
    app = Receiver()
    server = serve_in_thread(app)
    yield app, server
    server.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture
def space(sandboxes: Sandboxes, receiver: tuple[Receiver, SandboxServer]) -> dict[str, Any]:
    c = sandboxes.cobot
    admin = c.add_user("admin@example.org", "Ada")
    c.add_space("co-up", "co.up", [admin["id"]])
    token = c.add_token(admin["id"], client_id="addon")
    c.configure_webhooks(retry_delays=[0.05, 0.1, 0.2])
    callback = f"{receiver[1].url}/hook/invoices"
    response = requests.post(
        f"{c.base_url}/space/co-up/api/subscriptions",
        json={"event": "created_invoice", "callback_url": callback},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 201
    return {"token": token, "subscription": response.json(), "callback": callback}


LINE = [{"description": "Desk", "quantity": "1", "unit_net": "100", "tax_rate": "19"}]


def test_webhook_is_delivered_with_the_api1_url(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: tuple[Receiver, SandboxServer]
) -> None:
    invoice = sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: len(receiver[0].received) == 1)
    payload = receiver[0].received[0][1]
    assert payload == {
        "url": f"{sandboxes.cobot.base_url}/space/co-up/api/invoices/{invoice['id']}"
    }
    # The receiver sees the request before the sandbox records its answer, so wait for
    # the delivery's own state rather than reading it once.
    wait_for(lambda: [d["state"] for d in sandboxes.cobot.deliveries()] == ["delivered"])


def test_failed_deliveries_are_retried_at_growing_intervals(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: tuple[Receiver, SandboxServer]
) -> None:
    receiver[0].script = [500, 503]
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: len(receiver[0].received) == 3)
    times = [t for t, _ in receiver[0].received]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "delivered")
    assert [a["outcome"] for a in sandboxes.cobot.deliveries()[0]["attempts"]] == [
        "500",
        "503",
        "200",
    ]


def test_subscription_is_deactivated_after_the_last_failed_retry(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: tuple[Receiver, SandboxServer]
) -> None:
    receiver[0].script = [500] * 10
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "deactivated")
    assert len(receiver[0].received) == 4  # first try + 3 retries
    [sub] = sandboxes.cobot.space("co-up")["subscriptions"]
    assert sub["active"] is False
    # A deactivated subscription gets nothing more.
    sandboxes.cobot.add_invoice("co-up", LINE)
    time.sleep(0.3)
    assert len(receiver[0].received) == 4


def test_410_deactivates_at_once(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: tuple[Receiver, SandboxServer]
) -> None:
    receiver[0].script = [410]
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "deactivated")
    assert len(receiver[0].received) == 1
    assert sandboxes.cobot.space("co-up")["subscriptions"][0]["active"] is False


def test_redirects_are_not_followed(
    sandboxes: Sandboxes, space: dict[str, Any], receiver: tuple[Receiver, SandboxServer]
) -> None:
    receiver[0].script = [302, 302, 302, 302]
    sandboxes.cobot.add_invoice("co-up", LINE)
    wait_for(lambda: sandboxes.cobot.deliveries()[0]["state"] == "deactivated")
    attempts = sandboxes.cobot.deliveries()[0]["attempts"]
    assert [a["outcome"] for a in attempts] == ["302"] * 4


def test_oauth_code_flow_with_pkce(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    user = c.add_user("ada@example.org", "Ada")
    c.add_client("addon", "s3cret", ["http://127.0.0.1:8000/auth/callback/"])
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": "addon",
        "redirect_uri": "http://127.0.0.1:8000/auth/callback/",
        "scope": "read_user",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = requests.get(f"{c.base_url}/oauth/authorize", params=params, timeout=5)
    assert page.status_code == 200 and "Approve as Ada" in page.text
    approved = requests.post(
        f"{c.base_url}/oauth/authorize",
        data={**params, "user_id": user["id"]},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302
    query = parse_qs(urlsplit(approved.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    token_request = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "client_id": "addon",
        "client_secret": "s3cret",
        "redirect_uri": params["redirect_uri"],
    }
    wrong = requests.post(
        f"{c.base_url}/oauth/access_token",
        data={**token_request, "code_verifier": "w" * 50},
        timeout=5,
    )
    assert wrong.status_code == 400 and "PKCE" in wrong.text
    # The code was used up by the failed attempt, as a careful server does.
    again = requests.post(
        f"{c.base_url}/oauth/access_token",
        data={**token_request, "code_verifier": verifier},
        timeout=5,
    )
    assert again.status_code == 400


def test_oauth_issues_a_token_for_the_right_verifier(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    user = c.add_user("ada@example.org", "Ada")
    c.add_client("addon", "s3cret")
    verifier = "k" * 60
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    approved = requests.post(
        f"{c.base_url}/oauth/authorize",
        data={
            "client_id": "addon",
            "redirect_uri": "http://x/cb",
            "user_id": user["id"],
            "scope": "read_user",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    token = requests.post(
        f"{c.base_url}/oauth/access_token",
        timeout=5,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "addon",
            "client_secret": "s3cret",
            "redirect_uri": "http://x/cb",
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200
    access = token.json()["access_token"]
    me = requests.get(
        f"{c.base_url}/api/user", headers={"Authorization": f"Bearer {access}"}, timeout=5
    )
    assert me.json()["id"] == user["id"]


def test_fault_status_applies_n_times_then_clears(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    c.fault("/api/user", status=502, times=2)
    codes = [requests.get(f"{c.base_url}/api/user", timeout=5).status_code for _ in range(3)]
    assert codes == [502, 502, 401]


def test_fault_delay_slows_the_answer(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    c.fault("/api/user", delay=0.3)
    started = time.monotonic()
    requests.get(f"{c.base_url}/api/user", timeout=5)
    assert time.monotonic() - started >= 0.3


def test_fault_drop_after_commits_then_breaks_the_connection(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    admin = c.add_user("a@example.org")
    c.add_space("co-up", "co.up", [admin["id"]])
    token = c.add_token(admin["id"])
    c.fault("/activities", method="POST", drop="after")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{c.base_url}/space/co-up/api/activities",
            json={"text": "hi"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    assert [a["attributes"]["text"] for a in c.space("co-up")["activities"]] == ["hi"]


def test_rate_limit_is_per_token(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    admin = c.add_user("a@example.org")
    first, second = c.add_token(admin["id"]), c.add_token(admin["id"])
    c.rate_limit(2)
    url = f"{c.base_url}/api/user"
    statuses = [
        requests.get(url, headers={"Authorization": f"Bearer {first}"}, timeout=5).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {second}"}, timeout=5).status_code
        == 200
    )


def test_reset_forgets_everything(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    c.add_user("a@example.org")
    c.fault("/api/user", status=500, times=None)
    c.reset()
    assert requests.get(f"{c.base_url}/api/user", timeout=5).status_code == 401
