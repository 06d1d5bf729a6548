"""Payments for sync tests: a connected space (``tests.world``) with both payment
switches on and a clearing account in sevDesk, synced invoices, and the two ways a
payment comes in: Cobot's webhook after a payment there, and the periodic check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from cobot_sevdesk.ledger.models import LedgerItem, Payment, PaymentSettings
from cobot_sevdesk.sandbox.control import invoice_line
from cobot_sevdesk.sevdesk.client import SevdeskClient
from tests.world import World

State = LedgerItem.State


def sevdesk_client(world: World) -> SevdeskClient:
    return SevdeskClient(world.sevdesk_token, base_url=world.boxes.sevdesk.base_url)


def enable_payments(world: World, *, book: bool = True, mark: bool = True) -> int:
    """Both switches as asked, Cobot payments booked on a new clearing account (its id)."""
    clearing = sevdesk_client(world).create_clearing_account("Cobot payments", 1460)
    PaymentSettings.objects.create(
        space=world.space,
        book_cobot_payments=book,
        check_account_id=clearing.id,
        check_account_name=clearing.name,
        mark_paid_in_cobot=mark,
    )
    return clearing.id


def synced_invoice(
    world: World, net: str = "250.00", name: str = "Jane Doe", **fields: Any
) -> tuple[LedgerItem, dict[str, Any]]:
    """A member's invoice (net at 19 %) that reached sevDesk as a receipt; ``fields``
    as the Cobot sandbox takes them (``invoice_date``)."""
    member = world.member(name)
    world.receive_member(member)
    invoice = world.invoice(
        [invoice_line("Fix desk", net, "19", "Desks")], membership_id=member["id"], **fields
    )
    item = world.receive_invoice(invoice)
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED, item.error_text()
    return item, invoice


def total(invoice: dict[str, Any]) -> Decimal:
    return Decimal(invoice["attributes"]["totalAmount"]["gross"])


def pay_in_cobot(world: World, invoice: dict[str, Any], **fields: Any) -> None:
    """A payment in Cobot, and the ``updated_invoice`` webhook Cobot sends for it."""
    world.boxes.cobot.pay_invoice(world.subdomain, invoice["id"], **fields)
    world.receive_invoice(invoice, event="updated_invoice")
    world.drain()


def check_now(world: World) -> None:
    """The periodic payment check comes due; the worker's next turn runs it."""
    PaymentSettings.objects.filter(space=world.space).update(check_due_at=timezone.now())
    world.drain()


def receipt(world: World, item: LedgerItem) -> dict[str, Any]:
    return next(v for v in world.vouchers() if int(v["id"]) == item.sevdesk_voucher_id)


def cobot_invoice(world: World, invoice: dict[str, Any]) -> dict[str, Any]:
    return world.boxes.cobot.invoice(world.subdomain, invoice["id"])["attributes"]  # type: ignore[no-any-return]


def records(world: World, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    from cobot_sevdesk.cobot.client import CobotClient
    from cobot_sevdesk.cobot.urls import CobotUrls

    cobot = world.boxes.cobot
    client = CobotClient(
        world.cobot_token,
        subdomain=world.subdomain,
        urls=CobotUrls(cobot.base_url, cobot.space_url_template, cobot.api2_url),
    )
    return [vars(r) for r in client.list_payment_records([invoice["id"]])]


def payments(world: World) -> list[Payment]:
    return list(
        Payment.objects.filter(invoice__space=world.space).select_related("item").order_by("id")
    )
