"""Forms. The settings form checks the sevDesk token and the cost centre live, so a
wrong value is a form error the admin can fix, never a failure later."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from cobot_sevdesk.crypto import mask
from cobot_sevdesk.errors import AuthorizationError, SyncError
from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.messages import render
from cobot_sevdesk.sevdesk.client import SevdeskClient
from cobot_sevdesk.sync.context import timeouts

#: What an API token can be: printable ASCII, no spaces (sevDesk's are 32 hex digits).
#: Anything else could not even be sent in an HTTP header.
TOKEN_CHARACTERS = re.compile(r"[!-~]+")


class SettingsForm(forms.Form):
    sevdesk_token = forms.CharField(
        label=gettext_lazy("sevDesk API token"),
        required=False,
        strip=True,
        max_length=200,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"}
        ),
    )
    cost_centre_number = forms.CharField(
        label=gettext_lazy("Cost center number (optional)"),
        required=False,
        max_length=50,
        strip=True,
    )
    due_days = forms.IntegerField(
        label=gettext_lazy("Vouchers due after (days)"), min_value=0, max_value=365, initial=0
    )
    small_business = forms.BooleanField(
        label=gettext_lazy("Small business under §19 UStG (no VAT on invoices)"), required=False
    )
    write_back_numbers = forms.BooleanField(
        label=gettext_lazy("Write customer numbers back to Cobot"), required=False, initial=True
    )
    tag_import = forms.BooleanField(
        label=gettext_lazy("Tag every receipt “Import”"), required=False, initial=True
    )

    def __init__(self, *args: Any, space: Space, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.space = space
        self.client: SevdeskClient | None = None
        if space.sevdesk_token_encrypted:
            self.fields["sevdesk_token"].widget.attrs["placeholder"] = gettext(
                "%(masked)s (leave empty to keep it)"
            ) % {"masked": mask(space.sevdesk_token)}

    def clean_sevdesk_token(self) -> str:
        token: str = self.cleaned_data["sevdesk_token"]
        if not token:
            if not self.space.sevdesk_token_encrypted:
                raise forms.ValidationError(gettext("Please enter the API token from sevDesk."))
            token = self.space.sevdesk_token
        if not TOKEN_CHARACTERS.fullmatch(token):
            raise forms.ValidationError(
                gettext(
                    "This is not an API token from sevDesk: it may contain only letters, "
                    "digits and punctuation, without spaces. Copy it again from sevDesk "
                    "(Settings › User › your user › API token)."
                )
            )
        client = SevdeskClient(token, timeouts=timeouts())
        try:
            version = client.bookkeeping_version()
        except AuthorizationError:
            raise forms.ValidationError(
                gettext(
                    "sevDesk does not accept this API token. Copy it again from sevDesk "
                    "(Settings › User › your user › API token)."
                )
            ) from None
        except SyncError as exc:
            raise forms.ValidationError(
                gettext(
                    "sevDesk could not be reached to check the token (%(error)s). Please try again."
                )
                % {"error": render(exc.admin_message)}
            ) from None
        if version != "2.0":
            raise forms.ValidationError(
                gettext(
                    "This sevDesk account uses bookkeeping system %(version)s; "
                    "the add-on needs 2.0."
                )
                % {"version": version}
            )
        self.client = client
        return token

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        number = cleaned.get("cost_centre_number")
        if number and self.client is not None:
            try:
                centres = self.client.cost_centres()
            except SyncError as exc:
                self.add_error(
                    "cost_centre_number",
                    gettext("Cost centers could not be read from sevDesk (%(error)s).")
                    % {"error": render(exc.admin_message)},
                )
            else:
                if not any(c.number.strip() == number for c in centres):
                    known = ", ".join(sorted(c.number for c in centres if c.number)) or gettext(
                        "none"
                    )
                    self.add_error(
                        "cost_centre_number",
                        gettext(
                            "sevDesk has no cost center with the number %(number)s "
                            "(it has: %(known)s)."
                        )
                        % {"number": number, "known": known},
                    )
        return cleaned


class BackfillForm(forms.Form):
    start_date = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end_date = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    include_members = forms.BooleanField(
        label=gettext_lazy("Also members who joined in this range"), required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end:
            if end < start:
                self.add_error("end_date", gettext("The end must not be before the start."))
            if end > timezone.localdate() + dt.timedelta(days=366):
                self.add_error(
                    "end_date", gettext("Please choose an end date at most a year ahead.")
                )
        return cleaned
