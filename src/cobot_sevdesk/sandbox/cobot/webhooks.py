"""Webhooks: the subscriptions API of a space, and their delivery.

Deliveries really go out over HTTP, from background threads, with Cobot's documented
behaviour: up to 10 retries at growing intervals, deactivation after the last failure,
immediate deactivation on 410, redirects not followed. The retry schedule can be
shortened for tests (``PUT /_sandbox/webhooks``).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import requests

from cobot_sevdesk.http import USER_AGENT
from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.cobot.state import CobotState, Space, hex_id, not_found

#: Cobot: "up to 10 retries with growing intervals over up to 20 hours".
#: GUESS: the exact intervals are not published; these add up to 20 hours.
REAL_RETRY_DELAYS = (60, 300, 900, 1800, 3600, 5400, 7200, 10800, 14400, 27600)
DEFAULT_TIMEOUT = 10.0
#: Deliveries run in parallel, as they would from Cobot's many workers.
DELIVERY_THREADS = 8
WEBHOOK_EVENTS = (
    "created_membership",
    "confirmed_membership",
    "updated_membership_details",
    "canceled_membership",
    "created_invoice",
    "updated_invoice",
    "wrote_off_invoice",
    "deleted_invoice",
)


@dataclass(order=True)
class _Delivery:
    """One attempt waiting to be made, ordered by when it is due."""

    due: float
    seq: int
    subscription_id: str = field(compare=False)
    space: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False, default=0)
    record: dict[str, Any] = field(compare=False, default_factory=dict)


def subscription_json(state: CobotState, space: Space, sub: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sub["id"],
        "event": sub["event"],
        "callback_url": sub["callback_url"],
        "url": f"{state.space_url(space)}/api/subscriptions/{sub['id']}",
        "active": sub["active"],
    }


class Webhooks(Area[CobotState]):
    def __init__(self, state: CobotState) -> None:
        super().__init__(state)
        #: Every delivery with its attempts, for ``GET /_sandbox/deliveries``.
        self.deliveries: list[dict[str, Any]] = []
        self.retry_delays: tuple[float, ...] = REAL_RETRY_DELAYS
        self.timeout = DEFAULT_TIMEOUT
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(state.lock)
        self._session = requests.Session()
        self._session.trust_env = False

    def start(self) -> None:
        for n in range(DELIVERY_THREADS):
            threading.Thread(
                target=self._deliver_loop, name=f"cobot-webhooks-{n}", daemon=True
            ).start()

    def register(self, app: App) -> None:
        s = "/space/<subdomain>/api"
        app.route("GET", s + "/subscriptions", self.list_subscriptions)
        app.route("POST", s + "/subscriptions", self.create_subscription)
        app.route("GET", s + "/subscriptions/<id>", self.get_subscription)
        app.route("DELETE", s + "/subscriptions/<id>", self.delete_subscription)

    def reset(self) -> None:
        with self.state.lock:
            self.deliveries.clear()
            self._queue.clear()
            self.retry_delays = REAL_RETRY_DELAYS
            self.timeout = DEFAULT_TIMEOUT

    # -- the subscriptions API ------------------------------------------------------
    def list_subscriptions(self, request: Request) -> Any:
        space, info = self.state.space_access(request, request.params["subdomain"])
        # Documented: the subscriptions of the current user and app.
        return [
            subscription_json(self.state, space, s)
            for s in space.subscriptions.values()
            if s["client_id"] == info["client_id"]
        ]

    def get_subscription(self, request: Request) -> Any:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        sub = space.subscriptions.get(request.params["id"])
        if sub is None:
            raise not_found()
        return subscription_json(self.state, space, sub)

    def create_subscription(self, request: Request) -> Response:
        space, info = self.state.space_access(request, request.params["subdomain"])
        body = request.json()
        event, callback = body.get("event"), body.get("callback_url")
        errors = {}
        if event not in WEBHOOK_EVENTS:
            errors["event"] = "is not a known event"
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            errors["callback_url"] = "is not a valid URL"
        if errors:
            raise HttpError(422, {"errors": errors})
        with self.state.lock:
            for sub in space.subscriptions.values():
                if sub["event"] == event and sub["callback_url"] == callback:
                    raise HttpError(409, {"errors": {"callback_url": "already subscribed"}})
            sub = {
                "id": hex_id(),
                "event": event,
                "callback_url": callback,
                "active": True,
                "client_id": info["client_id"],
            }
            space.subscriptions[sub["id"]] = sub
        return Response(201, subscription_json(self.state, space, sub))

    def delete_subscription(self, request: Request) -> Response:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        with self.state.lock:
            if space.subscriptions.pop(request.params["id"], None) is None:
                raise not_found()
        return Response(204)

    # -- delivery -----------------------------------------------------------------------
    def emit(self, space: Space, event: str, resource_url: str) -> None:
        """Queue one delivery per active subscription of ``space`` to ``event``."""
        with self.state.lock:
            for sub in space.subscriptions.values():
                if sub["event"] != event or not sub["active"]:
                    continue
                record = {
                    "subscription": sub["id"],
                    "event": event,
                    "callback_url": sub["callback_url"],
                    "payload": {"url": resource_url},
                    "attempts": [],
                    "state": "pending",
                }
                self.deliveries.append(record)
                self._push(
                    _Delivery(
                        due=time.monotonic(),
                        seq=next(self._seq),
                        subscription_id=sub["id"],
                        space=space.subdomain,
                        payload=record["payload"],
                        record=record,
                    )
                )

    def _push(self, delivery: _Delivery) -> None:
        heapq.heappush(self._queue, delivery)
        self._wake.notify_all()

    def _deliver_loop(self) -> None:
        while True:
            with self._wake:
                while not self._queue or self._queue[0].due > time.monotonic():
                    timeout = self._queue[0].due - time.monotonic() if self._queue else None
                    self._wake.wait(timeout)
                delivery = heapq.heappop(self._queue)
            self._deliver(delivery)

    def _deliver(self, delivery: _Delivery) -> None:
        with self.state.lock:
            space = self.state.spaces.get(delivery.space)
            sub = space.subscriptions.get(delivery.subscription_id) if space else None
            if space is None or sub is None or not sub["active"]:
                delivery.record["state"] = "dropped"
                return
            callback = sub["callback_url"]
            timeout = self.timeout
        try:
            response = self._session.post(
                callback,
                json=delivery.payload,
                timeout=timeout,
                allow_redirects=False,  # documented: redirects are not followed
                headers={"User-Agent": f"Cobot-Sandbox-Webhooks ({USER_AGENT})"},
            )
            status: int | None = response.status_code
            outcome = str(status)
        except requests.RequestException as exc:
            status, outcome = None, type(exc).__name__
        with self.state.lock:
            delivery.record["attempts"].append({"at": time.time(), "outcome": outcome})
            if status is not None and 200 <= status < 300:
                delivery.record["state"] = "delivered"
                return
            if status == 410:
                sub["active"] = False  # documented: 410 switches the webhook off at once
                delivery.record["state"] = "deactivated"
                return
            if delivery.attempt >= len(self.retry_delays):
                sub["active"] = False  # documented: off after the last failed retry
                delivery.record["state"] = "deactivated"
                return
            delivery.record["state"] = "retrying"
            self._push(
                replace(
                    delivery,
                    due=time.monotonic() + self.retry_delays[delivery.attempt],
                    seq=next(self._seq),
                    attempt=delivery.attempt + 1,
                )
            )
