"""sevdesk's documented payment answers (fixtures/, response samples of the official
document): check accounts, a new clearing account, bank lines and the booking log,
through our real client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from cobot_sevdesk.sevdesk.client import SevdeskClient
from tests.payloads import recorded, serving


@contextmanager
def served(method: str, route: str, name: str) -> Iterator[SevdeskClient]:
    with serving((method, route, recorded("sevdesk", name))) as server:
        yield SevdeskClient("0123456789abcdef0123456789abcdef", base_url=server.url)


def test_check_accounts() -> None:
    with served("GET", "/CheckAccount", "check-accounts") as client:
        [account] = client.check_accounts()
    assert (account.id, account.name, account.type) == (2, "Iron Bank", "online")
    assert account.accounting_number == "1800" and account.active and account.needs_bank_line


def test_a_created_clearing_account() -> None:
    route = "/CheckAccount/Factory/clearingAccount"
    with served("POST", route, "clearing-account-created") as client:
        account = client.create_clearing_account("Coupons", 3320)
    assert (account.id, account.type, account.accounting_number) == (2, "offline", "3320")
    assert not account.needs_bank_line


def test_bank_lines() -> None:
    with served("GET", "/CheckAccountTransaction", "check-account-transactions") as client:
        [line] = client.bank_lines(dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    assert (line.amount, line.purpose, line.payer) == (
        Decimal("-100.32"),
        "salary",
        "Cercei Lannister",
    )
    assert line.value_date == dt.date(2024, 5, 10) and line.unbooked


def test_the_booking_log() -> None:
    with served("PUT", "/Voucher/<id>/bookAmount", "book-voucher") as client:
        log = client.book_voucher(
            2, Decimal("119.00"), day=dt.date(2023, 4, 18), kind="FULL_PAYMENT", check_account_id=2
        )
    assert (log.id, log.voucher_id, log.to_status) == (2, 2, 1000)
