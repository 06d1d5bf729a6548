"""``cobot-sevdesk prune-history``: delete history entries and finished backfills older
than HISTORY_RETENTION_DAYS. Ledger items are kept (docs/DECISIONS.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils import timezone

from cobot_sevdesk.ledger.models import Backfill, LedgerEvent
from cobot_sevdesk.management import base


class Command(base.Command):
    help = "delete history entries older than HISTORY_RETENTION_DAYS"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="instead of HISTORY_RETENTION_DAYS"
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        if days is None:
            days = settings.HISTORY_RETENTION_DAYS
        cutoff = timezone.now() - dt.timedelta(days=days)
        events = LedgerEvent.prune(cutoff)
        backfills = Backfill.prune(cutoff)
        self.stdout.write(
            f"Deleted {events} history entries and {backfills} finished backfills "
            f"older than {days} days."
        )
