"""The job queue: Huey on the embedded default (SQLite) or on PostgreSQL or Redis.

The queue only wakes workers; the ledger in the app database is the source of truth,
so losing the queue loses nothing (the periodic sweep re-enqueues due work).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, SqliteHuey

QUEUE_NAME = "cobot-sevdesk"


def build_huey(url: str, *, immediate: bool = False) -> Huey:
    """A Huey instance for ``HUEY_URL``: ``sqlite:///path``, ``postgresql://...``,
    ``redis://...`` or ``memory://``.

    Tables are not created here: importing settings must not touch a database.
    ``ensure_queue_schema`` does that when a process that needs the queue starts.
    """
    scheme = urlsplit(url).scheme
    common = {"results": False, "utc": True, "immediate": immediate}
    if scheme == "sqlite":
        path = url.removeprefix("sqlite://")
        path = path[1:] if path.startswith("//") else path
        return SqliteHuey(QUEUE_NAME, filename=path, create_tables=False, timeout=30, **common)
    if scheme in ("postgres", "postgresql"):
        return PostgresHuey(QUEUE_NAME, dsn=url, create_tables=False, **common)
    if scheme in ("redis", "rediss"):
        return RedisHuey(QUEUE_NAME, url=url, **common)
    if scheme == "memory":
        return MemoryHuey(QUEUE_NAME, **common)
    raise ValueError(
        f"HUEY_URL must start with sqlite://, postgresql://, redis:// or memory://, not {url!r}"
    )


def ensure_queue_schema(huey: Huey) -> None:
    """Create the queue's tables if its storage has any (SQLite, PostgreSQL)."""
    storage = huey.storage
    filename = getattr(storage, "filename", None)
    if filename:
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
    initialize = getattr(storage, "initialize_schema", None)
    if initialize is not None:
        initialize()
