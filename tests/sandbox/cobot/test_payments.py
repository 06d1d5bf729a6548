"""Cobot's payment records as its API 1 documents them: scopes, the 422 for a missing
date, the list by invoice ids or time span, and what a record does to the invoice in
API 2 (``paidAmount``, ``paidStatus``, ``paidDate``) and to the webhooks."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line


@pytest.fixture
def space(sandboxes: Sandboxes) -> dict[str, Any]:
    c = sandboxes.cobot
    admin = c.add_user("a@example.org")
    c.add_space("co-up", "co.up", [admin["id"]])
    invoice = c.add_invoice(
        "co-up", [invoice_line("Desk", "100", "19", "Desks")], invoice_date="2026-03-01"
    )
    return {
        "admin": admin["id"],
        "invoice": invoice,
        "token": c.add_token(admin["id"], space="co-up"),
        "base": f"{c.base_url}/space/co-up/api/invoices",
    }


def call(space: dict[str, Any], method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token or space['token']}"}
    return requests.request(method, space["base"] + path, headers=headers, timeout=5, **kw)


def test_a_record_pays_the_invoice_once_the_total_is_paid(
    sandboxes: Sandboxes, space: dict[str, Any]
) -> None:
    invoice_id = space["invoice"]["id"]
    first = call(
        space,
        "POST",
        f"/{invoice_id}/payment_records",
        json={"paid_at": "2026-03-05", "amount": "100.0"},
    )
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("invoice_id", "paid_at", "amount", "currency")} == {
        "invoice_id": invoice_id,
        "paid_at": "2026-03-05",
        "amount": "100.00",
        "currency": "EUR",
    }
    shown = sandboxes.cobot.invoice("co-up", invoice_id)["attributes"]
    assert (shown["paidAmount"], shown["paidStatus"], shown["paidDate"]) == (
        "100.00",
        "unpaid",
        None,
    )
    call(
        space,
        "POST",
        f"/{invoice_id}/payment_records",
        json={"paid_at": "2026-03-06", "amount": "19"},
    )
    shown = sandboxes.cobot.invoice("co-up", invoice_id)["attributes"]
    assert (shown["paidAmount"], shown["paidStatus"], shown["paidDate"]) == (
        "119.00",
        "paid",
        "2026-03-06",
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"amount": "10"}, "Paid at can't be blank"),  # documented
        ({"paid_at": "2026-03-05", "amount": "0"}, "greater than 0"),
        ({"paid_at": "someday", "amount": "10"}, "invalid"),
    ],
)
def test_invalid_records_are_refused(
    space: dict[str, Any], body: dict[str, Any], error: str
) -> None:
    response = call(space, "POST", f"/{space['invoice']['id']}/payment_records", json=body)
    assert response.status_code == 422 and error in response.json()["errors"]


def test_the_documented_scopes_are_needed(sandboxes: Sandboxes, space: dict[str, Any]) -> None:
    plain = sandboxes.cobot.add_token(space["admin"], space="co-up", scope="read write")
    invoice_id = space["invoice"]["id"]
    body = {"paid_at": "2026-03-05", "amount": "10"}
    assert (
        call(space, "POST", f"/{invoice_id}/payment_records", plain, json=body).status_code == 403
    )
    listed = call(space, "GET", "/payment_records", plain, params={"invoice_ids": invoice_id})
    assert listed.status_code == 403


def test_records_are_listed_by_invoice_ids_or_time_span(
    sandboxes: Sandboxes, space: dict[str, Any]
) -> None:
    c = sandboxes.cobot
    other = c.add_invoice(
        "co-up", [invoice_line("Desk", "10", "19", "Desks")], invoice_date="2026-05-01"
    )
    for invoice in (space["invoice"], other):
        c.pay_invoice("co-up", invoice["id"], amount="5.00", paid_at="2026-05-02")

    def listed(**params: str) -> list[str]:
        return [
            r["invoice_id"] for r in call(space, "GET", "/payment_records", params=params).json()
        ]

    assert listed(invoice_ids=other["id"]) == [other["id"]]
    assert sorted(listed(invoice_ids=f"{space['invoice']['id']},{other['id']}")) == sorted(
        [space["invoice"]["id"], other["id"]]
    )
    # Documented: "all payment records for all invoices created in the given timespan".
    assert listed(**{"from": "2026-03-01 00:00:00 +0000", "to": "2026-03-31 23:59:59 +0000"}) == [
        space["invoice"]["id"]
    ]


def test_a_deleted_record_unpays_and_every_change_fires_updated_invoice(
    sandboxes: Sandboxes, space: dict[str, Any]
) -> None:
    c = sandboxes.cobot
    invoice_id = space["invoice"]["id"]
    requests.post(
        f"{c.base_url}/space/co-up/api/subscriptions",
        json={"event": "updated_invoice", "callback_url": "http://127.0.0.1:9/hook"},
        headers={"Authorization": f"Bearer {space['token']}"},
        timeout=5,
    ).raise_for_status()
    c.pay_invoice("co-up", invoice_id, paid_at="2026-03-05")
    record = call(space, "GET", "/payment_records", params={"invoice_ids": invoice_id}).json()[0]
    assert call(space, "DELETE", f"/{invoice_id}/payment_records/{record['id']}").status_code == 204
    assert c.invoice("co-up", invoice_id)["attributes"]["paidStatus"] == "unpaid"
    assert call(space, "DELETE", f"/{invoice_id}/payment_records/{record['id']}").status_code == 404
    fired = [d for d in c.deliveries() if d["event"] == "updated_invoice"]
    assert [d["payload"]["url"].rsplit("/", 1)[-1] for d in fired] == [invoice_id, invoice_id]


def test_charges_can_be_set_to_leave_no_record(sandboxes: Sandboxes, space: dict[str, Any]) -> None:
    c = sandboxes.cobot
    c.payment_settings(charges_leave_records=False)
    c.pay_invoice("co-up", space["invoice"]["id"], charge=True)
    assert c.invoice("co-up", space["invoice"]["id"])["attributes"]["paidStatus"] == "paid"
    listed = call(space, "GET", "/payment_records", params={"invoice_ids": space["invoice"]["id"]})
    assert listed.json() == []
    c.reset()  # back to the default
