"""``cobot-sevdesk resume SPACE``: end a pause, whatever its reason, and queue a turn."""

from __future__ import annotations

from typing import Any

from cobot_sevdesk.management import base
from cobot_sevdesk.runtime import tasks


class Command(base.SpaceCommand):
    help = "resume a paused space"

    def handle(self, *args: Any, subdomain: str, **options: Any) -> None:
        space = self.space(subdomain)
        space.resume()
        tasks.wake_space(space.pk)
        self.stdout.write(f"{space.subdomain} resumed.")
