"""The books check compares paid amounts, through the real path: invoices synced and
paid the ways people pay them (in Cobot, booked in sevDesk by the add-on; in sevDesk
by the bookkeeper while the add-on does not record sevDesk's payments in Cobot; an
overpayment the add-on holds for the admin; a payment whose booking sevDesk answered
with 503), then the check reads both sandboxes and the ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from cobot_sevdesk.ledger.models import LedgerItem, Payment
from cobot_sevdesk.sync import books
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules.books_report import BooksReport
from tests.payment_world import enable_payments, pay_in_cobot, receipt, synced_invoice
from tests.world import World

pytestmark = pytest.mark.django_db
MARCH = books.month("2026-03")


def check(world: World) -> BooksReport:
    world.space.refresh_from_db()
    return books.read(SpaceContext(world.space), MARCH)


def test_paid_amounts_of_a_month_each_difference_with_its_cause(world: World) -> None:
    # Cobot's payments are booked in sevDesk; sevDesk's are not recorded in Cobot.
    enable_payments(world, book=True, mark=False)
    day = {"invoice_date": "2026-03-02"}
    jane, jane_invoice = synced_invoice(world, name="Jane Doe", **day)  # 297.50 each
    max_, _max_invoice = synced_invoice(world, name="Max Mustermann", **day)
    kemal, kemal_invoice = synced_invoice(world, name="Kemal Yilmaz", **day)
    lena, lena_invoice = synced_invoice(world, name="Lena Berg", **day)
    assert check(world).matches

    pay_in_cobot(world, jane_invoice, paid_at="2026-03-05")  # booked in sevDesk by the sync
    assert Decimal(receipt(world, jane)["paidAmount"]) == Decimal("297.50")
    world.boxes.sevdesk.pay_voucher(  # the bookkeeper, in sevDesk
        world.sevdesk_token, max_.sevdesk_voucher_id, date="2026-03-09"
    )
    pay_in_cobot(world, kemal_invoice, amount="500.00")  # more than the invoice: held
    [held] = Payment.objects.filter(invoice=kemal)
    assert held.item.state == LedgerItem.State.SKIPPED and held.item.attention is not None
    world.boxes.sevdesk.fault("bookAmount", status=503, times=None)
    pay_in_cobot(world, lena_invoice, amount="100.00")  # sevDesk fails: tried again later
    [under_way] = Payment.objects.filter(invoice=lena)
    assert under_way.item.is_open

    report = check(world)
    found = {d.number: d for d in report.differences}
    assert set(found) == {max_.label, kemal.label}, [d.cause.render() for d in found.values()]
    by_hand = found[max_.label]
    assert by_hand.code == "paid_in_sevdesk_only" and by_hand.item_id == max_.pk
    assert by_hand.cause.render() == (
        "Paid in sevDesk only: sevDesk shows 297.50 EUR paid, Cobot nothing."
    )
    assert (by_hand.cobot_paid, by_hand.sevdesk_paid) == (Decimal(0), Decimal("297.50"))
    assert "no record of 297.50 EUR of what sevDesk shows" in by_hand.details[0].render()
    decision = found[kemal.label]
    assert decision.code == "payment_held" and decision.item_id == held.item.pk
    assert decision.cause.render().startswith("Needs a decision: a payment of this invoice")
    assert "Cobot shows 500.00 EUR paid, sevDesk 0.00 EUR" in decision.cause.render()
    [note] = report.notes
    assert (note.code, note.number) == ("payment_under_way", lena.label)
    assert "Cobot shows 100.00 EUR paid, sevDesk 0.00 EUR" in note.cause.render()
    [total] = report.totals
    assert total.cobot.paid == Decimal("897.50")  # 297.50 + 500.00 + 100.00
    assert total.sevdesk.paid == Decimal("595.00")  # Jane's booking and Max's by hand
    assert total.cobot.gross == total.sevdesk.gross and total.differs
    [rate] = report.by_rate
    assert rate.cobot.paid is None and not rate.differs  # paid is per invoice, not per rate
    # Reading the payments costs no call: they come with the invoices and vouchers.
    assert report.calls["Cobot"] == 1

    # sevDesk answers again and the booking goes through (the unknown-outcome window
    # over): no longer a note, and the books agree on it.
    world.boxes.sevdesk.clear_faults()
    with override_settings(SYNC_UNKNOWN_WINDOW=0):
        world.make_due()
        world.drain()
    under_way.refresh_from_db()
    assert under_way.how == Payment.How.CLEARING
    report = check(world)
    assert report.notes == [] and {d.number for d in report.differences} == {
        max_.label,
        kemal.label,
    }
