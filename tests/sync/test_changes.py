"""An invoice cancelled, written off or deleted in Cobot after its receipt exists: a
warning in Cobot and on the dashboard's attention list, with a link to the receipt,
until the admin marks it handled; nothing changes in sevDesk. The Cobot sandbox fires
the events, the webhook records them, the worker re-checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sandbox.control import invoice_line
from tests.world import World

pytestmark = pytest.mark.django_db
State = LedgerItem.State


def booked(world: World) -> tuple[dict[str, Any], LedgerItem]:
    invoice = world.invoice([invoice_line("Desk", "100", "19", "Desks")])
    item = world.run(world.receive_invoice(invoice))
    assert item.sevdesk_voucher_id is not None
    return invoice, item


def cancel(world: World, invoice: dict[str, Any]) -> str:
    world.boxes.cobot.cancel_invoice(world.subdomain, invoice["id"])
    return "updated_invoice"


def write_off(world: World, invoice: dict[str, Any]) -> str:
    world.boxes.cobot.write_off_invoice(world.subdomain, invoice["id"])
    return "wrote_off_invoice"


def delete(world: World, invoice: dict[str, Any]) -> str:
    world.boxes.cobot.delete_invoice(world.subdomain, invoice["id"])
    return "deleted_invoice"


@pytest.mark.parametrize(
    ("change", "words"),
    [(cancel, "cancelled"), (write_off, "written off"), (delete, "deleted")],
    ids=["cancelled", "written off", "deleted"],
)
def test_a_change_that_unmakes_the_revenue_is_listed_until_handled(
    world: World, change: Callable[[World, dict[str, Any]], str], words: str
) -> None:
    invoice, item = booked(world)
    before = world.vouchers()
    world.boxes.sevdesk.clear_requests()
    event = change(world, invoice)
    world.receive_invoice(invoice, event)
    world.drain()
    item.refresh_from_db()
    assert item.state in LedgerItem.SENT_STATES  # the receipt exists; the item stays done
    # Nothing changed in sevDesk: no write of any kind.
    assert world.vouchers() == before
    assert not [r for r in world.boxes.sevdesk.requests() if r["method"] != "GET"]
    # Listed, with the receipt named, and posted in Cobot with a link to the receipt.
    assert item in world.space.items.needing_attention()
    receipt = str(item.sevdesk_voucher_id)
    assert words in item.attention_text() and receipt in item.attention_text()
    warning = world.activities()[-1]
    assert warning["level"] == "WARN" and words in warning["attributes"]["text"]
    assert f"/#/ex/detail/id/{receipt}" in warning["attributes"]["text"]
    # The same webhook again adds nothing.
    world.receive_invoice(invoice, event)
    world.drain()
    assert sum(a["level"] == "WARN" for a in world.activities()) == 1
    # The admin marks it handled: off the list.
    assert item.attention_handled("ada@example.org")
    assert item not in world.space.items.needing_attention()


def test_a_payment_is_not_a_change_of_the_receipt(world: World) -> None:
    invoice, item = booked(world)
    world.boxes.cobot.update_invoice(world.subdomain, invoice["id"], paid_status="paid")
    world.receive_invoice(invoice, "updated_invoice")
    world.drain()
    item.refresh_from_db()
    assert item.attention is None and not world.activities()


def test_an_invoice_cancelled_before_it_was_sent_is_skipped_with_that_reason(
    world: World,
) -> None:
    invoice = world.invoice()
    world.boxes.cobot.cancel_invoice(world.subdomain, invoice["id"])
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SKIPPED
    assert "Cancelled in Cobot before it was sent" in item.history()[-1][2]
    assert world.vouchers() == []
    assert not world.boxes.sevdesk.requests(method="POST")


def test_an_invoice_written_off_before_it_was_sent_is_booked_and_reported(
    world: World,
) -> None:
    invoice = world.invoice()
    world.boxes.cobot.write_off_invoice(world.subdomain, invoice["id"])
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.MISMATCH and len(world.vouchers()) == 1
    assert "written off" in item.attention_text()


def test_a_cancelled_invoice_whose_receipt_exists_already_is_adopted_and_reported(
    world: World,
) -> None:
    invoice = world.invoice()
    world.boxes.sevdesk.fault("saveVoucher", method="POST", drop="after")
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.AMBIGUOUS and len(world.vouchers()) == 1
    world.boxes.cobot.cancel_invoice(world.subdomain, invoice["id"])
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.sevdesk_voucher_id == int(world.vouchers()[0]["id"])
    assert "cancelled" in item.attention_text()
    assert len(world.vouchers()) == 1
