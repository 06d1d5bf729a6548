"""What the sevDesk sandbox knows: accounts ("sevClients") with their tokens and data;
the token check of every call; and how sevDesk writes values, errors and pages."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cobot_sevdesk.sandbox.app import HttpError, Request

BERLIN = ZoneInfo("Europe/Berlin")


def s(value: Any) -> str | None:
    """sevDesk's habit: numbers and flags travel as strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    return str(value)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(BERLIN).isoformat(timespec="seconds")


def now() -> dt.datetime:
    return dt.datetime.now(tz=BERLIN)


def error(status: int, message: str) -> HttpError:
    return HttpError(status, {"error": {"message": message, "exceptionUUID": str(uuid.uuid4())}})


def ref_id(value: Any, object_name: str, field_name: str) -> int:
    """The id of a reference ``{"id": ..., "objectName": object_name}``."""
    if not isinstance(value, dict) or "id" not in value:
        raise error(400, f"{field_name} must be an object with id and objectName")
    if value.get("objectName") != object_name:
        raise error(400, f"{field_name}.objectName must be {object_name}")
    try:
        return int(value["id"])
    except (TypeError, ValueError):
        raise error(400, f"{field_name}.id must be an integer") from None


def ref(object_id: Any, object_name: str) -> dict[str, Any]:
    """A reference to another object, its id a string."""
    return {"id": s(object_id), "objectName": object_name}


def page(request: Request, rows: list[dict[str, Any]], default_limit: int = 100) -> Any:
    """limit/offset paging. GUESS: the default page size is 100 (not documented)."""
    try:
        limit = int(request.arg("limit") or default_limit)
        offset = int(request.arg("offset") or 0)
    except ValueError:
        raise error(400, "limit and offset must be integers") from None
    if not 1 <= limit <= 1000:
        raise error(400, "limit must be between 1 and 1000")
    result: dict[str, Any] = {"objects": rows[offset : offset + limit]}
    if request.arg("countAll") == "true":
        result["total"] = len(rows)
    return result


def _grams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


@dataclass
class Account:
    """One sevDesk client ("sevClient") with its data."""

    id: int
    name: str
    tokens: set[str]
    small_business: bool = False
    version: str = "2.0"
    revoked: bool = False
    guidance: list[dict[str, Any]] = field(default_factory=list)
    cost_centres: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    addresses: dict[int, dict[str, Any]] = field(default_factory=dict)
    communication_ways: dict[int, dict[str, Any]] = field(default_factory=dict)
    vouchers: dict[int, dict[str, Any]] = field(default_factory=dict)
    positions: dict[int, dict[str, Any]] = field(default_factory=dict)
    tags: dict[int, str] = field(default_factory=dict)
    tag_relations: dict[int, dict[str, Any]] = field(default_factory=dict)
    temp_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Payment accounts ("CheckAccount") and their lines ("CheckAccountTransaction"),
    #: see ``banking``.
    check_accounts: dict[int, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Strict setting for a guess (``banking``): whether booking a payment changes the
    #: receipt's ``update`` time, which ``GET /Voucher?updateAfter=`` filters on.
    payment_updates_voucher: bool = True
    customer_counter: int = 1000

    #: Voucher ids by each three-letter piece of their lowercase description, so a
    #: ``descriptionLike`` lookup stays fast when a benchmark fills the account.
    voucher_grams: dict[str, set[int]] = field(default_factory=dict)

    @property
    def client_ref(self) -> dict[str, Any]:
        return ref(self.id, "SevClient")

    def add_voucher(self, voucher: dict[str, Any]) -> None:
        self.vouchers[voucher["id"]] = voucher
        for gram in _grams(voucher["search"]):
            self.voucher_grams.setdefault(gram, set()).add(voucher["id"])

    def remove_voucher(self, voucher_id: int) -> dict[str, Any] | None:
        """What an accountant's delete in sevDesk does: the voucher, its positions and
        its tags are gone."""
        voucher = self.vouchers.pop(voucher_id, None)
        if voucher is None:
            return None
        for gram in _grams(voucher["search"]):
            self.voucher_grams.get(gram, set()).discard(voucher_id)
        for key in [k for k, p in self.positions.items() if p["voucher"] == voucher_id]:
            del self.positions[key]
        for key in [
            k
            for k, r in self.tag_relations.items()
            if r["object"] == {"id": voucher_id, "objectName": "Voucher"}
        ]:
            del self.tag_relations[key]
        return voucher

    def vouchers_containing(self, needle: str) -> list[dict[str, Any]]:
        """Vouchers whose description contains ``needle`` (case-insensitive)."""
        needle = needle.lower()
        grams = _grams(needle)
        if not grams:  # shorter than three letters: look at every voucher
            return [v for v in self.vouchers.values() if needle in v["search"]]
        sets = sorted((self.voucher_grams.get(g, set()) for g in grams), key=len)
        ids = set.intersection(*sets)
        found = (self.vouchers[i] for i in sorted(ids))
        return [v for v in found if needle in v["search"]]

    def account_by_datev(self, datev_id: int) -> dict[str, Any] | None:
        return next((g for g in self.guidance if g["accountDatevId"] == datev_id), None)


class SevdeskState:
    """All accounts, guarded by one lock (the ``App``'s), and one id sequence for all
    objects (sevDesk's ids are unique across object types too)."""

    def __init__(self, lock: threading.RLock) -> None:
        self.lock = lock
        self._ids = itertools.count(100)
        self.accounts: dict[int, Account] = {}
        self.tokens: dict[str, Account] = {}

    def reset(self) -> None:
        with self.lock:
            self.accounts.clear()
            self.tokens.clear()

    def next_id(self) -> int:
        return next(self._ids)

    def add_account(
        self,
        token: str,
        *,
        name: str,
        small_business: bool,
        version: str,
        guidance: list[dict[str, Any]],
    ) -> Account:
        with self.lock:
            if token in self.tokens:
                raise error(409, "token already in use")
            account = Account(
                id=self.next_id(),
                name=name,
                tokens={token},
                small_business=small_business,
                version=version,
                guidance=guidance,
            )
            self.accounts[account.id] = account
            self.tokens[token] = account
            return account

    def authenticate(self, request: Request) -> Account:
        """Token auth: the raw token is the whole Authorization header (no Bearer)."""
        token = request.header("authorization") or request.arg("token")
        account = self.tokens.get(token or "")
        if account is None or account.revoked:
            raise error(401, "Authentication required")
        return account
