"""What both sandbox control clients share: calls to ``/_sandbox/...``, faults, the
request log."""

from __future__ import annotations

from typing import Any

import requests


class Control:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False

    def call(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        response = self.http.request(
            method, self.base_url + path, json=json, params=params, timeout=30
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"sandbox {method} {path} -> {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def reset(self) -> None:
        self.call("POST", "/_sandbox/reset")

    def fault(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        times: int | None = 1,
        retry_after: str | None = None,
        drop: str | None = None,
        delay: float = 0.0,
        body: Any = None,
    ) -> None:
        """Inject a misbehaviour for requests whose path matches the regex ``path``."""
        spec: dict[str, Any] = {"path": path, "times": times, "delay": delay}
        for key, value in (
            ("method", method),
            ("status", status),
            ("retry_after", retry_after),
            ("drop", drop),
            ("body", body),
        ):
            if value is not None:
                spec[key] = value
        self.call("POST", "/_sandbox/faults", spec)

    def faults(self) -> list[dict[str, Any]]:
        """Injected faults not yet used up: one that is gone has been hit."""
        result: list[dict[str, Any]] = self.call("GET", "/_sandbox/faults")
        return result

    def clear_faults(self) -> None:
        self.call("DELETE", "/_sandbox/faults")

    def set_delay(self, seconds: float) -> None:
        """Add ``seconds`` of latency to every API request."""
        self.call("PUT", "/_sandbox/delay", {"seconds": seconds})

    def requests(self, method: str | None = None, path: str = "") -> list[dict[str, Any]]:
        params: dict[str, Any] = {"path": path}
        if method:
            params["method"] = method
        result: list[dict[str, Any]] = self.call("GET", "/_sandbox/requests", params=params)
        return result

    def clear_requests(self) -> None:
        self.call("DELETE", "/_sandbox/requests")
