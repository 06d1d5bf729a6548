"""A benchmark environment: sandboxes in this process, the web app and workers as child
processes, spaces connected through the database like an admin would connect them."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from cobot_sevdesk.crypto import generate_key
from cobot_sevdesk.sandbox.cobot import CobotSandbox
from cobot_sevdesk.sandbox.control import Sandboxes, invoice_line
from cobot_sevdesk.sandbox.server import SandboxServer
from cobot_sevdesk.sandbox.sevdesk import SevdeskSandbox

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: One database per run: two checkouts benchmarking at once do not drop each other's.
PG_NAME = f"cobot_sevdesk_bench_{os.getpid()}"
CUSTOMER = "K-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Space:
    subdomain: str
    sevdesk_token: str
    pk: int


@dataclass
class Env:
    database: str  # "sqlite" or "postgresql"
    data_dir: Path
    boxes: Sandboxes
    servers: list[SandboxServer]
    web_port: int
    variables: dict[str, str]
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    spaces: list[Space] = field(default_factory=list)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def spawn(self, args: list[str], name: str, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.data_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, *args],
            env={**os.environ, **self.variables, **extra},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.children.append(process)
        return process

    def start_web(self, workers: int = 2, threads: int = 8) -> subprocess.Popen[bytes]:
        process = self.spawn(
            [
                "-m",
                "gunicorn",
                "bench.wsgi:application",
                "-b",
                f"127.0.0.1:{self.web_port}",
                "-w",
                str(workers),
                "--threads",
                str(threads),
                "-k",
                "gthread",
                "--log-level",
                "warning",
                "--backlog",
                "2048",
            ],
            "web",
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.web_url}/healthz", timeout=2).status_code == 200:
                    return process
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("web app did not start; see " + str(self.data_dir / "web.log"))

    def start_workers(self, processes: int, threads: int) -> list[subprocess.Popen[bytes]]:
        return [
            self.spawn(
                ["-m", "cobot_sevdesk", "worker", "--threads", str(threads), "--poll", "0.1"],
                f"worker-{n}",
            )
            for n in range(processes)
        ]

    def stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
        self.children.clear()

    def add_space(self, name: str, before_connect: Callable[[str], object] | None = None) -> Space:
        """A Cobot space with an admin, accounting codes and a customer whose sevDesk
        contact exists; connected to a sevDesk account, webhooks subscribed.
        ``before_connect(subdomain)`` runs before the webhooks are subscribed: invoices
        it adds exist already when the space is connected (no webhook for them)."""
        from django.utils import timezone

        from cobot_sevdesk.ledger.models import Space as SpaceRow
        from cobot_sevdesk.sync.context import SpaceContext
        from cobot_sevdesk.sync.subscriptions import ensure_subscriptions

        cobot, sevdesk = self.boxes.cobot, self.boxes.sevdesk
        admin = cobot.add_user(f"admin@{name}.example", f"Admin {name}")
        state = cobot.add_space(name, name, [admin["id"]])
        cobot.add_accounting_code(name, "Desks")
        if before_connect is not None:
            before_connect(name)
        token = secrets.token_hex(16)
        sevdesk.add_account(token, booking_accounts=[{"name": "Desks", "like": "4400"}])
        sevdesk.add_contact(token, name=f"Customer of {name}", customerNumber=CUSTOMER)
        row = SpaceRow(
            subdomain=name,
            name=name,
            cobot_space_id=state["api1_id"],
            api2_id=state["api2_id"],
            language="en",
            connected_at=timezone.now(),
            sevdesk_token_ok=True,
            cobot_token_ok=True,
            reconcile_due_at=timezone.now() + dt.timedelta(days=1),
        )
        row.cobot_token = cobot.add_token(admin["id"], space=name, client_id="bench")
        row.sevdesk_token = token
        row.save()
        ensure_subscriptions(SpaceContext(row))
        space = Space(name, token, row.pk)
        self.spaces.append(space)
        return space

    def invoice(self, space: str, **fields: Any) -> dict[str, Any]:
        return self.boxes.cobot.add_invoice(
            space,
            [invoice_line("Desk", "100.00", "19", "Desks")],
            customer_number=CUSTOMER,
            recipient={"name": "Customer", "company": None, "countryCode": "DE"},
            **fields,
        )


def _database_url(kind: str, data_dir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{data_dir / 'bench.sqlite3'}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_NAME}")
    return f"postgresql://postgres@127.0.0.1:5432/{PG_NAME}"


@contextmanager
def environment(
    database: str = "sqlite",
    *,
    sandbox_delay: float = 0.0,
    cobot_rate_limit: int | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[Env]:
    """Everything running, on a fresh database; torn down afterwards. Call it once per
    process: Django reads the environment once."""
    data_dir = Path(tempfile.mkdtemp(prefix="cobot-sevdesk-bench-"))
    cobot = SandboxServer(CobotSandbox()).start()
    sevdesk = SandboxServer(SevdeskSandbox()).start()
    boxes = Sandboxes.at(cobot.url, sevdesk.url)
    web_port = free_port()
    variables = {
        **boxes.environment(),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": _database_url(database, data_dir),
        "HUEY_URL": f"sqlite:///{data_dir / 'huey.sqlite3'}",
        "FERNET_KEYS": generate_key(),
        "SECRET_KEY": generate_key() * 2,
        "PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "PROMETHEUS_MULTIPROC_DIR": str(data_dir),
        "SWEEP_INTERVAL": "2",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **(settings or {}),
    }
    os.environ.update(variables)  # one environment per process: set before Django starts
    import django
    from django.conf import settings as django_settings
    from django.core.management import call_command
    from django.db import connections

    django.setup()
    from cobot_sevdesk.queue import ensure_queue_schema

    call_command("migrate", verbosity=0)
    ensure_queue_schema(django_settings.HUEY)
    boxes.cobot.configure_webhooks(retry_delays=[1, 2, 5])
    if sandbox_delay:
        boxes.cobot.set_delay(sandbox_delay)
        boxes.sevdesk.set_delay(sandbox_delay)
    if cobot_rate_limit:
        boxes.cobot.rate_limit(cobot_rate_limit)
    env = Env(database, data_dir, boxes, [cobot, sevdesk], web_port, variables)
    try:
        yield env
    finally:
        env.stop_children()
        cobot.stop()
        sevdesk.stop()
        connections.close_all()
        shutil.rmtree(data_dir, ignore_errors=True)
        if database == "postgresql":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
