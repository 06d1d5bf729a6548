"""``cobot-sevdesk backfill SPACE --from DATE --to DATE``: sync the existing invoices
(and optionally members) of a date range, with a progress bar. A running worker does
the work, or this process with ``--inline``."""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from cobot_sevdesk.ledger.models import Backfill, Space
from cobot_sevdesk.management import base
from cobot_sevdesk.runtime import tasks, worker


class Command(base.SpaceCommand):
    help = "sync the existing invoices of a date range"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--from", dest="start", help="first invoice date, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="last invoice date, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="only show what would be added")
        parser.add_argument(
            "--members", action="store_true", help="also members confirmed in the range"
        )
        parser.add_argument("--resume", type=int, metavar="ID", help="resume a stopped backfill")
        parser.add_argument(
            "--inline", action="store_true", help="do the work in this process (no worker needed)"
        )
        parser.add_argument("--no-wait", action="store_true", help="queue it and return")

    def handle(self, *args: Any, subdomain: str, **options: Any) -> None:
        if not options["resume"] and not (options["start"] and options["end"]):
            raise CommandError("backfill needs --from and --to (or --resume ID)", returncode=2)
        space = self.space(subdomain)
        if options["resume"]:
            job = self.resumed(space, options["resume"])
        else:
            job = self.new(space, options)
        self.stdout.write(
            f"Backfill #{job.pk} for {space.subdomain}: {job.start_date} to {job.end_date}"
            f"{' (dry run)' if job.dry_run else ''}"
        )
        if options["inline"]:
            self.work_inline(job)
        else:
            tasks.wake_space(space.pk)
            if options["no_wait"]:
                self.stdout.write("Queued; a running `cobot-sevdesk worker` does the work.")
                return
            self.wait_for_worker(job)
        self.stdout.write("")
        if job.dry_run:
            self.show_preview(job)
        if job.state != Backfill.State.DONE:
            sys.exit(1)

    def new(self, space: Space, options: dict[str, Any]) -> Backfill:
        try:
            start = dt.date.fromisoformat(options["start"])
            end = dt.date.fromisoformat(options["end"])
        except ValueError:
            raise CommandError("--from and --to must be dates as YYYY-MM-DD.") from None
        if end < start:
            raise CommandError("--to must not be before --from")
        return Backfill.objects.create(
            space=space,
            start_date=start,
            end_date=end,
            dry_run=options["dry_run"],
            include_members=options["members"],
        )

    def resumed(self, space: Space, pk: int) -> Backfill:
        job = Backfill.objects.filter(pk=pk, space=space).first()
        if job is None:
            raise CommandError(f"No backfill #{pk} in {space.subdomain}.")
        job.resume()
        return job

    def work_inline(self, job: Backfill) -> None:
        while True:
            result = worker.drain_space(job.space_id)
            job.refresh_from_db()
            self.show_progress(job)
            if job.state not in Backfill.ACTIVE and not result.more:
                return
            if not result.acquired:
                time.sleep(1)

    def wait_for_worker(self, job: Backfill) -> None:
        while True:
            job.refresh_from_db()
            self.show_progress(job)
            if job.state not in Backfill.ACTIVE and (
                job.dry_run or job.progress()["synced"] >= job.added
            ):
                return
            time.sleep(1)

    def show_progress(self, job: Backfill) -> None:
        p = job.progress()
        listed = p["pages_done"] / p["total_pages"] if p["total_pages"] else 0.0
        synced = p["synced"] / job.added if job.added else (1.0 if job.state == "done" else 0.0)
        line = (
            f"\rlisted {bar(listed, 15)} {p['pages_done']}/{p['total_pages'] or '?'} pages, "
            f"{job.added} new"
            + ("" if job.dry_run else f"  synced {bar(synced, 15)} {p['synced']}/{job.added}")
        )
        self.stdout.write(line, ending="")
        self.stdout.flush()

    def show_preview(self, job: Backfill) -> None:
        self.stdout.write(f"Would add {job.added} invoices ({job.already_known} already known):")
        for row in job.preview[:50]:
            amount = f"{row['total']:>12} {row['currency']}"
            self.stdout.write(f"  {row['date']}  {row['number']:<20} {amount}  {row['recipient']}")
        if job.added > 50:
            self.stdout.write(f"  ... and {job.added - 50} more")


def bar(fraction: float, width: int = 30) -> str:
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"
