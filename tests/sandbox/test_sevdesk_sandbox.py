"""The sevDesk sandbox enforces sevDesk's documented saveVoucher rules with 422s and
answers in the live shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from cobot_sevdesk.sandbox.control import Sandboxes

TOKEN = "f" * 32


@pytest.fixture
def api(sandboxes: Sandboxes) -> Any:
    sandboxes.sevdesk.add_account(TOKEN, cost_centres=[{"number": "100", "name": "Coworking"}])
    base = sandboxes.sevdesk.base_url
    session = requests.Session()
    session.headers["Authorization"] = TOKEN

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, base + path, timeout=5, **kwargs)

    return call


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


def test_valid_income_receipt_is_stored_with_string_sums(api: Any) -> None:
    response = save(api, voucher(), [position()])
    assert response.status_code == 201
    stored = response.json()["objects"]["voucher"]
    assert (stored["sumGross"], stored["sumNet"], stored["sumTax"]) == ("119", "100", "19")
    assert stored["status"] == "100" and isinstance(stored["id"], str)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": 1000}, "status 50"),
        ({"supplierName": None}, "supplier or supplierName"),
        ({"taxRule": None}, "taxRule is required"),
        ({"taxRule": {"id": 21, "objectName": "TaxRule"}}, "cannot be used on vouchers"),
        ({"creditDebit": "X"}, "creditDebit"),
        ({"currency": "CHF"}, "propertyExchangeRate"),
        ({"costCentre": {"id": 1, "objectName": "CostCentre"}}, "Cost centre"),
    ],
)
def test_voucher_level_rules(api: Any, change: dict[str, Any], message: str) -> None:
    response = save(api, voucher(**change), [position()])
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_account_rule_and_rate_must_fit(api: Any) -> None:
    # 4300 "Erlöse 7 %" under rule 1 with 19 % is fine per rule, but 4100 (§4, rule 4) is not.
    assert save(api, voucher(), [position(datev=3610)]).status_code == 422
    # Rule 11 (small business) is not offered to a regular-taxed client's 4400.
    wrong_rule = save(api, voucher(taxRule={"id": 11, "objectName": "TaxRule"}), [position(rate=0)])
    assert wrong_rule.status_code == 422
    assert "not allowed for account 4400" in wrong_rule.json()["error"]["message"]
    # Rule 17 allows only 0 %.
    rate = save(
        api, voucher(taxRule={"id": 17, "objectName": "TaxRule"}), [position(datev=3631, rate=19)]
    )
    assert rate.status_code == 422 and "tax rate 19" in rate.json()["error"]["message"]
    # Rates other than 0/7/19 never fit.
    assert save(api, voucher(), [position(rate=16)]).status_code == 422


def test_one_net_mode_per_voucher(api: Any) -> None:
    response = save(api, voucher(), [position(), position(net=True, sumNet="10.00")])
    assert response.status_code == 422
    assert "same net mode" in response.json()["error"]["message"]


def test_unknown_account_and_expense_account_on_income_are_refused(api: Any) -> None:
    assert save(api, voucher(), [position(datev=999999)]).status_code == 422
    expense = save(api, voucher(taxRule={"id": 9, "objectName": "TaxRule"}), [position(datev=4285)])
    assert expense.status_code == 422


def test_net_positions_compute_tax_and_gross(api: Any) -> None:
    response = save(api, voucher(), [position(net=True, sumNet="33.33", sumGross=None)])
    stored = response.json()["objects"]["voucher"]
    assert (stored["sumNet"], stored["sumTax"], stored["sumGross"]) == ("33.33", "6.33", "39.66")


def test_upload_then_attach_a_pdf(api: Any, sandboxes: Sandboxes) -> None:
    upload = api(
        "POST",
        "/Voucher/Factory/uploadTempFile",
        files={"file": ("RE-1.pdf", b"%PDF-1.4 test", "application/pdf")},
    )
    assert upload.status_code == 201
    filename = upload.json()["objects"]["filename"]
    response = api(
        "POST",
        "/Voucher/Factory/saveVoucher",
        json={
            "voucher": voucher(),
            "voucherPosSave": [position()],
            "voucherPosDelete": None,
            "filename": filename,
        },
    )
    assert response.status_code == 201
    [stored] = sandboxes.sevdesk.state(TOKEN)["vouchers"]
    assert stored["document"] is not None and stored["documentHash"]
    # A temp file can be used once.
    again = api(
        "POST",
        "/Voucher/Factory/saveVoucher",
        json={"voucher": voucher(), "voucherPosSave": [position()], "filename": filename},
    )
    assert again.status_code == 400


def test_upload_refuses_what_is_not_a_document(api: Any) -> None:
    response = api(
        "POST", "/Voucher/Factory/uploadTempFile", files={"file": ("x.txt", b"hello", "text/plain")}
    )
    assert response.status_code == 400


def test_contacts_need_depth_1_to_show_persons(api: Any) -> None:
    api(
        "POST",
        "/Contact",
        json={
            "surename": "Jane",
            "familyname": "Doe",
            "customerNumber": "1000",
            "category": {"id": 3, "objectName": "Category"},
        },
    )
    assert api("GET", "/Contact", params={"customerNumber": "1000"}).json()["objects"] == []
    [jane] = api("GET", "/Contact", params={"customerNumber": "1000", "depth": "1"}).json()[
        "objects"
    ]
    assert jane["surename"] == "Jane"


def test_next_customer_number_skips_used_numbers(api: Any) -> None:
    first = api("GET", "/Contact/Factory/getNextCustomerNumber").json()["objects"]
    api(
        "POST",
        "/Contact",
        json={
            "name": "A",
            "customerNumber": first,
            "category": {"id": 3, "objectName": "Category"},
        },
    )
    second = api("GET", "/Contact/Factory/getNextCustomerNumber").json()["objects"]
    assert int(second) == int(first) + 1
    assert (
        api(
            "GET",
            "/Contact/Mapper/checkCustomerNumberAvailability",
            params={"customerNumber": first},
        ).json()["objects"]
        is False
    )
    # Documented quirk: without the parameter, a 500.
    assert api("GET", "/Contact/Mapper/checkCustomerNumberAvailability").status_code == 500


def test_guidance_for_one_account_is_a_bare_object(api: Any) -> None:
    body = api("GET", "/ReceiptGuidance/forAccountNumber", params={"accountNumber": "4400"}).json()
    assert body["objects"]["accountNumber"] == "4400"
    assert (
        api("GET", "/ReceiptGuidance/forAccountNumber", params={"accountNumber": "1"}).status_code
        == 422
    )


def test_admin_created_booking_account_appears_in_guidance(api: Any, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.add_booking_account(TOKEN, "Meeting rooms", number="4401")
    names = [g["accountName"] for g in api("GET", "/ReceiptGuidance/forRevenue").json()["objects"]]
    assert "Meeting rooms" in names
    sandboxes.sevdesk.remove_booking_account(TOKEN, "Meeting rooms")
    names = [g["accountName"] for g in api("GET", "/ReceiptGuidance/forRevenue").json()["objects"]]
    assert "Meeting rooms" not in names


def test_voucher_filters(api: Any) -> None:
    for number, day in (("RE-1", "05.03.2026"), ("RE-10", "06.03.2026"), ("X-1", "07.03.2026")):
        save(api, voucher(description=number, voucherDate=day), [position()])
    found = api("GET", "/Voucher", params={"descriptionLike": "RE-1", "creditDebit": "D"}).json()[
        "objects"
    ]
    assert sorted(v["description"] for v in found) == ["RE-1", "RE-10"]

    def like(needle: str) -> list[str]:
        answer = api("GET", "/Voucher", params={"descriptionLike": needle}).json()
        return sorted(v["description"] for v in answer["objects"])

    assert like("re-1") == ["RE-1", "RE-10"]  # a "contains" match, any case
    assert like("-1") == ["RE-1", "RE-10", "X-1"]  # shorter than the index's pieces
    assert like("E-10") == ["RE-10"] and like("RE-2") == []
    assert api("GET", "/Voucher", params={"creditDebit": "C"}).json()["objects"] == []
    counted = api("GET", "/Voucher", params={"countAll": "true", "limit": 1}).json()
    assert counted["total"] == 3 and len(counted["objects"]) == 1


def test_tags_attach_to_vouchers(api: Any, sandboxes: Sandboxes) -> None:
    created = save(api, voucher(), [position()]).json()["objects"]["voucher"]
    tagged = api(
        "POST",
        "/Tag/Factory/create",
        json={"name": "Mismatch", "object": {"id": int(created["id"]), "objectName": "Voucher"}},
    )
    assert tagged.status_code == 200
    [stored] = sandboxes.sevdesk.state(TOKEN)["vouchers"]
    assert stored["tags"] == ["Mismatch"]


def test_positions_of_a_voucher(api: Any) -> None:
    created = save(api, voucher(), [position(), position(rate=19, sumGross="11.90")]).json()[
        "objects"
    ]
    voucher_id = created["voucher"]["id"]
    listed = api(
        "GET", "/VoucherPos", params={"voucher[id]": voucher_id, "voucher[objectName]": "Voucher"}
    ).json()["objects"]
    assert sorted(Decimal(p["sumGross"]) for p in listed) == [Decimal("11.9"), Decimal("119")]


def test_revoked_token_gets_401(api: Any, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.revoke(TOKEN)
    assert api("GET", "/Tools/bookkeepingSystemVersion").status_code == 401
    sandboxes.sevdesk.restore(TOKEN)
    assert api("GET", "/Tools/bookkeepingSystemVersion").status_code == 200
