"""Files we keep on disk are their owner's only.

``DATA_DIR`` holds the SQLite databases (tokens, encrypted, and everything synced),
the queue's SQLite file (Huey unpickles what it reads there: whoever can write it can
run code in the worker) and the Prometheus files of ``serve`` and ``worker``. So every
process of the product creates files with umask 077 (files 0600, directories 0700),
and at start tightens what already exists there (from an older version, or created
before the settings were loaded) to the same. ``settings.py`` calls ``make_private``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

UMASK = 0o077
#: SQLite keeps a database in up to four files.
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_private(data_dir: Path, sqlite_files: Iterable[Path] = ()) -> None:
    os.umask(UMASK)
    candidates: list[Path] = [data_dir, data_dir / "prometheus"]
    for database in sqlite_files:
        candidates += [database.with_name(database.name + s) for s in SQLITE_SUFFIXES]
    metrics = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if metrics:
        candidates.append(Path(metrics))
    for path in candidates:
        _tighten(path)
        if path.is_dir() and path != data_dir:
            for child in path.iterdir():
                _tighten(child)
    if data_dir.is_dir():
        for child in data_dir.iterdir():
            if child.is_file():
                _tighten(child)


def _tighten(path: Path) -> None:
    """Take group and other rights off ``path`` if it exists and is ours."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
            return
        if info.st_mode & 0o077:
            path.chmod(stat.S_IMODE(info.st_mode) & 0o700)
    except OSError:
        return
