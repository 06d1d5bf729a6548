"""Vouchers (receipts): ``saveVoucher`` with the validation rules sevDesk documents,
answered with 422s; the voucher lookups and their positions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, Request, Response
from cobot_sevdesk.sandbox.sevdesk import positions as rules
from cobot_sevdesk.sandbox.sevdesk.contacts import contact_ref
from cobot_sevdesk.sandbox.sevdesk.dates import in_range
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


def _date_json(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).isoformat(timespec="seconds")


def _sums(item: dict[str, Any]) -> dict[str, str | None]:
    """The sums of a voucher or position, also as the "accounting" sums (in EUR)."""
    sums = {key: s(item[key]) for key in ("sumNet", "sumTax", "sumGross")}
    return {**sums, **{f"{key}Accounting": value for key, value in sums.items()}}


def voucher_json(account: Account, voucher: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s(voucher["id"]),
        "objectName": "Voucher",
        "mapAll": True,
        "create": stamp(voucher["create"]),
        "update": stamp(voucher.get("update") or voucher["create"]),
        "sevClient": account.client_ref,
        "createUser": {"id": "1", "objectName": "SevUser"},
        "voucherDate": _date_json(voucher["voucherDate"]),
        "supplier": (
            ref(voucher["supplier"], "Contact") if voucher["supplier"] is not None else None
        ),
        "supplierName": voucher["supplierName"],
        "description": voucher["description"],
        "document": (
            ref(voucher["document"], "Document") if voucher["document"] is not None else None
        ),
        "payDate": _date_json(voucher.get("payDate")),
        "status": s(voucher["status"]),
        **_sums(voucher),
        "sumDiscounts": "0",
        "sumDiscountsForeignCurrency": "0",
        # A number, as both specs type it (``banking`` books payments).
        "paidAmount": voucher.get("paidAmount", Decimal(0)),
        "taxRule": {"id": voucher["taxRule"], "objectName": "TaxRule"},
        "taxType": None,
        "creditDebit": voucher["creditDebit"],
        "voucherType": voucher["voucherType"],
        "currency": voucher["currency"],
        "paymentDeadline": _date_json(voucher["paymentDeadline"]),
        "deliveryDate": _date_json(voucher["deliveryDate"] or voucher["voucherDate"]),
        "deliveryDateUntil": None,
    }
    if voucher["costCentre"] is not None:
        out["costCentre"] = ref(voucher["costCentre"], "CostCentre")
    return out


def position_json(account: Account, position: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": s(position["id"]),
        "objectName": "VoucherPos",
        "create": stamp(position["create"]),
        "update": stamp(position["create"]),
        "sevClient": account.client_ref,
        "voucher": ref(position["voucher"], "Voucher"),
        "accountDatev": {"id": position["accountDatev"], "objectName": "AccountDatev"},
        "accountingType": ref(position["accountDatev"], "AccountingType"),
        "taxRate": s(position["taxRate"]),
        "net": position["net"],
        "isAsset": False,
        **_sums(position),
        "comment": position["comment"],
    }


class Vouchers(Area[SevdeskState]):
    def register(self, app: App) -> None:
        app.route("POST", "/Voucher/Factory/saveVoucher", self.save_voucher)
        app.route("GET", "/Voucher", self.list_vouchers)
        app.route("GET", "/Voucher/<id>", self.get_voucher)
        app.route("GET", "/VoucherPos", self.list_positions)

    def save_voucher(self, request: Request) -> Response:
        account = self.state.authenticate(request)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("voucher"), dict):
            raise error(400, "Body must contain a voucher object")
        voucher_in = body["voucher"]
        positions_in = body.get("voucherPosSave") or []
        if voucher_in.get("objectName") != "Voucher" or voucher_in.get("mapAll") is not True:
            raise error(400, "voucher needs objectName 'Voucher' and mapAll true")
        if voucher_in.get("id"):
            raise error(422, "Updating vouchers is not supported by the sandbox")
        status = voucher_in.get("status")
        if status not in (50, 100, "50", "100"):
            raise error(
                422, "Only status 50 (draft) or 100 (open) can be saved through saveVoucher"
            )
        credit_debit = voucher_in.get("creditDebit")
        if credit_debit not in ("C", "D"):
            raise error(422, "creditDebit must be C or D")
        if voucher_in.get("voucherType") not in ("VOU", "RV"):
            raise error(422, "voucherType must be VOU or RV")
        supplier = voucher_in.get("supplier")
        supplier_id = contact_ref(account, supplier, "supplier") if supplier else None
        supplier_name = voucher_in.get("supplierName")
        if supplier_id is None and not (isinstance(supplier_name, str) and supplier_name.strip()):
            raise error(422, "Either supplier or supplierName must be given")
        rule_id = rules.tax_rule(voucher_in)
        voucher_date = rules.optional_date(voucher_in, "voucherDate")
        delivery_date = rules.optional_date(voucher_in, "deliveryDate")
        deadline = rules.optional_date(voucher_in, "paymentDeadline")
        currency = voucher_in.get("currency") or "EUR"
        if currency != "EUR" and not (
            voucher_in.get("propertyExchangeRate")
            or voucher_in.get("propertyForeignCurrencyDeadline")
        ):
            raise error(
                422,
                "Foreign currency vouchers need propertyExchangeRate "
                "or propertyForeignCurrencyDeadline",
            )
        cost_centre = voucher_in.get("costCentre")
        cost_centre_id = ref_id(cost_centre, "CostCentre", "costCentre") if cost_centre else None
        if cost_centre_id is not None and cost_centre_id not in account.cost_centres:
            raise error(422, f"Cost centre {cost_centre_id} does not exist")
        if not isinstance(positions_in, list) or not positions_in:
            raise error(422, "A voucher needs at least one position in voucherPosSave")
        positions = [
            rules.position(account, p, i, rule_id, credit_debit) for i, p in enumerate(positions_in)
        ]
        if len({p["net"] for p in positions}) > 1:
            raise error(422, "All positions of a voucher must use the same net mode")
        filename = body.get("filename")
        document_id = None
        with self.state.lock:
            if filename:
                temp = account.temp_files.pop(str(filename), None)
                if temp is None:
                    raise error(400, f"Unknown temporary file {filename!r}")
                document_id = self.state.next_id()
                account.documents[document_id] = {"id": document_id, "filename": filename, **temp}
            created = now()
            voucher = {
                "id": self.state.next_id(),
                "create": created,
                "status": int(status),
                "creditDebit": credit_debit,
                "voucherType": voucher_in["voucherType"],
                "supplier": supplier_id,
                "supplierName": supplier_name
                if supplier_id is None
                else account.contacts[supplier_id].get("name"),
                "description": voucher_in.get("description"),
                "search": (voucher_in.get("description") or "").lower(),
                "voucherDate": voucher_date,
                "deliveryDate": delivery_date,
                "deliveryDateUntil": None,
                "paymentDeadline": deadline,
                "taxRule": rule_id,
                "currency": currency,
                "costCentre": cost_centre_id,
                "document": document_id,
                "sumNet": sum((p["sumNet"] for p in positions), Decimal(0)),
                "sumTax": sum((p["sumTax"] for p in positions), Decimal(0)),
                "sumGross": sum((p["sumGross"] for p in positions), Decimal(0)),
            }
            account.add_voucher(voucher)
            for position in positions:
                position["id"] = self.state.next_id()
                position["voucher"] = voucher["id"]
                position["create"] = created
                account.positions[position["id"]] = position
        response = {
            "voucher": voucher_json(account, voucher),
            "voucherPos": [position_json(account, p) for p in positions],
            "filename": filename,
        }
        if document_id is not None:
            response["document"] = {**ref(document_id, "Document"), "filename": filename}
        return Response(201, {"objects": response})

    def list_vouchers(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        like = request.arg("descriptionLike")
        credit_debit = request.arg("creditDebit")
        status = request.arg("status")
        contact = request.arg("contact[id]")
        start = request.arg("startDate")
        end = request.arg("endDate")
        # Documented in the Voucher tag's filter list: "updated last after timestamp".
        updated_after = request.arg("updateAfter")
        found = []
        candidates: Iterable[dict[str, Any]] = account.vouchers.values()
        if like is not None:
            # documented: descriptionLike is a "contains" match
            candidates = account.vouchers_containing(like)
        for voucher in candidates:
            if credit_debit and voucher["creditDebit"] != credit_debit:
                continue
            if status and str(voucher["status"]) != status:
                continue
            if contact and str(voucher["supplier"]) != contact:
                continue
            if not in_range(voucher["voucherDate"], start, end):
                continue
            if updated_after and (voucher.get("update") or voucher["create"]).timestamp() <= int(
                updated_after
            ):
                continue
            found.append(voucher_json(account, voucher))
        return page(request, found)

    def get_voucher(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        voucher = account.vouchers.get(int(request.params["id"]))
        if voucher is None:
            # As documented: "400 Bad request. Voucher was not found".
            raise error(400, "Voucher was not found")
        return {"objects": [voucher_json(account, voucher)]}

    def list_positions(self, request: Request) -> Any:
        account = self.state.authenticate(request)
        voucher = request.arg("voucher[id]")
        if voucher is not None and request.arg("voucher[objectName]") != "Voucher":
            raise error(400, "voucher[objectName] must be Voucher")
        found = [
            position_json(account, p)
            for p in account.positions.values()
            if voucher is None or str(p["voucher"]) == voucher
        ]
        return page(request, found)
