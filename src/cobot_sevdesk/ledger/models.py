"""The database: connected spaces, the sync ledger and its history, known contacts,
backfills. The ledger is the source of truth; the queue only wakes workers."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cobot_sevdesk import crypto
from cobot_sevdesk.messages import Message, shown
from cobot_sevdesk.messages import _ as message


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def webhook_key(secret: str) -> str:
    """What webhooks are looked up by: a hash, so the lookup itself reveals nothing
    about the secret; the secret is then compared in constant time."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Space(models.Model):
    """One Cobot space connected to one sevDesk account."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        DISCONNECTED = "disconnected", _("disconnected")

    class PauseReason(models.TextChoices):
        NONE = "", _("not paused")
        SEVDESK_AUTH = "sevdesk_auth", _("sevDesk refused the API token")
        COBOT_AUTH = "cobot_auth", _("Cobot refused the access token")
        MANUAL = "manual", _("paused by an operator")

    subdomain = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    #: API 1 space id (wanted by the token-binding call).
    cobot_space_id = models.CharField(max_length=100)
    #: API 2 space id (32 hex), used for invoice lists.
    api2_id = models.CharField(max_length=64, blank=True)
    country_code = models.CharField(max_length=2, default="DE")
    #: Language of messages posted to the space's Cobot feed (from the space's locale).
    language = models.CharField(max_length=8, default="de")
    cobot_token_encrypted = models.TextField(blank=True)
    sevdesk_token_encrypted = models.TextField(blank=True)
    cost_centre_number = models.CharField(max_length=50, blank=True)
    due_days = models.PositiveIntegerField(default=0)
    small_business = models.BooleanField(default=False)
    webhook_secret = models.CharField(max_length=64, unique=True, default=new_webhook_secret)
    webhook_key = models.CharField(max_length=64, unique=True, editable=False)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    pause_reason = models.CharField(
        max_length=20, choices=PauseReason.choices, blank=True, default=""
    )
    pause_message = models.TextField(blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    #: When sevDesk was connected; members and invoices from then on are synced.
    connected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # -- processing: one active worker per space, through this lease --
    lease_owner = models.CharField(max_length=120, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    #: Set when a webhook made work due; the first waker enqueues, the others need not.
    wake_pending = models.BooleanField(default=False)
    #: Cobot throttle state (GCRA "theoretical arrival time", epoch seconds), carried
    #: across leases so a space's request budget survives a change of worker.
    cobot_tat = models.FloatField(default=0.0)

    # -- health, shown on the dashboard --
    reconcile_due_at = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_error = models.TextField(blank=True)
    webhooks_ok = models.BooleanField(null=True)
    sevdesk_token_ok = models.BooleanField(null=True)
    cobot_token_ok = models.BooleanField(null=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "reconcile_due_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.subdomain})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.webhook_key = webhook_key(self.webhook_secret)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "webhook_secret" in update_fields:
            kwargs["update_fields"] = {*update_fields, "webhook_key"}
        super().save(*args, **kwargs)

    # Secrets are stored encrypted; these accessors are the only way in or out.
    @property
    def cobot_token(self) -> str:
        return crypto.decrypt(self.cobot_token_encrypted) if self.cobot_token_encrypted else ""

    @cobot_token.setter
    def cobot_token(self, value: str) -> None:
        self.cobot_token_encrypted = crypto.encrypt(value) if value else ""

    @property
    def sevdesk_token(self) -> str:
        return crypto.decrypt(self.sevdesk_token_encrypted) if self.sevdesk_token_encrypted else ""

    @sevdesk_token.setter
    def sevdesk_token(self, value: str) -> None:
        self.sevdesk_token_encrypted = crypto.encrypt(value) if value else ""

    @property
    def is_configured(self) -> bool:
        return bool(self.sevdesk_token_encrypted and self.cobot_token_encrypted)

    @property
    def is_processing(self) -> bool:
        return self.status == self.Status.ACTIVE and self.is_configured


class SpaceAdmin(models.Model):
    """Which signed-in users may see and manage which space: refreshed from Cobot's
    ``admin_of`` at every login. Tenant isolation is enforced through this table only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_admins"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="admins")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "space"], name="unique_space_admin")]

    def __str__(self) -> str:
        return f"{self.user_id} administers {self.space_id}"


class LedgerItem(models.Model):
    """One Cobot object (member or invoice) of one space and what became of it."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("member")
        INVOICE = "invoice", _("invoice")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        RETRY_WAIT = "retry_wait", _("waiting to retry")
        SYNCED = "synced", _("synced")
        MISMATCH = "mismatch", _("synced (no matching contact)")
        FAILED = "failed", _("failed")
        AMBIGUOUS = "ambiguous", _("outcome unknown")
        SKIPPED = "skipped", _("skipped")

    #: States in which the worker still has something to do.
    OPEN_STATES = (State.PENDING, State.RUNNING, State.RETRY_WAIT, State.AMBIGUOUS)
    FINAL_STATES = (State.SYNCED, State.MISMATCH, State.FAILED, State.SKIPPED)

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("webhook")
        RECONCILE = "reconcile", _("reconciliation")
        BACKFILL = "backfill", _("backfill")
        DEPENDENCY = "dependency", _("needed by an invoice")

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    cobot_id = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WEBHOOK)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    #: The last problem, in words a space admin understands (English; searchable).
    last_error = models.TextField(blank=True)
    #: The same, as template and parameters, to show it in the reader's language.
    last_error_message = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    #: Invoice number or member name, for the dashboard and its search.
    label = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    customer_number = models.CharField(max_length=60, blank=True)
    sevdesk_contact_id = models.BigIntegerField(null=True, blank=True)
    sevdesk_voucher_id = models.BigIntegerField(null=True, blank=True)
    #: An update arrived after the item was synced: check it and warn the admin.
    recheck = models.BooleanField(default=False)
    #: Steps already done, so a retry resumes instead of repeating them.
    progress = models.JSONField(default=dict, blank=True)
    #: Hash of the synced invoice's content, to tell real edits from noise.
    fingerprint = models.CharField(max_length=64, blank=True)
    #: The Cobot activity for the current failure was posted (post once, not per retry).
    failure_reported = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["space", "kind", "cobot_id"], name="unique_ledger_object"
            ),
            # A receipt belongs to exactly one invoice.
            models.UniqueConstraint(
                fields=["space", "sevdesk_voucher_id"],
                condition=Q(sevdesk_voucher_id__isnull=False),
                name="unique_ledger_voucher",
            ),
        ]
        indexes = [
            # The worker's queries: open items and items to re-check, oldest first.
            models.Index(
                fields=["space", "id"],
                condition=Q(state__in=["pending", "running", "retry_wait", "ambiguous"]),
                name="ledger_open_by_space",
            ),
            models.Index(
                fields=["space", "id"], condition=Q(recheck=True), name="ledger_recheck_by_space"
            ),
            # The dashboard's counts and filters.
            models.Index(fields=["space", "state"]),
            models.Index(fields=["space", "kind", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.label or self.cobot_id} ({self.state})"

    def error_text(self) -> str:
        """The last error in the active language."""
        return shown(self.last_error, self.last_error_message)

    def history(self) -> list[tuple[dt.datetime, str, str]]:
        """(time, kind, text) of everything that happened to the item, oldest first.
        The first line comes from the item itself: intake writes one row, not two."""
        recorded = (
            self.created_at,
            str(LedgerEvent.Kind.RECEIVED.label),
            RECORDED[self.source].render(),
        )
        return [recorded, *((e.at, e.get_kind_display(), e.text()) for e in self.events.all())]

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class LedgerEvent(models.Model):
    """The history of a ledger item, shown on its page."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("received")
        ATTEMPT = "attempt", _("attempt")
        DONE = "done", _("done")
        RETRY = "retry", _("will retry")
        FAILED = "failed", _("failed")
        WARNING = "warning", _("warning")
        NOTE = "note", _("note")

    item = models.ForeignKey(LedgerItem, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    #: In English; ``data`` holds template and parameters for other languages.
    message = models.TextField()
    data = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}: {self.message}"

    def text(self) -> str:
        return shown(self.message, self.data)


class ContactLink(models.Model):
    """A sevDesk contact we know, by customer number (and member, when we made it).

    Saves the contact lookup for every invoice; unique per space and number, and per
    space and membership.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="contact_links")
    customer_number = models.CharField(max_length=60)
    sevdesk_contact_id = models.BigIntegerField()
    membership_id = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["space", "customer_number"], name="unique_contact_number"
            ),
            models.UniqueConstraint(
                fields=["space", "membership_id"],
                condition=~Q(membership_id=""),
                name="unique_contact_membership",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_number} = sevDesk contact {self.sevdesk_contact_id}"


class Backfill(models.Model):
    """Sync of existing invoices (and optionally members) of a date range; resumable."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CANCELED = "canceled", _("canceled")

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
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"backfill {self.start_date}..{self.end_date} ({self.state})"

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
            else (100 if self.state == "done" else 0),
        }


#: How an item came to be recorded: the first line of its history.
RECORDED: dict[str, Message] = {
    LedgerItem.Source.WEBHOOK: message("Recorded from a Cobot webhook."),
    LedgerItem.Source.RECONCILE: message("Recorded by the periodic check: no webhook brought it."),
    LedgerItem.Source.BACKFILL: message("Recorded by a backfill."),
    LedgerItem.Source.DEPENDENCY: message("Recorded because an invoice of this member came first."),
}
