"""Vouchers (receipts): ``saveVoucher`` with the validation rules sevDesk documents,
answered with 422s; the voucher lookups and their positions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from cobot_sevdesk.sandbox.app import App, Area, Request, Response
from cobot_sevdesk.sandbox.sevdesk.bookkeeping import (
    ALL_RULES,
    LEGACY_TAX_TYPES,
    RATE_TOKENS,
    RULES_NOT_FOR_VOUCHERS,
)
from cobot_sevdesk.sandbox.sevdesk.contacts import contact_ref
from cobot_sevdesk.sandbox.sevdesk.dates import in_range, parse_date
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

CENT = Decimal("0.01")


def _optional_date(body: dict[str, Any], field_name: str) -> dt.date | None:
    return parse_date(body[field_name], field_name) if body.get(field_name) else None


def _date_json(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).isoformat(timespec="seconds")


def _decimal(value: Any, field_name: str) -> Decimal:
    if isinstance(value, bool):
        raise error(422, f"{field_name} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise error(422, f"{field_name} must be a number") from None


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


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


def _tax_rule(voucher_in: dict[str, Any]) -> int:
    rule = voucher_in.get("taxRule")
    if rule is not None:
        rule_id = ref_id(rule, "TaxRule", "taxRule")
    elif voucher_in.get("taxType") in LEGACY_TAX_TYPES:
        # Documented transition: 1.0 taxTypes are mapped on 2.0 accounts.
        rule_id = LEGACY_TAX_TYPES[voucher_in["taxType"]]
    else:
        raise error(422, "taxRule is required (bookkeeping system 2.0)")
    if rule_id in RULES_NOT_FOR_VOUCHERS:
        raise error(422, f"Tax rule {rule_id} cannot be used on vouchers")
    if rule_id not in ALL_RULES:
        raise error(422, f"Unknown tax rule {rule_id}")
    return rule_id


def _position(
    account: Account, raw: Any, index: int, rule_id: int, credit_debit: str
) -> dict[str, Any]:
    """One position of ``voucherPosSave``, checked and with its sums computed."""
    where = f"voucherPosSave[{index}]"
    if (
        not isinstance(raw, dict)
        or raw.get("objectName") != "VoucherPos"
        or raw.get("mapAll") is not True
    ):
        raise error(400, f"{where} needs objectName 'VoucherPos' and mapAll true")
    if raw.get("accountDatev") is not None:
        datev_id = ref_id(raw["accountDatev"], "AccountDatev", f"{where}.accountDatev")
    elif raw.get("accountingType") is not None:
        # Documented: 1.0 accounting types still work if the guidance knows the account.
        datev_id = ref_id(raw["accountingType"], "AccountingType", f"{where}.accountingType")
    else:
        raise error(422, f"{where}: accountDatev is required")
    guide = account.account_by_datev(datev_id)
    if guide is None:
        raise error(422, f"{where}: booking account {datev_id} is not available for this client")
    wanted = "REVENUE" if credit_debit == "D" else "EXPENSE"
    if wanted not in guide["receiptTypes"]:
        raise error(
            422,
            f"{where}: account {guide['accountNumber']} "
            f"cannot be used on {wanted.lower()} receipts",
        )
    rate = _decimal(raw.get("taxRate"), f"{where}.taxRate")
    token = RATE_TOKENS.get(rate)
    if rule_id not in guide["rules"]:
        raise error(
            422,
            f"{where}: tax rule {rule_id} is not allowed for account {guide['accountNumber']}",
        )
    if token is None or token not in ALL_RULES[rule_id][2]:
        raise error(
            422,
            f"{where}: tax rate {rate} is not allowed with tax rule {rule_id} "
            f"on account {guide['accountNumber']}",
        )
    net_mode = raw.get("net")
    if not isinstance(net_mode, bool):
        raise error(422, f"{where}: net must be true or false")
    if net_mode:
        sum_net = _cents(_decimal(raw.get("sumNet"), f"{where}.sumNet"))
        sum_tax = _cents(sum_net * rate / 100)
        sums = {"sumNet": sum_net, "sumTax": sum_tax, "sumGross": sum_net + sum_tax}
    else:
        sums = gross_sums(_decimal(raw.get("sumGross"), f"{where}.sumGross"), rate)
    # LENIENT: negative sums (credit notes as negative receipts) are accepted;
    # whether the live API accepts them on income receipts is not documented.
    return {
        "accountDatev": datev_id,
        "taxRate": rate,
        "net": net_mode,
        **sums,
        "comment": raw.get("comment"),
    }


def gross_sums(gross: Decimal, rate: Decimal) -> dict[str, Decimal]:
    """A gross position's sums as sevDesk computes them: the net is the gross divided
    by (1 + rate), rounded; the VAT is what is left."""
    sum_gross = _cents(gross)
    sum_net = _cents(sum_gross / (1 + rate / 100))
    return {"sumNet": sum_net, "sumTax": sum_gross - sum_net, "sumGross": sum_gross}


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
        rule_id = _tax_rule(voucher_in)
        voucher_date = _optional_date(voucher_in, "voucherDate")
        delivery_date = _optional_date(voucher_in, "deliveryDate")
        deadline = _optional_date(voucher_in, "paymentDeadline")
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
            _position(account, p, i, rule_id, credit_debit) for i, p in enumerate(positions_in)
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
