"""A connected space for sync tests: a Cobot sandbox space with an admin and
accounting codes, a sevDesk sandbox account with matching booking accounts, and the
product's Space row linking the two with real (sandbox) tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.intake import record
from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.runtime.attempt import Runner, SpacePaused
from cobot_sevdesk.runtime.worker import DrainResult, drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sevdesk.client import SevdeskClient
from cobot_sevdesk.sync.context import SpaceContext, clear_caches

#: Cobot accounting code -> sevDesk booking account (name, based on account number).
BOOKING_ACCOUNTS = [
    ("Desks", "4400"),
    ("Meeting rooms", "4400"),
    ("Food", "4300"),
]


def receipt_body(
    number: str, day: dt.date, gross: Decimal, datev_id: int, supplier: str = "By hand"
) -> dict[str, Any]:
    """A one-position income receipt as a person would save it in sevDesk (19 %)."""
    return {
        "voucher": {
            "objectName": "Voucher",
            "mapAll": True,
            "voucherType": "VOU",
            "creditDebit": "D",
            "status": 100,
            "voucherDate": day.strftime("%d.%m.%Y"),
            "description": number,
            "supplierName": supplier,
            "taxRule": {"id": 1, "objectName": "TaxRule"},
        },
        "voucherPosSave": [
            {
                "objectName": "VoucherPos",
                "mapAll": True,
                "accountDatev": {"id": datev_id, "objectName": "AccountDatev"},
                "taxRate": 19,
                "net": False,
                "sumGross": gross,
            }
        ],
        "voucherPosDelete": None,
    }


@dataclass
class World:
    boxes: Sandboxes
    space: Space
    subdomain: str
    sevdesk_token: str
    cobot_token: str
    admin_id: str

    # -- Cobot side -----------------------------------------------------------
    def member(self, name: str = "Jane Doe", **fields: Any) -> dict[str, Any]:
        return self.boxes.cobot.add_member(self.subdomain, name, **fields)

    def invoice(self, lines: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
        lines = lines or [invoice_line("Fix desk", "250.00", "19", "Desks")]
        return self.boxes.cobot.add_invoice(self.subdomain, lines, **fields)

    def activities(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.boxes.cobot.space(self.subdomain)["activities"]
        return result

    def cobot_member(self, membership_id: str) -> dict[str, Any]:
        return next(
            m
            for m in self.boxes.cobot.space(self.subdomain)["memberships"]
            if m["id"] == membership_id
        )

    # -- sevDesk side ---------------------------------------------------------
    def sevdesk(self) -> dict[str, Any]:
        return self.boxes.sevdesk.state(self.sevdesk_token)

    def contacts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.sevdesk()["contacts"]
        return result

    def receipt_by_hand(self, number: str, day: dt.date, gross: str) -> None:
        """A receipt someone booked in sevDesk themselves, with this document number."""
        client = SevdeskClient(self.sevdesk_token, base_url=self.boxes.sevdesk.base_url)
        account = client.revenue_accounts()[0]
        client.save_voucher(receipt_body(number, day, Decimal(gross), account.datev_id))

    def vouchers(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.sevdesk()["vouchers"]
        return result

    # -- the product ----------------------------------------------------------
    def receive(self, event: str, kind: str, cobot_id: str) -> LedgerItem:
        """What the webhook endpoint records for one delivery."""
        handled = EVENTS[event]
        assert handled.kind == kind
        intake = record(self.space, handled, cobot_id)
        return LedgerItem.objects.get(pk=intake.item_id)

    def receive_member(
        self, member: dict[str, Any], event: str = "confirmed_membership"
    ) -> LedgerItem:
        return self.receive(event, LedgerItem.Kind.MEMBER, member["id"])

    def receive_invoice(
        self, invoice: dict[str, Any], event: str = "created_invoice"
    ) -> LedgerItem:
        return self.receive(event, LedgerItem.Kind.INVOICE, invoice["id"])

    def run(self, item: LedgerItem) -> LedgerItem:
        """One attempt at one item, as the worker makes it."""
        self.space.refresh_from_db()
        item.refresh_from_db()
        with contextlib.suppress(SpacePaused):
            Runner(SpaceContext(self.space)).run(item)
        item.refresh_from_db()
        return item

    def drain(self) -> list[DrainResult]:
        """Turns at the space, as the worker takes them, until nothing is due now."""
        results = []
        for _round in range(200):
            result = drain_space(self.space.pk, slice_seconds=60)
            results.append(result)
            if not result.more:
                self.space.refresh_from_db()
                return results
        raise AssertionError("the space kept having work")

    def make_due(self) -> None:
        """Skip the waiting: retries become due now."""
        self.space.items.filter(state__in=LedgerItem.OPEN_STATES).update(
            next_attempt_at=timezone.now()
        )


def make_world(
    boxes: Sandboxes,
    subdomain: str = "co-up",
    *,
    cost_centres: list[dict[str, str]] | None = None,
    cost_centre_number: str = "",
    due_days: int = 0,
    small_business: bool = False,
    country_code: str = "DE",
) -> World:
    clear_caches()
    admin = boxes.cobot.add_user(f"admin@{subdomain}.example", "Ada Admin")
    boxes.cobot.add_space(
        subdomain, subdomain.replace("-", " ").title(), [admin["id"]], country_code
    )
    for code, _base in BOOKING_ACCOUNTS:
        boxes.cobot.add_accounting_code(subdomain, code)
    cobot_token = boxes.cobot.add_token(admin["id"], space=subdomain, client_id="cobot-sevdesk")
    sevdesk_token = secrets.token_hex(16)
    boxes.sevdesk.add_account(
        sevdesk_token,
        small_business=small_business,
        cost_centres=cost_centres,
        booking_accounts=[{"name": name, "like": base} for name, base in BOOKING_ACCOUNTS]
        if not small_business
        else [{"name": name} for name, _base in BOOKING_ACCOUNTS],
    )
    space = Space(
        subdomain=subdomain,
        name=subdomain,
        cobot_space_id=f"space-{subdomain}",
        api2_id=boxes.cobot.space(subdomain)["api2_id"],
        country_code=country_code,
        language="en",
        due_days=due_days,
        cost_centre_number=cost_centre_number,
        small_business=small_business,
        connected_at=timezone.now(),
        baseline_at=timezone.now(),  # connected before any invoice existed
        # Tests reconcile on purpose, not on the first turn.
        reconcile_due_at=timezone.now() + dt.timedelta(days=1),
    )
    space.cobot_token = cobot_token
    space.sevdesk_token = sevdesk_token
    space.save()
    return World(boxes, space, subdomain, sevdesk_token, cobot_token, admin["id"])
