"""The history of a ledger item, shown on its page."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cobot_sevdesk.ledger.models.fields import MessageField
from cobot_sevdesk.messages import render


class LedgerEvent(models.Model):
    """The history of a ledger item, shown on its page."""

    class Kind(models.TextChoices):
        RECEIVED = "received", gettext_lazy("received")
        ATTEMPT = "attempt", gettext_lazy("attempt")
        DONE = "done", gettext_lazy("done")
        RETRY = "retry", gettext_lazy("will retry")
        FAILED = "failed", gettext_lazy("failed")
        WARNING = "warning", gettext_lazy("warning")
        NOTE = "note", gettext_lazy("note")

    item = models.ForeignKey("sync.LedgerItem", on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    message = MessageField()

    class Meta:
        app_label = "sync"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.text()}"

    def text(self) -> str:
        return render(self.message) if self.message is not None else ""

    @classmethod
    def prune(cls, before: dt.datetime) -> int:
        """Delete the history from before ``before``; returns how many entries. The items
        stay: they are what makes a re-delivered webhook a no-op, years later too."""
        deleted, _by_model = cls.objects.filter(at__lt=before).delete()
        return deleted
