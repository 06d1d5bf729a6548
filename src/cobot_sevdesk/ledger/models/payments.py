"""Payments in the ledger: every payment on a synced invoice, with the side it came
from, and what became of it on the other side.

A payment is a ``LedgerItem`` of kind "payment" (its state, retries, history and the
admin's buttons are an item's), with a ``Payment`` row holding the money: its key is
what identifies it on its side (a Cobot payment record, or the paid amount sevDesk
showed), unique per space, so a payment found twice is one payment. ``PaidState`` is
what each side last showed as paid on an invoice; ``PaymentSettings`` the space's two
switches and the periodic check's bookkeeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cobot_sevdesk.ledger.models.fields import MessageField
from cobot_sevdesk.ledger.models.items import LedgerItem
from cobot_sevdesk.ledger.models.space import Space
from cobot_sevdesk.messages import Text, as_message


class PaymentSettings(models.Model):
    """The payment switches of a space (both off until the admin turns them on)."""

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="payment_settings")
    #: Cobot -> sevDesk: book payments made in Cobot on the receipt, on this account.
    book_cobot_payments = models.BooleanField(default=False)
    check_account_id = models.BigIntegerField(null=True, blank=True)
    check_account_name = models.CharField(max_length=200, blank=True)
    #: sevDesk -> Cobot: record in Cobot what sevDesk shows paid.
    mark_paid_in_cobot = models.BooleanField(default=False)
    # -- the periodic check ----------------------------------------------------------
    check_due_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    #: The last check that read every watched receipt, not only the changed ones.
    last_full_check_at = models.DateTimeField(null=True, blank=True)
    #: sevDesk was asked for receipts changed after this (its ``updateAfter``).
    sevdesk_seen_until = models.DateTimeField(null=True, blank=True)
    last_error = MessageField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "sync"

    def __str__(self) -> str:
        return f"payment settings of {self.space_id}"

    @classmethod
    def of(cls, space: Space) -> PaymentSettings:
        """The space's settings; the defaults (all off, not saved) if it has none."""
        found = cls.objects.filter(space=space).first()
        return found if found is not None else cls(space=space)

    @property
    def enabled(self) -> bool:
        return self.book_cobot_payments or self.mark_paid_in_cobot

    def choose(self, *, book: bool, account_id: int | None, account_name: str, mark: bool) -> None:
        """The admin's choice; a switch that was turned on is checked at once."""
        self.book_cobot_payments = book
        self.check_account_id = account_id if book else self.check_account_id
        self.check_account_name = account_name if book else self.check_account_name
        self.mark_paid_in_cobot = mark
        self.check_due_at = timezone.now() if self.enabled else None
        self.save()

    def checked(self, now: dt.datetime, interval: float, error: Text | None, **seen: Any) -> None:
        """The periodic check ran (``error``: what stopped it); the next one is due
        after ``interval`` seconds. ``seen``: ``last_full_check_at``,
        ``sevdesk_seen_until``."""
        fields = {
            "last_checked_at": now,
            "check_due_at": now + dt.timedelta(seconds=interval),
            "last_error": as_message(error),
            **seen,
        }
        type(self).objects.filter(pk=self.pk).update(**fields)
        for key, value in fields.items():
            setattr(self, key, value)


class Payment(models.Model):
    """One payment on one invoice, found on one side, for the other side."""

    class Origin(models.TextChoices):
        COBOT = "cobot", gettext_lazy("Cobot")
        SEVDESK = "sevdesk", gettext_lazy("sevDesk")

    class How(models.TextChoices):
        """How the payment is reflected on the other side (empty: not yet)."""

        NONE = "", gettext_lazy("not yet")
        CLEARING = "account", gettext_lazy("booked in sevDesk")
        BANK_LINE = "bank_line", gettext_lazy("booked on the bank line in sevDesk")
        RECORDED = "recorded", gettext_lazy("recorded in Cobot")
        FOUND = "found", gettext_lazy("already there")
        HANDLED = "handled", gettext_lazy("handled by an admin")

    #: Reflected on the other side: written there, found there, or handled by hand.
    REFLECTED: ClassVar[tuple[str, ...]] = (
        How.CLEARING,
        How.BANK_LINE,
        How.RECORDED,
        How.FOUND,
        How.HANDLED,
    )

    item = models.OneToOneField(LedgerItem, on_delete=models.CASCADE, related_name="payment")
    invoice = models.ForeignKey(LedgerItem, on_delete=models.CASCADE, related_name="payments")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3, blank=True)
    paid_on = models.DateField()
    #: Cobot's payment record: the one found (from Cobot) or the one we made (to Cobot).
    cobot_record_id = models.CharField(max_length=64, blank=True)
    how = models.CharField(max_length=10, choices=How.choices, blank=True, default="")
    #: Where it was booked in sevDesk (from Cobot): the account and, if any, the bank line.
    check_account_id = models.BigIntegerField(null=True, blank=True)
    bank_line_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "sync"
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "cobot_record_id"],
                condition=~Q(cobot_record_id=""),
                name="unique_payment_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.origin} payment of {self.amount_cents} on {self.invoice_id}"

    @property
    def reflected(self) -> bool:
        return self.how in self.REFLECTED

    def reflect(self, how: str, **fields: Any) -> None:
        """The payment is now on the other side too (``how``)."""
        self.how = how
        for key, value in fields.items():
            setattr(self, key, value)
        self.save(update_fields=["how", *fields])


class PaidState(models.Model):
    """What each side last showed as paid on an invoice (cents), and whether there is
    nothing left to watch (paid in full on both sides, no payment under way)."""

    invoice = models.OneToOneField(LedgerItem, on_delete=models.CASCADE, related_name="paid")
    cobot_cents = models.BigIntegerField(null=True, blank=True)
    cobot_seen_at = models.DateTimeField(null=True, blank=True)
    sevdesk_cents = models.BigIntegerField(null=True, blank=True)
    sevdesk_seen_at = models.DateTimeField(null=True, blank=True)
    settled = models.BooleanField(default=False)

    class Meta:
        app_label = "sync"

    def __str__(self) -> str:
        return f"paid on {self.invoice_id}: Cobot {self.cobot_cents}, sevDesk {self.sevdesk_cents}"

    @classmethod
    def saw(
        cls,
        invoice: LedgerItem,
        *,
        cobot: int | None = None,
        sevdesk: int | None = None,
        finishing: LedgerItem | None = None,
    ) -> PaidState:
        """Note what a side shows now (a side not given is left as last seen);
        ``finishing``: a payment of the invoice that is done but not yet closed."""
        now = timezone.now()
        values: dict[str, Any] = {}
        if cobot is not None:
            values.update(cobot_cents=cobot, cobot_seen_at=now)
        if sevdesk is not None:
            values.update(sevdesk_cents=sevdesk, sevdesk_seen_at=now)
        row, _created = cls.objects.update_or_create(invoice=invoice, defaults=values)
        total = invoice.amount_cents or 0
        settled = (
            (row.cobot_cents or 0) >= total
            and (row.sevdesk_cents or 0) >= total
            and not open_payments(invoice).exclude(item=finishing).exists()
        )
        if settled != row.settled:
            cls.objects.filter(pk=row.pk).update(settled=settled)
            row.settled = settled
        return row


def open_payments(invoice: LedgerItem) -> models.QuerySet[Payment]:
    """Payments of ``invoice`` still under way."""
    return invoice.payments.filter(item__state__in=LedgerItem.OPEN_STATES)


@dataclass(frozen=True)
class Paid:
    """Paid amounts of one invoice in cents, as the ledger accounts for them."""

    cobot: int
    sevdesk: int


def ledger_paid(invoice: LedgerItem, *, excluding: Payment | None = None) -> Paid:
    """What the ledger accounts for on each side: a payment counts on its own side,
    and on the other once it is reflected there."""
    payments = invoice.payments.all()
    if excluding is not None:
        payments = payments.exclude(pk=excluding.pk)
    cobot = sevdesk = 0
    for row in payments.values("origin", "how").annotate(total=Sum("amount_cents")):
        amount, reflected = row["total"] or 0, row["how"] in Payment.REFLECTED
        if row["origin"] == Payment.Origin.COBOT:
            cobot += amount
            sevdesk += amount if reflected else 0
        else:
            sevdesk += amount
            cobot += amount if reflected else 0
    return Paid(cobot=cobot, sevdesk=sevdesk)


@dataclass(frozen=True)
class InvoicePaid:
    """The payments of one synced invoice as the add-on knows them, in cents: for the
    books check, which compares them with what each side shows now."""

    #: The invoice's gross total.
    total: int | None
    #: What the ledger accounts for on each side (``ledger_paid``).
    ledger: Paid
    #: What each side showed when last read (None: never read).
    cobot_seen: int | None
    sevdesk_seen: int | None
    #: Payments still to be written, and payments held for the admin's decision.
    under_way: int
    held: int
    settled: bool
    #: The items of the held payments, and of payments that failed (the admin's to
    #: retry), for a link to each.
    held_items: tuple[int, ...] = ()
    failed_items: tuple[int, ...] = ()


def paid_by_invoice(space: Space, cobot_ids: Iterable[str] | None = None) -> dict[str, InvoicePaid]:
    """Paid amounts on both sides for the space's synced invoices (all, or those with
    these Cobot ids), by Cobot invoice id. Three queries, whatever the number."""
    invoices = LedgerItem.objects.filter(space=space, kind=LedgerItem.Kind.INVOICE)
    if cobot_ids is not None:
        invoices = invoices.filter(cobot_id__in=list(cobot_ids))
    rows = list(
        invoices.values_list(
            "pk",
            "cobot_id",
            "amount_cents",
            "paid__cobot_cents",
            "paid__sevdesk_cents",
            "paid__settled",
        )
    )
    sums: dict[int, list[int]] = {pk: [0, 0] for pk, *_rest in rows}
    payments = Payment.objects.filter(invoice_id__in=sums)
    for invoice_id, origin, how, total in payments.values_list(
        "invoice_id", "origin", "how"
    ).annotate(total=Sum("amount_cents")):
        own, other = (0, 1) if origin == Payment.Origin.COBOT else (1, 0)
        sums[invoice_id][own] += total or 0
        if how in Payment.REFLECTED:
            sums[invoice_id][other] += total or 0
    open_counts: dict[int, int] = {}
    held: dict[int, list[int]] = {}
    failed: dict[int, list[int]] = {}
    for invoice_id, item_id, state, attention in payments.values_list(
        "invoice_id", "item_id", "item__state", "item__attention"
    ).order_by("item_id"):
        if state in LedgerItem.OPEN_STATES:
            open_counts[invoice_id] = open_counts.get(invoice_id, 0) + 1
        elif attention is not None:
            held.setdefault(invoice_id, []).append(item_id)
        elif state == LedgerItem.State.FAILED:
            failed.setdefault(invoice_id, []).append(item_id)
    return {
        cobot_id: InvoicePaid(
            total=amount,
            ledger=Paid(cobot=sums[pk][0], sevdesk=sums[pk][1]),
            cobot_seen=cobot_seen,
            sevdesk_seen=sevdesk_seen,
            under_way=open_counts.get(pk, 0),
            held=len(held.get(pk, ())),
            settled=bool(settled),
            held_items=tuple(held.get(pk, ())),
            failed_items=tuple(failed.get(pk, ())),
        )
        for pk, cobot_id, amount, cobot_seen, sevdesk_seen, settled in rows
    }
