"""The Cobot webhook subscriptions a space needs, created, checked and removed.

Callback URLs carry the space's secret (Cobot does not sign webhooks) and the event
name (Cobot's payload holds only the resource URL):
``<PUBLIC_URL>/hooks/<secret>/<event>/``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse

from cobot_sevdesk.cobot.events import EVENTS
from cobot_sevdesk.errors import PermanentError
from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.sync.context import SpaceContext

log = logging.getLogger(__name__)


def callback_url(space: Space, event: str) -> str:
    path: str = reverse("web:webhook", args=[space.webhook_secret, event])
    return f"{settings.PUBLIC_URL}{path}"


def hooks_prefix(space: Space) -> str:
    return callback_url(space, "x").rsplit("/x/", 1)[0] + "/"


def ensure_subscriptions(ctx: SpaceContext) -> list[str]:
    """Make sure every needed event has an active subscription to our callback;
    re-create what Cobot switched off. Returns the events (re)created."""
    space = ctx.space
    existing = ctx.cobot.list_subscriptions()
    created = []
    for event in EVENTS:
        url = callback_url(space, event)
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
    """Delete every subscription pointing at this space's callbacks (on disconnect)."""
    prefix = hooks_prefix(ctx.space)
    removed = 0
    for subscription in ctx.cobot.list_subscriptions():
        if subscription.callback_url.startswith(prefix):
            ctx.cobot.delete_subscription(subscription)
            removed += 1
    return removed
