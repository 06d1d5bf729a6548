"""``cobot-sevdesk rotate-keys``: re-encrypt every stored secret with the first key in
FERNET_KEYS (the rotation steps are in the README, "Operator safety")."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.management import base


class Command(base.Command):
    help = "re-encrypt stored secrets with the newest FERNET_KEYS key"

    def handle(self, *args: Any, **options: Any) -> None:
        count = sum(space.reencrypt() for space in Space.objects.all())
        self.stdout.write(
            f"Re-encrypted {count} secret(s) with the newest key. Sessions hold users' Cobot "
            "tokens for up to 12 hours: keep the old key that long, then remove it from "
            "FERNET_KEYS."
        )
