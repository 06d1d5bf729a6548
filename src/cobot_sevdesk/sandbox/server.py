"""A small threaded HTTP server that serves a sandbox's ``App`` (``app.py``).

Both sandboxes are ``App`` subclasses served by ``SandboxServer``. The standard
library server is enough here and gives us what a framework would hide: we can
drop a connection after the handler committed its write, which is exactly the
"unknown outcome" case the product must survive.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cobot_sevdesk.sandbox.app import App, HttpError, Request, Response

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.app.name, format % args)

    def _handle(self) -> None:
        app = self.server.app
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        fault = app.take_fault(request.method, request.path)
        delay = app.delay + (fault.delay if fault else 0.0)
        if delay and not request.path.startswith("/_sandbox"):
            time.sleep(delay)
        if fault and fault.drop == "before":
            app.record(request, 0)
            self._drop()
            return
        if fault and fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body_out = (
                fault.body if fault.body is not None else {"error": {"message": "injected fault"}}
            )
            response = Response(fault.status, body_out, headers)
        else:
            response = self._dispatch(app, request)
        app.record(request, response.status)
        if fault and fault.drop == "after":
            self._drop()
            return
        self._send(response)

    def _dispatch(self, app: App, request: Request) -> Response:
        try:
            found = app.find(request.method, request.path)
            if found is None:
                raise HttpError(404, {"error": {"message": "not found"}})
            handler, params = found
            request.params = params
            # One request at a time in the state (plain dicts): a listing iterating while
            # another request adds to them would crash. The answer is encoded inside too,
            # as it may hold the state's own dicts. The delay is waited outside, so
            # requests still overlap as they would at the real service.
            with app.lock:
                result = handler(request)
                response = result if isinstance(result, Response) else Response(200, result)
                return Response(
                    response.status, response.encode(), response.headers, response.content_type
                )
        except HttpError as err:
            return Response(err.status, err.body, err.headers)
        except Exception:
            log.exception("%s handler failed", app.name)
            return Response(500, {"error": {"message": "sandbox handler crashed"}})

    def _send(self, response: Response) -> None:
        payload = response.encode()
        self.send_response(response.status)
        headers = dict(response.headers)
        if payload and "Content-Type" not in headers:
            headers["Content-Type"] = response.content_type
        headers["Content-Length"] = str(len(payload))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        super().__init__((host, port), _Handler)
        app.base_url = self.url
        self._thread: threading.Thread | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests, dropped connections) is expected here.
        log.debug("%s: client %s went away", self.app.name, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.serve_forever, name=f"{self.app.name}-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def serve_in_thread(app: App, port: int = 0) -> SandboxServer:
    """Start ``app`` on a free loopback port (or ``port``) and return the running server."""
    return SandboxServer(app, port=port).start()
