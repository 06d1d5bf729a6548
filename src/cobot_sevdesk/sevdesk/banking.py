"""Typed views of sevDesk's payment accounts ("CheckAccount"), their lines
("CheckAccountTransaction") and the log entry a booked payment answers with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from cobot_sevdesk.payload import Reader

BERLIN = ZoneInfo("Europe/Berlin")

#: ``CheckAccountTransaction.status``: created (not booked yet), as documented.
LINE_CREATED = 100
#: ``CheckAccount.status``: active (0 is archived).
ACCOUNT_ACTIVE = 100
#: Booking types of ``bookAmount``: the normal booking and a partial one.
FULL_PAYMENT, PARTIAL = "FULL_PAYMENT", "N"


def sevdesk_datetime(day: dt.date) -> str:
    """A date for a ``date-time`` field (``bookAmount``'s ``date``, the transaction
    filters): midnight in sevDesk's zone, ISO 8601 with its offset. UNCERTAIN: the
    spec gives only the format; sevDesk writes its own times this way."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).isoformat()


@dataclass(frozen=True)
class CheckAccount:
    id: int
    name: str
    #: ``online`` (bank import: a booking names the line), ``offline``, ``register``.
    type: str
    accounting_number: str | None
    active: bool

    @property
    def needs_bank_line(self) -> bool:
        """Documented: booking on an online account requires its transaction."""
        return self.type == "online"


@dataclass(frozen=True)
class BankLine:
    id: int
    check_account_id: int
    amount: Decimal
    purpose: str
    payer: str
    value_date: dt.date | None
    status: int

    @property
    def unbooked(self) -> bool:
        return self.status == LINE_CREATED


@dataclass(frozen=True)
class VoucherLog:
    id: int
    voucher_id: int | None
    to_status: int | None


def parse_check_account(r: Reader) -> CheckAccount:
    status = r.opt("status")
    return CheckAccount(
        id=r.integer("id"),
        name=r.opt_text("name") or "",
        type=r.opt_text("type") or "",
        accounting_number=r.opt_text("accountingNumber"),
        active=status is None or status.as_int() == ACCOUNT_ACTIVE,
    )


def parse_bank_line(r: Reader) -> BankLine:
    return BankLine(
        id=r.integer("id"),
        check_account_id=r.field("checkAccount").integer("id"),
        amount=r.decimal("amount"),
        purpose=r.opt_text("paymtPurpose") or "",
        payer=r.opt_text("payeePayerName") or "",
        value_date=r.opt_date("valueDate"),
        status=r.integer("status"),
    )


def parse_voucher_log(r: Reader) -> VoucherLog:
    voucher = r.opt("voucher")
    status = r.opt("toStatus")
    return VoucherLog(
        id=r.integer("id"),
        voucher_id=voucher.integer("id") if voucher is not None else None,
        to_status=status.as_int() if status is not None else None,
    )
