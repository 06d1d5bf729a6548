"""``cobot-sevdesk books-check SPACE [--month YYYY-MM | --from DATE --to DATE]``:
Cobot's invoices of a period against the receipts in sevDesk, per tax rate, and every
difference with its cause. Exit code 0 when the books match, 1 when anything
differs, 2 when the check could not be made. Runs in this process (no worker needed);
the result is also shown on the space's "Books check" page."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from cobot_sevdesk.ledger.models import BooksCheck, Space
from cobot_sevdesk.management import base
from cobot_sevdesk.runtime.throttle import CobotThrottle
from cobot_sevdesk.sync import books
from cobot_sevdesk.sync.context import SpaceContext
from cobot_sevdesk.sync.rules.books_report import (
    DELTA_FIELDS,
    SUM_FIELDS,
    SUM_HEADERS,
    BooksReport,
)


class Command(base.SpaceCommand):
    help = "compare a month's invoices in Cobot with the receipts in sevDesk"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--month", help="the month, YYYY-MM (default: the previous month)")
        parser.add_argument("--from", dest="start", help="first invoice date, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last invoice date, YYYY-MM-DD")

    def handle(self, *args: Any, subdomain: str, **options: Any) -> None:
        space = self.space(subdomain)
        period = self.period(options)
        check = BooksCheck.request(
            space, period.start, period.end, trigger=BooksCheck.Trigger.COMMAND, by="command line"
        )
        # The space's stored request budget for Cobot is respected (not saved back:
        # the worker holding the space's lease keeps its own).
        throttle = CobotThrottle.for_space(space, settings.COBOT_REQUESTS_PER_MINUTE)
        report = books.run(SpaceContext(space, cobot_throttle=throttle), check)
        if report is None:
            check.refresh_from_db()
            raise CommandError(f"The check could not be made: {check.error}", returncode=2)
        self.show(space, report)
        if not report.matches:
            sys.exit(1)

    def period(self, options: dict[str, Any]) -> books.Period:
        try:
            if options["start"] or options["end"]:
                if not (options["start"] and options["end"]):
                    raise CommandError("--from and --to go together.", returncode=2)
                period = books.Period(
                    dt.date.fromisoformat(options["start"]), dt.date.fromisoformat(options["end"])
                )
                if period.end < period.start:
                    raise CommandError("--to must not be before --from.", returncode=2)
                return period
            if options["month"]:
                return books.month(options["month"])
        except ValueError:
            raise CommandError(
                "--month is YYYY-MM, --from and --to are YYYY-MM-DD.", returncode=2
            ) from None
        return books.previous_month(timezone.localdate())

    def show(self, space: Space, report: BooksReport) -> None:
        write = self.stdout.write
        write(f"Books check of {space.subdomain}: {report.start} to {report.end}")
        headers = [str(SUM_HEADERS[f]) for f in SUM_FIELDS]
        width = 12
        sums = "".join(f"{h:>{width}}" for h in headers)
        # "Difference (gross)" as "Diff. gross", to fit the column.
        deltas = "".join(f"{'Diff. ' + f:>{width}}" for f in DELTA_FIELDS)
        write("")
        write(f"{'':14}{'Cobot':>{width * len(headers)}}{'sevDesk':>{width * len(headers)}}")
        write(f"{'Currency':<9}{'Rate':<5}{sums}{sums}{deltas}")
        for row in report.rows:
            rate = f"{row.rate} %" if row.rate is not None else "all"
            cells = [_cell(row.cobot.value(f)) for f in SUM_FIELDS]
            cells += [_cell(row.sevdesk.value(f)) for f in SUM_FIELDS]
            cells += [_cell(row.delta(f)) for f in DELTA_FIELDS]
            mark = " <" if row.differs else ""
            line = f"{row.currency:<9}{rate:<5}" + "".join(f"{c:>{width}}" for c in cells)
            write(line.rstrip() + mark)
        write("")
        if report.matches:
            write("The books match.")
        else:
            write(f"{len(report.differences)} difference(s):")
        for difference in report.differences:
            write(f"  {difference.number or '-':<16} {difference.code:<16} {difference.cause}")
            for detail in difference.details:
                write(f"  {'':<16} {'':<16} {detail}")
        for note in report.notes:
            write(f"  note: {note.number}: {note.cause}")
        if report.other_receipts:
            write(
                f"{report.other_receipts} other receipt(s) of the period did not come from Cobot."
            )
        write("Calls: " + ", ".join(f"{k} {v}" for k, v in sorted(report.calls.items())))


def _cell(value: int | Decimal | None) -> str:
    """A sum; empty where it is not compared (paid in a rate's row)."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:,.2f}"
