"""The control API: a revoked token is refused until it is restored."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.sandbox.control import Sandboxes
from tests.sandbox.sevdesk.payloads import TOKEN


def test_revoked_token_gets_401(api: Any, sandboxes: Sandboxes) -> None:
    sandboxes.sevdesk.revoke(TOKEN)
    assert api("GET", "/Tools/bookkeepingSystemVersion").status_code == 401
    sandboxes.sevdesk.restore(TOKEN)
    assert api("GET", "/Tools/bookkeepingSystemVersion").status_code == 200
