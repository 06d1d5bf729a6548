"""A stateful fake of Cobot: OAuth, API 1 (www and per-space), API 2, webhooks.

One server plays every Cobot host. Paths:

- ``/oauth/authorize``, ``/oauth/access_token``, ``/api/user``, ``/api/spaces/<sub>``,
  ``/api/access_tokens/<token>[/space]`` -- what lives on www.cobot.me (``COBOT_URL``);
- ``/space/<subdomain>/api/...`` -- API 1 of one space (``COBOT_SPACE_URL`` is
  ``<base>/space/{subdomain}``), standing in for ``https://<subdomain>.cobot.me``;
- ``/api2/...`` -- API 2 (``COBOT_API2_URL`` is ``<base>/api2``).

Webhooks are really delivered over HTTP by a background thread, with Cobot's
documented behaviour: up to 10 retries at growing intervals, deactivation after
the last failure, immediate deactivation on 410, redirects not followed. The retry
schedule can be shortened for tests (``PUT /_sandbox/webhooks``).

Guesses about the real API are marked GUESS at the one place they are made.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import heapq
import html
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import requests

from cobot_sevdesk.http import USER_AGENT
from cobot_sevdesk.sandbox.pdf import invoice_pdf
from cobot_sevdesk.sandbox.rounding import invoice_amounts
from cobot_sevdesk.sandbox.server import App, HttpError, Request, Response

log = logging.getLogger(__name__)

JSONAPI = "application/vnd.api+json"
#: Cobot: "up to 10 retries with growing intervals over up to 20 hours".
#: GUESS: the exact intervals are not published; these add up to 20 hours.
REAL_RETRY_DELAYS = (60, 300, 900, 1800, 3600, 5400, 7200, 10800, 14400, 27600)
#: Deliveries run in parallel, as they would from Cobot's many workers.
DELIVERY_THREADS = 8
WEBHOOK_EVENTS = (
    "created_membership",
    "confirmed_membership",
    "updated_membership_details",
    "canceled_membership",
    "created_invoice",
    "updated_invoice",
    "deleted_invoice",
)


UI_PAGE = """<!doctype html><html><head><meta charset='utf-8'><title>Cobot sandbox</title>
<style>body{{font:15px system-ui;margin:2rem;max-width:60rem}}
section{{border:1px solid #ccc;border-radius:8px;padding:0 1rem 1rem;margin:1rem 0}}
label{{margin-right:.6rem}}.done{{background:#e6f6ea;padding:.5rem}}</style></head>
<body><h1>Cobot sandbox</h1>
<p>Create members and invoices here; Cobot's webhooks tell the add-on at once.</p>
{notice}{sections}</body></html>"""

UI_SECTION = """<section><h2>{name}</h2>
<form method='post' action='/_sandbox/ui/member'>
<input type='hidden' name='space' value='{space}'>
<h3>New member</h3>
<label>Name <input name='name' required></label> <label>E-mail <input name='email'></label>
<label>Company <input name='company'></label> <label>City <input name='city'></label>
<button>Create member</button></form>
<form method='post' action='/_sandbox/ui/invoice'>
<input type='hidden' name='space' value='{space}'>
<h3>New invoice</h3>
<label>Member <select name='member'><option value=''>(walk-in guest)</option>
{members}</select></label>
<label>Line <input name='description' value='Day pass' required></label>
<label>Net amount <input name='amount' value='19.50' required></label>
<label>VAT <select name='rate'><option>19</option><option>7</option><option>0</option>
</select></label>
<label>Accounting code <select name='code'>{codes}</select></label>
<button>Create invoice</button></form></section>"""


def _hex_id() -> str:
    return secrets.token_hex(16)


def _slash_date(day: dt.date) -> str:
    return day.strftime("%Y/%m/%d")


def _slash_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y/%m/%d %H:%M:%S +0000")


def _jsonapi_errors(status: int, detail: str) -> HttpError:
    return HttpError(
        status, {"errors": [{"status": str(status), "title": detail, "detail": detail}]}
    )


def invoice_items(lines: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """An invoice's ``items`` and ``totalAmount`` as API 2 shows them."""
    amounts = invoice_amounts(lines)
    items = [
        {
            "description": line["description"],
            "quantity": format(line_amounts.quantity, "f"),
            "paid": False,
            "accountingCode": line.get("accounting_code"),
            "costCenter": (
                {"name": line["cost_center"], "number": line["cost_center"]}
                if line.get("cost_center")
                else None
            ),
            "revenueAccount": None,
            "amount": line_amounts.unit_json(currency),
            "totalAmount": line_amounts.total_json(currency),
        }
        for line, line_amounts in zip(lines, amounts.lines, strict=True)
    ]
    return {"items": items, "totalAmount": amounts.total_json(currency)}


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


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    subscription_id: str = field(compare=False)
    space: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False)
    attempt: int = field(compare=False, default=0)
    record: dict[str, Any] = field(compare=False, default_factory=dict)


class CobotSandbox(App):
    name = "cobot-sandbox"

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, dict[str, Any]] = {}
        self.spaces: dict[str, Space] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.clients: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.retry_delays: tuple[float, ...] = REAL_RETRY_DELAYS
        self.webhook_timeout = 10.0
        self.pdf_lifetime = 300.0
        self.rate_limit: int | None = None
        self.member_list_limit: int | None = None
        self._calls: dict[str, deque[float]] = {}
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._wake = threading.Condition(self.lock)
        self._session = requests.Session()
        self._session.trust_env = False
        for n in range(DELIVERY_THREADS):
            threading.Thread(
                target=self._deliver_loop, name=f"cobot-webhooks-{n}", daemon=True
            ).start()
        self._routes()

    def _routes(self) -> None:
        r = self.route
        r("GET", "/oauth/authorize", self.authorize_page)
        r("POST", "/oauth/authorize", self.authorize_approve)
        r("POST", "/oauth/access_token", self.access_token)
        r("GET", "/api/user", self.api1_user)
        r("GET", "/api/spaces/<subdomain>", self.api1_space)
        r("GET", "/api/access_tokens/<token>", self.token_info)
        r("DELETE", "/api/access_tokens/<token>", self.revoke_token)
        r("POST", "/api/access_tokens/<token>/space", self.bind_token)
        s = "/space/<subdomain>/api"
        r("GET", s + "/memberships", self.list_memberships)
        r("GET", s + "/memberships/<id>", self.get_membership)
        r("PUT", s + "/memberships/<id>", self.update_membership)
        r("GET", s + "/invoices", self.api1_list_invoices)
        r("GET", s + "/invoices/<id>", self.api1_get_invoice)
        r("GET", s + "/accounting_codes", self.list_accounting_codes)
        r("GET", s + "/subscriptions", self.list_subscriptions)
        r("POST", s + "/subscriptions", self.create_subscription)
        r("GET", s + "/subscriptions/<id>", self.get_subscription)
        r("DELETE", s + "/subscriptions/<id>", self.delete_subscription)
        r("POST", s + "/activities", self.post_activity)
        r("GET", s + "/activities", self.list_activities)
        r("GET", "/api2/user", self.api2_user)
        r("GET", "/api2/spaces/<id>", self.api2_space)
        r("GET", "/api2/spaces/<id>/invoices", self.api2_list_invoices)
        r("GET", "/api2/invoices/<id>.pdf", self.invoice_pdf)  # before the plain id route
        r("GET", "/api2/invoices/<id>", self.api2_get_invoice)
        # inspection and control
        r("POST", "/_sandbox/users", self._create_user)
        r("POST", "/_sandbox/clients", self._create_client)
        r("POST", "/_sandbox/tokens", self._create_token)
        r("POST", "/_sandbox/tokens/<token>/revoke", self._revoke_token)
        r("POST", "/_sandbox/spaces", self._create_space)
        r("GET", "/_sandbox/spaces/<subdomain>", self._space_state)
        r("PUT", "/_sandbox/spaces/<subdomain>/admins", self._set_admins)
        r("POST", "/_sandbox/spaces/<subdomain>/accounting_codes", self._add_accounting_code)
        r(
            "DELETE",
            "/_sandbox/spaces/<subdomain>/accounting_codes/<name>",
            self._remove_accounting_code,
        )
        r("POST", "/_sandbox/spaces/<subdomain>/memberships", self._create_membership)
        r("POST", "/_sandbox/spaces/<subdomain>/memberships/<id>/confirm", self._confirm_membership)
        r("POST", "/_sandbox/spaces/<subdomain>/invoices", self._create_invoice)
        r("PATCH", "/_sandbox/spaces/<subdomain>/invoices/<id>", self._update_invoice)
        r("POST", "/_sandbox/spaces/<subdomain>/subscriptions/<id>/deactivate", self._deactivate)
        r("GET", "/_sandbox/deliveries", self._list_deliveries)
        r("GET", "/_sandbox/ui", self._ui)
        r("POST", "/_sandbox/ui/member", self._ui_member)
        r("POST", "/_sandbox/ui/invoice", self._ui_invoice)
        r("PUT", "/_sandbox/webhooks", self._configure_webhooks)
        r("PUT", "/_sandbox/rate-limit", self._configure_rate_limit)

    # ================================================================ state
    def reset(self) -> None:
        super().reset()
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
            self.deliveries.clear()
            self._queue.clear()
            self.retry_delays = REAL_RETRY_DELAYS
            self.webhook_timeout = 10.0
            self.pdf_lifetime = 300.0
            self.rate_limit = None
            self.member_list_limit = None

    def space_url(self, space: Space) -> str:
        return f"{self.base_url}/space/{space.subdomain}"

    def add_user(self, email: str, name: str = "", user_id: str | None = None) -> dict[str, Any]:
        with self.lock:
            name = name or email.split("@", maxsplit=1)[0]
            user = {"id": user_id or _hex_id(), "email": email, "name": name}
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
                api2_id=_hex_id(),
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

    # ============================================================== auth
    def _token(self, request: Request) -> tuple[str, dict[str, Any]]:
        header = request.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            raise HttpError(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        self._rate_limit(token, request)
        return token, self.tokens[token]

    def _rate_limit(self, token: str, request: Request) -> None:
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

    def _space_access(self, request: Request, subdomain: str) -> tuple[Space, dict[str, Any]]:
        _, info = self._token(request)
        space = self.spaces.get(subdomain)
        if space is None:
            raise HttpError(404, {"error": "space not found"})
        if info["space"] == space.api1_id:
            return space, info
        if info["space"] is None and info["user"] in space.admins:
            return space, info
        raise HttpError(403, {"error": "forbidden"})

    def _space_by_api2(self, request: Request, space_id: str) -> Space:
        space = next((s for s in self.spaces.values() if s.api2_id == space_id), None)
        if space is None:
            raise _jsonapi_errors(404, "Space not found")
        self._space_access(request, space.subdomain)
        return space

    # ============================================================== OAuth
    def _client(self, client_id: str | None) -> dict[str, Any]:
        client = self.clients.get(client_id or "")
        if client is None:
            raise HttpError(400, {"error": "invalid_client"})
        return client

    def authorize_page(self, request: Request) -> Response:
        client = self._client(request.arg("client_id"))
        redirect_uri = request.arg("redirect_uri") or ""
        if client["redirect_uris"] and redirect_uri not in client["redirect_uris"]:
            raise HttpError(400, {"error": "redirect_uri does not match the registered one"})
        if request.arg("response_type") != "code":
            raise HttpError(400, {"error": "unsupported_response_type"})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v[0])}">'
            for k, v in request.query.items()
        )
        buttons = "".join(
            f'<button name="user_id" value="{html.escape(u["id"])}">'
            f"Approve as {html.escape(u['name'])} ({html.escape(u['email'])})</button><br>"
            for u in self.users.values()
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<title>Cobot sandbox: authorize</title></head>"
            "<body><h1>Cobot sandbox</h1>"
            f"<p>The app <b>{html.escape(client['name'])}</b> asks for access: "
            f"{html.escape(request.arg('scope') or '')}</p>"
            f"<form method='post' action='/oauth/authorize'>{hidden}{buttons}</form></body></html>"
        )
        return Response(200, page, content_type="text/html; charset=utf-8")

    def authorize_approve(self, request: Request) -> Response:
        form = request.form()
        client_id = form.get("client_id")
        self._client(client_id)
        user_id = form.get("user_id", "")
        if user_id not in self.users:
            raise HttpError(400, {"error": "unknown user"})
        method = form.get("code_challenge_method")
        if form.get("code_challenge") and method != "S256":
            raise HttpError(400, {"error": "only S256 PKCE is supported"})
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {
                "user": user_id,
                "client_id": client_id,
                "redirect_uri": form.get("redirect_uri"),
                "scope": form.get("scope", ""),
                "challenge": form.get("code_challenge"),
                "expires": time.time() + 600,
            }
        query = {"code": code}
        if form.get("state"):
            query["state"] = form["state"]
        target = form.get("redirect_uri", "")
        separator = "&" if "?" in target else "?"
        return Response(302, b"", {"Location": target + separator + urlencode(query)})

    def access_token(self, request: Request) -> Response:
        form = request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.header("authorization") or ""
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        client = self._client(client_id)
        if not secrets.compare_digest(client["secret"], client_secret or ""):
            raise HttpError(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            raise HttpError(400, {"error": "unsupported_grant_type"})
        with self.lock:
            grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or grant["expires"] < time.time() or grant["client_id"] != client_id:
            raise HttpError(400, {"error": "invalid_grant"})
        if grant["redirect_uri"] and form.get("redirect_uri") != grant["redirect_uri"]:
            raise HttpError(
                400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
            )
        if grant["challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
                b"="
            )
            if digest.decode() != grant["challenge"]:
                raise HttpError(
                    400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
                )
        token = self.add_token(grant["user"], grant["scope"], client_id or "")
        # GUESS: Cobot issues long-lived tokens without refresh (only authorization_code
        # is advertised), so no expires_in / refresh_token here.
        return Response(
            200, {"access_token": token, "token_type": "bearer", "scope": grant["scope"]}
        )

    # ============================================================== API 1 (www)
    def api1_user(self, request: Request) -> Any:
        _, info = self._token(request)
        user = self.users[info["user"]]
        admin_of = [
            {
                "space_subdomain": s.subdomain,
                "space_name": s.name,
                "space_link": f"{self.base_url}/api/spaces/{s.subdomain}",
                "name": user["name"],
            }
            for s in self.spaces.values()
            if user["id"] in s.admins and (info["space"] is None or info["space"] == s.api1_id)
        ]
        return {"id": user["id"], "email": user["email"], "memberships": [], "admin_of": admin_of}

    def api1_space(self, request: Request) -> Any:
        space = self.spaces.get(request.params["subdomain"])
        if space is None:
            raise HttpError(404, {"error": "not found"})
        return {
            "id": space.api1_id,
            "subdomain": space.subdomain,
            "name": space.name,
            "url": self.space_url(space),
            "country": space.country_code,
        }

    def token_info(self, request: Request) -> Any:
        info = self.tokens.get(request.params["token"])
        if info is None:
            raise HttpError(404, {"error": "not found"})
        return {"scope": info["scope"]}

    def revoke_token(self, request: Request) -> Response:
        with self.lock:
            if self.tokens.pop(request.params["token"], None) is None:
                raise HttpError(404, {"error": "not found"})
        return Response(204)

    def bind_token(self, request: Request) -> Any:
        token = request.params["token"]
        info = self.tokens.get(token)
        if info is None:
            raise HttpError(404, {"error": "not found"})
        body = request.json()
        space = next((s for s in self.spaces.values() if s.api1_id == body.get("space_id")), None)
        if space is None:
            raise HttpError(422, {"errors": {"space_id": "is invalid"}})
        if info["user"] not in space.admins:
            raise HttpError(403, {"error": "not an admin of this space"})
        bound = self.add_token(
            info["user"], " ".join(info["scope"]), info["client_id"], space.api1_id
        )
        return {"scope": info["scope"], "token": bound, "client_id": info["client_id"]}

    # ============================================================== memberships
    def _membership_out(self, space: Space, m: dict[str, Any]) -> dict[str, Any]:
        address = m["address"]
        full = "\n".join(
            part
            for part in (
                address.get("address"),
                " ".join(p for p in (address.get("post_code"), address.get("city")) if p),
                address.get("country"),
            )
            if part
        )
        return {
            "id": m["id"],
            "name": m["name"],
            "email": m["email"],
            "phone": m.get("phone"),
            "user": {"id": m["user_id"], "email": m["email"]},
            "address": {
                "company": address.get("company"),
                "name": address.get("name") or m["name"],
                "full_address": full,
                "address": address.get("address"),
                "post_code": address.get("post_code"),
                "city": address.get("city"),
                "state": address.get("state"),
                "country": address.get("country"),
            },
            "billing_emails": list(m.get("billing_emails", [])),
            "charge_taxes": True,
            "customer_number": m.get("customer_number"),
            "plan": {"name": m.get("plan", "Flex Desk"), "accounting_code": m.get("plan_code")},
            "confirmed_at": _slash_time(m["confirmed_at"]) if m["confirmed_at"] else None,
            "starts_at": _slash_date(m["created_at"].date()),
            "canceled_to": None,
            "url": f"{self.space_url(space)}/api/memberships/{m['id']}",
        }

    def list_memberships(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        # Documented: the list holds current (confirmed, not canceled) members.
        return [
            self._membership_out(space, m) for m in space.memberships.values() if m["confirmed_at"]
        ]

    def get_membership(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        member = space.memberships.get(request.params["id"])
        if member is None:
            raise HttpError(404, {"error": "not found"})
        return self._membership_out(space, member)

    def update_membership(self, request: Request) -> Any:
        """GUESS: PUT with ``{"customer_number": ...}`` (the write-back call is undocumented)."""
        space, _ = self._space_access(request, request.params["subdomain"])
        member = space.memberships.get(request.params["id"])
        if member is None:
            raise HttpError(404, {"error": "not found"})
        body = request.json()
        unknown = set(body) - {"customer_number", "name", "email", "phone"}
        if unknown:
            raise HttpError(422, {"errors": dict.fromkeys(sorted(unknown), "is not writable")})
        if "customer_number" in body:
            number = body["customer_number"]
            if number is not None and (not isinstance(number, str) or len(number) > 40):
                raise HttpError(422, {"errors": {"customer_number": "is invalid"}})
            with self.lock:
                member["customer_number"] = number
        return self._membership_out(space, member)

    # ============================================================== invoices
    def _invoice_api2(self, space: Space, inv: dict[str, Any]) -> dict[str, Any]:
        amounts = invoice_items(inv["lines"], inv["currency"])
        pdf_token = secrets.token_urlsafe(12)
        with self.lock:
            inv["pdf_tokens"][pdf_token] = time.time() + self.pdf_lifetime
        recipient = {
            "name": inv["recipient"].get("name"),
            "company": inv["recipient"].get("company"),
            "fullAddress": inv["recipient"].get("fullAddress")
            or ", ".join(
                p
                for p in (
                    inv["recipient"].get("street"),
                    inv["recipient"].get("postCode"),
                    inv["recipient"].get("city"),
                )
                if p
            ),
            "street": inv["recipient"].get("street"),
            "postCode": inv["recipient"].get("postCode"),
            "city": inv["recipient"].get("city"),
            "state": inv["recipient"].get("state"),
            "countryCode": inv["recipient"].get("countryCode"),
        }
        sender = {
            "name": None,
            "company": space.name,
            "fullAddress": "Coworkingstraße 1, 10115 Berlin",
            "street": "Coworkingstraße 1",
            "postCode": "10115",
            "city": "Berlin",
            "state": None,
            "countryCode": space.country_code,
        }
        relationships: dict[str, Any] = {
            "space": {"data": {"id": space.api2_id, "type": "spaces"}},
            "paymentMethods": {
                "links": {"related": f"{self.base_url}/api2/invoices/{inv['id']}/payment_methods"}
            },
        }
        if inv.get("membership_id"):
            relationships["debitor"] = {"data": {"id": inv["membership_id"], "type": "memberships"}}
        if inv.get("corrected_invoice"):
            relationships["correctedInvoice"] = {
                "data": {"id": inv["corrected_invoice"], "type": "invoices"}
            }
        return {
            "id": inv["id"],
            "type": "invoices",
            "attributes": {
                "invoiceText": inv.get("text"),
                "invoiceDate": inv["invoice_date"].isoformat(),
                "paidDate": None,
                "dueDate": inv["due_date"].isoformat(),
                "eInvoicingReady": False,
                "remindAt": inv["due_date"].isoformat(),
                "number": inv["number"],
                "senderTaxId": "DE123456789",
                "taxId": inv.get("tax_id"),
                "taxIdName": "USt-IdNr.",
                "customerNumber": inv.get("customer_number"),
                "pdf": {
                    "archived": False,
                    "eInvoiceStandard": None,
                    "eInvoice": False,
                    "url": f"{self.base_url}/api2/invoices/{inv['id']}.pdf?token={pdf_token}",
                },
                "recipientAddress": recipient,
                "senderAddress": sender,
                "notes": None,
                "billingEmails": list(inv.get("billing_emails", [])),
                "items": amounts["items"],
                "payableAmount": amounts["totalAmount"]["gross"],
                "paidAmount": "0.00",
                "paidStatus": inv.get("paid_status", "unpaid"),
                "reminderStatus": "notSent",
                "sentRemindersCount": 0,
                "lastReminderSentAt": None,
                "chargeAt": None,
                "canCharge": False,
                "canUpdate": True,
                "sentStatus": "unsent",
                "totalAmount": amounts["totalAmount"],
            },
            "relationships": relationships,
        }

    def api2_get_invoice(self, request: Request) -> Response:
        for space in self.spaces.values():
            invoice = space.invoices.get(request.params["id"])
            if invoice is not None:
                self._space_access(request, space.subdomain)
                return Response(
                    200, {"data": self._invoice_api2(space, invoice)}, content_type=JSONAPI
                )
        self._token(request)
        raise _jsonapi_errors(404, "Invoice not found")

    def api2_list_invoices(self, request: Request) -> Response:
        space = self._space_by_api2(request, request.params["id"])
        try:
            page = int(request.arg("page[number]") or 1)
            size = int(request.arg("page[size]") or 72)
        except ValueError:
            raise _jsonapi_errors(400, "page parameters must be integers") from None
        if size > 200 or size < 1 or page < 1:
            raise _jsonapi_errors(400, "page[size] must be between 1 and 200")
        start_text, end_text = request.arg("filter[from]"), request.arg("filter[to]")
        try:
            start = dt.date.fromisoformat(start_text) if start_text else None
            end = dt.date.fromisoformat(end_text) if end_text else None
        except ValueError:
            raise _jsonapi_errors(400, "filter dates must be YYYY-MM-DD") from None
        rows = sorted(
            (
                inv
                for inv in space.invoices.values()
                if (start is None or inv["invoice_date"] >= start)
                and (end is None or inv["invoice_date"] <= end)
            ),
            key=lambda inv: (inv["invoice_date"], inv["seq"]),
        )
        pages = max(1, -(-len(rows) // size))
        chosen = rows[(page - 1) * size : page * size]

        def link(number: int) -> str:
            query = {k: v[0] for k, v in request.query.items()}
            query["page[number]"] = str(number)
            query["page[size]"] = str(size)
            return f"{self.base_url}{request.path}?{urlencode(query)}"

        body = {
            "data": [self._invoice_api2(space, inv) for inv in chosen],
            "meta": {"totalPages": pages, "currentPage": page},
            "links": {
                "self": link(page),
                "first": link(1),
                "prev": link(page - 1) if page > 1 else None,
                "next": link(page + 1) if page < pages else None,
                "last": link(pages),
            },
        }
        return Response(200, body, content_type=JSONAPI)

    def invoice_pdf(self, request: Request) -> Response:
        """The PDF link works without auth but only for a few minutes (documented)."""
        for space in self.spaces.values():
            invoice = space.invoices.get(request.params["id"])
            if invoice is None:
                continue
            expires = invoice["pdf_tokens"].get(request.arg("token") or "")
            if expires is None or expires < time.time():
                raise _jsonapi_errors(403, "PDF link expired")
            amounts = invoice_items(invoice["lines"], invoice["currency"])
            lines = [
                f"{space.name}",
                f"Invoice {invoice['number']}",
                f"Date {invoice['invoice_date']}",
            ]
            lines += [f"{i['description']}: {i['totalAmount']['gross']}" for i in amounts["items"]]
            lines.append(f"Total {amounts['totalAmount']['gross']} {invoice['currency']}")
            return Response(200, invoice_pdf(lines), content_type="application/pdf")
        raise _jsonapi_errors(404, "Invoice not found")

    def _invoice_api1(self, space: Space, inv: dict[str, Any]) -> dict[str, Any]:
        amounts = invoice_items(inv["lines"], inv["currency"])
        return {
            "id": inv["id"],
            "membership_id": inv.get("membership_id"),
            "invoice_number": inv["seq"],
            "formatted_invoice_number": inv["number"],
            "customer_number": inv.get("customer_number"),
            "created_at": _slash_date(inv["invoice_date"]),
            "due_date": _slash_date(inv["due_date"]),
            "currency": inv["currency"],
            "items": [
                {
                    "description": i["description"],
                    "quantity": i["quantity"],
                    "amount": i["amount"]["net"],
                    "tax_rate": i["amount"]["taxes"][0]["rate"] if i["amount"]["taxes"] else "0.0",
                    "total_amount": i["totalAmount"]["net"],
                    "total_amount_with_tax": i["totalAmount"]["gross"],
                    "accounting_code": i["accountingCode"],
                }
                for i in amounts["items"]
            ],
            "total_amount": amounts["totalAmount"]["gross"],
            "total_amount_without_taxes": amounts["totalAmount"]["net"],
            "url": f"{self.space_url(space)}/api/invoices/{inv['id']}",
        }

    def api1_get_invoice(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        invoice = space.invoices.get(request.params["id"])
        if invoice is None:
            raise HttpError(404, {"error": "not found"})
        return self._invoice_api1(space, invoice)

    def api1_list_invoices(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        ids = set((request.arg("ids") or "").split(",")) - {""}
        return [
            self._invoice_api1(space, i)
            for i in space.invoices.values()
            if not ids or i["id"] in ids
        ]

    def list_accounting_codes(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        return [dict(code) for code in space.accounting_codes]

    # ============================================================== webhooks
    def _subscription_out(self, space: Space, sub: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": sub["id"],
            "event": sub["event"],
            "callback_url": sub["callback_url"],
            "url": f"{self.space_url(space)}/api/subscriptions/{sub['id']}",
            "active": sub["active"],
        }

    def list_subscriptions(self, request: Request) -> Any:
        space, info = self._space_access(request, request.params["subdomain"])
        # Documented: the subscriptions of the current user and app.
        return [
            self._subscription_out(space, s)
            for s in space.subscriptions.values()
            if s["client_id"] == info["client_id"]
        ]

    def get_subscription(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        sub = space.subscriptions.get(request.params["id"])
        if sub is None:
            raise HttpError(404, {"error": "not found"})
        return self._subscription_out(space, sub)

    def create_subscription(self, request: Request) -> Response:
        space, info = self._space_access(request, request.params["subdomain"])
        body = request.json()
        event, callback = body.get("event"), body.get("callback_url")
        errors = {}
        if event not in WEBHOOK_EVENTS:
            errors["event"] = "is not a known event"
        if not isinstance(callback, str) or not callback.startswith(("http://", "https://")):
            errors["callback_url"] = "is not a valid URL"
        if errors:
            raise HttpError(422, {"errors": errors})
        with self.lock:
            for sub in space.subscriptions.values():
                if sub["event"] == event and sub["callback_url"] == callback:
                    raise HttpError(409, {"errors": {"callback_url": "already subscribed"}})
            sub = {
                "id": _hex_id(),
                "event": event,
                "callback_url": callback,
                "active": True,
                "client_id": info["client_id"],
            }
            space.subscriptions[sub["id"]] = sub
        return Response(201, self._subscription_out(space, sub))

    def delete_subscription(self, request: Request) -> Response:
        space, _ = self._space_access(request, request.params["subdomain"])
        with self.lock:
            if space.subscriptions.pop(request.params["id"], None) is None:
                raise HttpError(404, {"error": "not found"})
        return Response(204)

    def emit(self, space: Space, event: str, resource_url: str) -> None:
        """Queue one delivery per active subscription of ``space`` to ``event``."""
        with self.lock:
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
                heapq.heappush(
                    self._queue,
                    _Delivery(
                        time.monotonic(),
                        next(self._seq),
                        sub["id"],
                        space.subdomain,
                        record["payload"],
                        0,
                        record,
                    ),
                )
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
        with self.lock:
            space = self.spaces.get(delivery.space)
            sub = space.subscriptions.get(delivery.subscription_id) if space else None
            if space is None or sub is None or not sub["active"]:
                delivery.record["state"] = "dropped"
                return
            callback = sub["callback_url"]
            timeout = self.webhook_timeout
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
        with self.lock:
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
            heapq.heappush(
                self._queue,
                _Delivery(
                    time.monotonic() + self.retry_delays[delivery.attempt],
                    next(self._seq),
                    delivery.subscription_id,
                    delivery.space,
                    delivery.payload,
                    delivery.attempt + 1,
                    delivery.record,
                ),
            )
            self._wake.notify_all()

    # ============================================================== activities
    def post_activity(self, request: Request) -> Response:
        space, _ = self._space_access(request, request.params["subdomain"])
        body = request.json()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise HttpError(422, {"errors": {"text": "can't be blank"}})
        level = body.get("level")
        if level not in (None, "WARN", "ERROR"):
            raise HttpError(422, {"errors": {"level": "is not included in the list"}})
        channels = body.get("channels") or ["admin"]
        if not set(channels) <= {"admin", "membership"}:
            raise HttpError(422, {"errors": {"channels": "is invalid"}})
        activity = {
            "created_at": _slash_time(dt.datetime.now(tz=dt.UTC)),
            "type": "text",
            "channels": channels,
            "level": level,
            "attributes": {"text": text},
        }
        with self.lock:
            space.activities.append(activity)
        return Response(201, activity)

    def list_activities(self, request: Request) -> Any:
        space, _ = self._space_access(request, request.params["subdomain"])
        return list(space.activities)

    # ============================================================== API 2 user/space
    def api2_user(self, request: Request) -> Response:
        _, info = self._token(request)
        user = self.users[info["user"]]
        includes = set((request.arg("include") or "").split(","))
        spaces = [
            s
            for s in self.spaces.values()
            if user["id"] in s.admins and (info["space"] is None or info["space"] == s.api1_id)
        ]
        body: dict[str, Any] = {
            "data": {
                "id": user["id"],
                "type": "users",
                "attributes": {"email": user["email"]},
                "relationships": {
                    "adminOf": {"data": [{"id": s.api2_id, "type": "spaces"} for s in spaces]}
                },
            }
        }
        if "adminOf" in includes:
            body["included"] = [
                {
                    "id": s.api2_id,
                    "type": "spaces",
                    "attributes": {
                        "name": s.name,
                        "subdomain": s.subdomain,
                        "countryCode": s.country_code,
                        "locale": "de-DE",
                        "inEu": True,
                        "timeZone": "Europe/Berlin",
                        "hourFormat": 24,
                    },
                }
                for s in spaces
            ]
        return Response(200, body, content_type=JSONAPI)

    def api2_space(self, request: Request) -> Response:
        space = self._space_by_api2(request, request.params["id"])
        body = {
            "data": {
                "id": space.api2_id,
                "type": "spaces",
                "attributes": {
                    "name": space.name,
                    "subdomain": space.subdomain,
                    "countryCode": space.country_code,
                },
            }
        }
        return Response(200, body, content_type=JSONAPI)

    # ============================================================== sandbox control
    def create_membership(self, space: Space, spec: dict[str, Any]) -> dict[str, Any]:
        now = dt.datetime.now(tz=dt.UTC)
        member = {
            "id": spec.get("id") or _hex_id(),
            "user_id": _hex_id(),
            "name": spec["name"],
            "email": spec.get("email") or f"{spec['name'].split()[0].lower()}@example.org",
            "phone": spec.get("phone"),
            "address": {
                "company": spec.get("company"),
                "name": spec.get("address_name"),
                "address": spec.get("street"),
                "post_code": spec.get("post_code"),
                "city": spec.get("city"),
                "state": spec.get("state"),
                "country": spec.get("country"),
            },
            "billing_emails": spec.get("billing_emails", []),
            "customer_number": spec.get("customer_number"),
            "confirmed_at": now if spec.get("confirmed", True) else None,
            "created_at": now,
            "plan": spec.get("plan", "Flex Desk"),
            "plan_code": spec.get("plan_code"),
        }
        with self.lock:
            space.memberships[member["id"]] = member
        url = f"{self.space_url(space)}/api/memberships/{member['id']}"
        self.emit(space, "created_membership", url)
        if member["confirmed_at"]:
            self.emit(space, "confirmed_membership", url)
        return member

    def create_invoice(self, space: Space, spec: dict[str, Any]) -> dict[str, Any]:
        member = space.memberships.get(spec.get("membership_id") or "")
        invoice_date = (
            dt.date.fromisoformat(spec["invoice_date"])
            if spec.get("invoice_date")
            else dt.datetime.now(tz=dt.UTC).date()
        )
        recipient = spec.get("recipient") or {}
        if member is not None and not recipient:
            address = member["address"]
            recipient = {
                "name": member["name"],
                "company": address.get("company"),
                "street": address.get("address"),
                "postCode": address.get("post_code"),
                "city": address.get("city"),
                "countryCode": spec.get("country_code", "DE"),
            }
        with self.lock:
            seq = space.next_number
            space.next_number += 1
            invoice = {
                "id": spec.get("id") or _hex_id(),
                "seq": seq,
                "number": spec.get("number") or f"{invoice_date.year}-{seq:04d}",
                "invoice_date": invoice_date,
                "due_date": invoice_date + dt.timedelta(days=int(spec.get("payment_days", 14))),
                "membership_id": member["id"] if member else spec.get("membership_id"),
                # The invoice carries the member's customer number at the time it is issued.
                "customer_number": spec.get(
                    "customer_number", member.get("customer_number") if member else None
                ),
                "tax_id": spec.get("tax_id"),
                "recipient": recipient,
                "billing_emails": spec.get("billing_emails", []),
                "currency": spec.get("currency", "EUR"),
                "lines": spec["lines"],
                "corrected_invoice": spec.get("corrected_invoice"),
                "text": spec.get("text"),
                "pdf_tokens": {},
            }
            space.invoices[invoice["id"]] = invoice
        self.emit(space, "created_invoice", f"{self.space_url(space)}/api/invoices/{invoice['id']}")
        return invoice

    def _space(self, request: Request) -> Space:
        space = self.spaces.get(request.params["subdomain"])
        if space is None:
            raise HttpError(404, {"error": "no such sandbox space"})
        return space

    def _create_user(self, request: Request) -> Response:
        body = request.json()
        return Response(201, self.add_user(body["email"], body.get("name", ""), body.get("id")))

    def _create_client(self, request: Request) -> Response:
        body = request.json()
        with self.lock:
            self.clients[body["client_id"]] = {
                "secret": body["client_secret"],
                "name": body.get("name", body["client_id"]),
                "redirect_uris": body.get("redirect_uris", []),
            }
        return Response(201, {"client_id": body["client_id"]})

    def _create_token(self, request: Request) -> Response:
        body = request.json()
        space = self.spaces.get(body["space"]) if body.get("space") else None
        token = self.add_token(
            body["user_id"],
            body.get("scope", ""),
            body.get("client_id", "sandbox"),
            space.api1_id if space else None,
        )
        return Response(201, {"token": token})

    def _revoke_token(self, request: Request) -> Response:
        with self.lock:
            self.tokens.pop(request.params["token"], None)
        return Response(204)

    def _create_space(self, request: Request) -> Response:
        body = request.json()
        space = self.add_space(
            body["subdomain"],
            body.get("name", body["subdomain"]),
            body.get("admins"),
            body.get("country_code", "DE"),
        )
        return Response(
            201,
            {
                "subdomain": space.subdomain,
                "api1_id": space.api1_id,
                "api2_id": space.api2_id,
                "url": self.space_url(space),
            },
        )

    def _space_state(self, request: Request) -> Any:
        space = self._space(request)
        with self.lock:
            return {
                "api1_id": space.api1_id,
                "api2_id": space.api2_id,
                "memberships": [self._membership_out(space, m) for m in space.memberships.values()],
                "invoices": [self._invoice_api2(space, i) for i in space.invoices.values()],
                "subscriptions": [
                    self._subscription_out(space, s) for s in space.subscriptions.values()
                ],
                "activities": list(space.activities),
                "accounting_codes": list(space.accounting_codes),
            }

    def _set_admins(self, request: Request) -> Response:
        space = self._space(request)
        with self.lock:
            space.admins = set(request.json()["admins"])
        return Response(204)

    def _add_accounting_code(self, request: Request) -> Response:
        space = self._space(request)
        body = request.json()
        with self.lock:
            space.accounting_codes.append({"name": body["name"], "tax_rate": body.get("tax_rate")})
        return Response(201, body)

    def _remove_accounting_code(self, request: Request) -> Response:
        space = self._space(request)
        with self.lock:
            space.accounting_codes = [
                c for c in space.accounting_codes if c["name"] != request.params["name"]
            ]
        return Response(204)

    def _create_membership(self, request: Request) -> Response:
        space = self._space(request)
        member = self.create_membership(space, request.json())
        return Response(201, self._membership_out(space, member))

    def _confirm_membership(self, request: Request) -> Response:
        space = self._space(request)
        member = space.memberships.get(request.params["id"])
        if member is None:
            raise HttpError(404, {"error": "no such membership"})
        with self.lock:
            member["confirmed_at"] = dt.datetime.now(tz=dt.UTC)
        self.emit(
            space, "confirmed_membership", f"{self.space_url(space)}/api/memberships/{member['id']}"
        )
        return Response(200, self._membership_out(space, member))

    def _create_invoice(self, request: Request) -> Response:
        space = self._space(request)
        invoice = self.create_invoice(space, request.json())
        return Response(201, {"data": self._invoice_api2(space, invoice)})

    def _update_invoice(self, request: Request) -> Response:
        space = self._space(request)
        invoice = space.invoices.get(request.params["id"])
        if invoice is None:
            raise HttpError(404, {"error": "no such invoice"})
        body = request.json()
        with self.lock:
            for key in ("lines", "customer_number", "tax_id", "recipient", "text", "paid_status"):
                if key in body:
                    invoice[key] = body[key]
        self.emit(space, "updated_invoice", f"{self.space_url(space)}/api/invoices/{invoice['id']}")
        return Response(200, {"data": self._invoice_api2(space, invoice)})

    def _deactivate(self, request: Request) -> Response:
        space = self._space(request)
        sub = space.subscriptions.get(request.params["id"])
        if sub is None:
            raise HttpError(404, {"error": "no such subscription"})
        sub["active"] = False
        return Response(204)

    # -- a small page to create members and invoices by hand (the demo links to it) --
    def _ui(self, request: Request) -> Response:
        esc = html.escape
        notice = (
            f"<p class='done'>{esc(request.arg('done') or '')}</p>" if request.arg("done") else ""
        )
        sections = []
        for space in self.spaces.values():
            members = "".join(
                f"<option value='{esc(m['id'])}'>{esc(m['name'])}</option>"
                for m in space.memberships.values()
                if m["confirmed_at"]
            )
            codes = "".join(f"<option>{esc(c['name'])}</option>" for c in space.accounting_codes)
            sections.append(
                UI_SECTION.format(
                    name=esc(space.name), space=esc(space.subdomain), members=members, codes=codes
                )
            )
        body = UI_PAGE.format(notice=notice, sections="".join(sections) or "<p>No spaces yet.</p>")
        return Response(200, body, content_type="text/html; charset=utf-8")

    def _ui_member(self, request: Request) -> Response:
        form = request.form()
        space = self.spaces.get(form.get("space", ""))
        if space is None or not form.get("name", "").strip():
            raise HttpError(400, {"error": "space and name are required"})
        spec = {k: form[k] for k in ("name", "email", "company", "city") if form.get(k)}
        self.create_membership(space, spec)
        return Response(
            303,
            b"",
            {"Location": "/_sandbox/ui?" + urlencode({"done": f"Member {spec['name']} created."})},
        )

    def _ui_invoice(self, request: Request) -> Response:
        form = request.form()
        space = self.spaces.get(form.get("space", ""))
        if space is None:
            raise HttpError(400, {"error": "no such space"})
        try:
            amount = Decimal(form.get("amount", ""))
        except ArithmeticError:
            raise HttpError(400, {"error": "the amount must be a number"}) from None
        spec: dict[str, Any] = {
            "lines": [
                {
                    "description": form.get("description") or "Item",
                    "quantity": "1",
                    "unit_net": str(amount),
                    "tax_rate": form.get("rate", "19"),
                    "accounting_code": form.get("code") or None,
                }
            ],
        }
        if form.get("member"):
            spec["membership_id"] = form["member"]
        else:
            spec["recipient"] = {
                "name": "Walk-in guest",
                "company": None,
                "countryCode": space.country_code,
            }
        invoice = self.create_invoice(space, spec)
        done = f"Invoice {invoice['number']} created."
        return Response(303, b"", {"Location": "/_sandbox/ui?" + urlencode({"done": done})})

    def _list_deliveries(self, request: Request) -> Any:
        with self.lock:
            return [dict(d) for d in self.deliveries]

    def _configure_webhooks(self, request: Request) -> Response:
        body = request.json()
        with self.lock:
            if "retry_delays" in body:
                self.retry_delays = tuple(float(x) for x in body["retry_delays"])
            if "timeout" in body:
                self.webhook_timeout = float(body["timeout"])
            if "pdf_lifetime" in body:
                self.pdf_lifetime = float(body["pdf_lifetime"])
        return Response(204)

    def _configure_rate_limit(self, request: Request) -> Response:
        body = request.json()
        with self.lock:
            self.rate_limit = body.get("per_minute")
            self.member_list_limit = body.get("member_list_per_minute")
            self._calls.clear()
        return Response(204)
