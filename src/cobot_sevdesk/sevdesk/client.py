"""sevDesk: one client per tenant token (API v1, bookkeeping system 2.0).

The token goes as the raw ``Authorization`` header value (no "Bearer"), as sevDesk
documents. Every response is unwrapped from ``objects`` in one place
(``_objects``/``_one``), which accepts both the one-element-array and the bare-object
forms the live API uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

from cobot_sevdesk import jsonutil
from cobot_sevdesk.errors import NotFound, PayloadError, PermanentError
from cobot_sevdesk.http import HttpClient, Timeouts, plain_error_message
from cobot_sevdesk.payload import Reader
from cobot_sevdesk.sevdesk import banking, models
from cobot_sevdesk.sevdesk.models import SERVICE

PAGE_SIZE = 100
#: The largest page sevDesk documents (``limit`` "must be between 1 and 1000"), for
#: reads of a whole period, where fewer calls matter more than small answers.
MAX_PAGE_SIZE = 1000
#: sevDesk keeps a voucher date as midnight in Berlin (it answers dates that way).
SEVDESK_ZONE = ZoneInfo("Europe/Berlin")


def sevdesk_error_message(response: requests.Response) -> str:
    """``{"error": {"message": ..., "exceptionUUID": ...}}``; the UUID is what
    sevDesk support asks for, so it stays in the message."""
    try:
        body = response.json()
    except ValueError:
        return plain_error_message(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        uuid = error.get("exceptionUUID")
        return f"{error['message']} (ref {uuid})" if uuid else str(error["message"])
    if isinstance(error, str):
        return error
    return plain_error_message(response)


class SevdeskClient(HttpClient):
    service = SERVICE

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        timeouts: Timeouts | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if base_url is None:
            from django.conf import settings

            base_url = settings.SEVDESK_URL
        super().__init__(base_url, auth_header=token, timeouts=timeouts, session=session)

    def error_message(self, response: requests.Response) -> str:
        return sevdesk_error_message(response)

    # ------------------------------------------------------------ envelope
    @staticmethod
    def _objects(response: requests.Response) -> Reader:
        try:
            body = jsonutil.loads(response.content)
        except ValueError:
            raise PayloadError(SERVICE, "$", "is not valid JSON") from None
        reader = Reader(body, SERVICE)
        if not isinstance(body, dict) or "objects" not in body:
            raise reader.fail("is missing", "objects")
        return Reader(body["objects"], SERVICE, "objects")

    @classmethod
    def _created(cls, response: requests.Response) -> Reader:
        """The object a create or save answers with.

        UNCERTAIN: the official spec shows these answers without the ``objects``
        envelope; the live API wraps them, as the community spec and real clients
        report. Both forms are read (the one place this is decided).
        """
        try:
            body = jsonutil.loads(response.content)
        except ValueError:
            raise PayloadError(SERVICE, "$", "is not valid JSON") from None
        if isinstance(body, dict) and "objects" not in body:
            return Reader(body, SERVICE)
        return cls._one(response)

    @classmethod
    def _one(cls, response: requests.Response) -> Reader:
        """A single object, whether sent bare or as a one-element list."""
        objects = cls._objects(response)
        if isinstance(objects.value, list):
            items = objects.items()
            if len(items) != 1:
                raise objects.fail(f"holds {len(items)} objects where one was expected")
            return items[0]
        return objects

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> requests.Response:
        return self.request("GET", path, params=params)

    def _paged(
        self, path: str, params: Mapping[str, Any] | None = None, *, size: int = PAGE_SIZE
    ) -> Iterator[Reader]:
        """Every object of a list endpoint, fetched ``size`` at a time."""
        offset = 0
        while True:
            query = {**(params or {}), "limit": size, "offset": offset}
            items = self._objects(self._get(path, query)).items()
            yield from items
            if len(items) < size:
                return
            offset += size

    # ------------------------------------------------------------ basics
    def bookkeeping_version(self) -> str:
        return self._one(self._get("/Tools/bookkeepingSystemVersion")).text("version")

    # ------------------------------------------------------------ contacts
    def next_customer_number(self) -> str:
        return self._objects(self._get("/Contact/Factory/getNextCustomerNumber")).as_str()

    def customer_number_available(self, number: str) -> bool:
        # Never call this without a number: sevDesk answers 500 then (known quirk).
        if not number:
            raise ValueError("customer number must not be empty")
        response = self._get(
            "/Contact/Mapper/checkCustomerNumberAvailability", {"customerNumber": number}
        )
        return self._objects(response).as_bool()

    def find_contacts_by_customer_number(self, number: str) -> list[models.Contact]:
        """Contacts whose customer number is exactly ``number``.

        ``depth=1`` is needed or persons are left out. Whether sevDesk's filter is exact
        or a substring match is undocumented, so the result is compared exactly here.
        """
        found = self._paged("/Contact", {"customerNumber": number, "depth": "1"})
        contacts = [models.parse_contact(r) for r in found]
        return [c for c in contacts if (c.customer_number or "").strip() == number.strip()]

    def get_contact(self, contact_id: int) -> models.Contact:
        try:
            response = self._get(f"/Contact/{contact_id}")
        except PermanentError as exc:
            # sevDesk documents a missing contact as 400 "Bad request. Contact was not
            # found" (a 404 is possible too): either way it is not there.
            if exc.status == 400:
                raise NotFound(SERVICE, exc.service_message, status=400, path=exc.path) from exc
            raise
        return models.parse_contact(self._one(response))

    def create_contact(self, body: Mapping[str, Any]) -> models.Contact:
        return models.parse_contact(self._created(self.request("POST", "/Contact", json_body=body)))

    def list_contact_addresses(self, contact_id: int) -> list[models.ContactAddress]:
        params = {"contact[id]": contact_id, "contact[objectName]": "Contact"}
        return [models.parse_contact_address(r) for r in self._paged("/ContactAddress", params)]

    def create_contact_address(self, body: Mapping[str, Any]) -> models.ContactAddress:
        return models.parse_contact_address(
            self._created(self.request("POST", "/ContactAddress", json_body=body))
        )

    def list_communication_ways(self, contact_id: int) -> list[models.CommunicationWay]:
        params = {"contact[id]": contact_id, "contact[objectName]": "Contact"}
        return [models.parse_communication_way(r) for r in self._paged("/CommunicationWay", params)]

    def create_communication_way(self, body: Mapping[str, Any]) -> models.CommunicationWay:
        response = self.request("POST", "/CommunicationWay", json_body=body)
        return models.parse_communication_way(self._created(response))

    def countries(self) -> list[models.Country]:
        """``/StaticCountry`` is not in the current spec but used by every client; its
        default page is small, so we page through it."""
        return [models.parse_country(r) for r in self._paged("/StaticCountry")]

    # ------------------------------------------------------------ booking accounts
    def revenue_accounts(self) -> list[models.BookingAccount]:
        """The receipt guidance for revenue: every account an income receipt may book
        to, with the tax rules and rates each accepts."""
        reader = self._objects(self._get("/ReceiptGuidance/forRevenue"))
        return [models.parse_booking_account(r) for r in reader.items()]

    def accounting_types(self) -> list[Reader]:
        """Legacy (bookkeeping 1.0) accounting types, for diagnostics only."""
        return list(self._paged("/AccountingType"))

    def cost_centres(self) -> list[models.CostCentre]:
        """``/CostCentre`` is missing from the current spec but still served (used by
        a 2026 client); UNCERTAIN whether every plan has it."""
        return [models.parse_cost_centre(r) for r in self._paged("/CostCentre")]

    # ------------------------------------------------------------ vouchers
    def upload_temp_file(
        self, filename: str, content: bytes, mime_type: str = "application/pdf"
    ) -> str:
        """Upload a receipt document; returns the temporary filename for saveVoucher."""
        response = self.request(
            "POST",
            "/Voucher/Factory/uploadTempFile",
            files={"file": (filename, content, mime_type)},
        )
        return self._one(response).text("filename")

    def save_voucher(self, body: Mapping[str, Any]) -> models.Voucher:
        """Create a voucher with its positions in one call; returns the stored voucher."""
        response = self.request("POST", "/Voucher/Factory/saveVoucher", json_body=body)
        return models.parse_voucher(self._created(response).field("voucher"))

    def find_vouchers_by_description(
        self, description: str, credit_debit: str = "D"
    ) -> list[models.Voucher]:
        """Vouchers whose description equals ``description`` exactly.

        ``descriptionLike`` is a "contains" match ("RE-1" finds "RE-10"), so every page
        of candidates is fetched and compared exactly here.
        """
        params = {"descriptionLike": description, "creditDebit": credit_debit}
        vouchers = [models.parse_voucher(r) for r in self._paged("/Voucher", params)]
        return [v for v in vouchers if (v.description or "").strip() == description.strip()]

    def get_voucher(self, voucher_id: int) -> models.Voucher:
        try:
            response = self._get(f"/Voucher/{voucher_id}")
        except PermanentError as exc:
            # sevDesk documents a missing voucher as 400 "Bad request. Voucher was not
            # found" (a 404 is possible too): either way it is not there.
            if exc.status == 400:
                raise NotFound(SERVICE, exc.service_message, status=400, path=exc.path) from exc
            raise
        return models.parse_voucher(self._one(response))

    def vouchers_dated(self, start: dt.date, end: dt.date) -> list[models.Voucher]:
        """Vouchers dated ``start``..``end`` (sevDesk's documented ``startDate``/
        ``endDate`` filters, Unix timestamps), all pages. sevDesk keeps a voucher date
        as midnight in Berlin; a day more on each side keeps a rounding of the filter
        from dropping the edges, so callers filter the answer by date themselves."""
        params = {
            "startDate": _midnight(start - dt.timedelta(days=1)),
            "endDate": _midnight(end + dt.timedelta(days=1)),
        }
        return [
            models.parse_voucher(r) for r in self._paged("/Voucher", params, size=MAX_PAGE_SIZE)
        ]

    def voucher_positions(self, voucher_id: int) -> list[models.VoucherPosition]:
        params = {"voucher[id]": voucher_id, "voucher[objectName]": "Voucher"}
        return [models.parse_voucher_position(r) for r in self._paged("/VoucherPos", params)]

    def count_voucher_positions(self) -> int | None:
        """How many positions the account has (``countAll``), or None when the answer
        does not say: one small call that tells whether reading all is affordable."""
        response = self._get("/VoucherPos", {"limit": 1, "offset": 0, "countAll": "true"})
        try:
            body = jsonutil.loads(response.content)
        except ValueError:
            raise PayloadError(SERVICE, "$", "is not valid JSON") from None
        total = body.get("total") if isinstance(body, dict) else None
        try:
            return int(total) if total is not None else None
        except (TypeError, ValueError):
            return None

    def all_voucher_positions(self) -> Iterator[models.VoucherPosition]:
        """Every position of the account, ``MAX_PAGE_SIZE`` at a time (lazily)."""
        for r in self._paged("/VoucherPos", size=MAX_PAGE_SIZE):
            yield models.parse_voucher_position(r)

    def tag_voucher(self, voucher_id: int, tag: str) -> None:
        """Attach ``tag`` to a voucher (sevDesk creates the tag on first use)."""
        body = {"name": tag, "object": {"id": voucher_id, "objectName": "Voucher"}}
        self.request("POST", "/Tag/Factory/create", json_body=body)

    def vouchers_updated_since(self, since: dt.datetime) -> Iterator[models.Voucher]:
        """Income receipts changed after ``since`` (``updateAfter``, a Unix timestamp: the
        Voucher tag's documented filter list), page by page."""
        params = {"creditDebit": "D", "updateAfter": int(since.timestamp())}
        for reader in self._paged("/Voucher", params):
            yield models.parse_voucher(reader)

    # ------------------------------------------------------------ payments
    def check_accounts(self) -> list[banking.CheckAccount]:
        return [banking.parse_check_account(r) for r in self._paged("/CheckAccount")]

    def create_clearing_account(self, name: str, accounting_number: int) -> banking.CheckAccount:
        """A clearing account (documented as offline): payments booked on it need no
        bank line. ``accounting_number`` must be unique among the check accounts."""
        body = {"name": name, "accountingNumber": accounting_number}
        response = self.request("POST", "/CheckAccount/Factory/clearingAccount", json_body=body)
        return banking.parse_check_account(self._created(response))

    def bank_lines(self, start: dt.date, end: dt.date) -> list[banking.BankLine]:
        """Incoming payments (``onlyCredit``) with a value date in ``start``..``end``.
        Whether they are booked is read from each line's documented ``status``, not
        filtered by ``isBooked`` (documented only as "only retrieve booked")."""
        params = {
            "onlyCredit": "true",
            "startDate": banking.sevdesk_datetime(start),
            "endDate": banking.sevdesk_datetime(end),
        }
        return [banking.parse_bank_line(r) for r in self._paged("/CheckAccountTransaction", params)]

    def book_voucher(
        self,
        voucher_id: int,
        amount: Decimal,
        *,
        day: dt.date,
        kind: str,
        check_account_id: int,
        bank_line_id: int | None = None,
    ) -> banking.VoucherLog:
        """Book a payment on a receipt (``PUT /Voucher/{id}/bookAmount``). The bank line
        is named for online accounts only, as documented."""
        body: dict[str, Any] = {
            "amount": amount,
            "date": banking.sevdesk_datetime(day),
            "type": kind,
            "checkAccount": {"id": check_account_id, "objectName": "CheckAccount"},
        }
        if bank_line_id is not None:
            body["checkAccountTransaction"] = {
                "id": bank_line_id,
                "objectName": "CheckAccountTransaction",
            }
        response = self.request("PUT", f"/Voucher/{voucher_id}/bookAmount", json_body=body)
        # Documented as a bare VoucherLog; read like a create answer (either form).
        return banking.parse_voucher_log(self._created(response))


def _midnight(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=SEVDESK_ZONE).timestamp())
