"""Cobot's payment records (API 1, dev.cobot.me/api-docs/payment-records): each
payment on an invoice, whether Cobot collected it or an admin recorded it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cobot_sevdesk.payload import Reader


@dataclass(frozen=True)
class PaymentRecord:
    id: str
    invoice_id: str
    amount: Decimal
    currency: str | None
    paid_on: dt.date
    note: str
    method: str | None


def parse_payment_record(r: Reader) -> PaymentRecord:
    """One record, as ``POST .../payment_records`` answers it and (GUESS: the
    documented example of the list is cut off after ``invoice_id``) as the list holds
    them."""
    method = r.opt("payment_method")
    return PaymentRecord(
        id=r.text("id"),
        invoice_id=r.text("invoice_id"),
        amount=r.decimal("amount"),
        currency=r.opt_text("currency"),
        paid_on=r.date("paid_at"),
        note=r.opt_text("note") or "",
        method=method.opt_text("name") if method is not None else None,
    )
