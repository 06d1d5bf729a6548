"""Payment accounts ("CheckAccount"), their lines ("CheckAccountTransaction") and
booking a payment on a receipt (``PUT /Voucher/{id}/bookAmount``), as sevDesk's
documents describe them:

- every account comes with a base account; clearing accounts are created through
  ``POST /CheckAccount/Factory/clearingAccount`` (name and an accounting number that
  must be unique among the accounts) and are "offline";
- ``bookAmount`` takes amount, date, type, the check account and, for "online"
  accounts only, the bank line (``checkAccountTransaction``) it links; for other
  accounts the line is created automatically ("You should not provide a transaction
  for other account types");
- a receipt then becomes partially paid (750) or paid (1000) and carries its
  ``paidAmount`` and ``payDate``; the answer is a bare ``VoucherLog``.

Where the documents say nothing, the choice is marked GUESS at the one place it is
made. The control endpoints (``control``) add bank accounts, import bank lines, and
book a receipt as the bookkeeper would in sevDesk's UI.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, Request, Response
from cobot_sevdesk.sandbox.sevdesk.dates import parse_date
from cobot_sevdesk.sandbox.sevdesk.positions import CENT
from cobot_sevdesk.sandbox.sevdesk.state import (
    BERLIN,
    Account,
    SevdeskState,
    error,
    now,
    page,
    ref,
    ref_id,
    s,
    stamp,
)

#: Voucher status after a booking: partially paid and paid (documented).
PARTIALLY_PAID, PAID = 750, 1000
#: Transaction status: created (not booked yet), linked, booked (documented).
CREATED, LINKED, BOOKED = 100, 200, 400
BOOKING_TYPES = ("FULL_PAYMENT", "N", "CB", "CF", "O", "OF", "MTC")


def accounts_of(state: SevdeskState, account: Account) -> dict[int, dict[str, Any]]:
    """The account's check accounts; the base account every sevDesk setup comes with
    is made on first use (documented: ``baseAccount`` 1)."""
    with state.lock:
        if not account.check_accounts:
            add_check_account(state, account, "Geschäftskonto", "offline", "1800", base=True)
        return account.check_accounts


def add_check_account(
    state: SevdeskState,
    account: Account,
    name: str,
    kind: str,
    accounting_number: str,
    *,
    base: bool = False,
    iban: str | None = None,
) -> dict[str, Any]:
    with state.lock:
        if any(a["accountingNumber"] == accounting_number for a in account.check_accounts.values()):
            # Documented: "Must be unique among all your CheckAccounts."
            raise error(422, f"Accounting number {accounting_number} is already in use")
        created = now()
        check: dict[str, Any] = {
            "id": state.next_id(),
            "name": name,
            "type": kind,
            "importType": "CSV" if kind == "online" else None,
            "iban": iban,
            "accountingNumber": accounting_number,
            "baseAccount": base,
            "status": 100,
            "create": created,
        }
        account.check_accounts[check["id"]] = check
        return check


def check_account_json(account: Account, check: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": s(check["id"]),
        "objectName": "CheckAccount",
        "create": stamp(check["create"]),
        "update": stamp(check["create"]),
        "sevClient": account.client_ref,
        "name": check["name"],
        "type": check["type"],
        "currency": "EUR",
        "defaultAccount": s(check["baseAccount"]),
        "baseAccount": s(check["baseAccount"]),
        "priority": "1",
        "status": s(check["status"]),
        "autoMapTransactions": "1",
        "accountingNumber": check["accountingNumber"],
    }
    if check["importType"]:
        out["importType"] = check["importType"]
    if check["iban"]:
        out["iban"] = check["iban"]
    return out


def transaction_json(account: Account, line: dict[str, Any]) -> dict[str, Any]:
    value: dt.date = line["valueDate"]
    day = dt.datetime(value.year, value.month, value.day, tzinfo=BERLIN).isoformat()
    return {
        "id": s(line["id"]),
        "objectName": "CheckAccountTransaction",
        "create": stamp(line["create"]),
        "update": stamp(line["update"]),
        "sevClient": account.client_ref,
        "valueDate": day,
        "entryDate": day,
        "paymtPurpose": line["purpose"],
        # A number, as the community-corrected spec types it (the official one says string).
        "amount": line["amount"],
        "payeePayerName": line["payer"],
        "checkAccount": ref(line["checkAccount"], "CheckAccount"),
        "status": s(line["status"]),
    }


def add_transaction(
    state: SevdeskState,
    account: Account,
    check_id: int,
    amount: Decimal,
    *,
    purpose: str,
    payer: str,
    value_date: dt.date,
    status: int = CREATED,
) -> dict[str, Any]:
    with state.lock:
        created = now()
        line: dict[str, Any] = {
            "id": state.next_id(),
            "checkAccount": check_id,
            "amount": amount,
            "purpose": purpose,
            "payer": payer,
            "valueDate": value_date,
            "status": status,
            "create": created,
            "update": created,
        }
        account.transactions[line["id"]] = line
        return line


def _moment(value: Any, name: str) -> dt.datetime:
    """A documented ``date-time`` filter value; LENIENT: a plain date or a Unix
    timestamp is read as well."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise error(400, f"{name} is not a date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=BERLIN)
    day = parse_date(value, name)
    return dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN)


def book(
    state: SevdeskState,
    account: Account,
    voucher: dict[str, Any],
    amount: Decimal,
    *,
    day: dt.date,
    kind: str,
    check: dict[str, Any],
    line: dict[str, Any] | None,
) -> dict[str, Any]:
    """Book ``amount`` on ``voucher``: its paid amount, status and pay date change and
    a bank line is linked or made. Returns the ``VoucherLog``."""
    if voucher["status"] == 50:
        raise error(400, "A draft voucher cannot be booked; register it first")
    open_amount = voucher["sumGross"] - voucher.get("paidAmount", Decimal(0))
    if voucher["status"] == PAID or open_amount <= 0:
        raise error(400, "The voucher is already paid")  # GUESS: refused, not booked twice
    if amount <= 0 or amount > open_amount:
        # GUESS: a difference to the open amount needs one of the difference types.
        raise error(422, f"Amount {amount} does not fit the open amount {open_amount}")
    if kind == "FULL_PAYMENT" and amount != open_amount:
        # GUESS: "normal booking" settles the open amount; a part is type N.
        raise error(422, "FULL_PAYMENT must book the open amount; use N for a partial payment")
    if check["type"] == "online" and line is None:
        raise error(400, "A transaction is required for online check accounts")
    if check["type"] != "online" and line is not None:
        raise error(400, "Do not provide a transaction for offline check accounts")
    with state.lock:
        before = voucher["status"]
        if line is None:
            line = add_transaction(
                state,
                account,
                check["id"],
                amount,
                purpose=voucher["description"] or "",
                payer="",
                value_date=day,
            )
        line["status"], line["update"] = BOOKED, now()
        paid = voucher.get("paidAmount", Decimal(0)) + amount
        voucher["paidAmount"] = paid
        voucher["payDate"] = day
        voucher["status"] = PAID if paid >= voucher["sumGross"] else PARTIALLY_PAID
        voucher.setdefault("payments", []).append(
            {"amount": amount, "date": day, "checkAccount": check["id"], "transaction": line["id"]}
        )
        if account.payment_updates_voucher:
            voucher["update"] = now()
        log_id = state.next_id()
    created = stamp(now())
    return {
        "id": s(log_id),
        "objectName": "VoucherLog",
        "create": created,
        "voucher": {"id": voucher["id"], "objectName": "Voucher"},
        "fromStatus": s(before),
        "toStatus": s(voucher["status"]),
        "amountPayed": s(amount),
        "bookingDate": dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).isoformat(),
        "sevClient": {"id": account.id, "objectName": "SevClient"},
    }


class Banking(Area[SevdeskState]):
    def register(self, app: App) -> None:
        r = app.route
        r("GET", "/CheckAccount", self.list_check_accounts)
        r("POST", "/CheckAccount/Factory/clearingAccount", self.create_clearing_account)
        r("GET", "/CheckAccount/<id>", self.get_check_account)
        r("GET", "/CheckAccountTransaction", self.list_transactions)
        r("GET", "/CheckAccountTransaction/<id>", self.get_transaction)
        r("PUT", "/Voucher/<id>/bookAmount", self.book_amount)

    # -- the API --------------------------------------------------------------------
    def list_check_accounts(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        checks = accounts_of(self.state, account)
        return page(request, [check_account_json(account, c) for c in checks.values()])

    def get_check_account(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        check = accounts_of(self.state, account).get(_int(request.params["id"]))
        if check is None:
            raise error(404, "CheckAccount not found")
        return {"objects": [check_account_json(account, check)]}

    def create_clearing_account(self, request: Request) -> Response:
        account = self.state.authenticate(request)
        body = request.json()
        name = body.get("name") if isinstance(body, dict) else None
        number = body.get("accountingNumber") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise error(422, "name is required")
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise error(422, "accountingNumber must be a positive integer")
        accounts_of(self.state, account)
        check = add_check_account(self.state, account, name.strip(), "offline", str(number))
        json = check_account_json(account, check)
        answer = {k: json[k] for k in ("id", "objectName", "create", "update", "sevClient")}
        answer.update(
            name=json["name"],
            type="offline",  # documented: "Clearing accounts are regarded as offline."
            currency="EUR",
            defaultAccount="0",
            status="100",
            accountingNumber=json["accountingNumber"],
        )
        return Response(201, {"objects": answer})

    def list_transactions(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        check = request.arg("checkAccount[id]")
        if check is not None and request.arg("checkAccount[objectName]") != "CheckAccount":
            raise error(400, "checkAccount[objectName] must be CheckAccount")
        start = request.arg("startDate")
        end = request.arg("endDate")
        low = _moment(start, "startDate").date() if start else None
        high = _moment(end, "endDate").date() if end else None
        purpose = request.arg("paymtPurpose")
        booked = request.arg("isBooked")
        found = []
        for line in sorted(account.transactions.values(), key=lambda t: t["id"]):
            if check is not None and str(line["checkAccount"]) != check:
                continue
            if request.arg("onlyCredit") == "true" and line["amount"] <= 0:
                continue
            if request.arg("onlyDebit") == "true" and line["amount"] >= 0:
                continue
            if (low and line["valueDate"] < low) or (high and line["valueDate"] > high):
                continue
            if booked == "true" and line["status"] not in (BOOKED, 350):
                continue
            # GUESS: "with this payment purpose" is a contains match, like descriptionLike.
            if purpose and purpose.lower() not in line["purpose"].lower():
                continue
            found.append(transaction_json(account, line))
        return page(request, found)

    def get_transaction(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        line = account.transactions.get(_int(request.params["id"]))
        if line is None:
            raise error(404, "CheckAccountTransaction not found")
        return {"objects": [transaction_json(account, line)]}

    def book_amount(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        voucher = account.vouchers.get(_int(request.params["id"]))
        if voucher is None:
            raise error(404, "Voucher not found")
        body = request.json()
        if not isinstance(body, dict):
            raise error(400, "Body must be an object")
        missing = [k for k in ("amount", "date", "type", "checkAccount") if body.get(k) is None]
        if missing:
            raise error(400, f"Missing required fields: {', '.join(missing)}")
        amount = body["amount"]
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            raise error(400, "amount must be a number")
        if body["type"] not in BOOKING_TYPES:
            raise error(400, f"Unknown booking type {body['type']!r}")
        day = _moment(body["date"], "date").astimezone(BERLIN).date()
        check = accounts_of(self.state, account).get(
            ref_id(body["checkAccount"], "CheckAccount", "checkAccount")
        )
        if check is None or check["status"] != 100:
            raise error(400, "checkAccount does not exist or is archived")
        line = None
        if body.get("checkAccountTransaction") is not None:
            name = "checkAccountTransaction"
            line_id = ref_id(body[name], "CheckAccountTransaction", name)
            line = account.transactions.get(line_id)
            if line is None or line["checkAccount"] != check["id"]:
                raise error(400, "checkAccountTransaction does not belong to this check account")
            if line["status"] != CREATED:
                raise error(400, "checkAccountTransaction is already booked")
            if Decimal(amount) != line["amount"]:
                # GUESS: one payment per bank line (the add-on only books whole lines).
                raise error(422, "amount differs from the transaction's amount")
        return book(
            self.state,
            account,
            voucher,
            Decimal(amount).quantize(CENT),
            day=day,
            kind=body["type"],
            check=check,
            line=line,
        )


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise error(400, "id must be an integer") from None
