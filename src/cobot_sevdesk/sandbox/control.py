"""A client for the sandboxes' inspection and control API (``/_sandbox/...``).

Tests, the demo and the benchmarks drive the sandboxes through this, over HTTP, so
they work the same whether the sandboxes run in-process or in another process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


class _Control:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False

    def call(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        response = self.http.request(
            method, self.base_url + path, json=json, params=params, timeout=30
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"sandbox {method} {path} -> {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def reset(self) -> None:
        self.call("POST", "/_sandbox/reset")

    def fault(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        times: int | None = 1,
        retry_after: str | None = None,
        drop: str | None = None,
        delay: float = 0.0,
        body: Any = None,
    ) -> None:
        """Inject a misbehaviour for requests whose path matches the regex ``path``."""
        spec: dict[str, Any] = {"path": path, "times": times, "delay": delay}
        for key, value in (
            ("method", method),
            ("status", status),
            ("retry_after", retry_after),
            ("drop", drop),
            ("body", body),
        ):
            if value is not None:
                spec[key] = value
        self.call("POST", "/_sandbox/faults", spec)

    def faults(self) -> list[dict[str, Any]]:
        """Injected faults not yet used up: one that is gone has been hit."""
        result: list[dict[str, Any]] = self.call("GET", "/_sandbox/faults")
        return result

    def clear_faults(self) -> None:
        self.call("DELETE", "/_sandbox/faults")

    def set_delay(self, seconds: float) -> None:
        """Add ``seconds`` of latency to every API request."""
        self.call("PUT", "/_sandbox/delay", {"seconds": seconds})

    def requests(self, method: str | None = None, path: str = "") -> list[dict[str, Any]]:
        params: dict[str, Any] = {"path": path}
        if method:
            params["method"] = method
        result: list[dict[str, Any]] = self.call("GET", "/_sandbox/requests", params=params)
        return result

    def clear_requests(self) -> None:
        self.call("DELETE", "/_sandbox/requests")


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


class CobotControl(_Control):
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
        scope: str = "read write",
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


class SevdeskControl(_Control):
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

    def revoke(self, token: str) -> None:
        self.call("POST", f"/_sandbox/accounts/{token}/revoke")

    def restore(self, token: str) -> None:
        self.call("POST", f"/_sandbox/accounts/{token}/restore")

    def state(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/_sandbox/accounts/{token}")
        return result


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
