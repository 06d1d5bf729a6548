"""Files under DATA_DIR (the SQLite databases, the queue file, the Prometheus files)
are their owner's only: created so by the real processes, and tightened at start
when an older version left them readable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.processes import Server, wait_until

KEY = "VmpcVYZyL203ygPOfFcouN3TO9qZveDvvNuefPPjWEM="


def product_env(data_dir: Path) -> dict[str, str]:
    """The embedded defaults: every file in DATA_DIR."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "HUEY_URL", "PROMETHEUS_MULTIPROC_DIR", "TEST_SQLITE_NAME")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="cobot_sevdesk.settings", DATA_DIR=str(data_dir), FERNET_KEYS=KEY
    )
    return env


def loose(data_dir: Path) -> list[str]:
    paths = [data_dir, *data_dir.rglob("*")]
    return [f"{p} {stat.filemode(p.stat().st_mode)}" for p in paths if p.stat().st_mode & 0o077]


@pytest.mark.slow
def test_serve_and_worker_keep_every_file_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # What an older version left behind: a world-readable directory and queue file.
    data.mkdir()
    data.chmod(0o755)
    (data / "huey.sqlite3").write_bytes(b"")
    (data / "huey.sqlite3").chmod(0o644)
    (data / "prometheus").mkdir()
    (data / "prometheus").chmod(0o755)
    env = product_env(data)
    web = Server(env, tmp_path / "serve.log").wait_ready()
    try:
        # Metrics files appear on the first counted webhook.
        assert requests.post(f"{web.url}/hooks/nope/created_invoice/", timeout=5).status_code == 404
        worker = subprocess.Popen(
            [sys.executable, "-m", "cobot_sevdesk.cli", "worker", "--threads", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: (
                    (data / "cobot-sevdesk.sqlite3-wal").exists()
                    and any((data / "prometheus").iterdir())
                ),
                timeout=30,
                message="database and metrics files",
            )
        finally:
            worker.terminate()
            worker.wait(20)
    finally:
        web.stop()
    names = {p.name for p in data.rglob("*")}
    assert {"cobot-sevdesk.sqlite3", "huey.sqlite3", "prometheus"} <= names
    assert loose(data) == []
