"""The books check against the sandboxes: invoices synced through the real path, then
changed the way people change them (a receipt deleted by an accountant in sevDesk, an
invoice cancelled, edited, redated or deleted in Cobot), and the check reports exactly
those, each with its cause."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings

from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sync import books
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules.books_report import BooksReport
from tests.world import World

pytestmark = pytest.mark.django_db
FEBRUARY = books.month("2025-02")

#: Lines of a generated invoice: one per rate (0, 7 and 19 % in turns), each at its
#: accounting code. One line per rate, because that is the case where today's
#: receipts match Cobot's VAT per rate to the cent; several lines at one rate can
#: split net and VAT a cent differently (issue 11's "VAT per rate" fixes that, and the
#: check reports it as "split_differs" until then).
MIXES = [("19",), ("7",), ("19", "7"), ("19", "0"), ("19", "7", "0")]
CODES = {"19": "Desks", "7": "Food", "0": "4000"}


def lines_for(n: int) -> list[dict[str, Any]]:
    return [
        invoice_line(
            f"Line {n}/{rate}",
            f"{(n * 37) % 900 + 1}.{(n * 13) % 100:02d}",
            rate,
            CODES[rate],
            quantity=("1", "2", "1.5", "0.25")[n % 4],
        )
        for rate in MIXES[n % len(MIXES)]
    ]


def month_of_invoices(world: World, count: int, members: int = 10) -> list[dict[str, Any]]:
    """``count`` invoices dated across February 2025, for ``members`` members, synced
    the way webhooks bring them: recorded, then the worker's turns."""
    people = [world.member(f"Member {n} Example") for n in range(members)]
    invoices = []
    for n in range(count):
        invoice = world.invoice(
            lines_for(n),
            membership_id=people[n % members]["id"],
            invoice_date=(FEBRUARY.start + dt.timedelta(days=n % 28)).isoformat(),
        )
        invoices.append(invoice)
        world.receive_invoice(invoice)
    world.drain()
    states = set(world.space.items.values_list("state", flat=True))
    assert states <= {LedgerItem.State.SYNCED}, states
    return invoices


def check(world: World, period: books.Period = FEBRUARY) -> BooksReport:
    world.space.refresh_from_db()
    return books.read(SpaceContext(world.space), period)


def causes(report: BooksReport) -> dict[str, tuple[str, str]]:
    return {d.number: (d.code, d.cause.render()) for d in report.differences}


def receipt_of(world: World, invoice: dict[str, Any]) -> int:
    item = world.space.items.get(cobot_id=invoice["id"])
    assert item.sevdesk_voucher_id is not None
    return item.sevdesk_voucher_id


# Syncing a thousand invoices takes longer than a lease's heartbeat interval, and the
# heartbeat's own connection would wait for the test's transaction: a long lease.
@override_settings(SYNC_LEASE_SECONDS=3600)
def test_a_month_of_1000_invoices_matches_and_three_changes_are_each_named(
    world: World, sandboxes: Sandboxes
) -> None:
    invoices = month_of_invoices(world, 1000)
    started = time.monotonic()
    report = check(world)
    seconds = time.monotonic() - started
    assert report.differences == [], [d.cause.render() for d in report.differences[:5]]
    assert report.matches and report.notes == [] and report.other_receipts == 0
    [total] = report.totals
    assert total.cobot.count == total.sevdesk.count == 1000
    assert sum(Decimal(i["attributes"]["totalAmount"]["gross"]) for i in invoices) == (
        total.cobot.gross
    )
    rates = {row.rate: row for row in report.by_rate}
    assert set(rates) == {"0", "7", "19"}
    for row in rates.values():
        assert row.cobot.amounts() == row.sevdesk.amounts() and not row.differs
    assert rates["19"].cobot.count == 800 and rates["7"].cobot.count == 600
    # What it cost: Cobot's list 200 a page; sevDesk's vouchers and all positions of
    # the account 1,000 a page, and one count; not one call per receipt.
    assert report.calls["Cobot"] == 5
    assert report.calls["sevDesk"] <= 8, report.calls
    print(f"\nbooks check of 1,000 invoices: {seconds:.2f} s, calls {report.calls}")

    deleted, cancelled, edited = invoices[10], invoices[20], invoices[30]
    sandboxes.sevdesk.delete_voucher(world.sevdesk_token, receipt_of(world, deleted))
    sandboxes.cobot.cancel_invoice(world.subdomain, cancelled["id"])
    sandboxes.cobot.update_invoice(
        world.subdomain,
        edited["id"],
        lines=[{**line, "unit_net": "999.99"} for line in lines_for(30)],
    )
    report = check(world)
    found = causes(report)
    assert set(found) == {
        deleted["attributes"]["number"],
        cancelled["attributes"]["number"],
        edited["attributes"]["number"],
    }
    assert found[deleted["attributes"]["number"]][0] == "receipt_deleted"
    assert "deleted in sevDesk" in found[deleted["attributes"]["number"]][1]
    assert found[cancelled["attributes"]["number"]][0] == "cancelled"
    assert "Cancelled in Cobot after it was sent" in found[cancelled["attributes"]["number"]][1]
    assert found[edited["attributes"]["number"]][0] == "edited"
    assert "Changed in Cobot after it was sent" in found[edited["attributes"]["number"]][1]
    [total] = report.totals
    assert (total.cobot.count, total.sevdesk.count) == (999, 999)  # one cancelled, one deleted
    assert total.differs


def test_invoices_deleted_or_redated_in_cobot_and_one_never_sent(
    world: World, sandboxes: Sandboxes
) -> None:
    invoices = month_of_invoices(world, 3, members=1)
    sandboxes.cobot.delete_invoice(world.subdomain, invoices[0]["id"])
    sandboxes.cobot.update_invoice(world.subdomain, invoices[1]["id"], invoice_date="2025-03-02")
    sandboxes.sevdesk.edit_voucher(
        world.sevdesk_token, receipt_of(world, invoices[2]), positions=[{"sumGross": "1.00"}]
    )
    never = world.invoice(
        [invoice_line("Parking", "10.00", "19", "Parking")], invoice_date="2025-02-14"
    )
    world.run(world.receive_invoice(never))  # no booking account "Parking": failed
    report = check(world)
    found = causes(report)
    number = [i["attributes"]["number"] for i in invoices]
    assert found[number[0]][0] == "deleted_in_cobot"
    assert found[number[1]][0] == "moved_in_cobot" and "2025-03-02" in found[number[1]][1]
    assert found[number[2]][0] == "receipt_changed"
    assert found[never["attributes"]["number"]][0] == "failed"
    [failed] = [d for d in report.differences if d.code == "failed"]
    assert "Parking" in failed.details[0].render()  # the ledger's reason
    assert failed.item_id == world.space.items.get(cobot_id=never["id"]).pk
    assert len(report.differences) == 4
    # Each lookup of what left the period is one call, not a list.
    assert report.calls["Cobot"] == 1 + 2


def test_the_period_is_read_to_the_day_on_both_sides(world: World) -> None:
    people = world.member("Jane Doe")
    for day in ("2025-01-31", "2025-02-01", "2025-02-28", "2025-03-01"):
        world.receive_invoice(world.invoice(membership_id=people["id"], invoice_date=day))
    world.drain()
    report = check(world)
    assert report.matches
    assert report.totals[0].cobot.count == report.totals[0].sevdesk.count == 2
    assert (
        check(world, books.Period(dt.date(2025, 1, 31), dt.date(2025, 3, 1)))
        .totals[0]
        .sevdesk.count
        == 4
    )
