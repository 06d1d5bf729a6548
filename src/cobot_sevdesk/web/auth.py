"""Log in with Cobot (OAuth 2 authorization code flow with state and PKCE S256), pick
a space, connect it.

The user's own token lives (encrypted) in their session only. Background work uses a
token bound to the space (Cobot's space-bound token): it keeps working when the admin
who connected the space leaves it.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from cobot_sevdesk import crypto
from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.errors import SyncError
from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.messages import render as render_text
from cobot_sevdesk.sync.context import timeouts
from cobot_sevdesk.web import access

log = logging.getLogger(__name__)


def cobot_oauth() -> Any:
    """The Cobot OAuth client, from the current settings (tests and the demo change
    them at run time, so it is not built once at import)."""
    oauth = OAuth()
    oauth.register(
        "cobot",
        client_id=settings.COBOT_CLIENT_ID,
        client_secret=settings.COBOT_CLIENT_SECRET,
        authorize_url=f"{settings.COBOT_URL}/oauth/authorize",
        access_token_url=f"{settings.COBOT_URL}/oauth/access_token",
        client_kwargs={
            "scope": settings.COBOT_SCOPES,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    return oauth.cobot


def redirect_uri() -> str:
    return f"{settings.PUBLIC_URL}{reverse('web:callback')}"


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:spaces")
    return render(request, "web/home.html", {"configured": bool(settings.COBOT_CLIENT_ID)})


def start_login(request: HttpRequest) -> HttpResponse:
    if not settings.COBOT_CLIENT_ID:
        messages.error(
            request, gettext("Log in with Cobot is not set up: COBOT_CLIENT_ID is missing.")
        )
        return redirect("web:home")
    response: HttpResponse = cobot_oauth().authorize_redirect(request, redirect_uri())
    return response


def callback(request: HttpRequest) -> HttpResponse:
    if "error" in request.GET:
        messages.error(
            request,
            gettext("Cobot did not grant access (%(error)s).") % {"error": request.GET["error"]},
        )
        return redirect("web:home")
    try:
        token = cobot_oauth().authorize_access_token(request)
    except (AuthlibBaseError, KeyError, ValueError) as exc:
        log.warning("Cobot login failed: %s", type(exc).__name__)
        messages.error(request, gettext("Logging in with Cobot failed. Please try again."))
        return redirect("web:home")
    access_token = token["access_token"]
    client = CobotClient(access_token, timeouts=timeouts())
    try:
        user = client.get_user()
        api2 = {s.subdomain: s for s in client.get_admin_spaces_api2()}
    except SyncError as exc:
        messages.error(
            request,
            gettext("Cobot could not be reached: %(error)s")
            % {"error": render_text(exc.admin_message)},
        )
        return redirect("web:home")
    spaces = [
        access.AdminSpace(
            subdomain=a.subdomain,
            name=a.name,
            api2_id=api2[a.subdomain].id if a.subdomain in api2 else "",
            country_code=(api2[a.subdomain].country_code or "DE") if a.subdomain in api2 else "DE",
        )
        for a in user.admin_of
    ]
    django_user = access.user_for_cobot(user.id, user.email)
    login(request, django_user)  # a new session: no fixation
    access.start_session(request, access_token, spaces)
    if not spaces:
        messages.warning(
            request,
            gettext("You are not an admin of any Cobot space, so there is nothing to connect."),
        )
        return redirect("web:spaces")
    if len(spaces) == 1:
        return connect_space(request, spaces[0].subdomain)
    return redirect("web:spaces")


@access.admin_view
def spaces(request: HttpRequest) -> HttpResponse:
    connected = {s.subdomain: s for s in access.spaces_for(request.user)}
    rows = [(s, connected.get(s.subdomain)) for s in access.admin_spaces(request)]
    return render(request, "web/spaces.html", {"rows": rows})


@require_POST
@access.admin_view
def choose_space(request: HttpRequest, subdomain: str) -> HttpResponse:
    return connect_space(request, subdomain)


def connect_space(request: HttpRequest, subdomain: str) -> HttpResponse:
    """Make sure the space exists here with a working space-bound token, then go on
    to its settings (first time) or its dashboard."""
    chosen = access.admin_space(request, subdomain)  # 404 unless the user is its admin
    space = Space.objects.filter(subdomain=subdomain).first()
    needs_token = space is None or not space.cobot_token_encrypted or space.cobot_token_ok is False
    if needs_token:
        user_token = crypto.decrypt(request.session[access.SESSION_TOKEN])
        client = CobotClient(user_token, timeouts=timeouts())
        try:
            info_id = client.get_space_info(subdomain).id
            bound = client.bind_token_to_space(info_id)
        except SyncError as exc:
            messages.error(
                request,
                gettext("Cobot refused to connect this space: %(error)s")
                % {"error": render_text(exc.admin_message)},
            )
            return redirect("web:spaces")
        if space is None:
            space = Space(subdomain=subdomain)
        space.cobot_space_id = info_id
        space.cobot_token = bound
        space.cobot_token_ok = True
    assert space is not None
    space.name = chosen.name
    space.api2_id = chosen.api2_id or space.api2_id
    space.country_code = chosen.country_code or space.country_code
    space.save()
    space.reconnect()
    if needs_token:
        space.resume(only=(Space.PauseReason.COBOT_AUTH,))
    access.grant(request.user, space)
    if not space.sevdesk_token_encrypted:
        return redirect("web:settings", subdomain)
    return redirect("web:dashboard", subdomain)


@require_POST
def log_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("web:home")
