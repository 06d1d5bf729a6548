"""Test settings: the product's settings, fed a fixed key and a scratch data directory."""

import os
import tempfile
from pathlib import Path

_scratch = Path(tempfile.mkdtemp(prefix="cobot-sevdesk-test-"))
os.environ.setdefault("DATA_DIR", str(_scratch))
os.environ.setdefault("FERNET_KEYS", "VmpcVYZyL203ygPOfFcouN3TO9qZveDvvNuefPPjWEM=")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("HUEY_URL", f"sqlite:///{_scratch / 'huey.sqlite3'}")
# The Cobot throttle has its own tests; elsewhere it would only make tests wait.
os.environ.setdefault("COBOT_REQUESTS_PER_MINUTE", "100000")
# Worker processes started by tests open the test database by file name.
os.environ.setdefault("TEST_SQLITE_NAME", str(_scratch / "test.sqlite3"))

from cobot_sevdesk.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The live server answers each request in a new thread; a persistent connection would
# outlive its thread and keep PostgreSQL from dropping the test database at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
