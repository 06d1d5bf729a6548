"""No item can block a space: an admin skips an item on its page, the history says who
did it and when, and a worker that had already read the item does not undo it."""

from __future__ import annotations

import pytest
from django.test import Client

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.intake import record
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.attempt import Runner
from cobot_sevdesk.runtime.worker import drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sync.context import SpaceContext
from tests.web.conftest import connected_admin

pytestmark = pytest.mark.django_db
State = LedgerItem.State


@pytest.fixture
def admin(oauth: Sandboxes) -> tuple[Client, str]:
    return connected_admin(oauth)


def invoice_item(boxes: Sandboxes, space: Space, net: str) -> LedgerItem:
    invoice = boxes.cobot.add_invoice("co-up", [invoice_line("Desk", net, "19", "Desks")])
    return LedgerItem.objects.get(
        pk=record(space, EVENTS["created_invoice"], invoice["id"]).item_id
    )


def test_an_admin_skips_a_stuck_item_and_the_history_says_who(
    oauth: Sandboxes, admin: tuple[Client, str]
) -> None:
    client, token = admin
    space = Space.objects.get(subdomain="co-up")
    oauth.sevdesk.fault("saveVoucher", status=503, times=None)
    stuck = invoice_item(oauth, space, "100")
    drain_space(space.pk, slice_seconds=60)
    stuck.refresh_from_db()
    assert stuck.state == State.RETRY_WAIT
    page = client.get(f"/s/co-up/items/{stuck.pk}/").content.decode()
    assert 'id="skip"' in page
    response = client.post(
        f"/s/co-up/items/{stuck.pk}/skip/", {"reason": "Booked by hand in sevDesk."}
    )
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert stuck.state == State.SKIPPED and stuck.next_attempt_at is None
    history = client.get(f"/s/co-up/items/{stuck.pk}/").content.decode()
    assert "Skipped by ada@example.org: Booked by hand in sevDesk." in history
    # Nothing holds the space up any more: the next invoice goes through.
    oauth.sevdesk.clear_faults()
    later = invoice_item(oauth, space, "50")
    drain_space(space.pk, slice_seconds=60)
    later.refresh_from_db()
    stuck.refresh_from_db()
    assert later.state in LedgerItem.SENT_STATES and stuck.state == State.SKIPPED
    assert len(oauth.sevdesk.state(token)["vouchers"]) == 1


def test_done_items_cannot_be_skipped(oauth: Sandboxes, admin: tuple[Client, str]) -> None:
    client, _token = admin
    space = Space.objects.get(subdomain="co-up")
    done = invoice_item(oauth, space, "100")
    drain_space(space.pk, slice_seconds=60)
    done.refresh_from_db()
    assert done.state in LedgerItem.SENT_STATES
    assert 'id="skip"' not in client.get(f"/s/co-up/items/{done.pk}/").content.decode()
    client.post(f"/s/co-up/items/{done.pk}/skip/")
    done.refresh_from_db()
    assert done.state in LedgerItem.SENT_STATES


def test_a_worker_that_read_the_item_before_the_skip_does_not_undo_it(
    oauth: Sandboxes, admin: tuple[Client, str]
) -> None:
    client, token = admin
    space = Space.objects.get(subdomain="co-up")
    item = invoice_item(oauth, space, "100")
    as_read_by_worker = LedgerItem.objects.get(pk=item.pk)
    client.post(f"/s/co-up/items/{item.pk}/skip/")
    Runner(SpaceContext(space)).run(as_read_by_worker)
    item.refresh_from_db()
    assert item.state == State.SKIPPED and item.attempts == 0
    assert oauth.sevdesk.state(token)["vouchers"] == []


def test_an_item_needing_attention_is_listed_until_the_admin_marks_it_handled(
    oauth: Sandboxes, admin: tuple[Client, str]
) -> None:
    client, _token = admin
    space = Space.objects.get(subdomain="co-up")
    item = invoice_item(oauth, space, "100")
    drain_space(space.pk, slice_seconds=60)
    item.refresh_from_db()
    item.flag_attention("sevDesk has 2 receipts with the document number X.")
    dashboard = client.get("/s/co-up/").content.decode()
    assert "One item needs your attention" in dashboard and "2 receipts" in dashboard
    assert 'id="handled"' in client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    client.post(f"/s/co-up/items/{item.pk}/handled/")
    item.refresh_from_db()
    assert item.attention is None
    assert "need your attention" not in client.get("/s/co-up/").content.decode()
    history = client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    assert "Marked as handled by ada@example.org." in history
