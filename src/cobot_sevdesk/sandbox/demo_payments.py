"""Payments in the demo: one invoice paid each way.

The first space books Cobot's payments on a clearing account and marks invoices paid
in Cobot when sevDesk shows them paid. Then Jane pays her invoice by card in Cobot
(it is booked on the receipt in sevDesk), and Max pays his by bank transfer: the line
arrives in sevDesk's bank account and the bookkeeper books it there (the periodic
check records the payment in Cobot).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from cobot_sevdesk.sandbox.control import Sandboxes

CLEARING_NAME, CLEARING_NUMBER = "Cobot payments", 1460
BANK_NAME, BANK_NUMBER = "Sparkasse Berlin", "1801"


def enable_payments(space: Any, sevdesk_token: str) -> None:
    """What the admin does in the settings' payment fieldset, done ahead (runs in the
    demo's child process that connects the first space)."""
    from cobot_sevdesk.ledger.models import PaymentSettings
    from cobot_sevdesk.sync.context import SpaceContext

    clearing = SpaceContext(space).sevdesk.create_clearing_account(CLEARING_NAME, CLEARING_NUMBER)
    PaymentSettings(space=space).choose(
        book=True, account_id=clearing.id, account_name=clearing.name, mark=True
    )


def _receipt(boxes: Sandboxes, token: str, number: str, stop: threading.Event) -> int | None:
    """The sevDesk receipt of invoice ``number``, once the worker has made it."""
    while not stop.wait(0.5):
        for voucher in boxes.sevdesk.state(token)["vouchers"]:
            if voucher["description"] == number:
                return int(voucher["id"])
    return None


def pay_both_ways(
    boxes: Sandboxes,
    token: str,
    invoices: list[dict[str, Any]],
    pace: float,
    stop: threading.Event,
) -> None:
    """``invoices``: Jane's and Max's (API 2 ``data``), as created in Cobot."""
    jane, max_ = invoices[0], invoices[1]
    if _receipt(boxes, token, jane["attributes"]["number"], stop) is None or stop.wait(pace):
        return
    boxes.cobot.pay_invoice("co-up", jane["id"], charge=True, method="credit card")
    receipt = _receipt(boxes, token, max_["attributes"]["number"], stop)
    if receipt is None or stop.wait(pace):
        return
    bank = boxes.sevdesk.add_bank_account(token, BANK_NAME, BANK_NUMBER, "DE02100500000054540402")
    line = boxes.sevdesk.import_bank_line(
        token,
        bank,
        max_["attributes"]["totalAmount"]["gross"],
        f"Rechnung {max_['attributes']['number']} Mustermann Design GmbH",
        value_date=time.strftime("%Y-%m-%d"),
        payer="Mustermann Design GmbH",
    )
    boxes.sevdesk.pay_voucher(token, receipt, transaction=line)
