"""What a sandbox is made of, apart from serving HTTP: routing, requests and responses,
injected faults and the request log.

A sandbox is an ``App`` subclass; each area of its API is an ``Area`` that registers
its routes on it. ``server.py`` serves an ``App`` over HTTP.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote

from cobot_sevdesk import jsonutil


class HttpError(Exception):
    """Raised by handlers to answer with an error status and body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body:
            raise HttpError(400, {"error": "empty body"})
        try:
            return jsonutil.loads(self.body)
        except ValueError:
            raise HttpError(400, {"error": "malformed JSON"}) from None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def multipart_files(self) -> dict[str, tuple[str, bytes]]:
        """Parts of a multipart/form-data body that carry a filename."""
        ctype = self.header("content-type") or ""
        if not ctype.startswith("multipart/form-data"):
            raise HttpError(400, {"error": "expected multipart/form-data"})
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body
        )
        files: dict[str, tuple[str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            if isinstance(name, str) and filename:
                payload = part.get_payload(decode=True)
                files[name] = (filename, payload if isinstance(payload, bytes) else b"")
        return files


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return jsonutil.dumps(self.body).encode()


Handler = Callable[[Request], Response | Any]


@dataclass
class Fault:
    """One injected misbehaviour, matched by method and path pattern.

    ``status``: answer with this status instead of running the handler.
    ``drop``: "before" closes the connection without running the handler;
    "after" runs the handler (its write is committed) and then closes the
    connection without answering.
    ``delay``: seconds to wait before handling.
    ``times``: how many matching requests it applies to (None = until cleared).
    """

    path: str
    method: str | None = None
    status: int | None = None
    body: Any = None
    retry_after: str | None = None
    drop: str | None = None
    delay: float = 0.0
    times: int | None = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return re.search(self.path, path) is not None


@dataclass
class LoggedRequest:
    at: float
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    body: Any
    headers: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "body": self.body,
            "headers": self.headers,
        }


class App:
    """Routing, request log and faults; a sandbox subclasses it and registers the routes
    of its ``Area``s."""

    name = "sandbox"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: list[Fault] = []
        self.log: deque[LoggedRequest] = deque(maxlen=20000)
        self.delay = 0.0
        self.base_url = ""
        self.route("GET", "/_sandbox/requests", self._inspect_requests)
        self.route("DELETE", "/_sandbox/requests", self._clear_requests)
        self.route("GET", "/_sandbox/faults", self._inspect_faults)
        self.route("POST", "/_sandbox/faults", self._add_fault)
        self.route("DELETE", "/_sandbox/faults", self._clear_faults)
        self.route("POST", "/_sandbox/reset", self._reset)
        self.route("PUT", "/_sandbox/delay", self._set_delay)

    # -- routing ----------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+?)", pattern) + "$")
        self.routes.append((method, regex, handler))

    def find(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        allowed = False
        for route_method, regex, handler in self.routes:
            match = regex.match(path)
            if match:
                if route_method == method:
                    return handler, {k: unquote(v) for k, v in match.groupdict().items()}
                allowed = True
        if allowed:
            raise HttpError(405, {"error": "method not allowed"})
        return None

    # -- faults -----------------------------------------------------------------
    def take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_sandbox"):
            return None
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self.faults.remove(fault)
                    return fault
        return None

    def add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    # -- state ------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all state; subclasses extend this and call super()."""
        with self.lock:
            self.faults.clear()
            self.log.clear()
            self.delay = 0.0

    def record(self, request: Request, status: int) -> None:
        if request.path.startswith("/_sandbox"):
            return
        body: Any = None
        if request.body and len(request.body) < 64_000:
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
        headers = {
            k: v
            for k, v in request.headers.items()
            if k in ("authorization", "user-agent", "content-type", "accept")
        }
        self.log.append(
            LoggedRequest(
                time.time(), request.method, request.path, request.query, status, body, headers
            )
        )

    def requests_matching(self, method: str | None = None, path: str = "") -> list[LoggedRequest]:
        with self.lock:
            return [
                r
                for r in self.log
                if (method is None or r.method == method) and re.search(path, r.path)
            ]

    # -- built-in inspection endpoints -------------------------------------------
    def _inspect_requests(self, request: Request) -> Any:
        return [
            r.as_json()
            for r in self.requests_matching(request.arg("method"), request.arg("path") or "")
        ]

    def _clear_requests(self, request: Request) -> Response:
        with self.lock:
            self.log.clear()
        return Response(204)

    def _inspect_faults(self, request: Request) -> Any:
        """The faults still waiting for a matching request (a used-up one is gone)."""
        with self.lock:
            return [asdict(fault) for fault in self.faults]

    def _add_fault(self, request: Request) -> Response:
        data = request.json()
        if not isinstance(data, dict) or "path" not in data:
            raise HttpError(400, {"error": "a fault needs at least a 'path' pattern"})
        known = {f for f in Fault.__dataclass_fields__ if f != "hits"}
        unknown = set(data) - known
        if unknown:
            raise HttpError(400, {"error": f"unknown fault fields: {sorted(unknown)}"})
        if "delay" in data:
            data["delay"] = float(data["delay"])
        self.add_fault(Fault(**data))
        return Response(201, {"faults": len(self.faults)})

    def _clear_faults(self, request: Request) -> Response:
        with self.lock:
            self.faults.clear()
        return Response(204)

    def _reset(self, request: Request) -> Response:
        self.reset()
        return Response(204)

    def _set_delay(self, request: Request) -> Response:
        data = request.json()
        self.delay = float(Decimal(str(data.get("seconds", 0))))
        return Response(204)


StateT = TypeVar("StateT")


class Area(Generic[StateT]):
    """One area of a sandbox's API (say, OAuth): it works on the sandbox's one state
    object and registers its routes on the sandbox's ``App``."""

    def __init__(self, state: StateT) -> None:
        self.state = state

    def register(self, app: App) -> None:
        raise NotImplementedError
