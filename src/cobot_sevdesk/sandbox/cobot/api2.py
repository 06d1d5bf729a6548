"""API 2 (``/api2/...``, standing in for ``https://api.cobot.me``): JSON:API invoices
with their PDFs, the user and a space."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from cobot_sevdesk.sandbox.app import App, Area, Request, Response
from cobot_sevdesk.sandbox.cobot.payments import invoice_paid
from cobot_sevdesk.sandbox.cobot.state import CobotState, Space, jsonapi_error
from cobot_sevdesk.sandbox.pdf import invoice_pdf
from cobot_sevdesk.sandbox.rounding import invoice_amounts

JSONAPI = "application/vnd.api+json"


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


def _address(address: dict[str, Any], full: str | None) -> dict[str, Any]:
    return {
        "name": address.get("name"),
        "company": address.get("company"),
        "fullAddress": full,
        "street": address.get("street"),
        "postCode": address.get("postCode"),
        "city": address.get("city"),
        "state": address.get("state"),
        "countryCode": address.get("countryCode"),
    }


def invoice_json(state: CobotState, space: Space, inv: dict[str, Any]) -> dict[str, Any]:
    """One invoice as API 2 shows it; each call issues a new, short-lived PDF link."""
    amounts = invoice_items(inv["lines"], inv["currency"])
    pdf_token = secrets.token_urlsafe(12)
    with state.lock:
        inv["pdf_tokens"][pdf_token] = time.time() + state.pdf_lifetime
    to = inv["recipient"]
    recipient_full = to.get("fullAddress") or ", ".join(
        p for p in (to.get("street"), to.get("postCode"), to.get("city")) if p
    )
    sender = {
        "company": space.name,
        "street": "Coworkingstraße 1",
        "postCode": "10115",
        "city": "Berlin",
        "countryCode": space.country_code,
    }
    relationships: dict[str, Any] = {
        "space": {"data": {"id": space.api2_id, "type": "spaces"}},
        "paymentMethods": {
            "links": {"related": f"{state.base_url}/api2/invoices/{inv['id']}/payment_methods"}
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
                "url": f"{state.base_url}/api2/invoices/{inv['id']}.pdf?token={pdf_token}",
            },
            "recipientAddress": _address(to, recipient_full),
            "senderAddress": _address(sender, "Coworkingstraße 1, 10115 Berlin"),
            "notes": None,
            "billingEmails": list(inv.get("billing_emails", [])),
            "items": amounts["items"],
            "payableAmount": amounts["totalAmount"]["gross"],
            # paidAmount, paidDate, paidStatus: from the invoice's payments.
            **invoice_paid(inv),
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


class Api2(Area[CobotState]):
    def register(self, app: App) -> None:
        app.route("GET", "/api2/user", self.user)
        app.route("GET", "/api2/spaces/<id>", self.space)
        app.route("GET", "/api2/spaces/<id>/invoices", self.list_invoices)
        app.route("GET", "/api2/invoices/<id>.pdf", self.pdf)  # before the plain id route
        app.route("GET", "/api2/invoices/<id>", self.get_invoice)

    def _find_invoice(self, invoice_id: str) -> tuple[Space, dict[str, Any]] | None:
        for space in self.state.spaces.values():
            invoice = space.invoices.get(invoice_id)
            if invoice is not None:
                return space, invoice
        return None

    def get_invoice(self, request: Request) -> Response:
        found = self._find_invoice(request.params["id"])
        if found is None:
            self.state.authenticate(request)
            raise jsonapi_error(404, "Invoice not found")
        space, invoice = found
        self.state.space_access(request, space.subdomain)
        return Response(
            200, {"data": invoice_json(self.state, space, invoice)}, content_type=JSONAPI
        )

    def list_invoices(self, request: Request) -> Response:
        space = self.state.space_by_api2(request, request.params["id"])
        try:
            page = int(request.arg("page[number]") or 1)
            size = int(request.arg("page[size]") or 72)
        except ValueError:
            raise jsonapi_error(400, "page parameters must be integers") from None
        if size > 200 or size < 1 or page < 1:
            raise jsonapi_error(400, "page[size] must be between 1 and 200")
        start_text, end_text = request.arg("filter[from]"), request.arg("filter[to]")
        try:
            start = dt.date.fromisoformat(start_text) if start_text else None
            end = dt.date.fromisoformat(end_text) if end_text else None
        except ValueError:
            raise jsonapi_error(400, "filter dates must be YYYY-MM-DD") from None
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
            return f"{self.state.base_url}{request.path}?{urlencode(query)}"

        body = {
            "data": [invoice_json(self.state, space, inv) for inv in chosen],
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

    def pdf(self, request: Request) -> Response:
        """The PDF link works without auth but only for a few minutes (documented)."""
        found = self._find_invoice(request.params["id"])
        if found is None:
            raise jsonapi_error(404, "Invoice not found")
        space, invoice = found
        expires = invoice["pdf_tokens"].get(request.arg("token") or "")
        if expires is None or expires < time.time():
            raise jsonapi_error(403, "PDF link expired")
        amounts = invoice_items(invoice["lines"], invoice["currency"])
        lines = [
            f"{space.name}",
            f"Invoice {invoice['number']}",
            f"Date {invoice['invoice_date']}",
        ]
        lines += [f"{i['description']}: {i['totalAmount']['gross']}" for i in amounts["items"]]
        lines.append(f"Total {amounts['totalAmount']['gross']} {invoice['currency']}")
        return Response(200, invoice_pdf(lines), content_type="application/pdf")

    # -- user and space -------------------------------------------------------------
    def user(self, request: Request) -> Response:
        _, info = self.state.authenticate(request)
        user = self.state.users[info["user"]]
        includes = set((request.arg("include") or "").split(","))
        spaces = self.state.admin_spaces(info)
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

    def space(self, request: Request) -> Response:
        space = self.state.space_by_api2(request, request.params["id"])
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
