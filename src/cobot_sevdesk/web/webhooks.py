"""Webhook intake: record, queue, answer at once.

Cobot does not sign webhooks, so the secret in the URL authenticates the call, and
the resource URL in the body must point into the space's own Cobot API. No Cobot or
sevDesk call happens here: the ledger item is committed and a worker is woken; the
answer is 2xx within milliseconds. 410 is answered only for a disconnected space,
because 410 makes Cobot switch the webhook off for good.

Answers: 202 recorded; 200 an event we do not handle (logged, so Cobot stops
retrying it); 400 a malformed body (also hostile ones: deeply nested JSON, too many
form fields) or a URL outside the space; 404 an unknown secret; 410 a disconnected
space; 413 a body over ``MAX_BODY_BYTES``. ``web/openapi.yaml`` describes all of them.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from cobot_sevdesk.cobot.events import EVENTS, ForeignUrl, resource_of
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.ledger.intake import receive
from cobot_sevdesk.ledger.models import Space, webhook_key
from cobot_sevdesk.metrics import WEBHOOKS

log = logging.getLogger(__name__)


def _answer(status: int, outcome: str, **extra: object) -> JsonResponse:
    WEBHOOKS.labels(outcome).inc()
    return JsonResponse({"status": outcome, **extra}, status=status)


@dataclass(frozen=True)
class _Known:
    space: Space
    until: float


#: Spaces by webhook key, for a few seconds: a burst of webhooks should not read the
#: same row for every call. A disconnect is seen at once by the process that made it
#: (``forget_space``) and by the others within ``SPACE_CACHE_SECONDS``.
_spaces: dict[str, _Known] = {}
SPACE_CACHE_SECONDS = 5.0


def forget_space(space: Space) -> None:
    """Drop the cached copy at once (this process) after a status change."""
    _spaces.pop(space.webhook_key, None)


def _space(secret: str) -> Space | None:
    """The space whose webhook secret this is. Spaces are found by the secret's hash
    (``webhook_key``): the secret is stored only encrypted, and nothing is decrypted
    here."""
    key = webhook_key(secret)
    now = time.monotonic()
    known = _spaces.get(key)
    # A 410 makes Cobot switch the webhook off for good: never answer it from the cache.
    if known is None or known.until < now or known.space.status == Space.Status.DISCONNECTED:
        space = (
            Space.objects.filter(webhook_key=key)
            .only("id", "subdomain", "status", "webhook_key")
            .first()
        )
        if space is None:
            _spaces.pop(key, None)
            return None
        known = _Known(space, now + SPACE_CACHE_SECONDS)
        _spaces[key] = known
    if not hmac.compare_digest(known.space.webhook_key, key):
        return None
    return known.space


#: Cobot's body is ``{"url": ...}``, a hundred bytes or so.
MAX_BODY_BYTES = 64 * 1024


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _resource_url(request: HttpRequest) -> str | None:
    """``{"url": ...}`` as JSON (what Cobot sends) or as a form field; None for
    anything else, hostile bodies included (Django refusing a form with too many
    fields, JSON nested deeper than the parser's recursion limit)."""
    if request.content_type == "application/x-www-form-urlencoded":
        try:
            url = request.POST.get("url")
        except SuspiciousOperation:
            return None
    else:
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        url = body.get("url") if isinstance(body, dict) else None
    return url if isinstance(url, str) and len(url) <= 2000 else None


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, secret: str, event: str) -> HttpResponse:
    space = _space(secret)
    if space is None:
        return _answer(404, "unknown")
    if space.status == Space.Status.DISCONNECTED:
        return _answer(410, "disconnected")
    if _content_length(request) > MAX_BODY_BYTES:
        return _answer(413, "too_large", error=f"the body must be under {MAX_BODY_BYTES} bytes")
    url = _resource_url(request)
    if url is None:
        return _answer(400, "malformed", error='expected a JSON body {"url": "..."}')
    handled = EVENTS.get(event)
    if handled is None:
        log.info("ignored webhook event %r for %s", event[:50], space.subdomain)
        return _answer(200, "ignored", error="event not handled")
    try:
        kind, cobot_id = resource_of(url, CobotUrls.from_settings().space(space.subdomain))
    except ForeignUrl as exc:
        log.warning("refused webhook for %s: %s", space.subdomain, exc)
        return _answer(400, "foreign", error="the URL is not a resource of this space")
    if kind != handled.kind:
        return _answer(400, "mismatched", error=f"{event} must point at a {handled.kind}")
    intake = receive(space, handled, cobot_id)
    return _answer(202, "recorded", item=intake.item_id)
