"""OAuth 2 on www.cobot.me: the authorization code flow with PKCE (S256).

The approval page lists the sandbox's users; approving as one of them redirects back
with a code, which ``/oauth/access_token`` exchanges for a token once.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from cobot_sevdesk.sandbox.app import App, Area, HttpError, Request, Response
from cobot_sevdesk.sandbox.cobot.state import CobotState

#: How long an authorization code can be exchanged, in seconds.
CODE_LIFETIME = 600


class OAuth(Area[CobotState]):
    def register(self, app: App) -> None:
        app.route("GET", "/oauth/authorize", self.authorize_page)
        app.route("POST", "/oauth/authorize", self.authorize_approve)
        app.route("POST", "/oauth/access_token", self.access_token)

    def _client(self, client_id: str | None) -> dict[str, Any]:
        client = self.state.clients.get(client_id or "")
        if client is None:
            raise HttpError(400, {"error": "invalid_client"})
        return client

    def authorize_page(self, request: Request) -> Response:
        client = self._client(request.arg("client_id"))
        redirect_uri = request.arg("redirect_uri") or ""
        if client["redirect_uris"] and redirect_uri not in client["redirect_uris"]:
            raise HttpError(400, {"error": "redirect_uri does not match the registered one"})
        if request.arg("response_type") != "code":
            raise HttpError(400, {"error": "unsupported_response_type"})
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v[0])}">'
            for k, v in request.query.items()
        )
        buttons = "".join(
            f'<button name="user_id" value="{html.escape(u["id"])}">'
            f"Approve as {html.escape(u['name'])} ({html.escape(u['email'])})</button><br>"
            for u in self.state.users.values()
        )
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<title>Cobot sandbox: authorize</title></head>"
            "<body><h1>Cobot sandbox</h1>"
            f"<p>The app <b>{html.escape(client['name'])}</b> asks for access: "
            f"{html.escape(request.arg('scope') or '')}</p>"
            f"<form method='post' action='/oauth/authorize'>{hidden}{buttons}</form></body></html>"
        )
        return Response(200, page, content_type="text/html; charset=utf-8")

    def authorize_approve(self, request: Request) -> Response:
        form = request.form()
        client_id = form.get("client_id")
        self._client(client_id)
        user_id = form.get("user_id", "")
        if user_id not in self.state.users:
            raise HttpError(400, {"error": "unknown user"})
        method = form.get("code_challenge_method")
        if form.get("code_challenge") and method != "S256":
            raise HttpError(400, {"error": "only S256 PKCE is supported"})
        code = secrets.token_urlsafe(16)
        with self.state.lock:
            self.state.codes[code] = {
                "user": user_id,
                "client_id": client_id,
                "redirect_uri": form.get("redirect_uri"),
                "scope": form.get("scope", ""),
                "challenge": form.get("code_challenge"),
                "expires": time.time() + CODE_LIFETIME,
            }
        query = {"code": code}
        if form.get("state"):
            query["state"] = form["state"]
        target = form.get("redirect_uri", "")
        separator = "&" if "?" in target else "?"
        return Response(302, b"", {"Location": target + separator + urlencode(query)})

    def access_token(self, request: Request) -> Response:
        form = request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.header("authorization") or ""
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        client = self._client(client_id)
        if not secrets.compare_digest(client["secret"], client_secret or ""):
            raise HttpError(401, {"error": "invalid_client"})
        if form.get("grant_type") != "authorization_code":
            raise HttpError(400, {"error": "unsupported_grant_type"})
        with self.state.lock:
            grant = self.state.codes.pop(form.get("code", ""), None)
        if grant is None or grant["expires"] < time.time() or grant["client_id"] != client_id:
            raise HttpError(400, {"error": "invalid_grant"})
        if grant["redirect_uri"] and form.get("redirect_uri") != grant["redirect_uri"]:
            raise HttpError(
                400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"}
            )
        if grant["challenge"] and _s256(form.get("code_verifier", "")) != grant["challenge"]:
            raise HttpError(
                400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
            )
        token = self.state.add_token(grant["user"], grant["scope"], client_id or "")
        # GUESS: Cobot issues long-lived tokens without refresh (only authorization_code
        # is advertised), so no expires_in / refresh_token here.
        return Response(
            200, {"access_token": token, "token_type": "bearer", "scope": grant["scope"]}
        )


def _s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
