"""API 1: on www.cobot.me (``/api/user``, ``/api/spaces/<subdomain>``, access tokens)
and per space (``/space/<subdomain>/api/...``, standing in for
``https://<subdomain>.cobot.me/api/...``): memberships, invoices, accounting codes,
activities."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.cobot.state import (
    CobotState,
    Space,
    not_found,
    slash_date,
    slash_time,
)
from cobot_sevdesk.sandbox.rounding import invoice_amounts


def membership_json(state: CobotState, space: Space, m: dict[str, Any]) -> dict[str, Any]:
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
        "confirmed_at": slash_time(m["confirmed_at"]) if m["confirmed_at"] else None,
        "starts_at": slash_date(m["created_at"].date()),
        "canceled_to": None,
        "url": f"{state.space_url(space)}/api/memberships/{m['id']}",
    }


def invoice_json(state: CobotState, space: Space, inv: dict[str, Any]) -> dict[str, Any]:
    amounts = invoice_amounts(inv["lines"])
    currency = inv["currency"]
    items = []
    for line, line_amounts in zip(inv["lines"], amounts.lines, strict=True):
        unit, total = line_amounts.unit_json(currency), line_amounts.total_json(currency)
        items.append(
            {
                "description": line["description"],
                "quantity": format(line_amounts.quantity, "f"),
                "amount": unit["net"],
                "tax_rate": unit["taxes"][0]["rate"] if unit["taxes"] else "0.0",
                "total_amount": total["net"],
                "total_amount_with_tax": total["gross"],
                "accounting_code": line.get("accounting_code"),
            }
        )
    total = amounts.total_json(currency)
    return {
        "id": inv["id"],
        "membership_id": inv.get("membership_id"),
        "invoice_number": inv["seq"],
        "formatted_invoice_number": inv["number"],
        "customer_number": inv.get("customer_number"),
        "created_at": slash_date(inv["invoice_date"]),
        "due_date": slash_date(inv["due_date"]),
        "currency": currency,
        "items": items,
        "total_amount": total["gross"],
        "total_amount_without_taxes": total["net"],
        "paid_status": inv.get("paid_status", "unpaid"),
        "url": f"{state.space_url(space)}/api/invoices/{inv['id']}",
    }


class Api1(Area[CobotState]):
    def register(self, app: App) -> None:
        r = app.route
        r("GET", "/api/user", self.user)
        r("GET", "/api/spaces/<subdomain>", self.space)
        r("GET", "/api/access_tokens/<token>", self.token_info)
        r("DELETE", "/api/access_tokens/<token>", self.revoke_token)
        r("POST", "/api/access_tokens/<token>/space", self.bind_token)
        s = "/space/<subdomain>/api"
        r("GET", s + "/memberships", self.list_memberships)
        r("GET", s + "/memberships/<id>", self.get_membership)
        r("PUT", s + "/memberships/<id>", self.update_membership)
        r("GET", s + "/invoices", self.list_invoices)
        r("GET", s + "/invoices/<id>", self.get_invoice)
        r("GET", s + "/accounting_codes", self.list_accounting_codes)
        r("POST", s + "/activities", self.post_activity)
        r("GET", s + "/activities", self.list_activities)

    # -- www.cobot.me ----------------------------------------------------------------
    def user(self, request: Request) -> Any:
        _, info = self.state.authenticate(request)
        user = self.state.users[info["user"]]
        admin_of = [
            {
                "space_subdomain": s.subdomain,
                "space_name": s.name,
                "space_link": f"{self.state.base_url}/api/spaces/{s.subdomain}",
                "name": user["name"],
            }
            for s in self.state.admin_spaces(info)
        ]
        return {"id": user["id"], "email": user["email"], "memberships": [], "admin_of": admin_of}

    def space(self, request: Request) -> Any:
        space = self.state.spaces.get(request.params["subdomain"])
        if space is None:
            raise not_found()
        return {
            "id": space.api1_id,
            "subdomain": space.subdomain,
            "name": space.name,
            "url": self.state.space_url(space),
            "country": space.country_code,
        }

    def token_info(self, request: Request) -> Any:
        info = self.state.tokens.get(request.params["token"])
        if info is None:
            raise not_found()
        return {"scope": info["scope"]}

    def revoke_token(self, request: Request) -> Response:
        with self.state.lock:
            if self.state.tokens.pop(request.params["token"], None) is None:
                raise not_found()
        return Response(204)

    def bind_token(self, request: Request) -> Any:
        info = self.state.tokens.get(request.params["token"])
        if info is None:
            raise not_found()
        body = request.json()
        space = next(
            (s for s in self.state.spaces.values() if s.api1_id == body.get("space_id")), None
        )
        if space is None:
            raise HttpError(422, {"errors": {"space_id": "is invalid"}})
        if info["user"] not in space.admins:
            raise HttpError(403, {"error": "not an admin of this space"})
        bound = self.state.add_token(
            info["user"], " ".join(info["scope"]), info["client_id"], space.api1_id
        )
        return {"scope": info["scope"], "token": bound, "client_id": info["client_id"]}

    # -- memberships -------------------------------------------------------------------
    def _membership(self, request: Request) -> tuple[Space, dict[str, Any]]:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        member = space.memberships.get(request.params["id"])
        if member is None:
            raise not_found()
        return space, member

    def list_memberships(self, request: Request) -> Any:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        # Documented: the list holds current (confirmed, not canceled) members.
        return [
            membership_json(self.state, space, m)
            for m in space.memberships.values()
            if m["confirmed_at"]
        ]

    def get_membership(self, request: Request) -> Any:
        return membership_json(self.state, *self._membership(request))

    def update_membership(self, request: Request) -> Any:
        """GUESS: PUT with ``{"customer_number": ...}`` (the write-back call is undocumented)."""
        space, member = self._membership(request)
        body = request.json()
        unknown = set(body) - {"customer_number", "name", "email", "phone"}
        if unknown:
            raise HttpError(422, {"errors": dict.fromkeys(sorted(unknown), "is not writable")})
        if "customer_number" in body:
            number = body["customer_number"]
            if number is not None and (not isinstance(number, str) or len(number) > 40):
                raise HttpError(422, {"errors": {"customer_number": "is invalid"}})
            if space.write_back == "refuse":
                status = space.write_back_status
                raise HttpError(
                    status,
                    {"error": "forbidden"}
                    if status == 403
                    else {"errors": {"customer_number": "is not writable"}},
                )
            if space.write_back == "store":
                with self.state.lock:
                    member["customer_number"] = number
        return membership_json(self.state, space, member)

    # -- invoices and accounting codes ----------------------------------------------------
    def get_invoice(self, request: Request) -> Any:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        invoice = space.invoices.get(request.params["id"])
        if invoice is None:
            raise not_found()
        return invoice_json(self.state, space, invoice)

    def list_invoices(self, request: Request) -> Any:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        ids = set((request.arg("ids") or "").split(",")) - {""}
        return [
            invoice_json(self.state, space, i)
            for i in space.invoices.values()
            if not ids or i["id"] in ids
        ]

    def list_accounting_codes(self, request: Request) -> Any:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        return [dict(code) for code in space.accounting_codes]

    # -- activities ----------------------------------------------------------------------
    def post_activity(self, request: Request) -> Response:
        space, _ = self.state.space_access(request, request.params["subdomain"])
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
            "created_at": slash_time(dt.datetime.now(tz=dt.UTC)),
            "type": "text",
            "channels": channels,
            "level": level,
            "attributes": {"text": text},
        }
        with self.state.lock:
            space.activities.append(activity)
        return Response(201, activity)

    def list_activities(self, request: Request) -> Any:
        space, _ = self.state.space_access(request, request.params["subdomain"])
        return list(space.activities)
