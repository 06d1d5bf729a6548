"""saveVoucher enforces sevDesk's documented rules with 422s and stores sums as the
live API shows them (strings); vouchers and positions are found by their filters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.sevdesk.state import BERLIN
from tests.sandbox.sevdesk.payloads import TOKEN, position, save, voucher


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
        # Documented as not usable in vouchers: §18b reverse charge and One-Stop-Shop.
        ({"taxRule": {"id": 21, "objectName": "TaxRule"}}, "cannot be used on vouchers"),
        ({"taxRule": {"id": 18, "objectName": "TaxRule"}}, "cannot be used on vouchers"),
        ({"taxRule": {"id": 19, "objectName": "TaxRule"}}, "cannot be used on vouchers"),
        ({"taxRule": {"id": 20, "objectName": "TaxRule"}}, "cannot be used on vouchers"),
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


def test_positions_of_a_voucher(api: Any) -> None:
    created = save(api, voucher(), [position(), position(rate=19, sumGross="11.90")]).json()[
        "objects"
    ]
    voucher_id = created["voucher"]["id"]
    listed = api(
        "GET", "/VoucherPos", params={"voucher[id]": voucher_id, "voucher[objectName]": "Voucher"}
    ).json()["objects"]
    assert sorted(Decimal(p["sumGross"]) for p in listed) == [Decimal("11.9"), Decimal("119")]


def midnight(day: str) -> int:
    """A date's Unix timestamp at midnight in Berlin, as sevDesk keeps voucher dates."""
    return int(dt.datetime.fromisoformat(f"{day}T00:00:00").replace(tzinfo=BERLIN).timestamp())


def test_vouchers_by_date_take_unix_timestamps_on_the_voucher_date(api: Any) -> None:
    for number, day in (("RE-1", "28.02.2026"), ("RE-2", "01.03.2026"), ("RE-3", "31.03.2026")):
        save(api, voucher(description=number, voucherDate=day), [position()])

    def dated(**params: Any) -> list[str]:
        answer = api("GET", "/Voucher", params=params)
        assert answer.status_code == 200, answer.text
        return sorted(v["description"] for v in answer.json()["objects"])

    march = {"startDate": midnight("2026-03-01"), "endDate": midnight("2026-03-31")}
    assert dated(**march) == ["RE-2", "RE-3"]  # "equal or higher", "equal or lower"
    assert dated(startDate=midnight("2026-03-01") + 1) == ["RE-3"]
    assert dated(endDate=midnight("2026-03-01") - 1) == ["RE-1"]
    assert api("GET", "/Voucher", params={"startDate": "2026-03-01"}).status_code == 400


def test_a_missing_voucher_is_a_400_as_documented(api: Any) -> None:
    answer = api("GET", "/Voucher/424242")
    assert answer.status_code == 400
    assert "not found" in answer.json()["error"]["message"]


def test_an_accountant_deletes_or_edits_a_receipt(api: Any, sandboxes: Sandboxes) -> None:
    created = save(api, voucher(), [position(), position(rate=7, datev=5186, sumGross="10.70")])
    voucher_id = int(created.json()["objects"]["voucher"]["id"])
    edited = sandboxes.sevdesk.edit_voucher(
        TOKEN,
        voucher_id,
        status=50,
        voucherDate="2026-03-06",
        positions=[{"sumGross": "238.00"}],
    )
    assert edited["status"] == "50"
    assert (Decimal(edited["sumGross"]), Decimal(edited["sumTax"])) == (
        Decimal("248.70"),
        Decimal("38.70"),
    )
    assert edited["voucherDate"].startswith("2026-03-06")
    sandboxes.sevdesk.delete_voucher(TOKEN, voucher_id)
    assert api("GET", f"/Voucher/{voucher_id}").status_code == 400
    positions = api(
        "GET", "/VoucherPos", params={"voucher[id]": voucher_id, "voucher[objectName]": "Voucher"}
    )
    assert positions.json()["objects"] == []
    assert api("GET", "/Voucher", params={"descriptionLike": "RE-1"}).json()["objects"] == []


def test_positions_of_the_whole_account_are_counted_and_paged(api: Any) -> None:
    for number in ("RE-1", "RE-2", "RE-3"):
        save(api, voucher(description=number), [position(), position(sumGross="11.90")])
    counted = api("GET", "/VoucherPos", params={"countAll": "true", "limit": 1}).json()
    assert counted["total"] == 6 and len(counted["objects"]) == 1
    second = api("GET", "/VoucherPos", params={"limit": 4, "offset": 4}).json()["objects"]
    assert len(second) == 2


@pytest.mark.parametrize(
    ("sent", "sums"),
    [
        # gross mode: the gross as sent, net = round(gross / 1.19), tax the rest
        ({"net": False, "sumGross": "1.18"}, ("0.99", "0.19", "1.18")),
        ({"net": False, "sumGross": "-11.90"}, ("-10", "-1.90", "-11.90")),
        # sumNet is read-only in gross mode: sent or not, it changes nothing
        ({"net": False, "sumGross": "1.18", "sumNet": "5.00"}, ("0.99", "0.19", "1.18")),
        # net mode: tax = round(net * 0.19), gross = net + tax
        ({"net": True, "sumNet": "0.99", "sumGross": None}, ("0.99", "0.19", "1.18")),
    ],
)
def test_a_positions_sums_are_computed_from_the_authoritative_one(
    api: Any, sent: dict[str, Any], sums: tuple[str, str, str]
) -> None:
    response = save(api, voucher(), [position(**sent)])
    assert response.status_code == 201, response.text
    [stored] = response.json()["objects"]["voucherPos"]
    assert (stored["sumNet"], stored["sumTax"], stored["sumGross"]) == sums


def test_a_reduction_of_revenue_is_a_credit_voucher_on_the_revenue_account(api: Any) -> None:
    """As sevDesk's help centre books a credit note (an expense receipt reducing the
    revenue) and the Stripe→sevDesk sync books refunds: C, revenue account, the
    original's revenue tax rule, positive amounts."""
    credit = save(api, voucher(creditDebit="C"), [position()])
    assert credit.status_code == 201, credit.text
    assert credit.json()["objects"]["voucher"]["creditDebit"] == "C"
    # An expense rule on a revenue account is still refused, whatever the direction.
    expense_rule = save(
        api, voucher(creditDebit="C", taxRule={"id": 9, "objectName": "TaxRule"}), [position()]
    )
    assert expense_rule.status_code == 422
    # A credit voucher on an expense account with an expense rule: an ordinary expense.
    bought = save(
        api,
        voucher(creditDebit="C", taxRule={"id": 9, "objectName": "TaxRule"}),
        [position(datev=4285)],
    )
    assert bought.status_code == 201, bought.text
