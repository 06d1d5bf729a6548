"""``cobot-sevdesk pause SPACE``: an operator stops a space; it stays paused until
``resume`` (never resumed automatically)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.management import base


class Command(base.SpaceCommand):
    help = "stop sending a space's data to sevDesk"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--reason", default="", help="shown to the space's admins")

    def handle(self, *args: Any, subdomain: str, reason: str, **options: Any) -> None:
        space = self.space(subdomain)
        space.pause(Space.PauseReason.MANUAL, reason or "Paused by an operator.")
        self.stdout.write(
            f"{space.subdomain} paused: nothing is sent to sevDesk; webhooks are still recorded."
        )
