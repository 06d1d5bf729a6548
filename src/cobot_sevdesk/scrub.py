"""Secrets out of payloads we keep: what Cobot sent and what we sent to sevDesk are stored
for the audit trail, without anything that grants access."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

REDACTED = "[redacted]"
#: Keys whose values grant access: headers, tokens, signatures, passwords.
SECRET_KEY = re.compile(r"(?i)authorization|token|secret|password|signature|api[_-]?key")


def scrub(value: Any) -> Any:
    """A JSON-ready copy of ``value``: secret keys' values and every URL query value
    replaced (Cobot's PDF links carry their access token as ``?token=``), decimals as
    strings (exactly as they were, never through float), and text any database can
    store (PostgreSQL's JSON refuses NUL characters and unpaired surrogates, which
    hostile data may hold: they become U+FFFD)."""
    if isinstance(value, dict):
        return {
            _text(str(k)): REDACTED if SECRET_KEY.search(str(k)) else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        text = _text(value)
        return _without_query_values(text) if "?" in text and "://" in text else text
    return value


def _text(text: str) -> str:
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if text.isascii():
        return text
    # An unpaired surrogate cannot be encoded; encoded as is, it decodes as U+FFFD.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _without_query_values(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    keys = [k for k, _v in parse_qsl(parts.query, keep_blank_values=True)]
    query = "&".join(f"{quote(k)}={REDACTED}" for k in keys)
    return urlunsplit(parts._replace(query=query))
