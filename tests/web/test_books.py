"""The books check's page and CSV through Django's test client: an admin asks for a
month's check, the worker makes it, the page shows both sides' sums per rate and each
difference with a link to its item, and the CSV holds the same."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.ledger.intake import record
from cobot_sevdesk.ledger.models import BooksCheck, Space
from cobot_sevdesk.runtime.worker import drain_space
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sync import books
from tests.web.test_pages import connected_admin, sevdesk_token  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def synced_invoices(boxes: Sandboxes) -> tuple[Space, list[dict[str, object]]]:
    """Three February invoices of co-up, recorded as webhooks would and synced."""
    space = Space.objects.get(subdomain="co-up")
    invoices = [
        boxes.cobot.add_invoice(
            "co-up",
            [invoice_line("Desk", amount, "19", "Desks")],
            invoice_date=f"2025-02-{day:02d}",
            recipient={"name": "Walk-in guest"},
        )
        for day, amount in ((3, "100.00"), (14, "250.00"), (27, "12.61"))
    ]
    for invoice in invoices:
        record(space, EVENTS["created_invoice"], str(invoice["id"]))
    drain_space(space.pk, slice_seconds=60)
    assert set(space.items.values_list("state", flat=True)) == {"mismatch"}
    return space, invoices


def run_check(client: Client, space: Space, month: str = "2025-02") -> BooksCheck:
    start = f"{month}-01"
    response = client.post(f"/s/{space.subdomain}/books/run/", {"month": month})
    assert response.status_code == 302
    check = BooksCheck.objects.get(pk=int(response["Location"].rsplit("=", 1)[1]))
    assert (check.state, check.trigger, str(check.start_date)) == ("queued", "requested", start)
    status = client.get(f"/s/{space.subdomain}/books/{check.pk}/status/").json()
    assert status == {"state": "queued", "differences": None, "active": True}
    drain_space(space.pk, slice_seconds=60)  # the worker's next turn makes it
    check.refresh_from_db()
    assert check.state == "done", check.error
    return check


def test_an_admin_checks_a_month_sees_both_sides_and_each_difference(
    oauth: Sandboxes,
    sevdesk_token: str,  # noqa: F811
) -> None:
    client = connected_admin(oauth, sevdesk_token)
    space, invoices = synced_invoices(oauth)
    page = client.get("/s/co-up/books/?month=2025-02").content.decode()
    assert "Not checked yet." in page and 'value="2025-02"' in page

    check = run_check(client, space)
    page = client.get(f"/s/co-up/books/?check={check.pk}").content.decode()
    assert "The books match." in page
    assert 'data-rate="19 %" data-differs="no"' in page
    # Net and gross of the month, at 19 % and in total, on both sides.
    assert page.count(">362.61<") == page.count(">431.51<") == 4
    assert 'id="csv"' in page

    number = invoices[1]["attributes"]["number"]  # type: ignore[index]
    voucher_id = space.items.get(label=number).sevdesk_voucher_id
    oauth.sevdesk.delete_voucher(sevdesk_token, voucher_id)
    again = run_check(client, space)
    assert again.differences == 1
    page = client.get("/s/co-up/books/?month=2025-02").content.decode()
    assert "One difference." in page
    assert 'data-code="receipt_deleted"' in page and "deleted in sevDesk" in page
    item = space.items.get(label=number)
    assert f'href="/s/co-up/items/{item.pk}/">{number}</a>' in page
    assert 'data-rate="19 %" data-differs="yes"' in page

    response = client.get(f"/s/co-up/books/{again.pk}/csv/")
    assert response["Content-Type"].startswith("text/csv")
    assert "books-co-up-2025-02-01-2025-02-28.csv" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    rate, total, difference = table
    assert (rate["Row"], rate["Rate"], rate["Cobot Gross"], rate["sevDesk Gross"]) == (
        "rate",
        "19",
        "431.51",
        "134.01",
    )
    assert (total["Row"], total["Cobot Count"], total["sevDesk Count"]) == ("total", "3", "2")
    assert Decimal(total["Difference (gross)"]) == Decimal("-297.50")
    assert difference["Row"] == "difference" and difference["Document number"] == number
    assert "deleted in sevDesk" in difference["Cause"]
    assert difference["Cobot Gross"] == "297.50" and difference["sevDesk Gross"] == ""
    assert difference["Link"].endswith(f"/s/co-up/items/{item.pk}/")


def test_the_page_speaks_the_admins_language_and_asking_twice_queues_once(
    oauth: Sandboxes,
    sevdesk_token: str,  # noqa: F811
) -> None:
    client = connected_admin(oauth, sevdesk_token)
    space = Space.objects.get(subdomain="co-up")
    client.post("/s/co-up/books/run/", {"from": "2025-02-01", "to": "2025-02-28"})
    client.post("/s/co-up/books/run/", {"month": "2025-02"})
    assert space.books_checks.count() == 1
    page = client.get("/s/co-up/books/?month=2025-02", HTTP_ACCEPT_LANGUAGE="de").content
    assert "Bücherprüfung".encode() in page
    # A range that cannot be read falls back to the previous month, with a message.
    page = client.get("/s/co-up/books/?from=2025-03-01&to=2025-02-01").content.decode()
    assert "Choose a month" in page


def test_another_spaces_checks_are_not_there(
    oauth: Sandboxes,
    sevdesk_token: str,  # noqa: F811
) -> None:
    client = connected_admin(oauth, sevdesk_token)  # Ada, admin of co-up and hafen
    other = Space.objects.create(subdomain="eves", name="Eve's", cobot_space_id="space-eves")
    feb = books.month("2025-02")
    theirs = BooksCheck.request(other, feb.start, feb.end, trigger="requested")
    for url in (
        f"/s/co-up/books/{theirs.pk}/status/",
        f"/s/co-up/books/{theirs.pk}/csv/",
        f"/s/co-up/books/?check={theirs.pk}",
        "/s/eves/books/",
    ):
        assert client.get(url).status_code == 404, url


def test_paid_amounts_in_the_totals_and_each_paid_difference_linked(
    oauth: Sandboxes,
    sevdesk_token: str,  # noqa: F811
) -> None:
    client = connected_admin(oauth, sevdesk_token)
    saved = client.post(  # Cobot's payments booked in sevDesk; not the other way
        "/s/co-up/payments/",
        {
            "book_cobot_payments": "on",
            "check_account": "new",
            "new_account_name": "Cobot payments",
            "new_account_number": "1460",
        },
    )
    assert saved.status_code == 302
    space, invoices = synced_invoices(oauth)
    first, second = (space.items.get(cobot_id=str(i["id"])) for i in invoices[:2])
    oauth.sevdesk.pay_voucher(sevdesk_token, first.sevdesk_voucher_id)  # by hand: 119.00
    oauth.cobot.pay_invoice("co-up", str(invoices[1]["id"]), amount="400.00")  # held
    record(space, EVENTS["updated_invoice"], str(invoices[1]["id"]))
    drain_space(space.pk, slice_seconds=60)
    [held] = second.payments.all()

    check = run_check(client, space)
    assert check.differences == 2
    page = client.get(f"/s/co-up/books/?check={check.pk}").content.decode()
    assert '<th class="right">Paid</th>' in page and "Difference (paid)" in page
    assert "a payment pays an invoice, not a tax rate" in page
    # All rates: Cobot 400.00 paid, sevDesk 119.00; the difference -281.00.
    assert ">400.00<" in page and ">119.00<" in page and ">-281.00<" in page
    assert 'data-code="paid_in_sevdesk_only"' in page and 'data-code="payment_held"' in page
    assert f'href="/s/co-up/items/{held.item_id}/">{second.label}</a>' in page  # the payment
    assert f'href="/s/co-up/items/{first.pk}/">{first.label}</a>' in page
    assert "paid 119.00 EUR" in page and "paid 400.00 EUR" in page

    # In German too (the next request, without the header, is in English again).
    german = client.get(f"/s/co-up/books/?check={check.pk}", HTTP_ACCEPT_LANGUAGE="de")
    assert "Bezahlt" in german.content.decode() and "Nur in sevDesk bezahlt" in (
        german.content.decode()
    )

    table = list(
        csv.DictReader(
            io.StringIO(client.get(f"/s/co-up/books/{check.pk}/csv/").content.decode("utf-8-sig"))
        )
    )
    rate, total, *differences = table
    assert rate["Cobot Paid"] == rate["sevDesk Paid"] == rate["Difference (paid)"] == ""
    assert (total["Cobot Paid"], total["sevDesk Paid"]) == ("400.00", "119.00")
    assert Decimal(total["Difference (paid)"]) == Decimal("-281.00")
    by_code = {row["Cause"].split(":")[0]: row for row in differences}
    by_hand = by_code["Paid in sevDesk only"]
    assert (by_hand["Cobot Paid"], by_hand["sevDesk Paid"]) == ("0.00", "119.00")
    assert by_hand["Difference (paid)"] == "119.00" and by_hand["Difference (gross)"] == ""
    assert by_code["Needs a decision"]["Link"].endswith(f"/s/co-up/items/{held.item_id}/")
