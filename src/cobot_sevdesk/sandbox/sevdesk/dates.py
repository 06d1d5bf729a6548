"""Dates as sevDesk takes them: in request bodies (``dd.mm.yyyy`` or a Unix
timestamp) and in the voucher list's ``startDate``/``endDate`` filters."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from cobot_sevdesk.sandbox.sevdesk.state import BERLIN, error


def parse_date(value: Any, field_name: str) -> dt.date:
    """Dates as sevDesk documents them (dd.mm.yyyy or a Unix timestamp).

    LENIENT: ISO dates and datetimes are accepted too; whether the live API takes
    them is not documented.
    """
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(int(value), tz=BERLIN).date()
    if isinstance(value, str):
        text = value.strip()
        for pattern, order in (
            (r"^(\d{2})\.(\d{2})\.(\d{4})$", "dmy"),
            (r"^(\d{4})-(\d{2})-(\d{2})", "ymd"),
        ):
            match = re.match(pattern, text)
            if match:
                parts = [int(p) for p in match.groups()]
                day, month, year = parts if order == "dmy" else parts[::-1]
                try:
                    return dt.date(year, month, day)
                except ValueError:
                    break
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text), tz=BERLIN).date()
    raise error(422, f"Invalid date in field {field_name}: {value!r}")


def _timestamp(value: str, field_name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise error(400, f"{field_name} must be a Unix timestamp") from None


def in_range(day: dt.date | None, start: str | None, end: str | None) -> bool:
    """The ``startDate``/``endDate`` filter: Unix timestamps compared with the voucher
    date, which sevDesk keeps as midnight in Berlin (it answers dates that way).

    UNCERTAIN: the operation's parameters say "equal or higher/lower", the Voucher tag's
    filter table "bigger/smaller than". We follow the parameters; our client asks for a
    day more on each side and compares the dates itself, so either reading works.
    """
    if start is None and end is None:
        return True
    if day is None:
        return False
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=BERLIN).timestamp()
    if start is not None and moment < _timestamp(start, "startDate"):
        return False
    return end is None or moment <= _timestamp(end, "endDate")
