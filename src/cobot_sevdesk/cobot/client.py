"""Cobot: one client per tenant token, speaking API 1 (www and per space) and API 2.

Base URLs come from the environment (``COBOT_URL``, ``COBOT_SPACE_URL`` with a
``{subdomain}`` placeholder, ``COBOT_API2_URL``), so the same code talks to Cobot,
to the sandbox or to anything a test puts there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from cobot_sevdesk import jsonutil
from cobot_sevdesk.cobot import models
from cobot_sevdesk.cobot.models import SERVICE
from cobot_sevdesk.cobot.payments import PaymentRecord, parse_payment_record
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.errors import (
    AuthorizationError,
    BusinessRuleError,
    Forbidden,
    NotFound,
    PayloadError,
    TransientError,
)
from cobot_sevdesk.http import HttpClient, Timeouts, new_session, plain_error_message
from cobot_sevdesk.messages import _
from cobot_sevdesk.payload import Reader

#: Redirects a PDF download may follow (each to an allowed host only).
MAX_PDF_REDIRECTS = 3


def cobot_error_message(response: requests.Response) -> str:
    """Cobot's error bodies: JSON:API ``errors`` arrays (API 2), ``{"errors": {field: msg}}``
    (API 1 validation) or ``{"error": ...}``."""
    try:
        body = response.json()
    except ValueError:
        return plain_error_message(response)
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for err in errors:
                if isinstance(err, dict):
                    pointer = (err.get("source") or {}).get("pointer", "")
                    text = err.get("detail") or err.get("title") or ""
                    parts.append(
                        f"{pointer.rsplit('/', 1)[-1]} {text}".strip() if pointer else str(text)
                    )
            if parts:
                return "; ".join(parts)
        if isinstance(errors, dict) and errors:
            return "; ".join(f"{k} {v}" for k, v in errors.items())
        if isinstance(errors, str) and errors:
            return errors  # payment records: {"errors": "Paid at can't be blank"}
        error = body.get("error")
        if error:
            description = body.get("error_description")
            return f"{error}: {description}" if description else str(error)
    return plain_error_message(response)


class LinkExpired(TransientError):
    """An invoice's PDF link outlived its few minutes (Cobot makes a new one with every
    answer about the invoice): not the token's fault; fetch the invoice again."""


class _Api(HttpClient):
    service = SERVICE

    def error_message(self, response: requests.Response) -> str:
        return cobot_error_message(response)


class CobotClient:
    """Everything we ask of Cobot for one token (a user's, or a space-bound one)."""

    def __init__(
        self,
        token: str,
        *,
        subdomain: str | None = None,
        urls: CobotUrls | None = None,
        timeouts: Timeouts | None = None,
        throttle: Callable[[], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.urls = urls or CobotUrls.from_settings()
        self.subdomain = subdomain
        session = session or new_session()
        auth = f"Bearer {token}"
        self._token = token
        self.www = _Api(
            self.urls.www, auth_header=auth, timeouts=timeouts, session=session, throttle=throttle
        )
        self.api2 = _Api(
            self.urls.api2,
            auth_header=auth,
            timeouts=timeouts,
            session=session,
            throttle=throttle,
            extra_headers={"Accept": "application/vnd.api+json"},
        )
        self._space = (
            _Api(
                self.urls.space(subdomain),
                auth_header=auth,
                timeouts=timeouts,
                session=session,
                throttle=throttle,
            )
            if subdomain
            else None
        )
        self._timeouts = timeouts
        self._session = session

    def __repr__(self) -> str:
        return f"<CobotClient {self.subdomain or 'www'}>"

    @property
    def space_api(self) -> _Api:
        if self._space is None:
            raise ValueError("this CobotClient was created without a space subdomain")
        return self._space

    @staticmethod
    def _read(response: requests.Response) -> Reader:
        try:
            return Reader(jsonutil.loads(response.content), SERVICE)
        except ValueError:
            raise PayloadError(SERVICE, "$", "is not valid JSON") from None

    # ------------------------------------------------------------ OAuth / user
    def get_user(self) -> models.CobotUser:
        """API 1 ``GET /api/user``: who the token belongs to and which spaces they administer."""
        return models.parse_user(self._read(self.www.request("GET", "/api/user")))

    def get_admin_spaces_api2(self) -> list[models.Api2Space]:
        """API 2 ``GET /user?include=adminOf``: the admin spaces with their API 2 ids."""
        response = self.api2.request("GET", "/user", params={"include": "adminOf"})
        return models.parse_api2_admin_spaces(self._read(response))

    def get_space_info(self, subdomain: str) -> models.SpaceInfo:
        path = f"/api/spaces/{quote(subdomain, safe='')}"
        return models.parse_space_info(self._read(self.www.request("GET", path)))

    def bind_token_to_space(self, space_id: str) -> str:
        """Exchange our user token for one bound to the space (it survives the admin
        leaving the space: Cobot hands it to the space owner)."""
        path = f"/api/access_tokens/{quote(self._token, safe='')}/space"
        response = self.www.request("POST", path, json_body={"space_id": space_id})
        return self._read(response).text("token")

    # ------------------------------------------------------------ API 1, per space
    def get_membership(self, membership_id: str) -> models.Membership:
        path = f"/api/memberships/{quote(membership_id, safe='')}"
        response = self.space_api.request("GET", path, action=_("read this membership"))
        return models.parse_membership(self._read(response))

    def list_memberships(self) -> list[models.Membership]:
        """Current members. Cobot limits this endpoint to 6 requests per minute."""
        reader = self._read(
            self.space_api.request("GET", "/api/memberships", action=_("list the members"))
        )
        return [models.parse_membership(item) for item in reader.items()]

    def set_customer_number(self, membership_id: str, customer_number: str) -> None:
        """Write sevDesk's customer number back to the member.

        UNCERTAIN: Cobot does not document this call. Cobot's own sevDesk add-on does
        it, and API 1 accepts PUT with JSON bodies; we send ``PUT /api/memberships/<id>``
        with ``{"customer_number": ...}`` and keep the guess in this one place.
        """
        path = f"/api/memberships/{quote(membership_id, safe='')}"
        self.space_api.request(
            "PUT",
            path,
            json_body={"customer_number": customer_number},
            action=_("write the customer number to the member's profile"),
        )

    def list_accounting_codes(self) -> list[models.AccountingCode]:
        reader = self._read(
            self.space_api.request(
                "GET", "/api/accounting_codes", action=_("read the accounting codes")
            )
        )
        return [models.parse_accounting_code(item) for item in reader.items()]

    def list_subscriptions(self) -> list[models.Subscription]:
        reader = self._read(
            self.space_api.request("GET", "/api/subscriptions", action=_("manage its webhooks"))
        )
        return [models.parse_subscription(item) for item in reader.items()]

    def create_subscription(self, event: str, callback_url: str) -> models.Subscription:
        """Subscribe to ``event``. Cobot answers 409 if the same event and URL exist."""
        response = self.space_api.request(
            "POST",
            "/api/subscriptions",
            json_body={"event": event, "callback_url": callback_url},
            action=_("manage its webhooks"),
        )
        return models.parse_subscription(self._read(response))

    def delete_subscription(self, subscription: models.Subscription) -> None:
        """``DELETE /api/subscriptions/<id>`` on the space's configured API 1 base.

        The ``url`` Cobot returns with a subscription is deliberately not used: our
        token goes only to the hosts we are configured for, never to a URL taken from
        an answer."""
        path = f"/api/subscriptions/{quote(subscription.id, safe='')}"
        self.space_api.request("DELETE", path)

    def post_activity(
        self, text: str, *, level: str | None = None, channels: tuple[str, ...] = ("admin",)
    ) -> bool:
        """Post to the space's activity feed. Returns False when Cobot refuses with 403
        (an admin whose permissions do not cover activities; Cobot's own apps ignore
        it too); a 401 still raises, because then the token itself is dead."""
        body: dict[str, Any] = {"text": text, "channels": list(channels)}
        if level:
            body["level"] = level
        try:
            self.space_api.request("POST", "/api/activities", json_body=body)
        except Forbidden:
            return False
        return True

    def list_payment_records(self, invoice_ids: Sequence[str]) -> list[PaymentRecord]:
        """The payment records of these invoices (``?invoice_ids=a,b``), one call."""
        reader = self._read(
            self.space_api.request(
                "GET",
                "/api/invoices/payment_records",
                params={"invoice_ids": ",".join(invoice_ids)},
                action=_("read the invoices' payments"),
            )
        )
        return [parse_payment_record(item) for item in reader.items()]

    def add_payment_record(
        self, invoice_id: str, amount: Decimal, paid_on: dt.date, note: str
    ) -> PaymentRecord:
        """Record a payment on an invoice; Cobot marks it paid once the total is paid."""
        body = {"paid_at": paid_on.isoformat(), "amount": format(amount, "f"), "note": note}
        response = self.space_api.request(
            "POST",
            f"/api/invoices/{quote(invoice_id, safe='')}/payment_records",
            json_body=body,
            action=_("record a payment on this invoice"),
        )
        return parse_payment_record(self._read(response))

    # ------------------------------------------------------------ API 2
    def get_invoice(self, invoice_id: str) -> models.Invoice:
        response = self.api2.request(
            "GET", f"/invoices/{quote(invoice_id, safe='')}", action=_("read this invoice")
        )
        return models.parse_invoice(self._read(response).field("data"))

    def list_invoices_page(
        self, space_id: str, start: dt.date, end: dt.date, *, page: int = 1, size: int = 200
    ) -> models.InvoicePage:
        params = {
            "filter[from]": start.isoformat(),
            "filter[to]": end.isoformat(),
            "page[number]": str(page),
            "page[size]": str(size),
        }
        response = self.api2.request(
            "GET",
            f"/spaces/{quote(space_id, safe='')}/invoices",
            params=params,
            action=_("list the invoices"),
        )
        return models.parse_invoice_page(self._read(response))

    def iter_invoice_pages(
        self, space_id: str, start: dt.date, end: dt.date, *, size: int = 200
    ) -> Iterator[models.InvoicePage]:
        """The pages of invoices dated ``start``..``end`` (lazily)."""
        page = 1
        while True:
            result = self.list_invoices_page(space_id, start, end, page=page, size=size)
            yield result
            if not result.has_next or page >= result.total_pages:
                return
            page += 1

    def iter_invoices(
        self, space_id: str, start: dt.date, end: dt.date, *, size: int = 200
    ) -> Iterator[models.Invoice]:
        """All invoices dated ``start``..``end``, page by page (lazily)."""
        for page in self.iter_invoice_pages(space_id, start, end, size=size):
            yield from page.invoices

    def download_pdf(self, url: str) -> bytes:
        """Fetch an invoice PDF from its short-lived link.

        The link carries its own token, so no Authorization header is ever sent with
        it (the client used here has none). It is followed only to the allowed PDF
        hosts (``CobotUrls.pdf_hosts_allowed``), and so is every redirect; anything
        else fails the invoice for good, with a message for the admin. Downloads are
        not throttled against the API limit.
        """
        try:
            response = self._download(url)
        except (AuthorizationError, Forbidden, NotFound) as exc:
            # The link outlived its few minutes. Not the token's fault: a new attempt
            # fetches the invoice again and with it a fresh link.
            raise LinkExpired(
                SERVICE,
                "the invoice's PDF link expired before it was downloaded",
                status=exc.status,
            ) from exc
        if not response.content.startswith(b"%PDF"):
            raise PayloadError(SERVICE, "pdf.url", "did not return a PDF document")
        return response.content

    def _download(self, url: str) -> requests.Response:
        for _hop in range(MAX_PDF_REDIRECTS + 1):
            if not self.urls.pdf_url_allowed(url):
                raise _foreign_pdf_host(url)
            parts = urlsplit(url)
            # A client without any Authorization header, based on the link's own origin.
            files = _Api(
                f"{parts.scheme}://{parts.netloc}", timeouts=self._timeouts, session=self._session
            )
            response = files.request("GET", url, follow_redirects=False)
            if not response.is_redirect:
                return response
            url = urljoin(url, response.headers.get("Location", ""))
        raise PayloadError(SERVICE, "pdf.url", f"redirected more than {MAX_PDF_REDIRECTS} times")


def _foreign_pdf_host(url: str) -> BusinessRuleError:
    try:
        host = urlsplit(url).hostname or url[:60]
    except ValueError:
        host = "?"
    return BusinessRuleError(
        "pdf_host",
        _(
            "Cobot's link to this invoice's PDF points at %(host)s, which is not a Cobot "
            "host the add-on downloads from, so nothing was sent to sevDesk. If the host "
            "really belongs to Cobot, an operator can allow it with COBOT_PDF_HOSTS; "
            "then retry the invoice."
        )
        % {"host": host},
    )
