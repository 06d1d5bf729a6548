"""Fault injection of the sandboxes' server (shown on the Cobot sandbox): a status a
number of times, a delay, a connection dropped after the write is committed."""

from __future__ import annotations

import time

import pytest
import requests

from cobot_sevdesk.sandbox.control import Sandboxes


def test_fault_status_applies_n_times_then_clears(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    c.fault("/api/user", status=502, times=2)
    codes = [requests.get(f"{c.base_url}/api/user", timeout=5).status_code for _ in range(3)]
    assert codes == [502, 502, 401]


def test_fault_delay_slows_the_answer(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    c.fault("/api/user", delay=0.3)
    started = time.monotonic()
    requests.get(f"{c.base_url}/api/user", timeout=5)
    assert time.monotonic() - started >= 0.3


def test_fault_drop_after_commits_then_breaks_the_connection(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    admin = c.add_user("a@example.org")
    c.add_space("co-up", "co.up", [admin["id"]])
    token = c.add_token(admin["id"])
    c.fault("/activities", method="POST", drop="after")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{c.base_url}/space/co-up/api/activities",
            json={"text": "hi"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    assert [a["attributes"]["text"] for a in c.space("co-up")["activities"]] == ["hi"]
