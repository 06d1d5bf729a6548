"""A backfill: the sync of existing invoices (and optionally members) of a date range.
Its state changes only through the methods here."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cobot_sevdesk.ledger.models.fields import MessageField
from cobot_sevdesk.ledger.models.items import LedgerItem
from cobot_sevdesk.ledger.models.space import Space
from cobot_sevdesk.messages import Text, as_message


class Backfill(models.Model):
    """Sync of existing invoices (and optionally members) of a date range; resumable."""

    class State(models.TextChoices):
        QUEUED = "queued", gettext_lazy("queued")
        RUNNING = "running", gettext_lazy("running")
        DONE = "done", gettext_lazy("done")
        FAILED = "failed", gettext_lazy("failed")
        CANCELED = "canceled", gettext_lazy("canceled")

    ACTIVE: ClassVar[tuple[str, ...]] = (State.QUEUED, State.RUNNING)

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="backfills")
    start_date = models.DateField()
    end_date = models.DateField()
    dry_run = models.BooleanField(default=False)
    include_members = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    #: Next API 2 page to read; a resumed backfill continues from here.
    next_page = models.PositiveIntegerField(default=1)
    total_pages = models.PositiveIntegerField(null=True, blank=True)
    found = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    already_known = models.PositiveIntegerField(default=0)
    members_added = models.PositiveIntegerField(default=0)
    #: Dry run: what would be created (capped).
    preview = models.JSONField(default=list, blank=True)
    #: Why the last step did not get on (shown until a step succeeds).
    error = MessageField(null=True, blank=True)
    #: After a crash, the next step waits until then (live work goes on meanwhile).
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "sync"

    def __str__(self) -> str:
        return f"backfill {self.start_date}..{self.end_date} ({self.state})"

    @classmethod
    def active_for(cls, space_id: int) -> Backfill | None:
        return cls.objects.filter(space_id=space_id, state__in=cls.ACTIVE).order_by("id").first()

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    def ready(self, now: dt.datetime) -> bool:
        return self.not_before is None or self.not_before <= now

    # -- transitions --------------------------------------------------------------------
    def start(self) -> None:
        if self.state == self.State.QUEUED:
            self.state = self.State.RUNNING
            self.save(update_fields=["state", "updated_at"])

    def stalled(self, reason: Text, *, retry_in: float | None = None) -> None:
        """A step could not be done; a later turn tries the same page again (after
        ``retry_in`` seconds, if given: a crash should not repeat at every turn)."""
        self.error = as_message(reason)
        if retry_in is not None:
            self.not_before = timezone.now() + dt.timedelta(seconds=retry_in)
        self.save(update_fields=["error", "not_before", "updated_at"])

    def stepped(self) -> None:
        """A step succeeded: whatever stalled it is over (saved with the step)."""
        self.error = None
        self.not_before = None

    def complete(self) -> None:
        self.state = self.State.DONE
        self.finished_at = timezone.now()

    def cancel(self) -> None:
        """Stop listing. Items already added still sync."""
        type(self).objects.filter(pk=self.pk, state__in=self.ACTIVE).update(
            state=self.State.CANCELED, finished_at=timezone.now()
        )
        self.refresh_from_db(fields=["state", "finished_at"])

    def resume(self) -> None:
        type(self).objects.filter(
            pk=self.pk, state__in=(self.State.CANCELED, self.State.FAILED)
        ).update(state=self.State.QUEUED, finished_at=None)
        self.refresh_from_db(fields=["state", "finished_at"])

    @classmethod
    def prune(cls, before: dt.datetime) -> int:
        """Delete the backfills finished before ``before``; returns how many."""
        deleted, _by_model = cls.objects.filter(finished_at__lt=before).delete()
        return deleted

    def progress(self) -> dict[str, Any]:
        """Progress data for the command line and the dashboard."""
        pages_done = max(self.next_page - 1, 0)
        total = self.total_pages or 0
        items = self.space.items.filter(
            source=LedgerItem.Source.BACKFILL, created_at__gte=self.created_at
        )
        done = items.filter(state__in=LedgerItem.FINAL_STATES).count() if not self.dry_run else 0
        return {
            "state": self.state,
            "pages_done": pages_done,
            "total_pages": total,
            "found": self.found,
            "added": self.added,
            "already_known": self.already_known,
            "synced": done,
            "percent_listed": round(100 * pages_done / total) if total else 0,
            "percent_synced": round(100 * done / self.added)
            if self.added
            else (100 if self.state == self.State.DONE else 0),
        }
