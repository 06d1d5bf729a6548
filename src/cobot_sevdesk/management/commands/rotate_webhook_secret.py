"""``cobot-sevdesk rotate-webhook-secret SPACE``: a new webhook secret for a space, its
Cobot subscriptions moved to it (the old secret stops working at once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from cobot_sevdesk.management import base
from cobot_sevdesk.sync.subscriptions import rotate_webhook_secret


class Command(base.SpaceCommand):
    help = "give a space a new webhook secret and move its Cobot subscriptions to it"

    def handle(self, *args: Any, subdomain: str, **options: Any) -> None:
        rotation = rotate_webhook_secret(self.space(subdomain))
        if not rotation.ok:
            raise CommandError(rotation.summary())
        self.stdout.write(rotation.summary())
