"""What the ``cobot-sevdesk`` commands share."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cobot_sevdesk.ledger.models import Space


class Command(BaseCommand):
    #: Django's system checks run in ``cobot-sevdesk check``, not before every command:
    #: a worker or an operator's ``pause`` should not wait for (or fail on) them.
    requires_system_checks: list[str] = []


class SpaceCommand(Command):
    """A command about one connected space, named by its Cobot subdomain."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subdomain", help="the space's Cobot subdomain")

    def space(self, subdomain: str) -> Space:
        try:
            return Space.objects.get(subdomain=subdomain)
        except Space.DoesNotExist:
            raise CommandError(f"No connected space with the subdomain {subdomain!r}.") from None
