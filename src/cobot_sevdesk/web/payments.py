"""The payment settings of a space: their own form (a fieldset of the settings page,
``templatetags/payments.py``) and view. Both switches are off until the admin turns
them on; the sevDesk account for Cobot's payments is chosen from the account's own,
or a clearing account is created for them (``POST /CheckAccount/Factory/
clearingAccount``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import PaymentSettings, Space
from cobot_sevdesk.messages import render as render_text
from cobot_sevdesk.runtime.tasks import wake_space
from cobot_sevdesk.sevdesk.banking import CheckAccount
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.web.access import space_view

NEW = "new"


class PaymentSettingsForm(forms.Form):
    book_cobot_payments = forms.BooleanField(
        label=gettext_lazy("Book payments made in Cobot in sevDesk"),
        required=False,
        help_text=gettext_lazy(
            "When a synced invoice is paid in Cobot, fully or in part, the payment is booked "
            "on its receipt with the payment date: on the bank line in sevDesk that names the "
            "invoice with the same amount, if there is one, else on the account below."
        ),
    )
    check_account = forms.ChoiceField(
        label=gettext_lazy("sevDesk account for payments made in Cobot"),
        required=False,
        help_text=gettext_lazy(
            "Card and direct-debit payments that Cobot collects belong on a clearing account: "
            "the payout that reaches your bank later is booked against it."
        ),
    )
    new_account_name = forms.CharField(
        label=gettext_lazy("Name of the new clearing account"),
        required=False,
        max_length=100,
        initial="Cobot",
    )
    new_account_number = forms.IntegerField(
        label=gettext_lazy("Its booking account number"),
        required=False,
        min_value=1,
        help_text=gettext_lazy(
            "Must differ from your other accounts' numbers in sevDesk. sevDesk's own example "
            "is 3320 (SKR04) or 1723 (SKR03); ask your tax advisor which one to use."
        ),
    )
    mark_paid_in_cobot = forms.BooleanField(
        label=gettext_lazy("Mark invoices paid in Cobot when sevDesk shows the receipt as paid"),
        required=False,
        help_text=gettext_lazy(
            "sevDesk is checked regularly for receipts that became paid there (say, matched "
            "to a bank transfer); the payment is recorded in Cobot with its date and amount, "
            "so Cobot stops reminding the member."
        ),
    )

    def __init__(
        self, *args: Any, space: Space, accounts: list[CheckAccount], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.space = space
        # Accounts a booking can name without a bank line (documented: online accounts
        # need one); a bank transfer's line is found by itself.
        self.accounts = {str(a.id): a for a in accounts if a.active and not a.needs_bank_line}
        choices = [("", "—")]
        choices += [
            (key, f"{a.name} ({a.accounting_number})" if a.accounting_number else a.name)
            for key, a in self.accounts.items()
        ]
        choices.append((NEW, gettext("Create a clearing account for Cobot payments")))
        field = self.fields["check_account"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not cleaned.get("book_cobot_payments"):
            return cleaned
        choice = cleaned.get("check_account")
        if not choice:
            self.add_error(
                "check_account", gettext("Choose the sevDesk account the payments are booked on.")
            )
        elif choice == NEW:
            if not cleaned.get("new_account_number"):
                self.add_error(
                    "new_account_number", gettext("Enter the booking account number for it.")
                )
            if not (cleaned.get("new_account_name") or "").strip():
                self.add_error("new_account_name", gettext("Enter a name for it."))
        return cleaned


def accounts_of(space: Space) -> tuple[list[CheckAccount], str]:
    """The space's sevDesk check accounts, or an error message."""
    if not space.sevdesk_token_encrypted:
        return [], ""
    try:
        return SpaceContext(space).sevdesk.check_accounts(), ""
    except SyncError as exc:
        return [], render_text(exc.admin_message)


def initial(setup: PaymentSettings) -> dict[str, Any]:
    return {
        "book_cobot_payments": setup.book_cobot_payments,
        "check_account": str(setup.check_account_id or ""),
        "mark_paid_in_cobot": setup.mark_paid_in_cobot,
        "new_account_name": "Cobot",
    }


@space_view
@require_POST
def payment_settings(request: HttpRequest, space: Space) -> HttpResponse:
    accounts, error = accounts_of(space)
    form = PaymentSettingsForm(request.POST, space=space, accounts=accounts)
    if form.is_valid() and not error and _save(space, form):
        messages.success(request, gettext("Payment settings saved."))
        wake_space(space.pk)
        return redirect("web:settings", space.subdomain)
    return render(
        request,
        "web/payment_settings.html",
        {"space": space, "payment_form": form, "accounts_error": error},
        status=400,
    )


def _save(space: Space, form: PaymentSettingsForm) -> bool:
    data = form.cleaned_data
    setup = PaymentSettings.of(space)
    account: CheckAccount | None = None
    if data["book_cobot_payments"]:
        if data["check_account"] == NEW:
            try:
                account = SpaceContext(space).sevdesk.create_clearing_account(
                    data["new_account_name"].strip(), data["new_account_number"]
                )
            except SyncError as exc:
                form.add_error(
                    "new_account_number",
                    gettext("sevDesk did not create the account: %(error)s")
                    % {"error": render_text(exc.admin_message)},
                )
                return False
        else:
            account = form.accounts[data["check_account"]]
    setup.choose(
        book=data["book_cobot_payments"],
        account_id=account.id if account else None,
        account_name=account.name if account else "",
        mark=data["mark_paid_in_cobot"],
    )
    return True
