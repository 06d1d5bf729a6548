"""Logging: JSON lines on request, and one redaction step for every log line.

``RedactFilter`` is that step. Every handler the product sets up carries it: the
console handler of Django's ``LOGGING`` (which every logger of the web app and the
worker ends in: Django's own loggers are pointed there too, see ``settings.py``) and
gunicorn's error and access logs (``GunicornLogger``, used by ``serve``). It rewrites
each record before any formatter sees it, at every level:

- the message (format and arguments merged, then redacted);
- every extra attribute, including Django's ``request`` (its repr carries the path,
  and with it a webhook secret), turned into redacted text;
- the exception text and stack.

What is removed: Authorization headers and bearer tokens; values of token-, secret-,
password- and key-like fields (``token=...``, ``"api_key": "..."``); OAuth ``code`` and
``state`` in query strings; the secret in webhook paths (``/hooks/<secret>/``) and the
token in Cobot's token paths (``/api/access_tokens/<token>/space``); and, by value,
every secret this process has encrypted or decrypted (``remember_secret``), wherever
it appears as a word of its own.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from typing import Any

from gunicorn import glogging

REDACTED = "[redacted]"

_PATTERNS = [
    # Authorization headers and bearer tokens
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+|token\s+)?[^\s'\",}]+"),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]{8,}=*"), r"\1" + REDACTED),
    # token=..., "secret": "...", cobot_token: ... in query strings, reprs, JSON, text
    (
        re.compile(
            r"(?i)([\w-]*(?:token|secret|password|passwd|api_?key|code_verifier)[\w-]*)"
            r"(=|['\"]?\s*:\s*['\"]?)(?!\[redacted\])[^\s&'\",}]+"
        ),
        r"\1\2" + REDACTED,
    ),
    # OAuth authorization codes and states in query strings
    (re.compile(r"(?i)([?&](?:code|state)=)[^&\s'\"#]+"), r"\1" + REDACTED),
    # secrets in URL paths: webhook callbacks and Cobot's token endpoints
    (re.compile(r"(/hooks/)[^/\s'\"?#]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(/access_tokens/)[^/\s'\"?#]+"), r"\1" + REDACTED),
]

#: Secrets this process has seen in plain text (most recent last), redacted by value.
_known: dict[str, None] = {}
_known_lock = threading.Lock()
_KNOWN_MAX = 10_000
_KNOWN_MIN_LENGTH = 12
#: The words a remembered secret is looked for among: runs of token characters (hex,
#: URL-safe base64), so a lookup is one set probe per word, whatever the count.
_WORD = re.compile(rf"[A-Za-z0-9_-]{{{_KNOWN_MIN_LENGTH},}}")


def remember_secret(value: str) -> None:
    """Redact ``value`` by value from now on in this process (tokens, webhook secrets:
    ``crypto`` calls this for everything it encrypts or decrypts)."""
    if len(value) < _KNOWN_MIN_LENGTH or value in _known:
        return
    with _known_lock:
        _known[value] = None
        while len(_known) > _KNOWN_MAX:
            del _known[next(iter(_known))]


def _by_value(match: re.Match[str]) -> str:
    return REDACTED if match.group() in _known else match.group()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if _known:
        text = _WORD.sub(_by_value, text)
    return text


#: Attributes every LogRecord has; anything else on a record came in as ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_PLAIN = (int, float, bool, type(None))


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place so that nothing secret is left on it."""
    try:
        message = record.getMessage()
    except Exception:  # a wrong format: keep what there is, still redacted
        message = f"{record.msg!s} {record.args!r}"
    record.msg, record.args = redact(message), None
    for key, value in list(vars(record).items()):
        if key in _STANDARD or isinstance(value, _PLAIN):
            continue
        record.__dict__[key] = redact(value if isinstance(value, str) else repr(value))
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactFilter(logging.Filter):
    """The redaction step, as a filter for handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                data[key] = value if isinstance(value, (str, *_PLAIN)) else repr(value)
        if record.exc_text or record.exc_info:
            data["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(data, ensure_ascii=False)


class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger (``serve``), with the redaction step on its error and access
    logs (the access log's request line carries webhook paths and OAuth codes), and
    JSON lines when ``LOG_FORMAT=json``."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        as_json = os.environ.get("LOG_FORMAT", "text") == "json"
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactFilter) for f in handler.filters):
                    handler.addFilter(RedactFilter())
                if as_json:
                    handler.setFormatter(JsonFormatter())
