"""``cobot-sevdesk retry SPACE [ITEM]``: what the dashboard's retry buttons do."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from cobot_sevdesk.management import base
from cobot_sevdesk.runtime import tasks


class Command(base.SpaceCommand):
    help = "retry a failed item, or all failed items of a space"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("item", nargs="?", type=int, help="item id (default: all failed items)")

    def handle(self, *args: Any, subdomain: str, item: int | None, **options: Any) -> None:
        space = self.space(subdomain)
        if item:
            one = space.items.filter(pk=item).first()
            if one is None:
                raise CommandError(f"No item {item} in {space.subdomain}.")
            count = int(one.retry())
            if not count:
                self.stdout.write(
                    f"Item {one.pk} is {one.state}; only failed or skipped items can be retried."
                )
        else:
            count = space.items.retry_failed()
        if count:
            tasks.wake_space(space.pk)
        self.stdout.write(f"{count} item(s) queued again.")
