"""Never lost: the periodic check catches an invoice created after the connection whose
webhook was lost, whatever its invoice date within RECONCILE_DAYS, and leaves alone
what existed at connection (that is what a backfill is for)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.reconcile import take_baseline
from tests.world import World

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


def check_now(world: World) -> None:
    Space.objects.filter(pk=world.space.pk).update(reconcile_due_at=timezone.now())
    world.drain()


def test_a_back_dated_invoice_whose_webhook_was_lost_is_caught(world: World) -> None:
    existing = world.invoice(invoice_date=days_ago(3))
    take_baseline(SpaceContext(world.space))  # connected now: that invoice existed
    back_dated = world.invoice(invoice_date=days_ago(20))  # created later, dated earlier
    check_now(world)
    recorded = {i.cobot_id: i for i in LedgerItem.objects.filter(kind="invoice")}
    assert set(recorded) == {back_dated["id"]}
    assert recorded[back_dated["id"]].source == LedgerItem.Source.RECONCILE
    assert recorded[back_dated["id"]].is_final
    assert existing["id"] not in recorded
    [voucher] = world.vouchers()
    assert voucher["description"] == back_dated["attributes"]["number"]


def test_an_invoice_dated_beyond_the_window_is_left_to_a_backfill(
    world: World, settings: Any
) -> None:
    settings.RECONCILE_DAYS = 31
    world.invoice(invoice_date=days_ago(45))
    check_now(world)
    assert LedgerItem.objects.count() == 0
