"""Who may frame our pages: Cobot shows add-ons inside its admin in an iframe."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class FrameAncestorsMiddleware:
    """Sets ``Content-Security-Policy: frame-ancestors`` to Cobot's domains and the
    configured ones (``FRAME_ANCESTORS``), instead of X-Frame-Options, which cannot
    name allowed parents."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = "frame-ancestors 'self' " + " ".join(settings.FRAME_ANCESTORS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.policy)
        return response
