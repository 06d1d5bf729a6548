"""The Cobot sandbox's shared state: the rate limit counts per token, and a reset
forgets everything."""

from __future__ import annotations

import requests

from cobot_sevdesk.sandbox.control import Sandboxes


def test_rate_limit_is_per_token(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    admin = c.add_user("a@example.org")
    first, second = c.add_token(admin["id"]), c.add_token(admin["id"])
    c.rate_limit(2)
    url = f"{c.base_url}/api/user"
    statuses = [
        requests.get(url, headers={"Authorization": f"Bearer {first}"}, timeout=5).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {second}"}, timeout=5).status_code
        == 200
    )


def test_reset_forgets_everything(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    c.add_user("a@example.org")
    c.fault("/api/user", status=500, times=None)
    c.reset()
    assert requests.get(f"{c.base_url}/api/user", timeout=5).status_code == 401
