"""Invoices become sevDesk income receipts, against the sandboxes over HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from tests.world import World, make_world

pytestmark = pytest.mark.django_db
State = LedgerItem.State


@pytest.fixture
def world(sandboxes: Sandboxes) -> World:
    return make_world(
        sandboxes,
        cost_centres=[{"number": "100", "name": "Coworking"}],
        cost_centre_number="100",
        due_days=14,
    )


def synced_member(world: World, name: str = "Jane Doe", **fields: object) -> dict[str, object]:
    member = world.member(name, **fields)
    assert world.run(world.receive_member(member)).state == State.SYNCED
    return world.cobot_member(member["id"])  # now with sevDesk's customer number


def test_invoice_with_several_lines_accounts_and_rates_becomes_one_exact_receipt(
    world: World,
) -> None:
    member = synced_member(world, company="ACME GmbH")
    invoice = world.invoice(
        [
            invoice_line("Fix desk March", "250.00", "19", "Desks"),
            invoice_line("Meeting room 2h", "12.61", "19", "Meeting rooms", quantity="3"),
            invoice_line("Coffee", "1.87", "7", "food "),  # trimmed, any case
            invoice_line("Deposit", "100.00", "0", "4000"),  # an account number works too
        ],
        membership_id=member["id"],
        invoice_date="2026-03-05",
    )
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SYNCED, item.error_text()
    [voucher] = world.vouchers()
    total = Decimal(invoice["attributes"]["totalAmount"]["gross"])
    assert Decimal(voucher["sumGross"]) == total
    assert sum(Decimal(p["sumGross"]) for p in voucher["positions"]) == total
    assert voucher["description"] == invoice["attributes"]["number"]
    assert voucher["voucherDate"].startswith("2026-03-05")
    assert voucher["deliveryDate"].startswith("2026-03-05")
    assert voucher["paymentDeadline"].startswith("2026-03-19")  # + 14 days
    assert (voucher["creditDebit"], voucher["voucherType"], voucher["status"]) == (
        "D",
        "VOU",
        "100",
    )
    assert voucher["taxRule"]["id"] == 1
    assert voucher["currency"] == "EUR"
    assert voucher["costCentre"] is not None
    assert voucher["supplier"]["id"] == str(item.sevdesk_contact_id)
    assert voucher["documentHash"]  # the PDF is attached
    accounts = {a["accountDatevId"]: a["accountName"] for a in world.sevdesk()["bookingAccounts"]}
    booked = [(accounts[p["accountDatev"]["id"]], p["taxRate"]) for p in voucher["positions"]]
    assert booked == [
        ("Desks", "19"),
        ("Meeting rooms", "19"),
        ("Food", "7"),
        ("Umsatzerlöse", "0"),
    ]
    assert voucher["tags"] == ["Import"]  # as Cobot's own add-on tags every receipt


def test_receipt_gross_matches_even_when_cobot_rounds_tax_per_invoice(world: World) -> None:
    # 3 lines of 0.33 net at 19 %: each line's tax rounds to 0.06, the invoice's to 0.19.
    invoice = world.invoice([invoice_line(f"Print {n}", "0.33", "19", "Desks") for n in range(3)])
    line_sum = sum(Decimal(i["totalAmount"]["gross"]) for i in invoice["attributes"]["items"])
    total = Decimal(invoice["attributes"]["totalAmount"]["gross"])
    assert line_sum != total  # the hard case
    world.run(world.receive_invoice(invoice))
    assert Decimal(world.vouchers()[0]["sumGross"]) == total


def test_no_matching_contact_gives_a_mismatch_receipt(world: World) -> None:
    invoice = world.invoice(
        customer_number="999", recipient={"name": "Walk-in Guest", "company": None}
    )
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.MISMATCH
    [voucher] = world.vouchers()
    assert voucher["supplier"] is None and voucher["supplierName"] == "Walk-in Guest"
    assert voucher["tags"] == ["Mismatch", "Import"]


def test_missing_account_writes_nothing_posts_an_activity_and_a_retry_succeeds(
    world: World,
) -> None:
    member = synced_member(world)
    invoice = world.invoice(
        [
            invoice_line("Desk", "100", "19", "Desks"),
            invoice_line("Parking", "20", "19", "Parking"),
        ],
        membership_id=member["id"],
    )
    world.boxes.sevdesk.clear_requests()
    world.boxes.cobot.clear_requests()
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.FAILED
    assert item.error_code == "missing_account"
    number = invoice["attributes"]["number"]
    assert (
        number in item.error_text()
        and "line 2 (Parking)" in item.error_text()
        and "Parking" in item.error_text()
    )
    assert world.vouchers() == []
    assert not world.boxes.sevdesk.requests(method="POST")
    activity = world.activities()[-1]
    assert activity["level"] == "ERROR" and number in activity["attributes"]["text"]
    assert "Parking" in activity["attributes"]["text"]
    # The admin creates the account in sevDesk and presses retry.
    world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Parking", like="4400")
    assert item.retry()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert len(world.vouchers()) == 1


def test_line_without_accounting_code_is_refused(world: World) -> None:
    invoice = world.invoice([invoice_line("Something", "10", "19", None)])
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.FAILED
    assert "line 1 (Something) has no accounting code" in item.error_text()


def test_redelivery_and_rerun_make_no_second_receipt(world: World) -> None:
    invoice = world.invoice()
    item = world.run(world.receive_invoice(invoice))
    assert world.receive_invoice(invoice).pk == item.pk
    world.drain()
    LedgerItem.objects.filter(pk=item.pk).update(state=State.PENDING)  # even forced again
    world.drain()
    assert len(world.vouchers()) == 1


def test_receipt_created_but_answer_lost_ends_with_exactly_one(world: World) -> None:
    invoice = world.invoice(membership_id=synced_member(world)["id"])
    world.boxes.sevdesk.fault("saveVoucher", method="POST", drop="after")
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.AMBIGUOUS
    assert len(world.vouchers()) == 1  # sevDesk did store it
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert item.sevdesk_voucher_id == int(world.vouchers()[0]["id"])
    assert len(world.vouchers()) == 1
    assert len(world.boxes.sevdesk.requests(method="POST", path="saveVoucher")) == 1


def test_receipt_made_by_hand_with_the_same_number_is_adopted(world: World) -> None:
    invoice = world.invoice()
    number = invoice["attributes"]["number"]
    # Someone typed this receipt in already, with the same total.
    from cobot_sevdesk.sevdesk.client import SevdeskClient

    client = SevdeskClient(world.sevdesk_token, base_url=world.boxes.sevdesk.base_url)
    account = next(a for a in client.revenue_accounts() if a.name == "Desks")
    client.save_voucher(
        {
            "voucher": {
                "objectName": "Voucher",
                "mapAll": True,
                "status": 100,
                "creditDebit": "D",
                "voucherType": "VOU",
                "supplierName": "x",
                "description": number,
                "taxRule": {"id": 1, "objectName": "TaxRule"},
            },
            "voucherPosSave": [
                {
                    "objectName": "VoucherPos",
                    "mapAll": True,
                    "net": False,
                    "taxRate": 19,
                    "accountDatev": {"id": account.datev_id, "objectName": "AccountDatev"},
                    "sumGross": Decimal(invoice["attributes"]["totalAmount"]["gross"]),
                }
            ],
        }
    )
    world.run(world.receive_invoice(invoice))
    assert len(world.vouchers()) == 1


def test_existing_receipt_with_a_different_total_is_not_touched(world: World) -> None:
    first = world.invoice(number="RE-1")
    world.run(world.receive_invoice(first))
    clash = world.invoice([invoice_line("Other", "10", "19", "Desks")], number="RE-1")
    item = world.run(world.receive_invoice(clash))
    assert item.state == State.FAILED and item.error_code == "receipt_differs"
    assert len(world.vouchers()) == 1


def test_edit_after_sync_changes_nothing_in_sevdesk_and_warns(world: World) -> None:
    invoice = world.invoice(membership_id=synced_member(world)["id"])
    item = world.run(world.receive_invoice(invoice))
    before = world.vouchers()
    world.boxes.cobot.update_invoice(
        world.subdomain, invoice["id"], lines=[invoice_line("Desk", "300", "19", "Desks")]
    )
    world.receive_invoice(invoice, "updated_invoice")
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert world.vouchers() == before
    warning = world.activities()[-1]
    assert warning["level"] == "WARN"
    assert invoice["attributes"]["number"] in warning["attributes"]["text"]


def test_invoice_before_its_member_syncs_the_member_first(world: World) -> None:
    member = world.member("Jane Doe", customer_number="C-1")
    invoice = world.invoice(membership_id=member["id"])  # carries Cobot's old number "C-1"
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SYNCED, item.error_text()
    [contact] = world.contacts()
    assert world.vouchers()[0]["supplier"]["id"] == contact["id"]
    # The member webhook arriving late changes nothing.
    world.receive_member(member)
    world.drain()
    assert len(world.contacts()) == 1


def test_member_sync_failing_transiently_holds_the_invoice_back(world: World) -> None:
    member = world.member("Jane Doe")
    invoice = world.invoice(membership_id=member["id"])
    world.boxes.sevdesk.fault("^/Contact$", method="POST", status=503)
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.RETRY_WAIT
    assert "Waiting for the member" in item.error_text()
    assert world.vouchers() == []  # not booked as a Mismatch meanwhile
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert world.vouchers()[0]["supplier"] is not None


def test_customer_outside_the_eu_at_zero_percent_gets_rule_17(world: World) -> None:
    world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Services abroad", like="4338")
    world.boxes.cobot.add_accounting_code(world.subdomain, "Services abroad")
    invoice = world.invoice(
        [invoice_line("Desk", "100", "0", "Services abroad")],
        tax_id="CHE-123.456.789",
        recipient={"name": "Max", "company": "Zürcher AG", "countryCode": "CH"},
    )
    world.run(world.receive_invoice(invoice))
    assert world.vouchers()[0]["taxRule"]["id"] == 17


def test_unsupported_tax_case_fails_with_a_reason(world: World) -> None:
    invoice = world.invoice([invoice_line("Desk", "100", "20", "Desks")])
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.FAILED and item.error_code == "unsupported_tax_rate"
    assert "20 %" in item.error_text() and world.vouchers() == []


def test_account_refusing_the_rate_is_caught_before_sevdesk(world: World) -> None:
    world.boxes.sevdesk.add_booking_account(world.sevdesk_token, "Tax free", like="4100")
    world.boxes.cobot.add_accounting_code(world.subdomain, "Tax free")
    item = world.run(
        world.receive_invoice(world.invoice([invoice_line("Rent", "100", "19", "Tax free")]))
    )
    assert item.state == State.FAILED and item.error_code == "account_rejects_tax"
    assert not world.boxes.sevdesk.requests(method="POST", path="saveVoucher")


def test_missing_cost_centre_is_refused(sandboxes: Sandboxes) -> None:
    world = make_world(sandboxes, cost_centre_number="999")
    item = world.run(world.receive_invoice(world.invoice()))
    assert item.state == State.FAILED and item.error_code == "missing_cost_centre"


def test_small_business_books_under_paragraph_19(sandboxes: Sandboxes) -> None:
    world = make_world(sandboxes, small_business=True)
    item = world.run(
        world.receive_invoice(world.invoice([invoice_line("Desk", "100", "0", "Desks")]))
    )
    assert item.state == State.MISMATCH, item.error_text()
    assert world.vouchers()[0]["taxRule"]["id"] == 11


def test_an_expired_pdf_link_is_renewed_by_fetching_the_invoice_again(world: World) -> None:
    invoice = world.invoice(membership_id=synced_member(world)["id"])
    world.boxes.cobot.fault(r"\.pdf$", status=403)
    world.boxes.cobot.clear_requests()
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.SYNCED
    assert world.vouchers()[0]["documentHash"]
    fetches = world.boxes.cobot.requests("GET", rf"^/api2/invoices/{invoice['id']}$")
    assert len(fetches) == 2  # the invoice, then again for a fresh link


def test_a_pdf_link_that_keeps_failing_is_retried_later(world: World) -> None:
    invoice = world.invoice(membership_id=synced_member(world)["id"])
    world.boxes.cobot.fault(r"\.pdf$", status=403, times=2)
    item = world.run(world.receive_invoice(invoice))
    assert item.state == State.RETRY_WAIT
    world.make_due()
    world.drain()
    item.refresh_from_db()
    assert item.state == State.SYNCED
    assert world.vouchers()[0]["documentHash"]


def test_invoice_dates_come_from_cobot_not_today(world: World) -> None:
    invoice = world.invoice(invoice_date="2025-12-31")
    world.run(world.receive_invoice(invoice))
    voucher = world.vouchers()[0]
    assert voucher["voucherDate"].startswith("2025-12-31")
    deadline = dt.date(2025, 12, 31) + dt.timedelta(days=14)
    assert voucher["paymentDeadline"].startswith(deadline.isoformat())


def test_the_import_tag_can_be_switched_off(world: World) -> None:
    world.space.tag_import = False
    world.space.save()
    invoice = world.invoice(membership_id=synced_member(world)["id"])
    assert world.run(world.receive_invoice(invoice)).state == State.SYNCED
    assert world.vouchers()[0]["tags"] == []
    assert not world.boxes.sevdesk.requests(method="POST", path="/Tag/Factory/create")


def test_a_member_keeps_what_cobot_sent_and_the_contact_as_sent(world: World) -> None:
    member = world.member("Jane Doe", city="Berlin", email="jane@example.org")
    item = world.run(world.receive_member(member))
    assert item.cobot_data["name"] == "Jane Doe"
    sent = [entry["request"] for entry in item.sevdesk_data]
    assert sent == ["POST /Contact", "POST /ContactAddress", "POST /CommunicationWay"]
    assert item.sevdesk_data[0]["body"]["familyname"] == "Doe"
