"""Payments on invoices, as Cobot's API 1 documents them (dev.cobot.me/api-docs/
payment-records):

- ``POST /api/invoices/<id>/payment_records`` with ``paid_at``, ``amount``, an optional
  ``note`` and ``payment_method``; 201 with the record, 422 ``{"errors": "Paid at can't
  be blank"}``; scope ``write_payment_records``. "Once the total amount has been paid
  the invoice is marked as paid."
- ``GET /api/invoices/payment_records?from=&to=`` (records of invoices created in that
  span) or ``?invoice_ids=a,b``; scope ``read_payment_records``;
- ``DELETE /api/invoices/<id>/payment_records/<record id>``: 204.

API 2 shows the result on the invoice: ``paidAmount``, ``paidDate`` and ``paidStatus``
(``invoice_paid``). Payments made in Cobot (a card charge, or an admin marking an
invoice paid) come through ``/_sandbox/.../pay``. Every change fires ``updated_invoice``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.cobot.state import CobotState, Space, hex_id, not_found
from cobot_sevdesk.sandbox.cobot.webhooks import Webhooks
from cobot_sevdesk.sandbox.rounding import invoice_amounts, money, to_cent

READ_SCOPE, WRITE_SCOPE = "read_payment_records", "write_payment_records"


def invoice_paid(inv: dict[str, Any]) -> dict[str, Any]:
    """``paidAmount``, ``paidDate`` and ``paidStatus`` of an API 2 invoice."""
    total = _gross(inv)
    records = inv.get("payment_records", [])
    paid = sum((r["amount"] for r in records), Decimal(0)) + inv.get("unrecorded_paid", Decimal(0))
    dates = [r["paid_at"] for r in records] + inv.get("unrecorded_dates", [])
    status = inv.get("paid_status", "unpaid")
    if status in ("unpaid", "paid"):
        status = "paid" if paid >= total > 0 else "unpaid"
    return {
        "paidAmount": money(paid),
        "paidDate": max(dates).isoformat() if dates and status == "paid" else None,
        "paidStatus": status,
    }


def _gross(inv: dict[str, Any]) -> Decimal:
    amounts = invoice_amounts(inv["lines"])
    return to_cent(amounts.net + amounts.tax)


def record_json(space: Space, inv: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "invoice_id": inv["id"],
        "note": record["note"],
        "paid_at": record["paid_at"].isoformat(),
        "amount": money(record["amount"]),
        "currency": inv["currency"],
        "payment_method": record["payment_method"],
    }


class Payments(Area[CobotState]):
    def __init__(self, state: CobotState, webhooks: Webhooks) -> None:
        super().__init__(state)
        self.webhooks = webhooks
        #: Strict setting for a guess: whether a payment Cobot collects itself (a card
        #: or direct-debit charge) appears as a payment record, as a manual one does.
        self.charges_leave_records = True

    def register(self, app: App) -> None:
        # Before API 1's ``/invoices/<id>``, which would take "payment_records" for an id.
        s = "/space/<subdomain>/api/invoices"
        app.route("GET", s + "/payment_records", self.list_records)
        app.route("POST", s + "/<id>/payment_records", self.add_record)
        app.route("DELETE", s + "/<id>/payment_records/<record>", self.delete_record)
        c = "/_sandbox/spaces/<subdomain>/invoices/<id>"
        app.route("POST", c + "/pay", self.control_pay)
        app.route("PUT", "/_sandbox/payment-settings", self.control_settings)

    def reset(self) -> None:
        self.charges_leave_records = True

    def _access(self, request: Request, scope: str) -> Space:
        space, info = self.state.space_access(request, request.params["subdomain"])
        if scope not in info["scope"]:
            # Documented scope per endpoint; a token without it is refused.
            raise HttpError(403, {"error": f"missing scope {scope}"})
        return space

    def _invoice(self, space: Space, invoice_id: str) -> dict[str, Any]:
        invoice = space.invoices.get(invoice_id)
        if invoice is None:
            raise not_found()
        return invoice

    def _changed(self, space: Space, inv: dict[str, Any]) -> None:
        self.webhooks.emit(
            space, "updated_invoice", f"{self.state.space_url(space)}/api/invoices/{inv['id']}"
        )

    # -- the API ----------------------------------------------------------------------
    def list_records(self, request: Request) -> Any:
        space = self._access(request, READ_SCOPE)
        ids = set((request.arg("invoice_ids") or "").split(",")) - {""}
        start, end = _time(request.arg("from"), "from"), _time(request.arg("to"), "to")
        found = []
        with self.state.lock:
            for inv in space.invoices.values():
                created = dt.datetime.combine(inv["invoice_date"], dt.time(), tzinfo=dt.UTC)
                if ids and inv["id"] not in ids:
                    continue
                if (start and created < start) or (end and created > end):
                    continue
                found += [record_json(space, inv, r) for r in inv.get("payment_records", [])]
        # Documented: a 200 and the records as a JSON list.
        return found

    def add_record(self, request: Request) -> Response:
        space = self._access(request, WRITE_SCOPE)
        inv = self._invoice(space, request.params["id"])
        body = request.json()
        if not isinstance(body, dict):
            raise HttpError(400, {"errors": "Body must be an object"})
        paid_at = body.get("paid_at")
        if not paid_at:
            raise HttpError(422, {"errors": "Paid at can't be blank"})
        try:
            day = dt.date.fromisoformat(str(paid_at))
            amount = Decimal(str(body.get("amount")))
        except (ValueError, InvalidOperation):
            raise HttpError(422, {"errors": "Paid at or amount is invalid"}) from None
        if not amount.is_finite() or amount <= 0:
            # GUESS: refunds are not payment records (not documented either way).
            raise HttpError(422, {"errors": "Amount must be greater than 0"})
        method = body.get("payment_method")
        record = self.add(
            space, inv, amount, day=day, note=str(body.get("note") or ""), method=method
        )
        return Response(201, record_json(space, inv, record))

    def add(
        self,
        space: Space,
        inv: dict[str, Any],
        amount: Decimal,
        *,
        day: dt.date,
        note: str,
        method: Any = None,
    ) -> dict[str, Any]:
        payment_method: dict[str, str | None] | None
        if isinstance(method, dict) and method.get("id"):
            payment_method = {"id": str(method["id"]), "name": "credit card"}
        elif isinstance(method, dict) and method.get("name"):
            payment_method = {"id": None, "name": str(method["name"])}
        else:
            payment_method = None  # GUESS: shown as null when none was given
        record = {
            "id": str(int(hex_id()[:13], 16)),
            "note": note,
            "paid_at": day,
            "amount": to_cent(amount),
            "payment_method": payment_method,
        }
        with self.state.lock:
            inv.setdefault("payment_records", []).append(record)
        self._changed(space, inv)
        return record

    def delete_record(self, request: Request) -> Response:
        space = self._access(request, WRITE_SCOPE)
        inv = self._invoice(space, request.params["id"])
        with self.state.lock:
            records = inv.get("payment_records", [])
            kept = [r for r in records if r["id"] != request.params["record"]]
            if len(kept) == len(records):
                raise not_found()
            inv["payment_records"] = kept
        self._changed(space, inv)
        return Response(204)

    # -- what happens in Cobot itself -------------------------------------------------
    def control_pay(self, request: Request) -> Response:
        """A payment in Cobot: the admin marks the invoice paid (``method`` "bank
        transfer", say), or Cobot charges the member's card (``charge``: true)."""
        space = self.state.spaces.get(request.params["subdomain"])
        if space is None:
            raise HttpError(404, {"error": "no such sandbox space"})
        inv = self._invoice(space, request.params["id"])
        body = request.json()
        paid = Decimal(invoice_paid(inv)["paidAmount"])
        amount = Decimal(str(body.get("amount", _gross(inv) - paid)))
        day = (
            dt.date.fromisoformat(body["paid_at"])
            if body.get("paid_at")
            else dt.datetime.now(tz=dt.UTC).date()
        )
        charge = bool(body.get("charge"))
        if charge and not self.charges_leave_records:
            with self.state.lock:
                inv["unrecorded_paid"] = inv.get("unrecorded_paid", Decimal(0)) + amount
                inv.setdefault("unrecorded_dates", []).append(day)
            self._changed(space, inv)
            return Response(201, {"recorded": False})
        method = {"name": body.get("method") or ("credit card" if charge else "bank transfer")}
        note = str(body.get("note") or "")
        record = self.add(space, inv, amount, day=day, note=note, method=method)
        return Response(201, record_json(space, inv, record))

    def control_settings(self, request: Request) -> Response:
        body = request.json()
        if "charges_leave_records" in body:
            self.charges_leave_records = bool(body["charges_leave_records"])
        return Response(204)


def _time(value: str | None, name: str) -> dt.datetime | None:
    """``from``/``to`` as documented ("2014-01-01 00:00:00 +0000"), or a plain date."""
    if not value:
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        raise HttpError(422, {"errors": f"{name} is not a time"}) from None
