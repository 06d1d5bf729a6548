"""Who may see what: tenant isolation in one place.

Every page and action of a space goes through ``space_view``: the signed-in user must
be an admin of that space according to Cobot (refreshed at each login and stored as
``SpaceAdmin`` rows); anyone else gets 404, not 403, so that a space's existence is
not revealed either.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from cobot_sevdesk.ledger.models import Space, SpaceAdmin

SESSION_SPACES = "cobot_admin_spaces"
#: What a Cobot subdomain can look like; anything else (a NUL byte, say, which
#: PostgreSQL cannot even compare) is no space of anyone's.
SUBDOMAIN = re.compile(r"[A-Za-z0-9_.-]{1,100}")
SESSION_TOKEN = "cobot_token"  # noqa: S105 (a session key, not a secret)


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


def space_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn the URL's ``subdomain`` into the Space, or 404 unless the user administers it."""

    def wrapper(request: HttpRequest, subdomain: str, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("web:home")
        if not SUBDOMAIN.fullmatch(subdomain):
            raise Http404("no such space")
        space = Space.objects.filter(subdomain=subdomain, admins__user=request.user).first()
        if space is None:
            raise Http404("no such space")
        return view(request, space, **kwargs)

    wrapper.__name__ = getattr(view, "__name__", "space_view")
    wrapper.__doc__ = view.__doc__
    return wrapper


def grant(user: Any, space: Space) -> None:
    SpaceAdmin.objects.get_or_create(user=user, space=space)


def refresh_grants(user: Any, subdomains: set[str]) -> None:
    """Match the user's rights to what Cobot says they administer right now."""
    SpaceAdmin.objects.filter(user=user).exclude(space__subdomain__in=subdomains).delete()
    for space in Space.objects.filter(subdomain__in=subdomains):
        grant(user, space)


def user_for_cobot(cobot_user_id: str, email: str) -> Any:
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=f"cobot:{cobot_user_id}"[:150], defaults={"email": email}
    )
    if user.email != email:
        user.email = email
        user.save(update_fields=["email"])
    return user
