"""A connected space: which Cobot space goes to which sevDesk account, its settings,
its health, and its status. Every change of status goes through a method here."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cobot_sevdesk import crypto
from cobot_sevdesk.ledger.models.fields import MessageField
from cobot_sevdesk.messages import Text, as_message


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def webhook_key(secret: str) -> str:
    """What webhooks are looked up by: the secret's SHA-256. Finding a space by it
    is the authentication (a preimage of SHA-256 cannot be found), so the intake needs
    neither the secret in plain text nor a decryption; and a copy of the database does
    not give the secret back. The secret itself is random (256 bits, ``secrets``), so
    a plain hash is as strong here as a keyed one, and survives any key rotation."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Space(models.Model):
    """One Cobot space connected to one sevDesk account."""

    class Status(models.TextChoices):
        ACTIVE = "active", gettext_lazy("active")
        PAUSED = "paused", gettext_lazy("paused")
        DISCONNECTED = "disconnected", gettext_lazy("disconnected")

    class PauseReason(models.TextChoices):
        NONE = "", gettext_lazy("not paused")
        SEVDESK_AUTH = "sevdesk_auth", gettext_lazy("sevDesk refused the API token")
        COBOT_AUTH = "cobot_auth", gettext_lazy("Cobot refused the access token")
        MANUAL = "manual", gettext_lazy("paused by an operator")

    #: Pauses that end by themselves once the token works again.
    AUTH_PAUSES: ClassVar[tuple[str, ...]] = (PauseReason.SEVDESK_AUTH, PauseReason.COBOT_AUTH)

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
    #: The secret in our callback URLs (``/hooks/<secret>/<event>/``), encrypted like
    #: the tokens (``rotate-keys`` re-encrypts it). Read only to build callback URLs
    #: for Cobot; never on the webhook path, which looks spaces up by ``webhook_key``.
    webhook_secret_encrypted = models.TextField(blank=True, default="")
    #: Write sevDesk's customer number back to the member in Cobot (the call is
    #: undocumented; an admin whose Cobot refuses or ignores it switches it off).
    write_back_numbers = models.BooleanField(default=True)
    #: Tag every receipt "Import", as Cobot's own add-on does.
    tag_import = models.BooleanField(default=True)
    webhook_key = models.CharField(max_length=64, unique=True, editable=False)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    pause_reason = models.CharField(
        max_length=20, choices=PauseReason.choices, blank=True, default=""
    )
    pause_message = MessageField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    #: When sevDesk was connected; members and invoices from then on are synced.
    connected_at = models.DateTimeField(null=True, blank=True)
    #: When the invoices that existed at connection were noted (``Preexisting``).
    baseline_at = models.DateTimeField(null=True, blank=True)
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
    last_reconcile_error = MessageField(null=True, blank=True)
    webhooks_ok = models.BooleanField(null=True)
    sevdesk_token_ok = models.BooleanField(null=True)
    cobot_token_ok = models.BooleanField(null=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "sync"
        indexes = [models.Index(fields=["status", "reconcile_due_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.subdomain})"

    #: Every field holding a secret encrypted with ``crypto`` (``rotate-keys``).
    ENCRYPTED_FIELDS: ClassVar[tuple[str, ...]] = (
        "cobot_token_encrypted",
        "sevdesk_token_encrypted",
        "webhook_secret_encrypted",
    )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.webhook_key:
            self.webhook_secret = new_webhook_secret()
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
    def webhook_secret(self) -> str:
        encrypted = self.webhook_secret_encrypted
        return crypto.decrypt(encrypted) if encrypted else ""

    @webhook_secret.setter
    def webhook_secret(self, value: str) -> None:
        self.webhook_secret_encrypted = crypto.encrypt(value)
        self.webhook_key = webhook_key(value)

    def rotate_webhook_secret(self) -> str:
        """Replace the webhook secret (stored at once) and return the old lookup key.
        Webhooks to the old callback URLs are unknown (404) from now on."""
        old_key = self.webhook_key
        self.webhook_secret = new_webhook_secret()
        self.save(update_fields=["webhook_secret_encrypted", "webhook_key", "updated_at"])
        return old_key

    def reencrypt(self) -> int:
        """Re-encrypt every stored secret with the newest key (``rotate-keys``);
        returns how many there were."""
        fields = [f for f in self.ENCRYPTED_FIELDS if getattr(self, f)]
        for field in fields:
            setattr(self, field, crypto.rotate(getattr(self, field)))
        if fields:
            self.save(update_fields=[*fields, "updated_at"])
        return len(fields)

    @property
    def is_configured(self) -> bool:
        return bool(self.sevdesk_token_encrypted and self.cobot_token_encrypted)

    @property
    def is_processing(self) -> bool:
        return self.status == self.Status.ACTIVE and self.is_configured

    @property
    def paused_for_token(self) -> bool:
        return self.status == self.Status.PAUSED and self.pause_reason in self.AUTH_PAUSES

    # -- status: the only place it changes ------------------------------------------
    # Each change is one conditional UPDATE, so two processes deciding at once cannot
    # both act on it (e.g. post "paused" twice); the method says whether this call did.

    def _change(
        self, allowed: tuple[str, ...], reasons: tuple[str, ...] | None = None, **fields: Any
    ) -> bool:
        query = type(self).objects.filter(pk=self.pk, status__in=allowed)
        if reasons is not None:
            query = query.filter(pause_reason__in=reasons)
        fields["updated_at"] = timezone.now()
        changed = query.update(**fields)
        self.refresh_from_db(fields=list(fields))
        return bool(changed)

    def pause(self, reason: str, message: Text) -> bool:
        """Stop all work for the space. A refused token pauses an active space only;
        an operator's pause also takes over a pause for a token (so it does not end
        by itself when the token works again)."""
        allowed: tuple[str, ...] = (self.Status.ACTIVE,)
        if reason == self.PauseReason.MANUAL:
            allowed = (self.Status.ACTIVE, self.Status.PAUSED)
        health: dict[str, bool] = {}
        if reason == self.PauseReason.SEVDESK_AUTH:
            health["sevdesk_token_ok"] = False
        elif reason == self.PauseReason.COBOT_AUTH:
            health["cobot_token_ok"] = False
        return self._change(
            allowed,
            None,
            status=self.Status.PAUSED,
            pause_reason=reason,
            pause_message=as_message(message),
            paused_at=timezone.now(),
            **health,
        )

    def resume(self, *, only: tuple[str, ...] | None = None) -> bool:
        """Start working again; with ``only``, just if the pause had one of those
        reasons (a fixed token ends a pause for a token, never an operator's). The
        periodic check runs at once: it re-checks the tokens and catches up."""
        return self._change(
            (self.Status.PAUSED,),
            only,
            status=self.Status.ACTIVE,
            pause_reason=self.PauseReason.NONE,
            pause_message=None,
            paused_at=None,
            reconcile_due_at=timezone.now(),
        )

    def disconnect(self) -> None:
        """Nothing more goes to sevDesk; the sevDesk token is deleted. Webhooks for a
        disconnected space are answered 410, which switches them off in Cobot."""
        self.sevdesk_token = ""
        self.status = self.Status.DISCONNECTED
        self.pause_reason, self.pause_message, self.paused_at = self.PauseReason.NONE, None, None
        self.save()

    def reconnect(self) -> bool:
        """A disconnected space was connected again by an admin (it starts syncing
        once it has a sevDesk token again). It gets a new webhook secret: whoever
        learnt the old one while it was connected learns nothing of use. Returns
        whether the space was disconnected."""
        if self.status != self.Status.DISCONNECTED:
            return False
        self.status = self.Status.ACTIVE
        self.webhook_secret = new_webhook_secret()
        self.save(update_fields=["status", "webhook_secret_encrypted", "webhook_key", "updated_at"])
        return True


class PreexistingInvoice(models.Model):
    """An invoice that already existed when the space was connected. The periodic
    check leaves it alone (older invoices are what a backfill is for); any invoice it
    finds that is neither here nor in the ledger was created after the connection and
    its webhook was lost, whatever its invoice date."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="preexisting")
    cobot_id = models.CharField(max_length=64)

    class Meta:
        app_label = "sync"
        constraints = [
            models.UniqueConstraint(fields=["space", "cobot_id"], name="unique_preexisting")
        ]

    def __str__(self) -> str:
        return f"invoice {self.cobot_id} existed before {self.space_id} was connected"


class SpaceAdmin(models.Model):
    """Which signed-in users may see and manage which space: refreshed from Cobot's
    ``admin_of`` at every login. Tenant isolation is enforced through this table only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="space_admins"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="admins")

    class Meta:
        app_label = "sync"
        constraints = [models.UniqueConstraint(fields=["user", "space"], name="unique_space_admin")]

    def __str__(self) -> str:
        return f"{self.user_id} administers {self.space_id}"
