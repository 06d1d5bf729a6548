"""OAuth on the Cobot sandbox: the code flow with PKCE (S256), codes used once."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import requests

from cobot_sevdesk.sandbox.control import Sandboxes


def test_oauth_code_flow_with_pkce(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    user = c.add_user("ada@example.org", "Ada")
    c.add_client("addon", "s3cret", ["http://127.0.0.1:8000/auth/callback/"])
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": "addon",
        "redirect_uri": "http://127.0.0.1:8000/auth/callback/",
        "scope": "read_user",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = requests.get(f"{c.base_url}/oauth/authorize", params=params, timeout=5)
    assert page.status_code == 200 and "Approve as Ada" in page.text
    approved = requests.post(
        f"{c.base_url}/oauth/authorize",
        data={**params, "user_id": user["id"]},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302
    query = parse_qs(urlsplit(approved.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    token_request = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "client_id": "addon",
        "client_secret": "s3cret",
        "redirect_uri": params["redirect_uri"],
    }
    wrong = requests.post(
        f"{c.base_url}/oauth/access_token",
        data={**token_request, "code_verifier": "w" * 50},
        timeout=5,
    )
    assert wrong.status_code == 400 and "PKCE" in wrong.text
    # The code was used up by the failed attempt, as a careful server does.
    again = requests.post(
        f"{c.base_url}/oauth/access_token",
        data={**token_request, "code_verifier": verifier},
        timeout=5,
    )
    assert again.status_code == 400


def test_oauth_issues_a_token_for_the_right_verifier(sandboxes: Sandboxes) -> None:
    c = sandboxes.cobot
    user = c.add_user("ada@example.org", "Ada")
    c.add_client("addon", "s3cret")
    verifier = "k" * 60
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    approved = requests.post(
        f"{c.base_url}/oauth/authorize",
        data={
            "client_id": "addon",
            "redirect_uri": "http://x/cb",
            "user_id": user["id"],
            "scope": "read_user",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(approved.headers["Location"]).query)["code"][0]
    token = requests.post(
        f"{c.base_url}/oauth/access_token",
        timeout=5,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": "addon",
            "client_secret": "s3cret",
            "redirect_uri": "http://x/cb",
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200
    access = token.json()["access_token"]
    me = requests.get(
        f"{c.base_url}/api/user", headers={"Authorization": f"Bearer {access}"}, timeout=5
    )
    assert me.json()["id"] == user["id"]
