"""Receipt guidance: one account as a bare object; booking accounts an admin adds."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.sandbox.control import Sandboxes
from tests.sandbox.sevdesk.payloads import TOKEN


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
