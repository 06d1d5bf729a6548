"""``cobot-sevdesk generate-key``: a new key for FERNET_KEYS, on stdout alone (so
``FERNET_KEYS=$(cobot-sevdesk generate-key)`` works)."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.crypto import generate_key
from cobot_sevdesk.management import base


class Command(base.Command):
    help = "print a new encryption key for FERNET_KEYS"

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(generate_key())
