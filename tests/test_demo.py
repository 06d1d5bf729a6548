"""The README's run command: the demo comes up, its members and invoices reach the
sandbox sevDesk in the expected states, and Ctrl-C stops everything it started."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cobot_sevdesk.sandbox.demo import SEVDESK_TOKENS
from tests.processes import wait_until

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_syncs_its_story_and_stops_cleanly(tmp_path: Path) -> None:
    web, cobot, sevdesk = free_port(), free_port(), free_port()
    out = (tmp_path / "demo.out").open("wb")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cobot_sevdesk",
            "demo",
            "--port",
            str(web),
            "--cobot-port",
            str(cobot),
            "--sevdesk-port",
            str(sevdesk),
            "--data-dir",
            str(tmp_path / "demo"),
            "--pace",
            "0.2",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: "Ctrl-C stops everything" in (tmp_path / "demo.out").read_text(),
            timeout=90,
            message="demo ready",
        )
        assert requests.get(f"http://127.0.0.1:{web}/healthz", timeout=5).json()["status"] == "ok"
        account = f"http://127.0.0.1:{sevdesk}/_sandbox/accounts/{SEVDESK_TOKENS['co-up']}"

        def state() -> dict[str, list[dict[str, object]]]:
            result: dict[str, list[dict[str, object]]] = requests.get(account, timeout=5).json()
            return result

        wait_until(
            lambda: len(state()["vouchers"]) == 4 and len(state()["contacts"]) == 4,
            timeout=90,
            message="members and invoices in sevDesk",
        )
        vouchers = state()["vouchers"]
        tags = sorted(str(v["tags"]) for v in vouchers)
        # Every receipt is tagged "Import"; the walk-in guest's also "Mismatch".
        assert tags == ["['Import']"] * 3 + ["['Mismatch', 'Import']"]
        assert all(v["documentHash"] for v in vouchers)  # PDFs attached
        activities = requests.get(
            f"http://127.0.0.1:{cobot}/_sandbox/spaces/co-up", timeout=5
        ).json()["activities"]
        wait_until(
            lambda: any(
                "Events" in a["attributes"]["text"] and a["level"] == "ERROR"
                for a in requests.get(
                    f"http://127.0.0.1:{cobot}/_sandbox/spaces/co-up", timeout=5
                ).json()["activities"]
            ),
            timeout=30,
            message="the missing-account activity",
        )
        assert sum("customer number" in a["attributes"]["text"] for a in activities) >= 4
        # One invoice paid each way: Jane's by card in Cobot, booked on the clearing
        # account in sevDesk; Max's by bank transfer booked in sevDesk, recorded in Cobot.
        cobot_space = f"http://127.0.0.1:{cobot}/_sandbox/spaces/co-up"

        def paid_in_cobot() -> list[str]:
            invoices = requests.get(cobot_space, timeout=5).json()["invoices"]
            return [
                i["attributes"]["number"]
                for i in invoices
                if i["attributes"]["paidStatus"] == "paid"
            ]

        def paid_in_sevdesk() -> dict[str, dict[str, object]]:
            return {str(v["description"]): v for v in state()["vouchers"] if v["status"] == "1000"}

        wait_until(
            lambda: len(paid_in_sevdesk()) == 2 and len(paid_in_cobot()) == 2,
            timeout=90,
            message="one invoice paid each way",
        )
        accounts = {a["id"]: a for a in state()["checkAccounts"]}  # type: ignore[index]
        booked = {n: v["payments"][0] for n, v in paid_in_sevdesk().items()}  # type: ignore[index]
        jane, max_ = sorted(booked)
        assert accounts[str(booked[jane]["checkAccount"])]["name"] == "Cobot payments"
        assert accounts[str(booked[max_]["checkAccount"])]["type"] == "online"
        assert sorted(paid_in_cobot()) == [jane, max_]
        # The landing page offers the login.
        assert "Log in with Cobot" in requests.get(f"http://127.0.0.1:{web}/", timeout=5).text
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            code = demo.wait(45)
        finally:
            if demo.poll() is None:
                demo.kill()
            out.close()
    assert code == 0
    time.sleep(0.5)
    for port in (web, cobot, sevdesk):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
