"""``cobot-sevdesk skip SPACE ITEM``: what the item page's skip button does, for an
operator: the item is not sent, and holds nothing up any more."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import CommandError, CommandParser

from cobot_sevdesk.management import base


class Command(base.SpaceCommand):
    help = "skip an item: it is not sent to sevDesk (the history says who and why)"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("item", type=int, help="item id (on the dashboard's item page)")
        parser.add_argument("--reason", default="", help="why, for the item's history")

    def handle(self, *args: Any, subdomain: str, item: int, reason: str, **options: Any) -> None:
        space = self.space(subdomain)
        one = space.items.filter(pk=item).first()
        if one is None:
            raise CommandError(f"No item {item} in {space.subdomain}.")
        if not one.skip(f"operator {getpass.getuser()}", reason):
            raise CommandError(
                f"Item {one.pk} is {one.state}: only pending, waiting, unknown or failed "
                "items can be skipped."
            )
        self.stdout.write(f"Item {one.pk} ({one.label or one.cobot_id}) skipped.")
