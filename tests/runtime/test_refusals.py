"""401 and 403 mean different things: a refused token pauses the space, a refused call
fails only its item; and an object of another space is never booked here."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.world import World, make_world

pytestmark = pytest.mark.django_db
State = LedgerItem.State


def webhook(world: World, event: str, kind: str, cobot_id: str) -> Any:
    url = f"{world.boxes.cobot.base_url}/space/{world.subdomain}/api/{kind}/{cobot_id}"
    return Client().post(
        f"/hooks/{world.space.webhook_secret}/{event}/",
        {"url": url},
        content_type="application/json",
    )


def invoice_item(world: World, invoice: dict[str, Any]) -> LedgerItem:
    return LedgerItem.objects.get(space=world.space, kind="invoice", cobot_id=invoice["id"])


def test_a_403_from_sevdesk_fails_one_item_and_the_space_goes_on(world: World) -> None:
    first = world.invoice([invoice_line("Desk", "100", "19", "Desks")])
    second = world.invoice([invoice_line("Desk", "50", "19", "Desks")])
    world.boxes.sevdesk.fault("saveVoucher", status=403, times=1)
    assert webhook(world, "created_invoice", "invoices", first["id"]).status_code == 202
    assert webhook(world, "created_invoice", "invoices", second["id"]).status_code == 202
    world.drain()
    failed, synced = invoice_item(world, first), invoice_item(world, second)
    assert failed.state == State.FAILED and failed.error_code == "forbidden"
    assert "sevDesk does not allow this add-on to" in failed.error_text()
    assert synced.state in LedgerItem.SENT_STATES
    world.space.refresh_from_db()
    assert world.space.status == Space.Status.ACTIVE
    # The admin is told about the one invoice, not asked to fix a token that is fine.
    texts = [a["attributes"]["text"] for a in world.activities()]
    assert not any("paused" in text for text in texts)
    assert len(world.vouchers()) == 1


def test_a_401_on_one_call_while_the_token_works_fails_the_item_without_pausing(
    world: World,
) -> None:
    invoice = world.invoice()
    world.boxes.cobot.fault(r"/api2/invoices/", status=401, times=1)
    webhook(world, "created_invoice", "invoices", invoice["id"])
    world.drain()
    item = invoice_item(world, invoice)
    world.space.refresh_from_db()
    assert world.space.status == Space.Status.ACTIVE
    assert item.state == State.FAILED
    assert "although our access token works for its other calls" in item.error_text()
    assert item.retry()
    world.drain()
    assert invoice_item(world, invoice).state in LedgerItem.SENT_STATES


def test_a_revoked_cobot_token_pauses_the_space_once(world: World) -> None:
    invoice = world.invoice()
    webhook(world, "created_invoice", "invoices", invoice["id"])
    world.boxes.cobot.revoke_token(world.cobot_token)
    world.drain()
    world.space.refresh_from_db()
    assert world.space.status == Space.Status.PAUSED
    assert world.space.pause_reason == Space.PauseReason.COBOT_AUTH
    item = invoice_item(world, invoice)
    assert (item.state, item.attempts) == (State.PENDING, 0)  # the attempt did not count


def test_a_webhook_pointing_at_another_spaces_invoice_changes_nothing(
    sandboxes: Sandboxes,
) -> None:
    ours, theirs = make_world(sandboxes, "ours"), make_world(sandboxes, "theirs")
    foreign = theirs.invoice()
    # Our space-bound token cannot read it: that call fails, our space goes on.
    assert webhook(ours, "created_invoice", "invoices", foreign["id"]).status_code == 202
    ours.drain()
    item = invoice_item(ours, foreign)
    assert item.state == State.FAILED and item.error_code == "forbidden"
    ours.space.refresh_from_db()
    assert ours.space.status == Space.Status.ACTIVE
    assert ours.vouchers() == [] and theirs.vouchers() == []
    # Own invoices still go through.
    own = ours.invoice()
    webhook(ours, "created_invoice", "invoices", own["id"])
    ours.drain()
    assert invoice_item(ours, own).state in LedgerItem.SENT_STATES


def test_a_token_that_reaches_both_spaces_still_books_only_its_own(sandboxes: Sandboxes) -> None:
    ours, theirs = make_world(sandboxes, "ours"), make_world(sandboxes, "theirs")
    # Our admin also administers the other space, and we hold their user token (not a
    # space-bound one): Cobot would hand us the other space's invoice.
    sandboxes.cobot.set_admins("theirs", [theirs.admin_id, ours.admin_id])
    ours.space.cobot_token = sandboxes.cobot.add_token(ours.admin_id, client_id="cobot-sevdesk")
    ours.space.save()
    foreign = theirs.invoice()
    webhook(ours, "created_invoice", "invoices", foreign["id"])
    ours.drain()
    item = invoice_item(ours, foreign)
    assert item.state == State.FAILED and item.error_code == "foreign_invoice"
    assert "belongs to another space" in item.error_text()
    assert ours.vouchers() == [] and item.label == ""
