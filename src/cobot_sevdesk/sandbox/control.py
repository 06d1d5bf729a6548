"""A client for the sandboxes' inspection and control API (``/_sandbox/...``).

Tests, the demo and the benchmarks drive the sandboxes through this, over HTTP, so
they work the same whether the sandboxes run in-process or in another process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cobot_sevdesk.sandbox.control_base import Control
from cobot_sevdesk.sandbox.sevdesk_control import SevdeskControl

__all__ = ["CobotControl", "Sandboxes", "SevdeskControl", "invoice_line"]


#: What a sandbox token may do unless a test says otherwise: API 1 and 2, and the
#: payment records (whose scopes Cobot's documents name per endpoint).
DEFAULT_SCOPE = "read write read_payment_records write_payment_records"


def invoice_line(
    description: str, unit_net: str, rate: str, code: str | None, quantity: str = "1"
) -> dict[str, Any]:
    """One line for ``CobotControl.add_invoice``; ``code`` None leaves it without an
    accounting code."""
    return {
        "description": description,
        "quantity": quantity,
        "unit_net": unit_net,
        "tax_rate": rate,
        "accounting_code": code,
    }


class CobotControl(Control):
    @property
    def space_url_template(self) -> str:
        return f"{self.base_url}/space/{{subdomain}}"

    @property
    def api2_url(self) -> str:
        return f"{self.base_url}/api2"

    def add_user(self, email: str, name: str = "", user_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"email": email, "name": name}
        if user_id:
            body["id"] = user_id
        result: dict[str, Any] = self.call("POST", "/_sandbox/users", body)
        return result

    def add_client(
        self, client_id: str, secret: str, redirect_uris: list[str] | None = None
    ) -> None:
        self.call(
            "POST",
            "/_sandbox/clients",
            {
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uris": redirect_uris or [],
                "name": "cobot-sevdesk",
            },
        )

    def add_space(
        self, subdomain: str, name: str, admins: list[str], country_code: str = "DE"
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST",
            "/_sandbox/spaces",
            {"subdomain": subdomain, "name": name, "admins": admins, "country_code": country_code},
        )
        return result

    def set_admins(self, subdomain: str, admins: list[str]) -> None:
        self.call("PUT", f"/_sandbox/spaces/{subdomain}/admins", {"admins": admins})

    def add_token(
        self,
        user_id: str,
        *,
        space: str | None = None,
        client_id: str = "sandbox",
        scope: str = DEFAULT_SCOPE,
    ) -> str:
        body = {"user_id": user_id, "space": space, "client_id": client_id, "scope": scope}
        token: str = self.call("POST", "/_sandbox/tokens", body)["token"]
        return token

    def revoke_token(self, token: str) -> None:
        self.call("POST", f"/_sandbox/tokens/{token}/revoke")

    def add_accounting_code(self, subdomain: str, name: str, tax_rate: str | None = None) -> None:
        self.call(
            "POST",
            f"/_sandbox/spaces/{subdomain}/accounting_codes",
            {"name": name, "tax_rate": tax_rate},
        )

    def remove_accounting_code(self, subdomain: str, name: str) -> None:
        self.call("DELETE", f"/_sandbox/spaces/{subdomain}/accounting_codes/{name}")

    def add_member(self, subdomain: str, name: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/memberships", {"name": name, **fields}
        )
        return result

    def confirm_member(self, subdomain: str, membership_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/memberships/{membership_id}/confirm"
        )
        return result

    def add_invoice(
        self, subdomain: str, lines: list[dict[str, Any]], **fields: Any
    ) -> dict[str, Any]:
        """Create an invoice; each line: description, quantity, unit_net, tax_rate,
        accounting_code. Returns the API 2 ``data`` object."""
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/invoices", {"lines": lines, **fields}
        )["data"]
        return result

    def update_invoice(self, subdomain: str, invoice_id: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "PATCH", f"/_sandbox/spaces/{subdomain}/invoices/{invoice_id}", fields
        )["data"]
        return result

    def cancel_invoice(self, subdomain: str, invoice_id: str) -> dict[str, Any]:
        """Cancel it in Cobot: ``paidStatus: canceled``, an ``updated_invoice`` webhook."""
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/invoices/{invoice_id}/cancel"
        )["data"]
        return result

    def write_off_invoice(self, subdomain: str, invoice_id: str) -> dict[str, Any]:
        """Write it off: ``paidStatus: writtenOff``, a ``wrote_off_invoice`` webhook."""
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/invoices/{invoice_id}/write-off"
        )["data"]
        return result

    def delete_invoice(self, subdomain: str, invoice_id: str) -> None:
        """Delete it: gone from the API, a ``deleted_invoice`` webhook."""
        self.call("DELETE", f"/_sandbox/spaces/{subdomain}/invoices/{invoice_id}")

    def write_back(self, subdomain: str, mode: str, status: int = 422) -> None:
        """How the member update treats a customer number: "store", "ignore" (answer
        200 and keep the old one) or "refuse" (answer ``status``)."""
        self.call(
            "PUT", f"/_sandbox/spaces/{subdomain}/write-back", {"mode": mode, "status": status}
        )

    def space(self, subdomain: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/_sandbox/spaces/{subdomain}")
        return result

    def pay_invoice(self, subdomain: str, invoice_id: str, **fields: Any) -> dict[str, Any]:
        """A payment in Cobot: ``amount`` (default: what is open), ``paid_at``, ``method``,
        ``note``; ``charge=True`` for one Cobot collects itself (card, direct debit)."""
        result: dict[str, Any] = self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/invoices/{invoice_id}/pay", fields
        )
        return result

    def payment_settings(self, *, charges_leave_records: bool) -> None:
        self.call(
            "PUT", "/_sandbox/payment-settings", {"charges_leave_records": charges_leave_records}
        )

    def invoice(self, subdomain: str, invoice_id: str) -> dict[str, Any]:
        """An invoice as API 2 shows it (with ``paidAmount``, ``paidStatus``)."""
        return next(i for i in self.space(subdomain)["invoices"] if i["id"] == invoice_id)

    def deactivate_subscription(self, subdomain: str, subscription_id: str) -> None:
        self.call(
            "POST", f"/_sandbox/spaces/{subdomain}/subscriptions/{subscription_id}/deactivate"
        )

    def deliveries(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/_sandbox/deliveries")
        return result

    def configure_webhooks(
        self,
        *,
        retry_delays: list[float] | None = None,
        timeout: float | None = None,
        pdf_lifetime: float | None = None,
    ) -> None:
        body: dict[str, Any] = {}
        if retry_delays is not None:
            body["retry_delays"] = retry_delays
        if timeout is not None:
            body["timeout"] = timeout
        if pdf_lifetime is not None:
            body["pdf_lifetime"] = pdf_lifetime
        self.call("PUT", "/_sandbox/webhooks", body)

    def rate_limit(self, per_minute: int | None, member_list_per_minute: int | None = None) -> None:
        self.call(
            "PUT",
            "/_sandbox/rate-limit",
            {"per_minute": per_minute, "member_list_per_minute": member_list_per_minute},
        )


@dataclass
class Sandboxes:
    cobot: CobotControl
    sevdesk: SevdeskControl

    @classmethod
    def at(cls, cobot_url: str, sevdesk_url: str) -> Sandboxes:
        return cls(CobotControl(cobot_url), SevdeskControl(sevdesk_url))

    def reset(self) -> None:
        self.cobot.reset()
        self.sevdesk.reset()

    def environment(self) -> dict[str, str]:
        """The environment variables that point the product at these sandboxes."""
        return {
            "COBOT_URL": self.cobot.base_url,
            "COBOT_SPACE_URL": self.cobot.space_url_template,
            "COBOT_API2_URL": self.cobot.api2_url,
            "SEVDESK_URL": self.sevdesk.base_url,
        }
