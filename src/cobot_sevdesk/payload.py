"""Typed reading of JSON payloads.

Every field we use is read through a ``Reader``, which knows where in the document it
is. A missing field or a value of the wrong type raises ``PayloadError`` naming the
full path (``data.attributes.items[2].totalAmount.gross``), instead of a ``KeyError``
deep inside the sync.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from cobot_sevdesk.errors import PayloadError

_MISSING = object()
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_DOTTED_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


class Reader:
    """A position in a decoded JSON document."""

    __slots__ = ("path", "service", "value")

    def __init__(self, value: Any, service: str, path: str = "$") -> None:
        self.value = value
        self.service = service
        self.path = path

    # -- navigation ---------------------------------------------------------
    def _child_path(self, name: str) -> str:
        return name if self.path == "$" else f"{self.path}.{name}"

    def fail(self, problem: str, name: str | None = None) -> PayloadError:
        return PayloadError(self.service, self._child_path(name) if name else self.path, problem)

    def _get(self, name: str) -> Any:
        if not isinstance(self.value, dict):
            raise self.fail("is not an object")
        return self.value.get(name, _MISSING)

    def has(self, name: str) -> bool:
        value = self._get(name)
        return value is not _MISSING and value is not None

    def field(self, name: str) -> Reader:
        value = self._get(name)
        if value is _MISSING or value is None:
            raise self.fail("is missing", name)
        return Reader(value, self.service, self._child_path(name))

    def opt(self, name: str) -> Reader | None:
        value = self._get(name)
        if value is _MISSING or value is None:
            return None
        return Reader(value, self.service, self._child_path(name))

    def items(self) -> list[Reader]:
        if not isinstance(self.value, list):
            raise self.fail("is not a list")
        return [Reader(v, self.service, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def seq(self, name: str) -> list[Reader]:
        return self.field(name).items()

    def opt_seq(self, name: str) -> list[Reader]:
        child = self.opt(name)
        return child.items() if child is not None else []

    # -- scalar conversion ----------------------------------------------------
    def as_str(self) -> str:
        if isinstance(self.value, bool) or not isinstance(self.value, str | int):
            raise self.fail("is not a string")
        return str(self.value)

    def as_decimal(self) -> Decimal:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            # A float here would already have lost cents; the parser reads JSON
            # numbers as Decimal, so a float means the payload came from elsewhere.
            raise self.fail("is not a decimal number")
        try:
            result = Decimal(value) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            raise self.fail(f"is not a decimal number ({value!r})") from None
        if not result.is_finite():
            raise self.fail(f"is not a finite number ({value!r})")
        return result

    def as_int(self) -> int:
        value = self.value
        if isinstance(value, bool):
            raise self.fail("is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise self.fail(f"is not an integer ({value!r})")

    def as_bool(self) -> bool:
        value = self.value
        if isinstance(value, bool):
            return value
        # sevDesk answers booleans as "0"/"1" strings.
        if value in ("0", "1", 0, 1, "true", "false"):
            return value in ("1", 1, "true")
        raise self.fail(f"is not a boolean ({value!r})")

    def as_date(self) -> dt.date:
        """Read a calendar date in any of the shapes the two APIs use.

        Cobot API 2: ``2019-01-10``; Cobot API 1: ``2012/01/01`` or
        ``2012/01/02 12:00:00 +0000``; sevDesk: ``2024-04-08T00:00:00+02:00`` as its
        clients report, and ``01.01.2020`` as its official examples show.
        The date part is taken as written: it is the date in the service's own zone.
        """
        if isinstance(self.value, str):
            match = _ISO_DATE.match(self.value) or _SLASH_DATE.match(self.value)
            parts = (match[1], match[2], match[3]) if match else None
            dotted = _DOTTED_DATE.match(self.value)
            if dotted:
                parts = (dotted[3], dotted[2], dotted[1])
            if parts:
                try:
                    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
                except ValueError:
                    pass
        raise self.fail(f"is not a date ({self.value!r})")

    # -- shortcuts ------------------------------------------------------------
    def text(self, name: str) -> str:
        return self.field(name).as_str()

    def opt_text(self, name: str) -> str | None:
        child = self.opt(name)
        if child is None:
            return None
        text = child.as_str().strip()
        return text or None

    def decimal(self, name: str) -> Decimal:
        return self.field(name).as_decimal()

    def integer(self, name: str) -> int:
        return self.field(name).as_int()

    def flag(self, name: str, default: bool | None = None) -> bool:
        child = self.opt(name)
        if child is None:
            if default is None:
                raise self.fail("is missing", name)
            return default
        return child.as_bool()

    def date(self, name: str) -> dt.date:
        return self.field(name).as_date()

    def opt_date(self, name: str) -> dt.date | None:
        child = self.opt(name)
        return child.as_date() if child is not None else None
