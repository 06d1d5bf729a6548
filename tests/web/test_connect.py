"""Connecting a space: the invoices that exist are noted (the periodic check leaves
them to a backfill), and the first check runs after RECONCILE_INTERVAL like every
later one."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.worker import drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.web.conftest import cobot_login, two_space_admin

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


def test_connecting_notes_the_existing_invoices_and_checks_first_after_the_interval(
    oauth: Sandboxes, settings: Any
) -> None:
    settings.RECONCILE_INTERVAL = 900
    token = secrets.token_hex(16)
    oauth.sevdesk.add_account(token, booking_accounts=[{"name": "Desks", "like": "4400"}])
    cobot = two_space_admin(oauth)
    before = oauth.cobot.add_invoice(
        "co-up", [invoice_line("Desk", "100", "19", "Desks")], invoice_date=days_ago(2)
    )
    client = Client()
    cobot_login(client, oauth, cobot.admin["id"])
    client.post("/spaces/co-up/connect/")
    connected = timezone.now()
    client.post("/s/co-up/settings/", {"sevdesk_token": token, "due_days": "0"})
    space = Space.objects.get(subdomain="co-up")
    assert space.baseline_at is not None
    assert list(space.preexisting.values_list("cobot_id", flat=True)) == [before["id"]]
    assert space.reconcile_due_at is not None
    wait = (space.reconcile_due_at - connected).total_seconds()
    assert 899 <= wait <= 905
    # A later check does not sync the invoice that existed at connection.
    Space.objects.filter(pk=space.pk).update(reconcile_due_at=timezone.now())
    drain_space(space.pk, slice_seconds=60)
    assert not LedgerItem.objects.filter(cobot_id=before["id"]).exists()
