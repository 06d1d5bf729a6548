"""Worker processes for tests: the real ``cobot-sevdesk worker`` command, pointed at
the test database, the test queue and the sandboxes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

from cobot_sevdesk.sandbox.control import Sandboxes


def database_url() -> str:
    """The test database, as a URL another process can open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(boxes: Sandboxes, **overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        **boxes.environment(),
        "DJANGO_SETTINGS_MODULE": "cobot_sevdesk.settings",
        "DATABASE_URL": database_url(),
        "HUEY_URL": settings.HUEY_URL,
        "FERNET_KEYS": ",".join(settings.FERNET_KEYS),
        "SECRET_KEY": settings.SECRET_KEY,
        "DATA_DIR": str(settings.DATA_DIR),
        "PUBLIC_URL": settings.PUBLIC_URL,
        "SYNC_LEASE_SECONDS": "2",
        "SWEEP_INTERVAL": "0.5",
        "SYNC_BACKOFF_BASE": "0.5",
        "COBOT_REQUESTS_PER_MINUTE": "100000",
        "LOG_LEVEL": "INFO",
        # The test's mode of reading invoices (the ``sync_mode`` fixture).
        "SYNC_PAGES": "true" if settings.SYNC_PAGES else "false",
        "SYNC_PAGE_MIN": str(settings.SYNC_PAGE_MIN),
    }
    env.update(overrides)
    return env


class Worker:
    def __init__(self, env: dict[str, str], log_path: Path, threads: int = 4) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cobot_sevdesk",
                "worker",
                "--threads",
                str(threads),
                "--poll",
                "0.2",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> int:
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def workers(
    boxes: Sandboxes, tmp_path: Path, count: int = 1, threads: int = 4, **env: str
) -> Iterator[list[Worker]]:
    settings.HUEY.flush()
    started = [
        Worker(worker_env(boxes, **env), tmp_path / f"worker-{n}.log", threads)
        for n in range(count)
    ]
    try:
        yield started
    finally:
        for w in started:
            if w.process.poll() is None:
                with suppress(subprocess.TimeoutExpired):
                    w.stop(timeout=20)
        connection.close()


def wait_until(
    predicate: Callable[[], bool],
    timeout: float = 30.0,
    interval: float = 0.1,
    message: str = "condition",
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout} s")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The real ``cobot-sevdesk serve`` (gunicorn) on a free loopback port."""

    def __init__(
        self, env: dict[str, str], log_path: Path, args: Sequence[str] = (), port: int = 0
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cobot_sevdesk.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--threads",
                "4",
                *args,
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> Server:
        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.output()}")
            try:
                requests.get(f"{self.url}/healthz", timeout=1)
            except requests.RequestException:
                return False
            return True

        wait_until(up, timeout=timeout, interval=0.2, message="gunicorn up")
        return self

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
        return int(self.process.returncode)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def server(
    boxes: Sandboxes, tmp_path: Path, args: Sequence[str] = (), port: int = 0, **env: str
) -> Iterator[Server]:
    """``serve`` on the test database (``--no-migrate``: the tests migrated it)."""
    started = Server(
        worker_env(boxes, **env),
        tmp_path / f"serve-{time.monotonic_ns()}.log",
        ["--no-migrate", *args],
        port,
    )
    try:
        yield started.wait_ready()
    finally:
        started.stop()
        connection.close()
