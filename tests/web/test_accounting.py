"""The accountant's view through the pages: the two new settings, a written-off or
deleted invoice arriving by webhook and listed until handled, and the item's record of
what Cobot sent and what went to sevDesk."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.worker import drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sync.subscriptions import callback_url
from tests.web.conftest import connected_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(oauth: Sandboxes) -> tuple[Client, str]:
    return connected_admin(oauth, write_back_numbers="on", tag_import="on")


def webhook(client: Client, boxes: Sandboxes, event: str, invoice_id: str) -> int:
    """Cobot's delivery of ``event`` for an invoice, to the URL we subscribed."""
    space = Space.objects.get(subdomain="co-up")
    url = f"{boxes.cobot.space_url_template.format(subdomain='co-up')}/api/invoices/{invoice_id}"
    path = callback_url(space, event).removeprefix("http://testserver")
    status: int = client.post(path, {"url": url}, content_type="application/json").status_code
    return status


def test_both_settings_are_on_by_default_and_can_be_switched_off(
    oauth: Sandboxes, admin: tuple[Client, str]
) -> None:
    client, _token = admin
    page = client.get("/s/co-up/settings/").content.decode()
    for name in ("write_back_numbers", "tag_import"):
        assert re.search(rf'name="{name}"[^>]*checked', page), name
    space = Space.objects.get(subdomain="co-up")
    assert space.write_back_numbers and space.tag_import
    client.post("/s/co-up/settings/", {"sevdesk_token": "", "due_days": "0"})
    space.refresh_from_db()
    assert not space.write_back_numbers and not space.tag_import


@pytest.mark.parametrize("event", ["wrote_off_invoice", "deleted_invoice"])
def test_an_invoice_written_off_or_deleted_after_sync_is_listed_until_handled(
    oauth: Sandboxes, admin: tuple[Client, str], event: str
) -> None:
    client, _token = admin
    space = Space.objects.get(subdomain="co-up")
    invoice = oauth.cobot.add_invoice("co-up", [invoice_line("Desk", "100", "19", "Desks")])
    assert webhook(client, oauth, "created_invoice", invoice["id"]) == 202
    drain_space(space.pk, slice_seconds=60)
    item = LedgerItem.objects.get(cobot_id=invoice["id"])
    assert item.sevdesk_voucher_id is not None
    if event == "wrote_off_invoice":
        oauth.cobot.write_off_invoice("co-up", invoice["id"])
    else:
        oauth.cobot.delete_invoice("co-up", invoice["id"])
    assert webhook(client, oauth, event, invoice["id"]) == 202
    drain_space(space.pk, slice_seconds=60)
    dashboard = client.get("/s/co-up/").content.decode()
    assert "needs your attention" in dashboard and invoice["attributes"]["number"] in dashboard
    page = client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    assert 'id="attention"' in page and 'id="handled"' in page
    assert f"/#/ex/detail/id/{item.sevdesk_voucher_id}" in page  # the receipt, linked
    client.post(f"/s/co-up/items/{item.pk}/handled/")
    assert 'id="attention"' not in client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    assert "needs your attention" not in client.get("/s/co-up/").content.decode()


def test_the_item_page_shows_what_was_sent_without_secrets(
    oauth: Sandboxes, admin: tuple[Client, str]
) -> None:
    client, token = admin
    space = Space.objects.get(subdomain="co-up")
    invoice = oauth.cobot.add_invoice("co-up", [invoice_line("Desk", "100", "19", "Desks")])
    webhook(client, oauth, "created_invoice", invoice["id"])
    drain_space(space.pk, slice_seconds=60)
    item = LedgerItem.objects.get(cobot_id=invoice["id"])
    # Kept as fetched and as sent, minus what grants access.
    assert item.cobot_data["attributes"]["number"] == invoice["attributes"]["number"]
    assert item.cobot_data["attributes"]["pdf"]["url"].endswith("?token=[redacted]")
    [sent] = item.sevdesk_data
    assert sent["request"] == "POST /Voucher/Factory/saveVoucher"
    assert sent["body"]["voucherPosSave"][0]["sumGross"] == "119.00"
    kept = json.dumps([item.cobot_data, item.sevdesk_data])
    assert token not in kept and space.cobot_token not in kept
    assert not re.search(r"token=(?!\[redacted\])", kept)
    page = client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    assert 'id="cobot-data"' in page and 'id="sevdesk-data"' in page
    assert "&lt;details" not in page and "<details" in page  # collapsed, not escaped
    assert "voucherPosSave" in page and "recipientAddress" in page
    assert token not in page
