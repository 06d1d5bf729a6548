"""The sevDesk sandbox's tests call its API with the token of one fresh account."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from cobot_sevdesk.sandbox.control import Sandboxes
from tests.sandbox.sevdesk.payloads import TOKEN


@pytest.fixture
def api(sandboxes: Sandboxes) -> Any:
    sandboxes.sevdesk.add_account(TOKEN, cost_centres=[{"number": "100", "name": "Coworking"}])
    base = sandboxes.sevdesk.base_url
    session = requests.Session()
    session.headers["Authorization"] = TOKEN

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return session.request(method, base + path, timeout=5, **kwargs)

    return call
