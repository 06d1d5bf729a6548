"""A books check of one space and period, and what it found. Its state changes only
through the methods here; the check itself is ``sync/books.py``."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cobot_sevdesk.ledger.models.fields import MessageField
from cobot_sevdesk.ledger.models.space import Space
from cobot_sevdesk.messages import Text, as_message


class BooksCheck(models.Model):
    """Cobot's invoices of a period against sevDesk's receipts: asked for on the
    dashboard or the command line, or run after each month's end (once per month and
    space: the row is the record that it ran, and whether its result was posted)."""

    class State(models.TextChoices):
        QUEUED = "queued", gettext_lazy("queued")
        RUNNING = "running", gettext_lazy("running")
        DONE = "done", gettext_lazy("done")
        FAILED = "failed", gettext_lazy("failed")

    class Trigger(models.TextChoices):
        REQUESTED = "requested", gettext_lazy("asked for on the dashboard")
        MONTHLY = "monthly", gettext_lazy("after the month's end")
        COMMAND = "command", gettext_lazy("from the command line")

    #: Checks the worker runs (the command line runs its own).
    QUEUED_TRIGGERS: ClassVar[tuple[str, ...]] = (Trigger.REQUESTED, Trigger.MONTHLY)

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="books_checks")
    start_date = models.DateField()
    end_date = models.DateField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    #: The report (``sync.rules.books_report.BooksReport.to_json``).
    result = models.JSONField(null=True, blank=True)
    #: How many differences it found (None until it is done).
    differences = models.PositiveIntegerField(null=True, blank=True)
    #: Why it could not be made (Cobot or sevDesk did not answer, ...).
    error = MessageField(null=True, blank=True)
    #: A monthly check that could not be made waits until then to try again.
    not_before = models.DateTimeField(null=True, blank=True)
    #: A monthly check's result was posted to Cobot's activity feed (True), the post
    #: failed (False), or it was not posted yet (None). Posted once, not retried.
    posted = models.BooleanField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "sync"
        constraints = [
            models.UniqueConstraint(
                fields=["space", "start_date", "end_date"],
                condition=Q(trigger="monthly"),
                name="one_monthly_books_check",
            )
        ]
        indexes = [models.Index(fields=["space", "start_date", "end_date"])]

    def __str__(self) -> str:
        return f"books check {self.start_date}..{self.end_date} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    # -- finding -----------------------------------------------------------------------
    @classmethod
    def request(
        cls, space: Space, start: dt.date, end: dt.date, *, trigger: str, by: str = ""
    ) -> BooksCheck:
        """A new check of ``start``..``end``; a running or queued one of the same
        period, if any, instead (asking twice does not run it twice)."""
        waiting = cls.objects.filter(
            space=space,
            start_date=start,
            end_date=end,
            trigger=trigger,
            state__in=(cls.State.QUEUED, cls.State.RUNNING),
        ).first()
        if waiting is not None:
            return waiting
        return cls.objects.create(
            space=space, start_date=start, end_date=end, trigger=trigger, requested_by=by[:200]
        )

    @classmethod
    def monthly(cls, space: Space, start: dt.date, end: dt.date) -> BooksCheck | None:
        """The month's check, created queued; None if it exists already (done, or
        under way): the unique constraint makes it once per month and space, also
        when two workers ask at once."""
        existing = cls.objects.filter(
            space=space, start_date=start, end_date=end, trigger=cls.Trigger.MONTHLY
        )
        if existing.exists():  # the usual case: a read, not a failing insert per turn
            return None
        try:
            with transaction.atomic():
                return cls.objects.create(
                    space=space, start_date=start, end_date=end, trigger=cls.Trigger.MONTHLY
                )
        except IntegrityError:
            return None

    @classmethod
    def due(cls, space: Space, now: dt.datetime | None = None) -> BooksCheck | None:
        """The oldest check the worker should run now. A "running" one counts: only
        the space's lease holder runs checks, so it was left by a worker that died."""
        now = now or timezone.now()
        return (
            cls.objects.filter(
                space=space,
                trigger__in=cls.QUEUED_TRIGGERS,
                state__in=(cls.State.QUEUED, cls.State.RUNNING),
            )
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("id")
            .first()
        )

    @classmethod
    def latest(cls, space: Space, start: dt.date, end: dt.date) -> BooksCheck | None:
        return (
            cls.objects.filter(space=space, start_date=start, end_date=end).order_by("-id").first()
        )

    # -- transitions: the only places the state changes --------------------------------
    def start(self) -> None:
        self._save(state=self.State.RUNNING, started_at=timezone.now(), error=None)

    def done(self, result: dict[str, Any], differences: int) -> None:
        self._save(
            state=self.State.DONE,
            result=result,
            differences=differences,
            error=None,
            not_before=None,
            finished_at=timezone.now(),
        )

    def failed(self, reason: Text, *, retry_in: float | None = None) -> None:
        """It could not be made. With ``retry_in`` (a monthly check), it waits that
        many seconds and is tried again; otherwise it has failed, with the reason."""
        if retry_in is not None:
            self._save(
                state=self.State.QUEUED,
                error=as_message(reason),
                not_before=timezone.now() + dt.timedelta(seconds=retry_in),
            )
        else:
            self._save(
                state=self.State.FAILED, error=as_message(reason), finished_at=timezone.now()
            )

    def mark_posted(self, ok: bool) -> None:
        self._save(posted=ok)

    def _save(self, **fields: Any) -> None:
        for key, value in fields.items():
            setattr(self, key, value)
        self.save(update_fields=list(fields))
