"""JSON with exact decimals: money never passes through float on its way in or out."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} as a JSON number")
        return _MARK + format(value, "f")
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mark(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Serialize to JSON, writing ``Decimal`` values as JSON numbers digit for digit."""
    return _MARKED.sub(r"\1", json.dumps(_mark(value), ensure_ascii=False))


def loads(text: str | bytes) -> Any:
    """Parse JSON, reading non-integer numbers as ``Decimal``."""
    return json.loads(text, parse_float=Decimal)
