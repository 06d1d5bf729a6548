"""The sandbox's own control endpoints (``/_sandbox/accounts...``, not part of sevDesk):
create an account with a token, add booking accounts, cost centres and contacts as an
admin would in sevDesk, delete or edit a receipt as an accountant would in sevDesk's
web app (its API cannot delete receipts), revoke and restore the token, and look at an
account's whole state; for payments, add bank accounts, import bank lines and book a
receipt as the bookkeeper would in sevDesk. ``cobot_sevdesk.sandbox.control`` is their
client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.sevdesk import banking
from cobot_sevdesk.sandbox.sevdesk.banking import accounts_of, check_account_json, transaction_json
from cobot_sevdesk.sandbox.sevdesk.bookkeeping import (
    add_booking_account,
    add_cost_centre,
    chart,
    guide_json,
)
from cobot_sevdesk.sandbox.sevdesk.contacts import contact_json, names, store_contact
from cobot_sevdesk.sandbox.sevdesk.positions import position_sums
from cobot_sevdesk.sandbox.sevdesk.state import Account, SevdeskState, now
from cobot_sevdesk.sandbox.sevdesk.vouchers import position_json, voucher_json


class Control(Area[SevdeskState]):
    def register(self, app: App) -> None:
        r = app.route
        a = "/_sandbox/accounts/<token>"
        r("POST", "/_sandbox/accounts", self.create_account)
        r("GET", a, self.account_state)
        r("POST", a + "/booking-accounts", self.add_booking_account)
        r("DELETE", a + "/booking-accounts/<number>", self.remove_booking_account)
        r("POST", a + "/cost-centres", self.add_cost_centre)
        r("POST", a + "/contacts", self.add_contact)
        r("DELETE", a + "/vouchers/<id>", self.delete_voucher)
        r("PATCH", a + "/vouchers/<id>", self.edit_voucher)
        r("POST", a + "/revoke", self.revoke)
        r("POST", a + "/restore", self.restore)
        r("POST", a + "/check-accounts", self.add_check_account)
        r("POST", a + "/transactions", self.import_line)
        r("POST", a + "/vouchers/<id>/pay", self.pay)
        r("POST", a + "/vouchers/<id>/unpay", self.unpay)
        r("PUT", a + "/payment-settings", self.payment_settings)

    def _by_token(self, request: Request) -> Account:
        account = self.state.tokens.get(request.params["token"])
        if account is None:
            raise HttpError(404, {"error": "no such sandbox account"})
        return account

    def create_account(self, request: Request) -> Response:
        body = request.json()
        small_business = bool(body.get("small_business", False))
        account = self.state.add_account(
            body["token"],
            name=body.get("name", "Sandbox GmbH"),
            small_business=small_business,
            version=body.get("version", "2.0"),
            guidance=chart(small_business),
        )
        for centre in body.get("cost_centres", []):
            add_cost_centre(
                self.state, account, centre["number"], centre.get("name", centre["number"])
            )
        for booking in body.get("booking_accounts", []):
            add_booking_account(self.state, account, booking)
        return Response(201, {"id": account.id})

    def add_booking_account(self, request: Request) -> Response:
        account = self._by_token(request)
        return Response(201, guide_json(add_booking_account(self.state, account, request.json())))

    def remove_booking_account(self, request: Request) -> Response:
        account = self._by_token(request)
        key = request.params["number"]
        with self.state.lock:
            before = len(account.guidance)
            account.guidance = [
                g for g in account.guidance if g["accountNumber"] != key and g["accountName"] != key
            ]
            if len(account.guidance) == before:
                raise HttpError(404, {"error": "no such booking account"})
        return Response(204)

    def add_cost_centre(self, request: Request) -> Response:
        account = self._by_token(request)
        body = request.json()
        centre_id = add_cost_centre(self.state, account, body["number"], body.get("name", ""))
        return Response(201, {"id": centre_id})

    def add_contact(self, request: Request) -> Response:
        account = self._by_token(request)
        body = request.json()
        contact = store_contact(
            self.state,
            account,
            **names(body),
            customer_number=body.get("customerNumber"),
        )
        return Response(201, {"id": contact["id"], "customerNumber": contact["customerNumber"]})

    def delete_voucher(self, request: Request) -> Response:
        account = self._by_token(request)
        with self.state.lock:
            if account.remove_voucher(int(request.params["id"])) is None:
                raise HttpError(404, {"error": "no such voucher"})
        return Response(204)

    def edit_voucher(self, request: Request) -> Any:
        """Change a receipt as an accountant would: ``status``, ``voucherDate``
        (YYYY-MM-DD), ``description``, and ``positions`` (by index: ``sumGross`` and
        ``taxRate``, recomputed as sevDesk does for gross positions)."""
        account = self._by_token(request)
        body = request.json()
        with self.state.lock:
            voucher = account.vouchers.get(int(request.params["id"]))
            if voucher is None:
                raise HttpError(404, {"error": "no such voucher"})
            if "status" in body:
                voucher["status"] = int(body["status"])
            if "voucherDate" in body:
                voucher["voucherDate"] = dt.date.fromisoformat(body["voucherDate"])
            if "description" in body:
                account.remove_voucher(voucher["id"])
                voucher["description"] = body["description"]
                voucher["search"] = (body["description"] or "").lower()
                account.add_voucher(voucher)
            positions = sorted(
                (p for p in account.positions.values() if p["voucher"] == voucher["id"]),
                key=lambda p: p["id"],
            )
            for index, change in enumerate(body.get("positions", [])):
                position = positions[index]
                rate = Decimal(str(change.get("taxRate", position["taxRate"])))
                gross = Decimal(str(change.get("sumGross", position["sumGross"])))
                net, tax, gross = position_sums(
                    net_mode=False, sum_net=None, sum_gross=gross, rate=rate
                )
                position.update(taxRate=rate, net=False, sumNet=net, sumTax=tax, sumGross=gross)
            for key in ("sumNet", "sumTax", "sumGross"):
                voucher[key] = sum((p[key] for p in positions), Decimal(0))
            voucher["update"] = now()
            return voucher_json(account, voucher)

    def revoke(self, request: Request) -> Response:
        self._by_token(request).revoked = True
        return Response(204)

    def restore(self, request: Request) -> Response:
        self._by_token(request).revoked = False
        return Response(204)

    def account_state(self, request: Request) -> Any:
        account = self._by_token(request)
        with self.state.lock:
            positions: dict[int, list[dict[str, Any]]] = {}
            for p in account.positions.values():
                positions.setdefault(p["voucher"], []).append(position_json(account, p))
            tags: dict[int, list[str]] = {}
            for r in account.tag_relations.values():
                if r["object"]["objectName"] == "Voucher":
                    tags.setdefault(r["object"]["id"], []).append(account.tags[r["tag"]])
            return {
                "id": account.id,
                "contacts": [
                    {
                        **contact_json(account, c, {"addresses", "communicationWays"}),
                        "description": c.get("description"),
                    }
                    for c in account.contacts.values()
                ],
                "vouchers": [
                    {
                        **voucher_json(account, v),
                        "positions": positions.get(v["id"], []),
                        "tags": tags.get(v["id"], []),
                        "payments": [
                            {**p, "amount": str(p["amount"]), "date": p["date"].isoformat()}
                            for p in v.get("payments", [])
                        ],
                        "documentHash": account.documents[v["document"]]["hash"]
                        if v["document"]
                        else None,
                    }
                    for v in account.vouchers.values()
                ],
                "costCentres": [{"id": cid, **c} for cid, c in account.cost_centres.items()],
                "checkAccounts": [
                    check_account_json(account, c)
                    for c in accounts_of(self.state, account).values()
                ],
                "transactions": [
                    transaction_json(account, t) for t in account.transactions.values()
                ],
                "bookingAccounts": [guide_json(g) for g in account.guidance],
            }

    # -- payments: what the bank import and the bookkeeper do in sevDesk ------------
    def add_check_account(self, request: Request) -> Response:
        """A bank account connected to sevDesk (type online), or another kind."""
        account = self._by_token(request)
        body = request.json()
        accounts_of(self.state, account)
        check = banking.add_check_account(
            self.state,
            account,
            body["name"],
            body.get("type", "online"),
            str(body["accounting_number"]),
            iban=body.get("iban"),
        )
        return Response(201, check_account_json(account, check))

    def import_line(self, request: Request) -> Response:
        """sevDesk's bank import brought a line (a transfer from a member, say)."""
        account = self._by_token(request)
        body = request.json()
        check = accounts_of(self.state, account).get(int(body["check_account"]))
        if check is None:
            raise HttpError(404, {"error": "no such check account"})
        line = banking.add_transaction(
            self.state,
            account,
            check["id"],
            Decimal(str(body["amount"])),
            purpose=body.get("purpose", ""),
            payer=body.get("payer", ""),
            value_date=dt.date.fromisoformat(body["value_date"]),
        )
        return Response(201, transaction_json(account, line))

    def pay(self, request: Request) -> Response:
        """The bookkeeper books a receipt in sevDesk: on a bank line (``transaction``),
        or on an offline account (``check_account``, the base account if neither)."""
        account = self._by_token(request)
        voucher = account.vouchers.get(int(request.params["id"]))
        if voucher is None:
            raise HttpError(404, {"error": "no such voucher"})
        body = request.json()
        checks = accounts_of(self.state, account)
        line = account.transactions.get(int(body["transaction"])) if "transaction" in body else None
        if line is not None:
            check = checks[line["checkAccount"]]
        elif "check_account" in body:
            check = checks[int(body["check_account"])]
        else:
            check = next(c for c in checks.values() if c["baseAccount"])
        amount = Decimal(str(body.get("amount", line["amount"] if line else voucher["sumGross"])))
        open_amount = voucher["sumGross"] - voucher.get("paidAmount", Decimal(0))
        log = banking.book(
            self.state,
            account,
            voucher,
            amount,
            day=dt.date.fromisoformat(body["date"]) if "date" in body else now().date(),
            kind="FULL_PAYMENT" if amount == open_amount else "N",
            check=check,
            line=line,
        )
        return Response(200, log)

    def unpay(self, request: Request) -> Response:
        """sevDesk's "reset to open" (``resetToOpen``): the receipt's payments are undone
        and its bank lines are free again."""
        account = self._by_token(request)
        voucher = account.vouchers.get(int(request.params["id"]))
        if voucher is None:
            raise HttpError(404, {"error": "no such voucher"})
        with self.state.lock:
            for booking in voucher.pop("payments", []):
                line = account.transactions.get(booking["transaction"])
                if line is not None and line["purpose"] != voucher["description"]:
                    line["status"] = banking.CREATED
            voucher.update(status=100, paidAmount=Decimal(0), payDate=None, update=now())
        return Response(204)

    def payment_settings(self, request: Request) -> Response:
        account = self._by_token(request)
        body = request.json()
        if "payment_updates_voucher" in body:
            account.payment_updates_voucher = bool(body["payment_updates_voucher"])
        return Response(204)
