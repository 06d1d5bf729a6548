"""Absurd data is an explained failure, never a 500: the ledger can hold anything Cobot
sends, and every page of the space still renders."""

from __future__ import annotations

import pytest

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.intake import record
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.worker import drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.web.conftest import connected_admin

pytestmark = pytest.mark.django_db


def test_an_invoice_of_a_trillion_euros_fails_with_a_reason_and_every_page_renders(
    oauth: Sandboxes,
) -> None:
    client, token = connected_admin(oauth)
    space = Space.objects.get(subdomain="co-up")
    absurd = oauth.cobot.add_invoice(
        "co-up", [invoice_line("Desk", "1000000000000", "19", "Desks")]
    )
    normal = oauth.cobot.add_invoice("co-up", [invoice_line("Desk", "100", "19", "Desks")])
    for invoice in (absurd, normal):
        record(space, EVENTS["created_invoice"], invoice["id"])
    drain_space(space.pk, slice_seconds=60)

    item = LedgerItem.objects.get(space=space, cobot_id=absurd["id"])
    assert item.state == LedgerItem.State.FAILED and item.error_code == "amount_too_large"
    assert "more than the 999,999,999.99 a receipt can take" in item.error_text()
    assert item.amount is None and item.label and item.label in item.error_text()
    assert LedgerItem.objects.get(space=space, cobot_id=normal["id"]).is_final
    assert len(oauth.sevdesk.state(token)["vouchers"]) == 1

    # Whatever the ledger holds, the pages render: the largest amount a row can hold.
    LedgerItem.objects.filter(pk=item.pk).update(amount_cents=2**63 - 1, currency="EUR")
    for url in ("/s/co-up/", f"/s/co-up/items/{item.pk}/", "/s/co-up/?state=failed"):
        assert client.get(url).status_code == 200, url
    assert "92,233,720,368,547,758.07" in client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    assert client.post(f"/s/co-up/items/{item.pk}/retry/").status_code == 302
    assert client.post("/s/co-up/retry-failed/").status_code == 302


def test_a_line_text_no_database_stores_still_books_and_its_record_renders(
    oauth: Sandboxes,
) -> None:
    client, _token = connected_admin(oauth)
    space = Space.objects.get(subdomain="co-up")
    # A NUL character: PostgreSQL's JSON cannot hold it, the kept record gets U+FFFD.
    invoice = oauth.cobot.add_invoice("co-up", [invoice_line("Desk\x00 <b>", "100", "19", "Desks")])
    record(space, EVENTS["created_invoice"], invoice["id"])
    drain_space(space.pk, slice_seconds=60)
    item = LedgerItem.objects.get(space=space, cobot_id=invoice["id"])
    assert item.is_final and item.sevdesk_voucher_id is not None, item.error_text()
    page = client.get(f"/s/co-up/items/{item.pk}/").content.decode()
    assert "Desk\ufffd &lt;b&gt;" in page
