"""Who may see what: tenant isolation in one place.

Every page and action of a space goes through ``space_view``: the signed-in user must
be an admin of that space according to Cobot, stored as ``SpaceAdmin`` rows; anyone
else gets 404, not 403, so that a space's existence is not revealed either.

Admin rights follow Cobot, not just the login: ``confirm_rights`` asks Cobot (API 1
``GET /api/user``, ``admin_of``, with the user's own token, kept encrypted in the
session) again

- on every state-changing request (anything but GET/HEAD/OPTIONS), and
- for pages, when the last answer is older than ``COBOT_ADMIN_CHECK_SECONDS`` (60 s).

The answer replaces the user's ``SpaceAdmin`` rows, so an admin removed in Cobot
gets the same 404 as a stranger from then on. A token Cobot refuses (401, or 403)
ends the session: the user is logged out and sent to the start page with a message.
When Cobot cannot be reached, nothing that changes state is allowed; pages are
shown on the last answer for ``COBOT_ADMIN_GRACE_SECONDS`` (10 min), then refused
with 503 until Cobot answers again.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from cobot_sevdesk import crypto
from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.errors import AuthorizationError, SyncError
from cobot_sevdesk.ledger.models import Space, SpaceAdmin
from cobot_sevdesk.sync.context import timeouts

log = logging.getLogger(__name__)

SESSION_SPACES = "cobot_admin_spaces"
SESSION_TOKEN = "cobot_token"  # noqa: S105 (a session key, not a secret)
#: When Cobot last confirmed the user's admin spaces (epoch seconds).
SESSION_CONFIRMED = "cobot_admin_confirmed_at"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: What a Cobot subdomain can look like; anything else (a NUL byte, say, which
#: PostgreSQL cannot even compare) is no space of anyone's.
SUBDOMAIN = re.compile(r"[A-Za-z0-9_.-]{1,100}")


@dataclass(frozen=True)
class AdminSpace:
    """A space the user administers in Cobot, connected or not."""

    subdomain: str
    name: str
    api2_id: str = ""
    country_code: str = "DE"
    language: str = "de"


def admin_spaces(request: HttpRequest) -> list[AdminSpace]:
    return [AdminSpace(**data) for data in request.session.get(SESSION_SPACES, [])]


def admin_space(request: HttpRequest, subdomain: str) -> AdminSpace:
    if not SUBDOMAIN.fullmatch(subdomain):
        raise Http404("no such space")
    for space in admin_spaces(request):
        if space.subdomain == subdomain:
            return space
    raise Http404("not an admin of this space")


def spaces_for(user: Any) -> list[Space]:
    return list(Space.objects.filter(admins__user=user).order_by("name"))


# ------------------------------------------------------------------ the re-check
class Rights(enum.Enum):
    CONFIRMED = "confirmed"  # Cobot answered (now, or recently enough)
    ENDED = "ended"  # Cobot refused the user's token: the session is over
    UNCONFIRMED = "unconfirmed"  # Cobot could not be asked, and the last answer is too old


def start_session(request: HttpRequest, token: str, spaces: list[AdminSpace]) -> None:
    """After login: the user's token (encrypted) and what Cobot just said."""
    request.session[SESSION_SPACES] = [s.__dict__ for s in spaces]
    request.session[SESSION_TOKEN] = crypto.encrypt(token)
    request.session[SESSION_CONFIRMED] = time.time()
    refresh_grants(request.user, {s.subdomain for s in spaces})


def confirm_rights(request: HttpRequest, *, fresh: bool) -> Rights:
    """Make the user's ``SpaceAdmin`` rows what Cobot says now; with ``fresh``
    always asking Cobot, else only when the last answer is too old."""
    age = time.time() - float(request.session.get(SESSION_CONFIRMED, 0))
    if not fresh and age < settings.COBOT_ADMIN_CHECK_SECONDS:
        return Rights.CONFIRMED
    encrypted = request.session.get(SESSION_TOKEN)
    if not encrypted:
        return Rights.ENDED
    client = CobotClient(crypto.decrypt(encrypted), timeouts=timeouts())
    try:
        user = client.get_user()
    except AuthorizationError:
        return Rights.ENDED
    except SyncError as exc:
        log.warning("could not confirm admin rights with Cobot: %s", exc)
        if not fresh and age < settings.COBOT_ADMIN_GRACE_SECONDS:
            return Rights.CONFIRMED
        return Rights.UNCONFIRMED
    if request.user.get_username() != _username(user.id):
        return Rights.ENDED  # the token is no longer this user's
    subdomains = {a.subdomain for a in user.admin_of}
    refresh_grants(request.user, subdomains)
    request.session[SESSION_SPACES] = [
        s.__dict__ for s in admin_spaces(request) if s.subdomain in subdomains
    ]
    request.session[SESSION_CONFIRMED] = time.time()
    return Rights.CONFIRMED


def end_session(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.error(
        request,
        gettext("Cobot no longer accepts your login, so you were logged out. Please log in again."),
    )
    return redirect("web:home")


def _unconfirmed(request: HttpRequest, subdomain: str | None) -> HttpResponse:
    text = gettext(
        "Cobot could not be reached to confirm that you are still an admin of this space, "
        "so nothing was changed. Please try again in a moment."
    )
    if request.method in SAFE_METHODS:
        return render(request, "web/unavailable.html", {"text": text}, status=503)
    messages.error(request, text)
    if subdomain is not None:
        return redirect("web:dashboard", subdomain)
    return redirect("web:spaces")


def admin_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For pages of a signed-in admin outside one space (the space list, connecting
    a space): signed in, with rights Cobot confirmed (see the module's docstring)."""

    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("web:home")
        rights = confirm_rights(request, fresh=request.method not in SAFE_METHODS)
        if rights is Rights.ENDED:
            return end_session(request)
        if rights is Rights.UNCONFIRMED:
            return _unconfirmed(request, None)
        return view(request, *args, **kwargs)

    wrapper.__name__ = getattr(view, "__name__", "admin_view")
    wrapper.__doc__ = view.__doc__
    return wrapper


def space_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn the URL's ``subdomain`` into the Space, or 404 unless the user administers
    it, according to Cobot (re-asked as the module's docstring says)."""

    def wrapper(request: HttpRequest, subdomain: str, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("web:home")
        if not SUBDOMAIN.fullmatch(subdomain):
            raise Http404("no such space")
        rights = confirm_rights(request, fresh=request.method not in SAFE_METHODS)
        if rights is Rights.ENDED:
            return end_session(request)
        space = Space.objects.filter(subdomain=subdomain, admins__user=request.user).first()
        if space is None:
            raise Http404("no such space")
        if rights is Rights.UNCONFIRMED:
            return _unconfirmed(request, subdomain)
        return view(request, space, **kwargs)

    wrapper.__name__ = getattr(view, "__name__", "space_view")
    wrapper.__doc__ = view.__doc__
    return wrapper


# ------------------------------------------------------------------ grants
def grant(user: Any, space: Space) -> None:
    SpaceAdmin.objects.get_or_create(user=user, space=space)


def refresh_grants(user: Any, subdomains: set[str]) -> None:
    """Match the user's rights to what Cobot says they administer right now."""
    SpaceAdmin.objects.filter(user=user).exclude(space__subdomain__in=subdomains).delete()
    for space in Space.objects.filter(subdomain__in=subdomains):
        grant(user, space)


def _username(cobot_user_id: str) -> str:
    return f"cobot:{cobot_user_id}"[:150]


def user_for_cobot(cobot_user_id: str, email: str) -> Any:
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=_username(cobot_user_id), defaults={"email": email}
    )
    if user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    return user
