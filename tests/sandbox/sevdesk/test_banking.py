"""Check accounts, bank lines and ``bookAmount`` as sevDesk documents them: what the
sandbox refuses, and what a booking does to a receipt and its bank line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cobot_sevdesk.sandbox.control import Sandboxes
from tests.sandbox.sevdesk.payloads import TOKEN, position, save, voucher


@pytest.fixture
def receipt(api: Any) -> int:
    return int(save(api, voucher(), [position()]).json()["objects"]["voucher"]["id"])


def accounts(api: Any) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in api("GET", "/CheckAccount").json()["objects"]}


def clearing(api: Any, number: int = 1460) -> int:
    response = api(
        "POST",
        "/CheckAccount/Factory/clearingAccount",
        json={"name": "Cobot", "accountingNumber": number},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["objects"]["id"])


def book(api: Any, receipt_id: int, **body: Any) -> Any:
    return api("PUT", f"/Voucher/{receipt_id}/bookAmount", json=body)


def test_every_account_has_a_base_account_and_clearing_accounts_are_offline(api: Any) -> None:
    [base] = accounts(api).values()
    assert (base["baseAccount"], base["type"], base["status"]) == ("1", "offline", "100")
    created = api(
        "POST",
        "/CheckAccount/Factory/clearingAccount",
        json={"name": "Cobot", "accountingNumber": 1460},
    ).json()["objects"]
    assert (created["type"], created["accountingNumber"], created["defaultAccount"]) == (
        "offline",
        "1460",
        "0",
    )
    # Documented: the accounting number must be unique among the check accounts.
    again = api(
        "POST",
        "/CheckAccount/Factory/clearingAccount",
        json={"name": "Other", "accountingNumber": 1460},
    )
    assert again.status_code == 422
    assert (
        api("POST", "/CheckAccount/Factory/clearingAccount", json={"name": "x"}).status_code == 422
    )


def test_booking_on_a_clearing_account_pays_the_receipt(api: Any, receipt: int) -> None:
    account = clearing(api)
    body = {
        "date": "2026-03-05T00:00:00+01:00",
        "checkAccount": {"id": account, "objectName": "CheckAccount"},
    }
    part = book(api, receipt, amount=19, type="N", **body)
    assert part.status_code == 200
    log = part.json()  # documented: a bare VoucherLog, not inside "objects"
    assert (log["objectName"], log["toStatus"], log["voucher"]["id"]) == (
        "VoucherLog",
        "750",
        receipt,
    )
    shown = api("GET", f"/Voucher/{receipt}").json()["objects"][0]
    assert (shown["status"], shown["paidAmount"]) == ("750", 19)
    assert book(api, receipt, amount=100, type="FULL_PAYMENT", **body).status_code == 200
    shown = api("GET", f"/Voucher/{receipt}").json()["objects"][0]
    assert (shown["status"], shown["paidAmount"]) == ("1000", 119)
    assert shown["payDate"].startswith("2026-03-05")
    # Paid: no second booking.
    assert book(api, receipt, amount=1, type="N", **body).status_code == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"amount": 119, "type": "N"}, 400),  # no date, no account
        ({"amount": 119, "type": "X", "date": "2026-03-05"}, 400),
        ({"amount": 120, "type": "N", "date": "2026-03-05"}, 422),  # more than open
        ({"amount": 100, "type": "FULL_PAYMENT", "date": "2026-03-05"}, 422),  # GUESS
        ({"amount": "119", "type": "N", "date": "2026-03-05"}, 400),  # a string
    ],
)
def test_bookings_are_checked(api: Any, receipt: int, body: dict[str, Any], status: int) -> None:
    account = {"checkAccount": {"id": clearing(api), "objectName": "CheckAccount"}}
    if "date" not in body:
        account = {}
    assert book(api, receipt, **body, **account).status_code == status


def test_a_bank_account_books_only_with_its_line(
    sandboxes: Sandboxes, api: Any, receipt: int
) -> None:
    bank = sandboxes.sevdesk.add_bank_account(TOKEN, "Sparkasse", "1801", "DE02100500000054540402")
    other = sandboxes.sevdesk.add_bank_account(TOKEN, "Other bank", "1802")
    line = sandboxes.sevdesk.import_bank_line(
        TOKEN, bank, "119.00", "RE-1", value_date="2026-03-04"
    )
    foreign = sandboxes.sevdesk.import_bank_line(
        TOKEN, other, "119.00", "RE-1", value_date="2026-03-04"
    )
    common = {"amount": 119, "type": "FULL_PAYMENT", "date": "2026-03-05"}
    on_bank = {"checkAccount": {"id": bank, "objectName": "CheckAccount"}}
    # Documented: required for online accounts, not to be given for others.
    assert book(api, receipt, **common, **on_bank).status_code == 400
    base = next(a for a in accounts(api).values() if a["baseAccount"] == "1")
    with_line = {"checkAccountTransaction": {"id": line, "objectName": "CheckAccountTransaction"}}
    on_base = {"checkAccount": {"id": int(base["id"]), "objectName": "CheckAccount"}}
    assert book(api, receipt, **common, **on_base, **with_line).status_code == 400
    wrong = {"checkAccountTransaction": {"id": foreign, "objectName": "CheckAccountTransaction"}}
    assert book(api, receipt, **common, **on_bank, **wrong).status_code == 400
    assert book(api, receipt, **common, **on_bank, **with_line).status_code == 200
    shown = api("GET", f"/CheckAccountTransaction/{line}").json()["objects"][0]
    assert shown["status"] == "400"  # booked
    assert book(api, receipt, **common, **on_bank, **with_line).status_code == 400


def test_bank_lines_are_filtered_as_documented(sandboxes: Sandboxes, api: Any) -> None:
    bank = sandboxes.sevdesk.add_bank_account(TOKEN, "Sparkasse", "1801")
    for amount, purpose, day in (
        ("119.00", "RE 2026-0001 Jane", "2026-03-04"),
        ("-50.00", "Rent", "2026-03-04"),
        ("20.00", "RE 2026-0002", "2026-04-10"),
    ):
        sandboxes.sevdesk.import_bank_line(TOKEN, bank, amount, purpose, value_date=day)

    def purposes(**params: str) -> list[str]:
        found = api("GET", "/CheckAccountTransaction", params=params).json()["objects"]
        return [t["paymtPurpose"] for t in found]

    assert purposes(onlyCredit="true") == ["RE 2026-0001 Jane", "RE 2026-0002"]
    assert purposes(onlyDebit="true") == ["Rent"]
    window = {"startDate": "2026-03-01T00:00:00+01:00", "endDate": "2026-03-31T00:00:00+02:00"}
    assert purposes(**window) == ["RE 2026-0001 Jane", "Rent"]
    assert purposes(paymtPurpose="2026-0002") == ["RE 2026-0002"]
    line = api("GET", "/CheckAccountTransaction").json()["objects"][0]
    assert isinstance(line["amount"], int | float) and line["status"] == "100"


def test_receipts_changed_since_are_listed(api: Any, receipt: int) -> None:
    shown = api("GET", f"/Voucher/{receipt}").json()["objects"][0]
    import datetime as dt

    made = int(dt.datetime.fromisoformat(shown["update"]).timestamp())
    assert api("GET", "/Voucher", params={"updateAfter": made + 1}).json()["objects"] == []
    assert len(api("GET", "/Voucher", params={"updateAfter": made - 5}).json()["objects"]) == 1
    assert Decimal(str(shown["paidAmount"])) == 0 and shown["payDate"] is None
