"""Hold HTTP exchanges with the sandboxes to the official API descriptions.

Every request our clients send and every answer the sandboxes give is matched to an
OpenAPI document and validated with openapi-core:

- sevDesk: our requests against both descriptions, the official
  ``specs/sevdesk-openapi.yaml`` and the community-corrected
  ``specs/sevdesk-openapi-community.yaml``; the sandbox's answers against the corrected
  one (the official one shows answers the live API does not send, e.g. without the
  ``objects`` envelope); plus ``sevdesk-extra-openapi.yaml`` here for the endpoints both
  lack;
- Cobot API 2: ``specs/cobot-api2-openapi.yml``;
- Cobot API 1: ``cobot-api1-openapi.yaml`` here (Cobot publishes none).

The spec errors we knowingly deviate from are listed in ``ALLOWED`` below, each with
its reason: that list is the one place where exceptions are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

HERE = Path(__file__).resolve().parent
SPECS = HERE.parents[1] / "specs"  # the vendored official documents, see specs/SOURCES.md

DOCS = {
    "sevdesk": SPECS / "sevdesk-openapi-community.yaml",
    "sevdesk-official": SPECS / "sevdesk-openapi.yaml",
    "sevdesk-extra": HERE / "sevdesk-extra-openapi.yaml",
    "cobot-api2": SPECS / "cobot-api2-openapi.yml",
    "cobot-api1": HERE / "cobot-api1-openapi.yaml",
}
SERVERS = {
    "sevdesk": "https://my.sevdesk.de/api/v1",
    "sevdesk-official": "https://my.sevdesk.de/api/v1",
    "sevdesk-extra": "https://my.sevdesk.de/api/v1",
    "cobot-api2": "https://api.cobot.me",
    "cobot-api1": "https://www.cobot.me",
}
SEVDESK_EXTRA_PATHS = ("/StaticCountry", "/CostCentre", "/AccountingType")
#: Our requests to sevDesk are held to both of its descriptions.
REQUEST_DOCS = {"sevdesk": ("sevdesk", "sevdesk-official")}
SEVDESK = ("sevdesk", "sevdesk-official")


@dataclass(frozen=True)
class Allowed:
    docs: tuple[str, ...]
    method: str
    path: str  # regex on the spec-relative path
    message: str  # regex on the validation message
    reason: str


#: Where we knowingly differ from a published description, because it cannot be met
#: without changing what the request means (or at all). Keep each reason short and
#: point to the fact behind it; docs/DECISIONS.md says which description we follow.
ALLOWED = [
    Allowed(
        SEVDESK,
        "post",
        r"^/Voucher/Factory/saveVoucher$",
        r"'voucherPos' is a required property",
        "both require a key 'voucherPos' that does not exist; the body key is voucherPosSave "
        "(reference/sevdesk-api.md, gotcha 5)",
    ),
    Allowed(
        SEVDESK,
        "post",
        r"^/Voucher/Factory/saveVoucher$",
        r"'taxType' is a required property",
        "taxType is the 1.0 field and must not be null; on 2.0 taxRule replaces it, and "
        "sending a 1.0 value too would be a second, possibly different, tax treatment "
        "(gotcha 5; the Stripe sync sends only taxRule)",
    ),
    Allowed(
        SEVDESK,
        "post",
        r"^/Voucher/Factory/saveVoucher$",
        r"'(accountingType|voucher)' is a required property",
        "positions send exactly one account (accountDatev on 2.0; a second, 1.0 account "
        "could contradict it); 'voucher' is set by the server (gotcha 5)",
    ),
    Allowed(
        SEVDESK,
        "post",
        r"^/Voucher/Factory/saveVoucher$",
        r"is not a 'date-time'",
        "both type dates as date-time strings but describe them as 'timestamp or "
        "dd.mm.yyyy'; we send dd.mm.yyyy, the documented form (gotcha 9)",
    ),
    Allowed(
        ("sevdesk-official",),
        "post",
        r"^/Voucher/Factory/saveVoucher$",
        r"taxRule/id: \d+ is not (of type 'string'|one of)",
        "the official schema types taxRule.id as a string enum of 1-5 and 11, leaving out "
        "rule 17 that its own text documents for vouchers; the community document makes it "
        "an integer (j-mastr/sevdesk-api 633956f), as the official receipt guidance types "
        "allowedTaxRules[].id. We follow the integer",
    ),
    Allowed(
        SEVDESK,
        "post",
        r"^/Voucher/Factory/uploadTempFile$",
        r"(Content for the following mimetype not found: multipart/form-data|MediaTypeNotFound)",
        "both declare the media type 'form-data'; the request is ordinary multipart/form-data",
    ),
]


@cache
def openapi(doc: str) -> OpenAPI:
    # The community spec fails openapi-spec-validator on a `default: null`; we need it
    # for validation, not for its own validity.
    return OpenAPI.from_file_path(str(DOCS[doc]), config=Config(spec_validator_cls=None))


@dataclass
class Exchange:
    request: requests.PreparedRequest
    response: requests.Response


@dataclass
class Problem:
    doc: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.doc}] {self.where}: {self.message}"


class ContractChecker:
    def __init__(self, cobot_url: str, sevdesk_url: str) -> None:
        self.cobot_url = cobot_url.rstrip("/")
        self.sevdesk_url = sevdesk_url.rstrip("/")

    def route(self, url: str) -> tuple[str, str] | None:
        """(document, URL as the document's server would see it), or None if no
        document covers it (the sandboxes' own /_sandbox control API, OAuth forms)."""
        if "/_sandbox" in url or "/oauth/" in url:
            return None
        if url.startswith(self.sevdesk_url):
            rest = url[len(self.sevdesk_url) :]
            doc = "sevdesk-extra" if rest.startswith(SEVDESK_EXTRA_PATHS) else "sevdesk"
            return doc, SERVERS[doc] + rest
        if url.startswith(self.cobot_url):
            rest = url[len(self.cobot_url) :]
            if rest.startswith("/api2/"):
                return "cobot-api2", SERVERS["cobot-api2"] + rest[len("/api2") :]
            match = re.match(r"^/space/([^/]+)(/api/.*)$", rest)
            if match:
                return "cobot-api1", f"https://{match[1]}.cobot.me{match[2]}"
            if rest.startswith("/api/"):
                return "cobot-api1", SERVERS["cobot-api1"] + rest
        return None

    def check(self, exchange: Exchange) -> list[Problem]:
        routed = self.route(exchange.request.url or "")
        if routed is None:
            return []
        doc, url = routed
        request = exchange.request.copy()
        request.url = url
        spec = openapi(doc)
        wrapped_request = RequestsOpenAPIRequest(request)
        where = f"{request.method} {url}"
        spec_path = wrapped_request.path
        if doc in ("sevdesk", "sevdesk-extra"):
            spec_path = spec_path.removeprefix("/api/v1")
        found = [
            (name, m)
            for name in REQUEST_DOCS.get(doc, (doc,))
            for e in openapi(name).iter_request_errors(wrapped_request)
            for m in _messages(e)
        ]
        # PDFs are documented without a schema; everything else is validated.
        if exchange.response.status_code < 400 and not spec_path.endswith(".pdf"):
            wrapped_response = RequestsOpenAPIResponse(exchange.response)
            found += [
                (doc, f"response: {m}")
                for e in spec.iter_response_errors(wrapped_request, wrapped_response)
                for m in _messages(e)
            ]
        return [
            Problem(name, where, m)
            for name, m in found
            if not any(
                name in a.docs
                and a.method == (request.method or "").lower()
                and re.search(a.path, spec_path)
                and re.search(a.message, m)
                for a in ALLOWED
            )
        ]


def _messages(error: BaseException) -> Iterator[str]:
    """Flatten openapi-core's nested errors into one message per schema problem."""
    seen = False
    cause: BaseException | None = error
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            for schema_error in schema_errors:
                for leaf in _leaves(schema_error):
                    location = "/".join(str(p) for p in leaf.absolute_path)
                    yield f"{location or '<root>'}: {leaf.message}"
            seen = True
            break
        cause = cause.__cause__
    if not seen:
        yield f"{type(error).__name__}: {error}"


def _leaves(error: Any) -> Iterator[Any]:
    context = getattr(error, "context", None)
    if context:
        for sub in context:
            yield from _leaves(sub)
    else:
        yield error


@contextmanager
def recording() -> Iterator[list[Exchange]]:
    """Record every HTTP exchange made through ``requests`` in this process."""
    exchanges: list[Exchange] = []
    original = requests.Session.send

    def send(
        session: requests.Session, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        response = original(session, request, **kwargs)
        exchanges.append(Exchange(request, response))
        return response

    with mock.patch.object(requests.Session, "send", send):
        yield exchanges
