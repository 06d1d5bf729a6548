"""The right customer or an honest "Mismatch": webhook in, receipt in the sevDesk
sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from cobot_sevdesk.ledger.models import LedgerItem
from tests.world import World

pytestmark = pytest.mark.django_db
State = LedgerItem.State


def synced_member(world: World, name: str, **fields: Any) -> dict[str, Any]:
    member = world.member(name, **fields)
    assert world.run(world.receive_member(member)).state == State.SYNCED
    return world.cobot_member(member["id"])  # now with sevDesk's customer number


def contact_with(world: World, number: str) -> dict[str, Any]:
    return next(c for c in world.contacts() if c["customerNumber"] == number)


def test_a_number_of_another_contact_books_to_the_members_contact_tagged_with_a_warning(
    world: World,
) -> None:
    bob = world.boxes.sevdesk.add_contact(
        world.sevdesk_token, name="Bob Builder GmbH", customerNumber="1001"
    )
    jane = synced_member(world, "Jane Doe")
    assert jane["customer_number"] != "1001"
    # The invoice carries Bob's number (typed wrong in Cobot, or an old numbering).
    invoice = world.invoice(membership_id=jane["id"], customer_number="1001")
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.MISMATCH, item.error_text()
    [voucher] = world.vouchers()
    janes = contact_with(world, jane["customer_number"])
    assert voucher["supplier"]["id"] == janes["id"] != str(bob["id"])  # never Bob
    assert voucher["tags"] == ["Mismatch", "Import"]
    # Listed for the admin and posted in Cobot, naming both.
    assert item in world.space.items.needing_attention()
    for text in (item.attention_text(), world.activities()[-1]["attributes"]["text"]):
        assert "Bob Builder GmbH" in text and "Jane Doe" in text
        assert "1001" in text and jane["customer_number"] in text
    assert world.activities()[-1]["level"] == "WARN"
    # Done once: a re-run neither warns nor tags again.
    world.receive_invoice(invoice)
    world.drain()
    assert sum(a["level"] == "WARN" for a in world.activities()) == 1
    assert world.vouchers()[0]["tags"] == ["Mismatch", "Import"]


def test_a_stale_number_goes_to_the_members_contact_and_is_noted(world: World) -> None:
    member = world.member("Jane Doe", customer_number="C-1")
    invoice = world.invoice(membership_id=member["id"])  # issued with Cobot's old "C-1"
    assert invoice["attributes"]["customerNumber"] == "C-1"
    world.run(world.receive_member(member))
    jane = world.cobot_member(member["id"])
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SYNCED, item.error_text()
    [voucher] = world.vouchers()
    assert voucher["supplier"]["id"] == contact_with(world, jane["customer_number"])["id"]
    assert voucher["tags"] == ["Import"]
    notes = [text for _at, _kind, text in item.history()]
    assert any("C-1" in text and "Jane Doe" in text for text in notes)
    assert item not in world.space.items.needing_attention()


def test_the_members_contact_wins_without_a_lookup_when_the_number_is_theirs(
    world: World,
) -> None:
    jane = synced_member(world, "Jane Doe")
    invoice = world.invoice(membership_id=jane["id"])  # carries sevDesk's number
    world.boxes.sevdesk.clear_requests()
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SYNCED
    assert not world.boxes.sevdesk.requests(method="GET", path="^/Contact$")


def test_a_recipient_we_never_linked_is_matched_by_number(world: World) -> None:
    team = world.boxes.sevdesk.add_contact(
        world.sevdesk_token, name="Team Rocket", customerNumber="T-7"
    )
    invoice = world.invoice(customer_number="T-7", recipient={"name": "Team Rocket"})
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SYNCED
    assert world.vouchers()[0]["supplier"]["id"] == str(team["id"])


def test_several_contacts_with_the_number_of_an_unlinked_recipient_stop(world: World) -> None:
    for name in ("A", "B"):
        world.boxes.sevdesk.add_contact(world.sevdesk_token, name=name, customerNumber="T-7")
    item = world.run(world.receive_invoice(world.invoice(customer_number="T-7")))
    assert item.state == State.FAILED and item.error_code == "ambiguous_contact"
    assert world.vouchers() == []
