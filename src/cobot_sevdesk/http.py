"""The HTTP layer under both API clients: one session per tenant, explicit timeouts,
a real User-Agent, and the mapping of every failure onto ``cobot_sevdesk.errors``."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from cobot_sevdesk import __version__, jsonutil
from cobot_sevdesk.errors import (
    ApiError,
    AuthorizationError,
    Forbidden,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from cobot_sevdesk.logs import redact
from cobot_sevdesk.messages import Text, _
from cobot_sevdesk.metrics import EXTERNAL_CALLS, EXTERNAL_SECONDS

log = logging.getLogger(__name__)

USER_AGENT = f"cobot-sevdesk/{__version__} (+https://github.com/cobot-sevdesk/cobot-sevdesk)"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Longest server-requested pause we honour; longer hints are capped so an item
#: is never parked for hours by one odd header.
MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def redact_url(url: str) -> str:
    """The URL as it may be logged or stored: without query string or credentials
    (Cobot's PDF links carry a token there) and with secrets in the path redacted
    (``/api/access_tokens/<token>/space``)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return "[unparsable URL]"
    return redact(f"{parts.scheme}://{host}{parts.path}")


ErrorMessage = Callable[[requests.Response], str]


def plain_error_message(response: requests.Response) -> str:
    text = response.text.strip()
    return text[:300] if text else (response.reason or "no message")


class HttpClient:
    """Base class for the per-tenant API clients.

    Subclasses set ``service`` and may override ``error_message`` to pull the
    service's own explanation out of an error body.
    """

    service = "HTTP"

    def __init__(
        self,
        base_url: str,
        *,
        auth_header: str | None = None,
        timeouts: Timeouts | None = None,
        session: requests.Session | None = None,
        throttle: Callable[[], None] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeouts = timeouts or Timeouts()
        self.throttle = throttle
        self.session = session or new_session()
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if extra_headers:
            self._headers.update(extra_headers)
        if auth_header is not None:
            self._headers["Authorization"] = auth_header
        #: Requests sent through this client, answered or not (what a task cost).
        self.calls = 0

    def __repr__(self) -> str:
        # Never show headers: they hold the token.
        return f"<{type(self).__name__} {self.base_url}>"

    def url(self, path: str) -> str:
        """The URL for ``path`` under ``base_url``. An absolute URL is accepted only on
        the base URL's own origin: our token never goes to a host taken from an answer."""
        if path.startswith(("http://", "https://")):
            if _origin(path) != _origin(self.base_url):
                raise ValueError(f"{redact_url(path)} is outside {self.base_url}")
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def error_message(self, response: requests.Response) -> str:
        return plain_error_message(response)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        action: Text | None = None,
        follow_redirects: bool | None = None,
    ) -> requests.Response:
        """Send one request; return the 2xx response or raise an ``ApiError``.
        ``action`` says in plain words what the call does ("read the invoice"), for
        the admin's message when the service does not allow it."""
        method = method.upper()
        url = self.url(path)
        send_headers = dict(self._headers)
        if not authenticated:
            send_headers.pop("Authorization", None)
        body: str | None = None
        if json_body is not None:
            body = jsonutil.dumps(json_body)
            send_headers.setdefault("Content-Type", "application/json")
        if headers:
            send_headers.update(headers)
        if self.throttle is not None:
            self.throttle()
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=body.encode() if body is not None else data,
                files=files,
                headers=send_headers,
                timeout=self.timeouts.as_tuple(),
                allow_redirects=(
                    method in SAFE_METHODS if follow_redirects is None else follow_redirects
                ),
            )
        except (UnicodeError, requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL):
            # Nothing was sent: a header or URL that HTTP cannot carry (e.g. a token with
            # non-Latin-1 characters). Retrying would fail the same way.
            self._count("error:unsendable", started)
            raise PermanentError(
                self.service,
                "the request could not be sent: a header or the URL has characters HTTP "
                "cannot carry",
                method=method,
                path=redact_url(url),
            ) from None
        except requests.RequestException as exc:
            self._count("error:" + type(exc).__name__, started)
            raise self._network_error(exc, method, redact_url(url)) from exc
        self._count(str(response.status_code), started)
        if log.isEnabledFor(logging.DEBUG):  # redacting is not free: only when logged
            elapsed = response.elapsed.total_seconds() * 1000
            log.debug("%s %s %s %.0fms", self.service, method, redact_url(url), elapsed)
        if response.status_code >= 400:
            raise self._status_error(response, method, redact_url(url), action)
        return response

    def _count(self, status: str, started: float) -> None:
        self.calls += 1
        EXTERNAL_CALLS.labels(self.service, status).inc()
        EXTERNAL_SECONDS.labels(self.service).observe(time.monotonic() - started)

    def _network_error(self, exc: requests.RequestException, method: str, where: str) -> ApiError:
        if _never_sent(exc):
            return TransientError(
                self.service, f"could not connect ({type(exc).__name__})", method=method, path=where
            )
        if isinstance(exc, requests.Timeout):
            message = f"no answer within {self.timeouts.read:g} s"
        else:
            message = f"connection broke off ({type(exc).__name__})"
        if method in SAFE_METHODS:
            return TransientError(self.service, message, method=method, path=where)
        return OutcomeUnknown(
            self.service,
            message + "; the request may or may not have been applied",
            method=method,
            path=where,
        )

    def _status_error(
        self, response: requests.Response, method: str, where: str, action: Text | None
    ) -> ApiError:
        status = response.status_code
        message = self.error_message(response)
        if status == 401:
            return AuthorizationError(
                self.service,
                message,
                status=status,
                method=method,
                path=where,
                admin_message=_("%(service)s refused our access token (%(message)s).")
                % {"service": self.service, "message": message},
            )
        if status == 403:
            return Forbidden(
                self.service,
                message,
                status=status,
                method=method,
                path=where,
                admin_message=_(
                    "%(service)s does not allow this add-on to %(action)s (%(message)s). "
                    "Check the add-on's permissions there, then retry."
                )
                % {"service": self.service, "action": action or where, "message": message},
            )
        if status == 429 or status >= 500:
            return (RateLimited if status == 429 else TransientError)(
                self.service,
                message,
                status=status,
                method=method,
                path=where,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 404:
            return NotFound(self.service, message, status=status, method=method, path=where)
        return PermanentError(self.service, message, status=status, method=method, path=where)


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the failure happened before any byte of the request left us."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        text = repr(exc.args[0]) if exc.args else ""
        return (
            any(
                marker in text
                for marker in (
                    "NewConnectionError",
                    "ConnectionRefused",
                    "NameResolution",
                    "Max retries",
                )
            )
            and "RemoteDisconnected" not in text
            and "ProtocolError" not in text
        )
    return False


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def new_session(pool_size: int = 10) -> requests.Session:
    """A session with a connection pool and no automatic retries: retries are ours."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Environment proxies would silently reroute sandbox traffic on loopback.
    session.trust_env = False
    return session
