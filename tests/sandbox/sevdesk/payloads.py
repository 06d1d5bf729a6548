"""Request bodies for the sevDesk sandbox's tests, in the shapes our client sends."""

from __future__ import annotations

from typing import Any

import requests

#: The API token of the account the ``api`` fixture creates.
TOKEN = "f" * 32


def voucher(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "objectName": "Voucher",
        "mapAll": True,
        "status": 100,
        "creditDebit": "D",
        "voucherType": "VOU",
        "supplierName": "Walk-in",
        "description": "RE-1",
        "voucherDate": "05.03.2026",
        "taxRule": {"id": 1, "objectName": "TaxRule"},
    }
    body.update(overrides)
    return body


def position(datev: int = 5192, rate: Any = 19, **overrides: Any) -> dict[str, Any]:
    pos: dict[str, Any] = {
        "objectName": "VoucherPos",
        "mapAll": True,
        "accountDatev": {"id": datev, "objectName": "AccountDatev"},
        "taxRate": rate,
        "net": False,
        "sumGross": "119.00",
    }
    pos.update(overrides)
    return pos


def save(api: Any, v: dict[str, Any], positions: list[dict[str, Any]]) -> requests.Response:
    return api(
        "POST",
        "/Voucher/Factory/saveVoucher",
        json={"voucher": v, "voucherPosSave": positions, "voucherPosDelete": None},
    )
