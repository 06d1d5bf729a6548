"""The database: connected spaces, the sync ledger and its history, known contacts,
backfills. The ledger is the source of truth; the queue only wakes workers."""

from cobot_sevdesk.ledger.models.backfill import Backfill
from cobot_sevdesk.ledger.models.books import BooksCheck
from cobot_sevdesk.ledger.models.contacts import ContactLink
from cobot_sevdesk.ledger.models.events import LedgerEvent
from cobot_sevdesk.ledger.models.items import RECORDED, LedgerItem
from cobot_sevdesk.ledger.models.payments import (
    InvoicePaid,
    Paid,
    PaidState,
    Payment,
    PaymentSettings,
    ledger_paid,
    open_payments,
    paid_by_invoice,
)
from cobot_sevdesk.ledger.models.space import (
    PreexistingInvoice,
    Space,
    SpaceAdmin,
    new_webhook_secret,
    webhook_key,
)

__all__ = [
    "RECORDED",
    "Backfill",
    "BooksCheck",
    "ContactLink",
    "InvoicePaid",
    "LedgerEvent",
    "LedgerItem",
    "Paid",
    "PaidState",
    "Payment",
    "PaymentSettings",
    "PreexistingInvoice",
    "Space",
    "SpaceAdmin",
    "ledger_paid",
    "new_webhook_secret",
    "open_payments",
    "paid_by_invoice",
    "webhook_key",
]
