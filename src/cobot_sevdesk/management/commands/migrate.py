"""``cobot-sevdesk migrate``: Django's ``migrate``, and then the queue's tables.

It replaces Django's command of the same name (docs/DECISIONS.md), so whatever runs
migrations (this command, ``serve`` at start-up, the test database set-up) also
readies the queue. Django's options all work; ``--plan`` and ``--check`` only look.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate

from cobot_sevdesk.queue import ensure_queue_schema


class Command(migrate.Command):
    help = "apply database migrations and create the queue's tables"

    def handle(self, *args: Any, **options: Any) -> None:
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default's files
        super().handle(*args, **options)
        if options["plan"] or options["check_unapplied"]:
            return
        ensure_queue_schema(settings.HUEY)
        if options["verbosity"] >= 1:
            self.stdout.write("Database and queue are up to date.")
