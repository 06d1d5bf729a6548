"""The test-side client of the sevDesk sandbox's control API: accounts, booking
accounts, cost centres, contacts, receipts edited or deleted as an accountant would,
bank accounts and lines, and the account's whole state."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.sandbox.control_base import Control


class SevdeskControl(Control):
    def add_account(
        self,
        token: str,
        *,
        name: str = "Sandbox GmbH",
        small_business: bool = False,
        cost_centres: list[dict[str, str]] | None = None,
        booking_accounts: list[dict[str, Any]] | None = None,
    ) -> int:
        body = {
            "token": token,
            "name": name,
            "small_business": small_business,
            "cost_centres": cost_centres or [],
            "booking_accounts": booking_accounts or [],
        }
        account_id: int = self.call("POST", "/_sandbox/accounts", body)["id"]
        return account_id

    def add_booking_account(
        self, token: str, name: str, number: str | None = None, like: str | None = None
    ) -> None:
        body: dict[str, Any] = {"name": name}
        if number:
            body["number"] = number
        if like:
            body["like"] = like
        self.call("POST", f"/_sandbox/accounts/{token}/booking-accounts", body)

    def remove_booking_account(self, token: str, name_or_number: str) -> None:
        self.call("DELETE", f"/_sandbox/accounts/{token}/booking-accounts/{name_or_number}")

    def add_cost_centre(self, token: str, number: str, name: str = "") -> int:
        centre_id: int = self.call(
            "POST", f"/_sandbox/accounts/{token}/cost-centres", {"number": number, "name": name}
        )["id"]
        return centre_id

    def add_contact(self, token: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/_sandbox/accounts/{token}/contacts", fields)
        return result

    def delete_voucher(self, token: str, voucher_id: int) -> None:
        """Delete a receipt as an accountant would in sevDesk's web app."""
        self.call("DELETE", f"/_sandbox/accounts/{token}/vouchers/{voucher_id}")

    def edit_voucher(self, token: str, voucher_id: int, **changes: Any) -> dict[str, Any]:
        """Change a receipt as an accountant would: ``status``, ``voucherDate``
        (YYYY-MM-DD), ``description``, ``positions`` (by index: ``sumGross``, ``taxRate``)."""
        result: dict[str, Any] = self.call(
            "PATCH", f"/_sandbox/accounts/{token}/vouchers/{voucher_id}", changes
        )
        return result

    def revoke(self, token: str) -> None:
        self.call("POST", f"/_sandbox/accounts/{token}/revoke")

    def restore(self, token: str) -> None:
        self.call("POST", f"/_sandbox/accounts/{token}/restore")

    def state(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/_sandbox/accounts/{token}")
        return result

    def add_bank_account(
        self, token: str, name: str, accounting_number: str, iban: str | None = None
    ) -> int:
        """A bank account connected to sevDesk (``online``: its lines are imported)."""
        body = {"name": name, "accounting_number": accounting_number, "iban": iban}
        account_id = self.call("POST", f"/_sandbox/accounts/{token}/check-accounts", body)["id"]
        return int(account_id)

    def import_bank_line(
        self,
        token: str,
        check_account: int,
        amount: str,
        purpose: str,
        *,
        value_date: str,
        payer: str = "",
    ) -> int:
        """sevDesk's bank import brings a line; returns its id."""
        body = {
            "check_account": check_account,
            "amount": amount,
            "purpose": purpose,
            "payer": payer,
            "value_date": value_date,
        }
        line_id = self.call("POST", f"/_sandbox/accounts/{token}/transactions", body)["id"]
        return int(line_id)

    def pay_voucher(self, token: str, voucher_id: int | str, **fields: Any) -> dict[str, Any]:
        """The bookkeeper books a receipt in sevDesk: ``transaction`` (a bank line) or
        ``check_account``; ``amount`` (default: the line's or what is open), ``date``."""
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/accounts/{token}/vouchers/{voucher_id}/pay", fields
        )
        return result

    def unpay_voucher(self, token: str, voucher_id: int | str) -> None:
        """The bookkeeper resets a paid receipt to open: its payments are undone."""
        self.call("POST", f"/_sandbox/accounts/{token}/vouchers/{voucher_id}/unpay")

    def payment_settings(self, token: str, *, payment_updates_voucher: bool) -> None:
        self.call(
            "PUT",
            f"/_sandbox/accounts/{token}/payment-settings",
            {"payment_updates_voucher": payment_updates_voucher},
        )
