"""``cobot-sevdesk demo``: the whole product on one machine, against the sandboxes.

Starts both sandboxes (in this process), the web app and a worker (as child
processes, on the embedded SQLite default), seeds two Cobot spaces administered by
"Ada Admin", connects the first one to sevDesk, and then lets members and invoices
arrive one by one, so the visitor watches them sync: clean ones, one whose contact
does not match ("Mismatch"), and one whose accounting code has no sevDesk account;
then one invoice is paid in Cobot and one in sevDesk (``demo_payments``), and each
payment shows up on the other side. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from cobot_sevdesk.crypto import generate_key
from cobot_sevdesk.sandbox import demo_payments
from cobot_sevdesk.sandbox.cobot import CobotSandbox
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sandbox.server import SandboxServer
from cobot_sevdesk.sandbox.sevdesk import SevdeskSandbox

CLIENT_ID = "cobot-sevdesk-demo"
CLIENT_SECRET = "demo-client-secret"
#: sevDesk sandbox tokens of the two demo spaces; the second is for the visitor to paste.
SEVDESK_TOKENS = {
    "co-up": "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0",
    "hafen": "4afe4afe4afe4afe4afe4afe4afe4afe",
}
SPACES = {"co-up": "co.up Coworking Berlin", "hafen": "Hafenbüro Hamburg"}
CODES = ["Desks", "Meeting rooms", "Coffee & snacks", "Events"]
#: Booking accounts in sevDesk; "Events" is missing on purpose.
ACCOUNTS = [("Desks", "4400"), ("Meeting rooms", "4400"), ("Coffee & snacks", "4300")]
MEMBERS: list[dict[str, Any]] = [
    {
        "name": "Jane Doe",
        "email": "jane@example.org",
        "street": "Torstraße 1",
        "post_code": "10119",
        "city": "Berlin",
        "country": "Germany",
    },
    {
        "name": "Max Mustermann",
        "company": "Mustermann Design GmbH",
        "email": "max@mustermann.example",
        "billing_emails": ["buchhaltung@mustermann.example"],
        "street": "Kastanienallee 7",
        "post_code": "10435",
        "city": "Berlin",
        "country": "Deutschland",
    },
    {"name": "Amélie Laurent", "email": "amelie@example.fr", "city": "Paris", "country": "France"},
    {"name": "Kemal Yilmaz", "email": "kemal@example.org", "city": "Berlin"},
]


@dataclass
class DemoConfig:
    host: str = "127.0.0.1"
    web_port: int = 8000
    cobot_port: int = 8801
    sevdesk_port: int = 8802
    data_dir: Path = Path("var/demo")
    #: Seconds between two seeded events.
    pace: float = 1.5

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.web_port}"


def environment(config: DemoConfig, boxes: Sandboxes) -> dict[str, str]:
    data = config.data_dir.resolve()
    return {
        **boxes.environment(),
        "DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'cobot-sevdesk.sqlite3'}",
        "HUEY_URL": f"sqlite:///{data / 'huey.sqlite3'}",
        "FERNET_KEYS": generate_key(),
        "SECRET_KEY": generate_key() + generate_key(),
        "PUBLIC_URL": config.public_url,
        "COBOT_CLIENT_ID": CLIENT_ID,
        "COBOT_CLIENT_SECRET": CLIENT_SECRET,
        "SWEEP_INTERVAL": "2",
        "RECONCILE_INTERVAL": "120",
        # sevDesk has no webhooks: the demo looks for payments there every 5 s.
        "PAYMENT_CHECK_INTERVAL": "5",
        "SYNC_BACKOFF_BASE": "5",
        "PROMETHEUS_MULTIPROC_DIR": str(data / "prometheus"),
        "DJANGO_SETTINGS_MODULE": "cobot_sevdesk.settings",
    }


def seed_sandboxes(boxes: Sandboxes, config: DemoConfig) -> str:
    """Cobot: Ada administers two spaces with accounting codes. sevDesk: one account
    per space. Returns Ada's user id."""
    cobot, sevdesk = boxes.cobot, boxes.sevdesk
    ada = cobot.add_user("ada@example.org", "Ada Admin")
    cobot.add_client(CLIENT_ID, CLIENT_SECRET, [f"{config.public_url}/auth/callback/"])
    for subdomain, name in SPACES.items():
        cobot.add_space(subdomain, name, [ada["id"]])
        for code in CODES:
            cobot.add_accounting_code(subdomain, code)
        sevdesk.add_account(
            SEVDESK_TOKENS[subdomain],
            name=f"{name} GmbH",
            cost_centres=[{"number": "100", "name": "Coworking"}],
            booking_accounts=[{"name": n, "like": base} for n, base in ACCOUNTS],
        )
    return str(ada["id"])


def connect_first_space(boxes: Sandboxes, ada_id: str) -> None:
    """What an admin does in the settings form, done ahead for the first space."""
    from django.utils import timezone

    from cobot_sevdesk.ledger.models import Space
    from cobot_sevdesk.sync.context import SpaceContext
    from cobot_sevdesk.sync.subscriptions import ensure_subscriptions

    subdomain = "co-up"
    state = boxes.cobot.space(subdomain)
    space = Space(
        subdomain=subdomain,
        name=SPACES[subdomain],
        cobot_space_id=state["api1_id"],
        api2_id=state["api2_id"],
        language="en",
        cost_centre_number="100",
        due_days=14,
        sevdesk_token_ok=True,
        cobot_token_ok=True,
        connected_at=timezone.now(),
        reconcile_due_at=timezone.now() + dt.timedelta(minutes=2),
    )
    space.cobot_token = boxes.cobot.add_token(ada_id, space=subdomain, client_id=CLIENT_ID)
    space.sevdesk_token = SEVDESK_TOKENS[subdomain]
    space.save()
    ensure_subscriptions(SpaceContext(space))
    demo_payments.enable_payments(space, SEVDESK_TOKENS[subdomain])


def story(boxes: Sandboxes, pace: float, stop: threading.Event) -> None:
    """Members join and get invoiced, one event every ``pace`` seconds."""
    cobot = boxes.cobot
    members = []
    for spec in MEMBERS:
        if stop.wait(pace):
            return
        members.append(cobot.add_member("co-up", **spec))
    invoices: list[tuple[dict[str, Any], list[dict[str, str]]]] = [
        (
            {"membership_id": members[0]["id"]},
            [
                invoice_line("Flex desk, March", "150.00", "19", "Desks"),
                invoice_line("Coffee flat rate", "12.00", "7", "Coffee & snacks"),
            ],
        ),
        (
            {"membership_id": members[1]["id"]},
            [
                invoice_line("Fix desk, March", "290.00", "19", "Desks"),
                invoice_line("Meeting room (2 h)", "25.00", "19", "Meeting rooms", "2"),
            ],
        ),
        (
            {"membership_id": members[2]["id"]},
            [invoice_line("Day passes", "19.50", "19", "Desks", "3")],
        ),
        # A walk-in guest: no member, a customer number sevDesk does not know -> Mismatch.
        (
            {
                "customer_number": "G-17",
                "recipient": {
                    "name": "Walk-in guest",
                    "company": None,
                    "city": "Berlin",
                    "countryCode": "DE",
                },
            },
            [invoice_line("Meeting room (1 h)", "25.00", "19", "Meeting rooms")],
        ),
        # "Events" has no booking account in sevDesk -> not synced, explained.
        (
            {"membership_id": members[3]["id"]},
            [invoice_line("Workshop ticket", "80.00", "19", "Events")],
        ),
    ]
    made = []
    for fields, lines in invoices:
        if stop.wait(pace):
            return
        made.append(cobot.add_invoice("co-up", lines, **fields))
    # One invoice paid each way: Jane's in Cobot, Max's in sevDesk.
    demo_payments.pay_both_ways(boxes, SEVDESK_TOKENS["co-up"], made, pace, stop)


def _setup(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as handle:
        done = subprocess.run(  # noqa: S603 (our own command, fixed arguments)
            [sys.executable, "-m", "cobot_sevdesk", *args],
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode:
        raise RuntimeError(f"`cobot-sevdesk {' '.join(args)}` failed; see {log}")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
        [sys.executable, "-m", "cobot_sevdesk", *args],
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us; we stop them in order
    )


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the web app exited during start-up")
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the web app did not come up at {url}")


def run(config: DemoConfig, *, on_ready: Callable[[], None] | None = None) -> int:
    if config.data_dir.exists():
        shutil.rmtree(config.data_dir)  # sandboxes start empty, so the demo's data does too
    config.data_dir.mkdir(parents=True)
    (config.data_dir / "prometheus").mkdir()
    for port, option in (
        (config.web_port, "--port"),
        (config.cobot_port, "--cobot-port"),
        (config.sevdesk_port, "--sevdesk-port"),
    ):
        if not _port_free(config.host, port):
            print(
                f"Port {port} is in use (another demo?). Stop it or pick another with {option}.",
                file=sys.stderr,
            )
            return 2
    cobot = SandboxServer(CobotSandbox(), config.host, config.cobot_port).start()
    sevdesk = SandboxServer(SevdeskSandbox(), config.host, config.sevdesk_port).start()
    boxes = Sandboxes.at(cobot.url, sevdesk.url)
    env = environment(config, boxes)
    logs = config.data_dir
    # The product reads its settings from the environment when a process starts, and
    # this one's were loaded before the demo chose them: its database work runs in
    # child processes, like the web app and the worker.
    _setup(["migrate", "--verbosity", "0"], env, logs / "setup.log")
    ada_id = seed_sandboxes(boxes, config)
    _setup(["demo", "--connect-first-space", ada_id], env, logs / "setup.log")
    children = [
        _spawn(
            [
                "serve",
                "--no-migrate",
                "--host",
                config.host,
                "--port",
                str(config.web_port),
                "--workers",
                "1",
            ],
            env,
            logs / "web.log",
        ),
        _spawn(["worker", "--threads", "4", "--poll", "0.2"], env, logs / "worker.log"),
    ]
    stop = threading.Event()
    try:
        _wait_healthy(config.public_url, children[0])
        threading.Thread(target=story, args=(boxes, config.pace, stop), daemon=True).start()
        banner(config, boxes)
        if on_ready is not None:
            on_ready()
        stop_on_signals(stop)
        while not stop.wait(0.5):
            if any(child.poll() is not None for child in children):
                print("A child process stopped; see", logs, file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        print("\nStopping the demo...", flush=True)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
        cobot.stop()
        sevdesk.stop()
    return 0


def stop_on_signals(stop: threading.Event) -> None:
    """Ctrl-C and SIGTERM set ``stop``. SIGINT gets a handler of its own: a process
    started in the background of a script inherits SIGINT as ignored, and Python then
    raises no KeyboardInterrupt, so Ctrl-C (or a test's SIGINT) would do nothing."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


def banner(config: DemoConfig, boxes: Sandboxes) -> None:
    print(
        f"""
cobot-sevdesk demo is running.

  Open      {config.public_url}/
            "Log in with Cobot", then "Approve as Ada Admin" on the Cobot sandbox page.
            "{SPACES["co-up"]}" is connected already: watch members and invoices arrive,
            then Jane's invoice paid in Cobot and Max's paid in sevDesk.
            To connect "{SPACES["hafen"]}" yourself, paste this sevDesk API token:
            {SEVDESK_TOKENS["hafen"]}

  Add more  {boxes.cobot.base_url}/_sandbox/ui   (create a member or an invoice, see it sync)
  Sandboxes Cobot {boxes.cobot.base_url}  sevDesk {boxes.sevdesk.base_url}
  Logs      {config.data_dir}/web.log, {config.data_dir}/worker.log

Ctrl-C stops everything.
""",
        flush=True,
    )
