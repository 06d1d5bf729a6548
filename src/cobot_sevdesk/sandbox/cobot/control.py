"""The sandbox's own control endpoints (``/_sandbox/...``, not part of Cobot): create
users, OAuth clients, tokens and spaces; add members and invoices, and cancel, write
off or delete invoices, as if an admin did it in Cobot (which fires the webhooks);
look at a space's state and the deliveries; configure webhooks, the rate limit and how
the customer-number write-back is treated. ``cobot_sevdesk.sandbox.control`` is their
client."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.cobot import api1, api2
from cobot_sevdesk.sandbox.cobot.state import CobotState, Space, hex_id
from cobot_sevdesk.sandbox.cobot.webhooks import Webhooks, subscription_json

#: API 2's ``paidStatus`` values (the invoice schema's enum).
PAID_STATUSES = ("unpaid", "paid", "pending", "canceled", "writtenOff")


class Control(Area[CobotState]):
    def __init__(self, state: CobotState, webhooks: Webhooks) -> None:
        super().__init__(state)
        self.webhooks = webhooks

    def register(self, app: App) -> None:
        r = app.route
        r("POST", "/_sandbox/users", self.create_user)
        r("POST", "/_sandbox/clients", self.create_client)
        r("POST", "/_sandbox/tokens", self.create_token)
        r("POST", "/_sandbox/tokens/<token>/revoke", self.revoke_token)
        r("POST", "/_sandbox/spaces", self.create_space)
        s = "/_sandbox/spaces/<subdomain>"
        r("GET", s, self.space_state)
        r("PUT", s + "/admins", self.set_admins)
        r("POST", s + "/accounting_codes", self.add_accounting_code)
        r("DELETE", s + "/accounting_codes/<name>", self.remove_accounting_code)
        r("POST", s + "/memberships", self.post_membership)
        r("POST", s + "/memberships/<id>/confirm", self.confirm_membership)
        r("POST", s + "/invoices", self.post_invoice)
        r("PATCH", s + "/invoices/<id>", self.update_invoice)
        r("POST", s + "/invoices/<id>/cancel", self.cancel_invoice)
        r("POST", s + "/invoices/<id>/write-off", self.write_off_invoice)
        r("DELETE", s + "/invoices/<id>", self.delete_invoice)
        r("PUT", s + "/write-back", self.configure_write_back)
        r("POST", s + "/subscriptions/<id>/deactivate", self.deactivate)
        r("GET", "/_sandbox/deliveries", self.list_deliveries)
        r("PUT", "/_sandbox/webhooks", self.configure_webhooks)
        r("PUT", "/_sandbox/rate-limit", self.configure_rate_limit)

    # -- what an admin does in Cobot ---------------------------------------------------
    def _member_url(self, space: Space, member: dict[str, Any]) -> str:
        return f"{self.state.space_url(space)}/api/memberships/{member['id']}"

    def _invoice_url(self, space: Space, invoice: dict[str, Any]) -> str:
        return f"{self.state.space_url(space)}/api/invoices/{invoice['id']}"

    def create_membership(self, space: Space, spec: dict[str, Any]) -> dict[str, Any]:
        now = dt.datetime.now(tz=dt.UTC)
        member = {
            "id": spec.get("id") or hex_id(),
            "user_id": hex_id(),
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
        with self.state.lock:
            space.memberships[member["id"]] = member
        self.webhooks.emit(space, "created_membership", self._member_url(space, member))
        if member["confirmed_at"]:
            self.webhooks.emit(space, "confirmed_membership", self._member_url(space, member))
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
        with self.state.lock:
            seq = space.next_number
            space.next_number += 1
            invoice = {
                "id": spec.get("id") or hex_id(),
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
        self.webhooks.emit(space, "created_invoice", self._invoice_url(space, invoice))
        return invoice

    # -- endpoints ---------------------------------------------------------------------
    def _space(self, request: Request) -> Space:
        space = self.state.spaces.get(request.params["subdomain"])
        if space is None:
            raise HttpError(404, {"error": "no such sandbox space"})
        return space

    def create_user(self, request: Request) -> Response:
        body = request.json()
        user = self.state.add_user(body["email"], body.get("name", ""), body.get("id"))
        return Response(201, user)

    def create_client(self, request: Request) -> Response:
        body = request.json()
        with self.state.lock:
            self.state.clients[body["client_id"]] = {
                "secret": body["client_secret"],
                "name": body.get("name", body["client_id"]),
                "redirect_uris": body.get("redirect_uris", []),
            }
        return Response(201, {"client_id": body["client_id"]})

    def create_token(self, request: Request) -> Response:
        body = request.json()
        space = self.state.spaces.get(body["space"]) if body.get("space") else None
        token = self.state.add_token(
            body["user_id"],
            body.get("scope", ""),
            body.get("client_id", "sandbox"),
            space.api1_id if space else None,
        )
        return Response(201, {"token": token})

    def revoke_token(self, request: Request) -> Response:
        with self.state.lock:
            self.state.tokens.pop(request.params["token"], None)
        return Response(204)

    def create_space(self, request: Request) -> Response:
        body = request.json()
        space = self.state.add_space(
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
                "url": self.state.space_url(space),
            },
        )

    def space_state(self, request: Request) -> Any:
        space = self._space(request)
        state = self.state
        with state.lock:
            return {
                "api1_id": space.api1_id,
                "api2_id": space.api2_id,
                "memberships": [
                    api1.membership_json(state, space, m) for m in space.memberships.values()
                ],
                "invoices": [api2.invoice_json(state, space, i) for i in space.invoices.values()],
                "subscriptions": [
                    subscription_json(state, space, s) for s in space.subscriptions.values()
                ],
                "activities": list(space.activities),
                "accounting_codes": list(space.accounting_codes),
            }

    def set_admins(self, request: Request) -> Response:
        space = self._space(request)
        with self.state.lock:
            space.admins = set(request.json()["admins"])
        return Response(204)

    def add_accounting_code(self, request: Request) -> Response:
        space = self._space(request)
        body = request.json()
        with self.state.lock:
            space.accounting_codes.append({"name": body["name"], "tax_rate": body.get("tax_rate")})
        return Response(201, body)

    def remove_accounting_code(self, request: Request) -> Response:
        space = self._space(request)
        with self.state.lock:
            space.accounting_codes = [
                c for c in space.accounting_codes if c["name"] != request.params["name"]
            ]
        return Response(204)

    def post_membership(self, request: Request) -> Response:
        space = self._space(request)
        member = self.create_membership(space, request.json())
        return Response(201, api1.membership_json(self.state, space, member))

    def confirm_membership(self, request: Request) -> Response:
        space = self._space(request)
        member = space.memberships.get(request.params["id"])
        if member is None:
            raise HttpError(404, {"error": "no such membership"})
        with self.state.lock:
            member["confirmed_at"] = dt.datetime.now(tz=dt.UTC)
        self.webhooks.emit(space, "confirmed_membership", self._member_url(space, member))
        return Response(200, api1.membership_json(self.state, space, member))

    def post_invoice(self, request: Request) -> Response:
        space = self._space(request)
        invoice = self.create_invoice(space, request.json())
        return Response(201, {"data": api2.invoice_json(self.state, space, invoice)})

    def update_invoice(self, request: Request) -> Response:
        space = self._space(request)
        invoice = space.invoices.get(request.params["id"])
        if invoice is None:
            raise HttpError(404, {"error": "no such invoice"})
        body = request.json()
        if body.get("paid_status", "unpaid") not in PAID_STATUSES:
            raise HttpError(422, {"error": f"paid_status must be one of {PAID_STATUSES}"})
        with self.state.lock:
            for key in ("lines", "customer_number", "tax_id", "recipient", "text", "paid_status"):
                if key in body:
                    invoice[key] = body[key]
            if "invoice_date" in body:
                invoice["invoice_date"] = dt.date.fromisoformat(body["invoice_date"])
        self.webhooks.emit(space, "updated_invoice", self._invoice_url(space, invoice))
        return Response(200, {"data": api2.invoice_json(self.state, space, invoice)})

    def _invoice(self, request: Request) -> tuple[Space, dict[str, Any]]:
        space = self._space(request)
        invoice = space.invoices.get(request.params["id"])
        if invoice is None:
            raise HttpError(404, {"error": "no such invoice"})
        return space, invoice

    def cancel_invoice(self, request: Request) -> Response:
        """Cancelling shows as ``paidStatus: canceled`` and an ``updated_invoice``."""
        space, invoice = self._invoice(request)
        with self.state.lock:
            invoice["paid_status"] = "canceled"
        self.webhooks.emit(space, "updated_invoice", self._invoice_url(space, invoice))
        return Response(200, {"data": api2.invoice_json(self.state, space, invoice)})

    def write_off_invoice(self, request: Request) -> Response:
        space, invoice = self._invoice(request)
        with self.state.lock:
            invoice["paid_status"] = "writtenOff"
        self.webhooks.emit(space, "wrote_off_invoice", self._invoice_url(space, invoice))
        return Response(200, {"data": api2.invoice_json(self.state, space, invoice)})

    def delete_invoice(self, request: Request) -> Response:
        """The invoice is gone from both APIs; the webhook still carries its URL."""
        space, invoice = self._invoice(request)
        with self.state.lock:
            del space.invoices[invoice["id"]]
        self.webhooks.emit(space, "deleted_invoice", self._invoice_url(space, invoice))
        return Response(204)

    def configure_write_back(self, request: Request) -> Response:
        space = self._space(request)
        body = request.json()
        mode = body.get("mode", "store")
        if mode not in ("store", "ignore", "refuse"):
            raise HttpError(400, {"error": "mode must be store, ignore or refuse"})
        with self.state.lock:
            space.write_back = mode
            space.write_back_status = int(body.get("status", 422))
        return Response(204)

    def deactivate(self, request: Request) -> Response:
        space = self._space(request)
        sub = space.subscriptions.get(request.params["id"])
        if sub is None:
            raise HttpError(404, {"error": "no such subscription"})
        sub["active"] = False
        return Response(204)

    def list_deliveries(self, request: Request) -> Any:
        with self.state.lock:
            return [dict(d) for d in self.webhooks.deliveries]

    def configure_webhooks(self, request: Request) -> Response:
        body = request.json()
        with self.state.lock:
            if "retry_delays" in body:
                self.webhooks.retry_delays = tuple(float(x) for x in body["retry_delays"])
            if "timeout" in body:
                self.webhooks.timeout = float(body["timeout"])
            if "pdf_lifetime" in body:
                self.state.pdf_lifetime = float(body["pdf_lifetime"])
        return Response(204)

    def configure_rate_limit(self, request: Request) -> Response:
        body = request.json()
        self.state.configure_rate_limit(body.get("per_minute"), body.get("member_list_per_minute"))
        return Response(204)
