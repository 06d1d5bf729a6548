"""The sync ledger: one row per Cobot object and space, its history, and the contacts
we know. Every change of an item's state goes through a method of ``LedgerItem``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cobot_sevdesk.ledger.models.events import LedgerEvent
from cobot_sevdesk.ledger.models.fields import MessageField
from cobot_sevdesk.ledger.models.queries import OPEN_STATES, LedgerItemQuerySet
from cobot_sevdesk.ledger.models.space import Space
from cobot_sevdesk.messages import Message, Text, _, as_message, render
from cobot_sevdesk.scrub import scrub


class LedgerItem(models.Model):
    """One Cobot object (member or invoice) of one space and what became of it."""

    class Kind(models.TextChoices):
        MEMBER = "member", gettext_lazy("member")
        INVOICE = "invoice", gettext_lazy("invoice")
        #: A payment on an invoice, for the other side (``ledger.models.payments``).
        PAYMENT = "payment", gettext_lazy("payment")

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("pending")
        RUNNING = "running", gettext_lazy("running")
        RETRY_WAIT = "retry_wait", gettext_lazy("waiting to retry")
        SYNCED = "synced", gettext_lazy("synced")
        MISMATCH = "mismatch", gettext_lazy("synced (no matching contact)")
        FAILED = "failed", gettext_lazy("failed")
        AMBIGUOUS = "ambiguous", gettext_lazy("outcome unknown")
        SKIPPED = "skipped", gettext_lazy("skipped")

    #: States in which the worker still has something to do.
    OPEN_STATES: ClassVar[tuple[str, ...]] = OPEN_STATES
    FINAL_STATES: ClassVar[tuple[str, ...]] = (
        State.SYNCED,
        State.MISMATCH,
        State.FAILED,
        State.SKIPPED,
    )
    #: Final states of an item whose object reached sevDesk.
    SENT_STATES: ClassVar[tuple[str, ...]] = (State.SYNCED, State.MISMATCH)
    #: What an admin may skip: anything not being worked on and not yet done.
    SKIPPABLE_STATES: ClassVar[tuple[str, ...]] = (
        State.PENDING,
        State.RETRY_WAIT,
        State.AMBIGUOUS,
        State.FAILED,
    )

    class Source(models.TextChoices):
        WEBHOOK = "webhook", gettext_lazy("webhook")
        RECONCILE = "reconcile", gettext_lazy("reconciliation")
        BACKFILL = "backfill", gettext_lazy("backfill")
        DEPENDENCY = "dependency", gettext_lazy("needed by an invoice")
        PAYMENT = "payment", gettext_lazy("a payment on an invoice")

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    cobot_id = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WEBHOOK)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    #: The last problem, in words a space admin understands.
    last_error = MessageField(null=True, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    #: Invoice number or member name, for the dashboard and its search.
    label = models.CharField(max_length=200, blank=True)
    #: The invoice's gross total in cents: an integer, so no database stores it as a
    #: float (SQLite would) and no value can make a page fail to read it back.
    amount_cents = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    #: The invoice's date, once known (from a listing or a fetch): which page of
    #: Cobot's listing holds it (``sync.pages``).
    invoice_date = models.DateField(null=True, blank=True)
    customer_number = models.CharField(max_length=60, blank=True)
    sevdesk_contact_id = models.BigIntegerField(null=True, blank=True)
    sevdesk_voucher_id = models.BigIntegerField(null=True, blank=True)
    #: An update arrived after the item was synced: check it and warn the admin.
    recheck = models.BooleanField(default=False)
    #: Steps already done, so a retry resumes instead of repeating them.
    progress = models.JSONField(default=dict, blank=True)
    #: Hash of the synced invoice's content, to tell real edits from noise.
    fingerprint = models.CharField(max_length=64, blank=True)
    #: Something the admin must look at although the item is done (a duplicate in
    #: sevDesk, a cancellation in Cobot, ...); listed until they mark it handled.
    attention = MessageField(null=True, blank=True)
    #: The audit trail: the Cobot object as fetched, and what we sent to sevDesk (the
    #: receipt's or contact's request bodies), both without secrets (``keep``).
    cobot_data = models.JSONField(null=True, blank=True)
    sevdesk_data = models.JSONField(null=True, blank=True)
    #: The Cobot activity for the current failure was posted (post once, not per retry).
    failure_reported = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = LedgerItemQuerySet.as_manager()

    class Meta:
        app_label = "sync"
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

    @classmethod
    def record(
        cls,
        space: Space,
        kind: str,
        cobot_id: str,
        *,
        source: str,
        label: str = "",
        invoice_date: dt.date | None = None,
    ) -> tuple[LedgerItem, bool]:
        """The item for a Cobot object, created pending if new (webhooks have their
        own faster path in ``ledger.intake``)."""
        existing = cls.objects.filter(space=space, kind=kind, cobot_id=cobot_id).first()
        if existing is not None:
            return existing, False
        try:
            # One row, one write: the history's first line ("recorded from ...") is
            # derived from the item's source and creation time, not stored.
            with transaction.atomic():
                item = cls.objects.create(
                    space=space,
                    kind=kind,
                    cobot_id=cobot_id,
                    source=source,
                    label=label[:200],
                    invoice_date=invoice_date,
                )
                return item, True
        except IntegrityError:
            # Two recordings raced; the other one made it.
            return cls.objects.get(space=space, kind=kind, cobot_id=cobot_id), False

    def error_text(self) -> str:
        """The last error in the active language."""
        return render(self.last_error) if self.last_error is not None else ""

    def attention_text(self) -> str:
        """What the admin must look at, or else the last error (active language)."""
        return render(self.attention) if self.attention is not None else self.error_text()

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
    def amount(self) -> Decimal | None:
        return None if self.amount_cents is None else Decimal(self.amount_cents) / 100

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def is_skippable(self) -> bool:
        return self.state in self.SKIPPABLE_STATES

    # -- what the use cases record (never the state) --------------------------------
    def update(self, **fields: Any) -> None:
        """Save these fields at once, and just these, so a crash after this point does
        not lose them and concurrent updates of other fields survive. The state is
        not among them: it changes only through the transitions below."""
        assert "state" not in fields, "use a transition method to change the state"
        self._save(**fields)

    def mark_step(self, name: str, value: object = True) -> None:
        """Record that step ``name`` is done; a retry skips it."""
        self._save(progress={**self.progress, name: value})

    def keep(self, *, cobot: Any = None, sevdesk: Any = None, **fields: Any) -> None:
        """Keep what Cobot sent (``cobot``) and what was sent to sevDesk (``sevdesk``)
        for the item's page, with anything that grants access removed; ``fields`` go
        in the same write (as ``update``)."""
        assert "state" not in fields, "use a transition method to change the state"
        if cobot is not None:
            fields["cobot_data"] = scrub(cobot)
        if sevdesk is not None:
            fields["sevdesk_data"] = scrub(sevdesk)
        if fields:
            self._save(**fields)

    def note(self, kind: str, message: Text) -> None:
        LedgerEvent.objects.create(item=self, kind=kind, message=as_message(message))

    def warn(self, message: Text) -> None:
        self.note(LedgerEvent.Kind.WARNING, message)

    def _save(self, **fields: Any) -> None:
        for key, value in fields.items():
            setattr(self, key, value)
        self.save(update_fields=[*fields, "updated_at"])

    # -- transitions: the only places the state changes -------------------------------
    def start_attempt(self) -> bool:
        """The worker takes the item, unless it changed since it was read (an admin
        skipped it meanwhile): a conditional update, so a skip is never overwritten."""
        previous, now = self.state, timezone.now()
        taken = (
            type(self)
            .objects.filter(pk=self.pk, state=previous)
            .update(
                state=self.State.RUNNING, attempts=self.attempts + 1, recheck=False, updated_at=now
            )
        )
        self.refresh_from_db()
        if not taken:
            return False
        if previous in (self.State.AMBIGUOUS, self.State.RUNNING):
            self.note(
                LedgerEvent.Kind.ATTEMPT,
                _(
                    "Attempt %(n)s; the last one may have reached sevDesk, "
                    "so sevDesk is checked first."
                )
                % {"n": self.attempts},
            )
        return True

    def undo_attempt(self) -> None:
        """The attempt did not count (the space was paused under it): due again."""
        self._save(
            state=self.State.PENDING, attempts=max(self.attempts - 1, 0), next_attempt_at=None
        )

    def finish(self, state: str, message: Text, **fields: Any) -> None:
        """Done: synced, synced without a contact, or skipped with a reason."""
        assert state in (self.State.SYNCED, self.State.MISMATCH, self.State.SKIPPED)
        self._save(
            **fields,
            state=state,
            next_attempt_at=None,
            last_error=None,
            error_code="",
            failure_reported=False,
            finished_at=timezone.now(),
        )
        self.note(LedgerEvent.Kind.DONE, message)

    def wait(self, error: Message | str, code: str, delay: float, *, ambiguous: bool) -> None:
        """Try again after ``delay`` seconds. ``ambiguous``: the last write may have
        gone through, so the next attempt reads back before it writes."""
        state = self.State.AMBIGUOUS if ambiguous else self.State.RETRY_WAIT
        self._save(
            state=state,
            next_attempt_at=timezone.now() + dt.timedelta(seconds=delay),
            last_error=as_message(error),
            error_code=code,
        )
        self.note(
            LedgerEvent.Kind.RETRY,
            _("%(error)s Trying again in %(seconds)s s.")
            % {"error": error, "seconds": round(delay)},
        )

    def fail(self, error: Message | str, code: str) -> None:
        """Given up: the admin must fix something and retry."""
        self._save(
            state=self.State.FAILED,
            next_attempt_at=None,
            last_error=as_message(error),
            error_code=code,
            finished_at=timezone.now(),
        )
        self.note(LedgerEvent.Kind.FAILED, error)

    def reopen(self, message: Text) -> None:
        """Pending again, with a fresh attempt budget."""
        self._save(
            state=self.State.PENDING, attempts=0, next_attempt_at=None, failure_reported=False
        )
        self.note(LedgerEvent.Kind.NOTE, message)

    def retry(self) -> bool:
        """The admin's retry button. Only failed and skipped items can be retried."""
        if self.state not in (self.State.FAILED, self.State.SKIPPED):
            return False
        self.reopen(_("Retry requested."))
        return True

    def skip(self, by: str, reason: str = "") -> bool:
        """An admin (or operator) decides this item is not to be sent: it stops
        holding anything up. Refused while a worker is on it, or once it is done."""
        was, now = self.state, timezone.now()
        changed = (
            type(self)
            .objects.filter(pk=self.pk, state__in=self.SKIPPABLE_STATES)
            .update(
                state=self.State.SKIPPED,
                next_attempt_at=None,
                recheck=False,
                finished_at=now,
                updated_at=now,
            )
        )
        self.refresh_from_db()
        if not changed:
            return False
        self.note(
            LedgerEvent.Kind.NOTE,
            _("Skipped by %(who)s: %(reason)s It is not sent to sevDesk; “Retry” sends it.")
            % {"who": by, "reason": reason.strip() or _("no reason given.")},
        )
        if was == self.State.AMBIGUOUS:
            self.warn(
                _(
                    "The last attempt may have reached sevDesk before it was skipped: "
                    "check there for a receipt with this number."
                )
            )
        return True

    def flag_attention(self, reason: Text) -> None:
        """List the item under "needs your attention" until the admin handles it."""
        self._save(attention=as_message(reason))
        self.warn(reason)

    def attention_handled(self, by: str) -> bool:
        if self.attention is None:
            return False
        self._save(attention=None)
        self.note(LedgerEvent.Kind.NOTE, _("Marked as handled by %(who)s.") % {"who": by})
        return True

    def flag_recheck(self, message: Text) -> None:
        """Cobot reports a change to an item already in sevDesk: check it soon."""
        self._save(recheck=True, next_attempt_at=timezone.now())
        self.note(LedgerEvent.Kind.RECEIVED, message)

    def end_recheck(self, message: Text, *, kind: str = "note") -> None:
        self._save(recheck=False, next_attempt_at=None)
        self.note(kind, message)

    def recheck_later(self, delay: float | None, message: Text) -> None:
        """The check could not be made now; with a delay, it is tried again."""
        if delay is None:
            self._save(recheck=False)
        else:
            self._save(recheck=True, next_attempt_at=timezone.now() + dt.timedelta(seconds=delay))
        self.note(LedgerEvent.Kind.WARNING, message)


#: How an item came to be recorded: the first line of its history.
RECORDED: dict[str, Message] = {
    LedgerItem.Source.WEBHOOK: _("Recorded from a Cobot webhook."),
    LedgerItem.Source.RECONCILE: _("Recorded by the periodic check: no webhook brought it."),
    LedgerItem.Source.BACKFILL: _("Recorded by a backfill."),
    LedgerItem.Source.DEPENDENCY: _("Recorded because an invoice of this member came first."),
    LedgerItem.Source.PAYMENT: _("Recorded as a payment found on a synced invoice."),
}
