"""Payments on the pages: the settings fieldset, paid amounts per invoice on both
sides (dashboard and invoice page), a payment's details, and the periodic check's
health. Template tags, so the pages' own views stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import template
from django.core.exceptions import ObjectDoesNotExist

from cobot_sevdesk.ledger.models import LedgerItem, PaidState, Payment, PaymentSettings, Space
from cobot_sevdesk.web.payments import PaymentSettingsForm, accounts_of, initial

register = template.Library()


@dataclass(frozen=True)
class PaidView:
    """What each side last showed paid on an invoice, for people."""

    cobot: Decimal | None
    sevdesk: Decimal | None
    total: Decimal | None
    currency: str

    @staticmethod
    def status(paid: Decimal | None, total: Decimal | None) -> str:
        if paid is None or not paid:
            return "unpaid"
        return "paid" if total is not None and paid >= total else "partly"

    @property
    def cobot_status(self) -> str:
        return self.status(self.cobot, self.total)

    @property
    def sevdesk_status(self) -> str:
        return self.status(self.sevdesk, self.total)


def paid_view(item: LedgerItem) -> PaidView | None:
    try:
        paid: PaidState = item.paid
    except ObjectDoesNotExist:
        return None

    def amount(cents: int | None) -> Decimal | None:
        return None if cents is None else Decimal(cents) / 100

    return PaidView(
        amount(paid.cobot_cents), amount(paid.sevdesk_cents), item.amount, item.currency
    )


@register.inclusion_tag("web/payment_settings_fieldset.html", takes_context=True)
def payment_settings(context: template.Context) -> dict[str, Any]:
    space: Space = context["space"]
    accounts, error = accounts_of(space)
    form = PaymentSettingsForm(
        space=space, accounts=accounts, initial=initial(PaymentSettings.of(space))
    )
    return {
        "space": space,
        "payment_form": form,
        "accounts_error": error,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("web/paid_badge.html")
def paid_badge(item: LedgerItem) -> dict[str, Any]:
    return {"paid": paid_view(item) if item.kind == LedgerItem.Kind.INVOICE else None}


@register.inclusion_tag("web/invoice_payments.html")
def invoice_payments(item: LedgerItem) -> dict[str, Any]:
    return {
        "item": item,
        "paid": paid_view(item),
        "payments": list(item.payments.select_related("item").order_by("id")),
    }


@register.inclusion_tag("web/payment_detail.html")
def payment_detail(item: LedgerItem) -> dict[str, Any]:
    payment = Payment.objects.filter(item=item).select_related("invoice").first()
    return {"item": item, "payment": payment}


@register.inclusion_tag("web/payment_check.html")
def payment_check(space: Space) -> dict[str, Any]:
    setup = PaymentSettings.of(space)
    return {"setup": setup if setup.pk and setup.enabled else None}
