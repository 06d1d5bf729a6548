"""What the Cobot sandbox knows: users, OAuth clients and codes, tokens, spaces with
their members, invoices and subscriptions; and the checks every API call makes
(token, rate limit, access to a space)."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cobot_sevdesk.sandbox.app import HttpError, Request


def hex_id() -> str:
    return secrets.token_hex(16)


def slash_date(day: dt.date) -> str:
    return day.strftime("%Y/%m/%d")


def slash_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y/%m/%d %H:%M:%S +0000")


def jsonapi_error(status: int, detail: str) -> HttpError:
    """An error the way API 2 (JSON:API) answers one."""
    return HttpError(
        status, {"errors": [{"status": str(status), "title": detail, "detail": detail}]}
    )


def not_found() -> HttpError:
    """An error the way API 1 answers a missing object."""
    return HttpError(404, {"error": "not found"})


@dataclass
class Space:
    subdomain: str
    name: str
    api1_id: str
    api2_id: str
    country_code: str = "DE"
    admins: set[str] = field(default_factory=set)
    next_number: int = 1
    memberships: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounting_codes: list[dict[str, Any]] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)
    #: How ``PUT /api/memberships/<id>`` treats a customer number (the call is our
    #: guess): "store" it, "ignore" it (answer 200, keep the old one) or "refuse" it
    #: with ``write_back_status``. Set through the control API.
    write_back: str = "store"
    write_back_status: int = 422


class CobotState:
    """All of the sandbox's data, guarded by one lock (the ``App``'s)."""

    def __init__(self, lock: threading.RLock, base_url: Callable[[], str]) -> None:
        self.lock = lock
        # Where the sandbox is served is known only once its server has started.
        self._base_url = base_url
        self.users: dict[str, dict[str, Any]] = {}
        self.spaces: dict[str, Space] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.clients: dict[str, dict[str, Any]] = {}
        self.pdf_lifetime = 300.0
        self.rate_limit: int | None = None
        self.member_list_limit: int | None = None
        self._calls: dict[str, deque[float]] = {}

    def reset(self) -> None:
        with self.lock:
            for collection in (
                self.users,
                self.spaces,
                self.tokens,
                self.codes,
                self.clients,
                self._calls,
            ):
                collection.clear()
            self.pdf_lifetime = 300.0
            self.configure_rate_limit(None, None)

    # -- addresses ----------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._base_url()

    def space_url(self, space: Space) -> str:
        """API 1 of ``space``: ``https://<subdomain>.cobot.me`` in the real Cobot."""
        return f"{self.base_url}/space/{space.subdomain}"

    # -- objects --------------------------------------------------------------------
    def add_user(self, email: str, name: str = "", user_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            name = name or email.split("@", maxsplit=1)[0]
            user = {"id": user_id or hex_id(), "email": email, "name": name}
            self.users[user["id"]] = user
            return user

    def add_space(
        self, subdomain: str, name: str, admins: list[str] | None = None, country_code: str = "DE"
    ) -> Space:
        with self.lock:
            if subdomain in self.spaces:
                raise HttpError(409, {"error": "subdomain taken"})
            # GUESS: API 1 and API 2 space ids differ (API 1 docs show "space-co-up",
            # API 2 hex ids); the sandbox keeps them apart so a mix-up shows.
            space = Space(
                subdomain=subdomain,
                name=name,
                api1_id=f"space-{subdomain}",
                api2_id=hex_id(),
                country_code=country_code,
                admins=set(admins or []),
            )
            self.spaces[subdomain] = space
            return space

    def add_token(
        self, user_id: str, scope: str = "", client_id: str = "sandbox", space: str | None = None
    ) -> str:
        with self.lock:
            token = secrets.token_hex(20)
            self.tokens[token] = {
                "user": user_id,
                "scope": scope.split(),
                "client_id": client_id,
                "space": space,
            }
            return token

    def admin_spaces(self, info: dict[str, Any]) -> list[Space]:
        """The spaces a token's user administers, only the bound one for a space token."""
        return [
            s
            for s in self.spaces.values()
            if info["user"] in s.admins and (info["space"] is None or info["space"] == s.api1_id)
        ]

    # -- the checks of every API call --------------------------------------------------
    def authenticate(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The request's bearer token and what it grants; counts against the rate limit."""
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise HttpError(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        self._count_call(token, request)
        return token, self.tokens[token]

    def configure_rate_limit(self, per_minute: int | None, member_list: int | None) -> None:
        with self.lock:
            self.rate_limit = per_minute
            self.member_list_limit = member_list
            self._calls.clear()

    def _count_call(self, token: str, request: Request) -> None:
        if self.rate_limit is None:
            return
        limit = self.rate_limit
        if request.path.endswith("/api/memberships") and self.member_list_limit:
            limit = self.member_list_limit
        now = time.monotonic()
        with self.lock:
            window = self._calls.setdefault(f"{token}:{limit}", deque())
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= limit:
                retry_after = max(1, int(window[0] + 60 - now + 0.999))
                raise HttpError(
                    429,
                    {"errors": [{"status": "429", "title": "Too many requests"}]},
                    {"Retry-After": str(retry_after)},
                )
            window.append(now)

    def space_access(self, request: Request, subdomain: str) -> tuple[Space, dict[str, Any]]:
        """The space, if the request's token is bound to it or its user is an admin."""
        _, info = self.authenticate(request)
        space = self.spaces.get(subdomain)
        if space is None:
            raise HttpError(404, {"error": "space not found"})
        if info["space"] == space.api1_id:
            return space, info
        if info["space"] is None and info["user"] in space.admins:
            return space, info
        raise HttpError(403, {"error": "forbidden"})

    def space_by_api2(self, request: Request, space_id: str) -> Space:
        space = next((s for s in self.spaces.values() if s.api2_id == space_id), None)
        if space is None:
            raise jsonapi_error(404, "Space not found")
        self.space_access(request, space.subdomain)
        return space
