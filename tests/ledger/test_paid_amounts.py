"""Paid amounts per invoice on both sides, for the books check: what the ledger
accounts for on each side, what each side last showed, and what is under way or held."""

from __future__ import annotations

from typing import Any

import pytest

from cobot_sevdesk.ledger.models import Paid, paid_by_invoice
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.payment_world import check_now, enable_payments, pay_in_cobot, synced_invoice
from tests.world import make_world

pytestmark = pytest.mark.django_db


def test_paid_amounts_per_invoice_on_both_sides(
    sandboxes: Sandboxes, django_assert_num_queries: Any
) -> None:
    world = make_world(sandboxes)
    enable_payments(world)
    paid, paid_invoice = synced_invoice(world, name="Jane Doe")  # 297.50
    held, held_invoice = synced_invoice(world, name="Max Mustermann")
    untouched, _ = synced_invoice(world, name="Kemal Yilmaz")
    pay_in_cobot(world, paid_invoice, amount="100.00")
    world.boxes.sevdesk.pay_voucher(
        world.sevdesk_token, paid.sevdesk_voucher_id, amount="197.50", date="2026-03-09"
    )
    pay_in_cobot(world, held_invoice, amount="500.00")  # overpaid: held
    check_now(world)
    with django_assert_num_queries(3):
        amounts = paid_by_invoice(world.space)
    full = amounts[paid.cobot_id]
    assert full.ledger == Paid(cobot=29750, sevdesk=29750)
    assert (full.cobot_seen, full.sevdesk_seen, full.settled) == (29750, 29750, True)
    assert (full.under_way, full.held, full.total) == (0, 0, 29750)
    over = amounts[held.cobot_id]
    assert over.ledger == Paid(cobot=50000, sevdesk=0) and over.held == 1
    [payment] = held.payments.all()
    assert over.held_items == (payment.item_id,) and over.failed_items == ()
    assert over.cobot_seen == 50000 and not over.settled
    none = amounts[untouched.cobot_id]
    assert none.ledger == Paid(cobot=0, sevdesk=0)
    assert (none.cobot_seen, none.sevdesk_seen) == (0, 0)  # read by the check: unpaid
    assert set(paid_by_invoice(world.space, [held.cobot_id])) == {held.cobot_id}
