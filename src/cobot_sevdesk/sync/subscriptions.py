"""The Cobot webhook subscriptions a space needs, created, checked, removed, and moved
to a new secret.

Callback URLs carry the space's secret (Cobot does not sign webhooks) and the event
name (Cobot's payload holds only the resource URL):
``<PUBLIC_URL>/hooks/<secret>/<event>/``. Cobot lists a space's subscriptions of our
app only, so every subscription there under ``<PUBLIC_URL>/hooks/`` is ours; one that
is not to a current callback URL (an old secret's) is deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.errors import PermanentError, SyncError
from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.sync.context import SpaceContext

log = logging.getLogger(__name__)


def callback_url(space: Space, event: str) -> str:
    path: str = reverse("web:webhook", args=[space.webhook_secret, event])
    return f"{settings.PUBLIC_URL}{path}"


def hooks_base() -> str:
    """``<PUBLIC_URL>/hooks/``: where every callback URL of this installation starts."""
    return callback_url_prefix("")


def callback_url_prefix(secret: str) -> str:
    path: str = reverse("web:webhook", args=["s", "e"]).rsplit("/s/e/", 1)[0]
    return f"{settings.PUBLIC_URL}{path}/{secret}"


def ensure_subscriptions(ctx: SpaceContext) -> list[str]:
    """Make sure every needed event has an active subscription to our callback;
    re-create what Cobot switched off; delete ours to callbacks that are not current
    (left behind by a secret rotation). Returns the events (re)created."""
    space = ctx.space
    # Another process may have rotated the secret since this space was loaded: never
    # delete the current subscriptions as stale because of an old copy.
    space.refresh_from_db(fields=["webhook_secret_encrypted", "webhook_key"])
    existing = ctx.cobot.list_subscriptions()
    wanted = {event: callback_url(space, event) for event in EVENTS}
    base = hooks_base()
    for stale in existing:
        if stale.callback_url.startswith(base) and stale.callback_url not in wanted.values():
            ctx.cobot.delete_subscription(stale)
    created = []
    for event, url in wanted.items():
        mine = [s for s in existing if s.event == event and s.callback_url == url]
        if any(s.active for s in mine):
            continue
        for stale in mine:
            ctx.cobot.delete_subscription(stale)
        try:
            ctx.cobot.create_subscription(event, url)
        except PermanentError as exc:
            if exc.status != 409:  # 409: it exists after all (a concurrent create)
                raise
        created.append(event)
    Space.objects.filter(pk=space.pk).update(webhooks_ok=True)
    if created:
        log.info("created webhook subscriptions for %s: %s", space.subdomain, ", ".join(created))
    return created


def remove_subscriptions(ctx: SpaceContext) -> int:
    """Delete every subscription of ours for this space (on disconnect)."""
    base = hooks_base()
    removed = 0
    for subscription in ctx.cobot.list_subscriptions():
        if subscription.callback_url.startswith(base):
            ctx.cobot.delete_subscription(subscription)
            removed += 1
    return removed


@dataclass
class Rotation:
    space: str
    subscribed: bool
    created: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def summary(self) -> str:
        if self.error:
            return (
                f"{self.space}: new webhook secret stored (the old one no longer works), but "
                f"Cobot's subscriptions could not be moved to it yet: {self.error}. The "
                "periodic check re-creates them and deletes the old ones."
            )
        if not self.subscribed:
            return (
                f"{self.space}: new webhook secret stored; the space has no subscriptions "
                "now (they are created when it is connected to sevDesk)."
            )
        return (
            f"{self.space}: new webhook secret stored; {len(self.created)} Cobot "
            "subscription(s) re-created with it, the old ones deleted."
        )


def rotate_webhook_secret(space: Space) -> Rotation:
    """Give the space a new webhook secret and move its Cobot subscriptions to it.

    The old secret stops working at once (in other processes within the webhook
    view's few seconds of cache). A webhook Cobot sends to an old URL meanwhile is
    answered 404 and lost with the old subscription; the periodic check, due at once,
    catches up on what it carried.
    """
    space.rotate_webhook_secret()
    rotation = Rotation(
        space.subdomain,
        subscribed=space.is_configured and space.status != Space.Status.DISCONNECTED,
    )
    if rotation.subscribed:
        try:
            rotation.created = ensure_subscriptions(SpaceContext(space))
        except SyncError as exc:
            Space.objects.filter(pk=space.pk).update(webhooks_ok=False)
            rotation.error = str(exc.admin_message)
        Space.objects.filter(pk=space.pk).update(reconcile_due_at=timezone.now())
    log.info("rotated the webhook secret of %s", space.subdomain)
    return rotation
