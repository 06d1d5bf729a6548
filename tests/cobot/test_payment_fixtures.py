"""Cobot's documented payment records (fixtures/api1-payment-record*.json, from
dev.cobot.me/api-docs/payment-records) and the paid amount of its documented invoices,
through our real client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.errors import PermanentError
from cobot_sevdesk.sync.payments import marked_key
from tests.payloads import recorded, serving

SUBDOMAIN = "co-up"
RECORDS = f"/space/{SUBDOMAIN}/api/invoices/payment_records"
RECORD = f"/space/{SUBDOMAIN}/api/invoices/<id>/payment_records"


@contextmanager
def served(method: str, route: str, name: str) -> Iterator[CobotClient]:
    with serving((method, route, recorded("cobot", name))) as server:
        urls = CobotUrls(server.url, f"{server.url}/space/{{subdomain}}", f"{server.url}/api2")
        yield CobotClient("documented-token", subdomain=SUBDOMAIN, urls=urls)


def test_the_documented_record_is_read() -> None:
    with served("POST", RECORD, "api1-payment-record") as client:
        record = client.add_payment_record(
            "329797324595", Decimal("200.5"), dt.date(2014, 1, 25), "optional note"
        )
    assert (record.id, record.invoice_id) == ("2396259632946386", "329797324595")
    assert (record.amount, record.currency, record.paid_on) == (
        Decimal("200.5"),
        "EUR",
        dt.date(2014, 1, 25),
    )
    assert (record.note, record.method) == ("optional note", "credit card")
    assert marked_key(record.note) is None  # not one of ours


def test_the_list_is_read_as_records() -> None:
    with served("GET", RECORDS, "api1-payment-records") as client:
        [record] = client.list_payment_records(["329797324595"])
    assert record.id == "2396259632946386" and record.amount == Decimal("200.5")


def test_the_documented_refusal_is_a_permanent_error_with_its_text() -> None:
    with (
        served("POST", RECORD, "api1-payment-record-invalid") as client,
        pytest.raises(PermanentError) as refused,
    ):
        client.add_payment_record("329797324595", Decimal(1), dt.date(2014, 1, 25), "")
    assert refused.value.status == 422
    assert refused.value.service_message == "Paid at can't be blank"


def test_documented_invoices_carry_their_paid_amount() -> None:
    with served("GET", "/api2/invoices/<id>", "api2-invoice") as client:
        invoice = client.get_invoice("14c12f62")
    assert (invoice.paid_amount, invoice.paid_date, invoice.paid_status) == (
        Decimal(0),
        None,
        "unpaid",
    )
