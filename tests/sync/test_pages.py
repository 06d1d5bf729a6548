"""Page mode (``sync.pages``): due invoices read from Cobot's listing, their receipts
looked up in sevDesk once per page, exactly one receipt per invoice, through the
worker against both sandboxes."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest

from cobot_sevdesk.ledger.models import Backfill, LedgerItem
from cobot_sevdesk.sandbox.control import invoice_line
from tests.world import World

pytestmark = pytest.mark.django_db(transaction=True)
State = LedgerItem.State
SINGLE_INVOICE = re.compile(r"^/api2/invoices/[^/.]+$")


def cobot_calls(world: World) -> dict[str, int]:
    logged = world.boxes.cobot.requests()
    return {
        "single": sum(1 for r in logged if SINGLE_INVOICE.match(r["path"])),
        "listing": sum(1 for r in logged if r["path"].endswith("/invoices")),
        "pdf": sum(1 for r in logged if r["path"].endswith(".pdf")),
    }


def sevdesk_calls(world: World) -> dict[str, int]:
    logged = world.boxes.sevdesk.requests()
    listings = [r for r in logged if r["path"] == "/Voucher"]
    by_number = [r for r in listings if "descriptionLike" in r["query"]]
    by_date = [r for r in listings if "startDate" in r["query"]]
    return {
        "total": len(logged),
        "by_number": len(by_number),
        "by_date": len(by_date),
        "saved": sum(1 for r in logged if r["path"].endswith("saveVoucher")),
        "accounts": sum(1 for r in logged if "ReceiptGuidance" in r["path"]),
    }


def assert_one_receipt_each(world: World, count: int) -> None:
    numbers = [v["description"] for v in world.vouchers()]
    assert len(numbers) == count and len(set(numbers)) == count
    sent = LedgerItem.objects.filter(kind="invoice", state__in=LedgerItem.SENT_STATES)
    assert sent.count() == count


def old_invoices(world: World, count: int, year: int = 2025, **fields: Any) -> list[dict[str, Any]]:
    fields = fields or {
        "customer_number": "K-1",
        "recipient": {"name": "Customer", "company": None, "countryCode": "DE"},
    }
    return [
        world.boxes.cobot.add_invoice(
            world.subdomain,
            [invoice_line("Desk", str(10 + n % 9), "19", "Desks")],
            invoice_date=f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            **fields,
        )
        for n in range(count)
    ]


def synced_member(world: World) -> dict[str, Any]:
    member = world.member("Jane Doe")
    world.receive_member(member, "confirmed_membership")
    world.drain()
    return member


def backfill_2025(world: World) -> None:
    """A backfill of 2025, counted from its start."""
    Backfill.objects.create(
        space=world.space, start_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31)
    )
    world.boxes.cobot.clear_requests()
    world.boxes.sevdesk.clear_requests()
    world.drain()


def test_a_backfill_reads_cobot_in_pages_and_sevdesk_once_per_page(
    world: World, settings: Any
) -> None:
    world.space.tag_import = False
    world.space.save()
    old_invoices(world, 30, membership_id=synced_member(world)["id"])
    backfill_2025(world)
    assert_one_receipt_each(world, 30)
    cobot, sevdesk = cobot_calls(world), sevdesk_calls(world)
    # The backfill's own listing brought every invoice: no invoice fetched alone.
    assert cobot["single"] == 0 and cobot["listing"] == 1 and cobot["pdf"] == 30
    # Whether each receipt exists: one listing by date; after the creates, one more
    # look per turn; no look-up per invoice. Then an upload and a save each, and the
    # booking accounts read (once, or once per lane when lanes start together).
    assert sevdesk["by_number"] == 0 and sevdesk["by_date"] == 2
    assert 1 <= sevdesk["accounts"] <= settings.SYNC_PAGE_LANES
    assert sevdesk["total"] == 2 * 30 + 2 + sevdesk["accounts"]
    assert {i.state for i in LedgerItem.objects.filter(kind="invoice")} == {State.SYNCED}


def test_the_same_backfill_item_by_item_makes_a_call_of_each_per_invoice(
    world: World, settings: Any
) -> None:
    settings.SYNC_PAGES = False
    old_invoices(world, 10)
    backfill_2025(world)
    assert_one_receipt_each(world, 10)
    assert cobot_calls(world)["single"] == 10
    assert sevdesk_calls(world)["by_number"] == 20  # before and after each create


def test_a_burst_of_webhooks_is_read_in_one_listing(world: World) -> None:
    invoices = [world.invoice(number=f"RE-{n}") for n in range(12)]
    for invoice in invoices:
        world.receive_invoice(invoice)
    world.boxes.cobot.clear_requests()
    world.drain()
    assert_one_receipt_each(world, 12)
    calls = cobot_calls(world)
    assert calls["single"] == 0 and calls["listing"] == 1


def test_a_lone_webhook_fetches_its_invoice(world: World) -> None:
    world.receive_invoice(world.invoice())
    world.boxes.cobot.clear_requests()
    world.drain()
    assert_one_receipt_each(world, 1)
    assert cobot_calls(world) == {"single": 1, "listing": 0, "pdf": 1}


def test_webhooks_for_invoices_dated_long_ago_fall_back_to_fetching_each(world: World) -> None:
    for invoice in old_invoices(world, 4, year=2024):
        world.receive_invoice(invoice)
    world.boxes.cobot.clear_requests()
    world.drain()
    assert_one_receipt_each(world, 4)
    calls = cobot_calls(world)
    # Listed around today (where a webhook's invoice usually is), not found there,
    # then fetched one by one, once each.
    assert calls["listing"] == 1 and calls["single"] == 4


def test_an_expired_pdf_link_from_a_listing_is_renewed_by_a_fetch(
    world: World, settings: Any
) -> None:
    world.boxes.cobot.configure_webhooks(pdf_lifetime=0.5)
    invoices = [world.invoice(number=f"RE-{n}") for n in range(4)]
    for invoice in invoices:
        world.receive_invoice(invoice)
    from cobot_sevdesk.sync import pages
    from cobot_sevdesk.sync.context import SpaceContext

    assert pages.prefetch(SpaceContext(world.space), LedgerItem.Kind.INVOICE) == 4
    time.sleep(0.7)  # every listed link has expired
    world.drain()
    assert_one_receipt_each(world, 4)
    assert cobot_calls(world)["single"] == 4
    assert all(v["document"] for v in world.vouchers())


def test_a_receipt_made_by_hand_is_adopted_from_the_listing(world: World) -> None:
    invoices = [world.invoice(number=f"RE-{n}") for n in range(3)]
    day = dt.date.fromisoformat(invoices[1]["attributes"]["invoiceDate"])
    world.receipt_by_hand("RE-1", day, "297.50")
    for invoice in invoices:
        world.receive_invoice(invoice)
    world.drain()
    assert len(world.vouchers()) == 3
    assert sevdesk_calls(world)["by_number"] == 0
    adopted = LedgerItem.objects.get(label="RE-1")
    hand_made = next(v for v in world.vouchers() if v["description"] == "RE-1")
    assert adopted.sevdesk_voucher_id == int(hand_made["id"]) and adopted.sevdesk_data is None


def test_a_retry_after_a_create_looks_up_by_itself(world: World, settings: Any) -> None:
    """The worker died after sevDesk saved the receipt and before we noted it: the
    listing taken before does not know the receipt; the retry must not trust it."""
    settings.HTTP_READ_TIMEOUT = 0.5
    settings.SYNC_UNKNOWN_WINDOW = 0
    invoices = [world.invoice(number=f"RE-{n}") for n in range(3)]
    for invoice in invoices:
        world.receive_invoice(invoice)
    world.boxes.sevdesk.fault(path="saveVoucher", drop="after", times=1)
    world.drain()
    world.make_due()
    world.drain()
    assert_one_receipt_each(world, 3)
    assert sevdesk_calls(world)["by_number"] >= 1


@pytest.mark.parametrize("pages", [True, False])
def test_both_modes_book_the_same_receipts(world: World, settings: Any, pages: bool) -> None:
    settings.SYNC_PAGES = pages
    member = world.member("Jane Doe")
    world.receive_member(member, "confirmed_membership")
    invoices = [
        world.invoice(
            [
                invoice_line("Desk", "119.99", "19", "Desks"),
                invoice_line("Coffee", "3.35", "7", "Desks"),
            ],
            membership_id=member["id"],
            number=f"RE-{n}",
        )
        for n in range(5)
    ]
    for invoice in invoices:
        world.receive_invoice(invoice)
    world.drain()
    assert_one_receipt_each(world, 5)
    [contact] = world.contacts()
    assert {v["supplier"]["id"] for v in world.vouchers()} == {contact["id"]}
    assert {v["sumGross"] for v in world.vouchers()} == {
        invoices[0]["attributes"]["totalAmount"]["gross"]
    }


def test_a_burst_of_new_members_is_read_in_one_member_listing(world: World) -> None:
    # Cobot allows the member listing 6 requests a minute (documented); the sandbox
    # refuses the 7th, so a listing per turn or per member would show here.
    world.boxes.cobot.rate_limit(None, member_list_per_minute=6)
    members = [world.member(f"Member {n}") for n in range(10)]
    for member in members:
        world.receive_member(member, "confirmed_membership")
    world.boxes.cobot.clear_requests()
    world.drain()
    assert len(world.contacts()) == 10
    assert set(LedgerItem.objects.values_list("state", flat=True)) == {State.SYNCED}
    reads = [r["path"] for r in world.boxes.cobot.requests("GET", r"/api/memberships")]
    # One listing; the single reads left are the write-back's read-backs (one each).
    assert reads[0].endswith("/api/memberships") and len(reads) == 1 + 10
    assert not any(path.endswith("/api/memberships") for path in reads[1:])
    assert all(r["status"] < 300 for r in world.boxes.cobot.requests())  # no 429


def test_the_dates_listed_follow_the_due_items() -> None:
    from cobot_sevdesk.sync.pages import spans_to_list

    today = dt.date(2026, 12, 1)
    jan = dt.date(2026, 1, 1)
    # From the oldest dated item, at most 31 days: one straggler does not read a year.
    assert spans_to_list(
        {"a": jan, "b": dt.date(2026, 1, 10), "c": dt.date(2026, 6, 1)}, today
    ) == [(jan, dt.date(2026, 2, 1))]
    # Webhooks' items have no date yet: around today.
    assert spans_to_list({"a": None}, today) == [(dt.date(2026, 11, 30), dt.date(2026, 12, 2))]
    # Both, overlapping: one range.
    assert spans_to_list({"a": today, "b": None}, today) == [
        (dt.date(2026, 11, 30), dt.date(2026, 12, 2))
    ]
    assert spans_to_list({"a": jan, "b": None}, today) == [
        (jan, jan),
        (dt.date(2026, 11, 30), dt.date(2026, 12, 2)),
    ]


def test_a_turn_saves_as_many_receipts_at_once_as_it_has_lanes(world: World, settings: Any) -> None:
    settings.SYNC_PAGE_LANES = 3
    world.boxes.sevdesk.set_delay(0.05)  # long enough for the lanes' saves to overlap
    old_invoices(world, 18, membership_id=synced_member(world)["id"])
    backfill_2025(world)
    assert_one_receipt_each(world, 18)
    # A request is logged when answered, after the delay: it was open for the delay before.
    saves = [r["at"] for r in world.boxes.sevdesk.requests("POST", "saveVoucher")]
    marks = sorted([(at - 0.045, 1) for at in saves] + [(at, -1) for at in saves])
    in_flight = [sum(step for _at, step in marks[: n + 1]) for n in range(len(marks))]
    assert 2 <= max(in_flight) <= 3
