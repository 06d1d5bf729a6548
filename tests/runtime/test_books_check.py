"""The books check in the worker: a check asked for on the page is made in the space's
next turn, and after each month's end the month's check runs once and posts its
result to Cobot's admin feed in the space's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from cobot_sevdesk.ledger.models import BooksCheck, Space
from cobot_sevdesk.runtime.worker import drain_space, spaces_with_due_work
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sync import books
from tests.world import World, make_world

pytestmark = pytest.mark.django_db
LAST_MONTH = books.previous_month(timezone.localdate())


@pytest.fixture
def world(sandboxes: Sandboxes) -> World:
    """Two invoices of last month, synced; a space connected before that month began,
    whose admins read German."""
    world = make_world(sandboxes)
    member = world.member("Jane Doe")
    for days in (2, 20):
        day = LAST_MONTH.start + dt.timedelta(days=days)
        world.receive_invoice(world.invoice(membership_id=member["id"], invoice_date=str(day)))
    world.drain()  # connected just now: no month's check is due yet
    assert not BooksCheck.objects.exists()
    Space.objects.filter(pk=world.space.pk).update(
        language="de", connected_at=timezone.now() - dt.timedelta(days=70)
    )
    world.space.refresh_from_db()
    return world


def books_posts(world: World) -> list[dict[str, Any]]:
    return [a for a in world.activities() if "Die Bücher für" in a["attributes"]["text"]]


@override_settings(BOOKS_CHECK_DAY=1)  # whatever day the tests run on
def test_the_months_check_runs_once_and_posts_that_the_books_match(world: World) -> None:
    world.drain()
    [check] = BooksCheck.objects.all()
    assert (check.trigger, check.state, check.differences, check.posted) == (
        "monthly",
        "done",
        0,
        True,
    )
    assert (check.start_date, check.end_date) == (LAST_MONTH.start, LAST_MONTH.end)
    [post] = books_posts(world)
    text = post["attributes"]["text"]
    assert text.startswith("sevDesk: Die Bücher für ")
    assert "stimmen überein: 2 Rechnungen, 595,00 EUR." in text
    assert f"/s/co-up/books/?from={LAST_MONTH.start}&amp;to={LAST_MONTH.end}" in text
    assert post["level"] is None
    # Later turns, in this month: the month's check is not made or posted again.
    for _turn in range(3):
        drain_space(world.space.pk, slice_seconds=1)
    assert BooksCheck.objects.count() == 1 and len(books_posts(world)) == 1


@override_settings(BOOKS_CHECK_DAY=1)
def test_a_month_with_a_difference_posts_a_warning_with_the_link(world: World) -> None:
    item = world.space.items.filter(kind="invoice").order_by("id").first()
    assert item is not None
    world.boxes.sevdesk.delete_voucher(world.sevdesk_token, item.sevdesk_voucher_id)
    world.drain()
    [post] = books_posts(world)
    assert post["level"] == "WARN"
    assert (
        "stimmen nicht überein: 1 Abweichungen zwischen Cobot und sevDesk"
        in (post["attributes"]["text"])
    )
    assert ">Abweichungen ansehen</a>" in post["attributes"]["text"]


@override_settings(BOOKS_CHECK_DAY=1, RECONCILE_INTERVAL=900)
def test_a_months_check_that_could_not_be_made_is_tried_again_later(world: World) -> None:
    world.boxes.sevdesk.fault("^/Voucher$", status=503, times=None)
    drain_space(world.space.pk, slice_seconds=1)
    [check] = BooksCheck.objects.all()
    assert check.state == "queued" and check.posted is None and check.error is not None
    assert check.not_before is not None and check.not_before > timezone.now()
    assert books_posts(world) == []
    assert world.space.pk not in spaces_with_due_work()  # not before it is due again
    world.boxes.sevdesk.clear_faults()
    BooksCheck.objects.update(not_before=timezone.now())
    world.drain()
    check.refresh_from_db()
    assert (check.state, check.posted) == ("done", True)
    assert len(books_posts(world)) == 1


def test_a_requested_check_wakes_the_sweep_and_is_made_in_the_next_turn(world: World) -> None:
    # Connected just now: no month's check, only the one asked for.
    Space.objects.filter(pk=world.space.pk).update(connected_at=timezone.now())
    assert world.space.pk not in spaces_with_due_work()
    check = BooksCheck.request(
        world.space, LAST_MONTH.start, LAST_MONTH.end, trigger=BooksCheck.Trigger.REQUESTED
    )
    assert world.space.pk in spaces_with_due_work()
    drain_space(world.space.pk, slice_seconds=1)
    check.refresh_from_db()
    assert (check.state, check.differences, check.posted) == ("done", 0, None)
    assert books_posts(world) == []  # only the month's check is posted
    assert world.space.pk not in spaces_with_due_work()


@pytest.mark.parametrize(
    ("connected", "today", "due"),
    [
        ("2025-01-15", "2025-03-04", None),  # before BOOKS_CHECK_DAY
        ("2025-01-15", "2025-03-05", ("2025-02-01", "2025-02-28")),
        ("2025-02-01", "2025-03-20", ("2025-02-01", "2025-02-28")),  # connected on the 1st
        ("2025-02-02", "2025-03-20", None),  # not connected for the whole month
        ("2024-11-20", "2025-01-05", ("2024-12-01", "2024-12-31")),  # over the year's end
    ],
)
@override_settings(BOOKS_CHECK_DAY=5)
def test_which_months_check_is_due(connected: str, today: str, due: tuple[str, str] | None) -> None:
    moment = dt.datetime.fromisoformat(f"{connected}T12:00:00").replace(
        tzinfo=timezone.get_current_timezone()
    )
    space = Space(subdomain="x", connected_at=moment)
    period = books.monthly_due(space, dt.date.fromisoformat(today))
    found = (str(period.start), str(period.end)) if period else None
    assert found == due


@override_settings(BOOKS_CHECK_DAY=1)
def test_a_refused_post_leaves_the_check_made_and_is_not_repeated(world: World) -> None:
    world.boxes.cobot.fault("/activities$", method="POST", status=401, times=None)
    world.drain()
    [check] = BooksCheck.objects.all()
    assert (check.state, check.differences, check.posted) == ("done", 0, False)
    world.boxes.cobot.clear_faults()
    drain_space(world.space.pk, slice_seconds=1)
    assert books_posts(world) == [] and BooksCheck.objects.count() == 1
