"""Only Cobot's configured hosts get our tokens: URLs taken from Cobot's answers (a
subscription's ``url``, an invoice's ``pdf.url``) are never followed with the token,
and a PDF link to another host fails the invoice for good, with a reason.

The sevDesk sandbox stands in for "another host": it logs every request it gets, so a
request that should never have been made shows there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.urls import CobotUrls
from cobot_sevdesk.errors import BusinessRuleError
from cobot_sevdesk.ledger.models import LedgerItem
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.world import World, make_world


@pytest.fixture
def client(sandboxes: Sandboxes) -> CobotClient:
    c = sandboxes.cobot
    admin = c.add_user("admin@co-up.example", "Ada Admin")
    c.add_space("co-up", "co.up", [admin["id"]])
    token = c.add_token(admin["id"])
    return CobotClient(
        token, subdomain="co-up", urls=CobotUrls(c.base_url, c.space_url_template, c.api2_url)
    )


def test_a_subscription_is_deleted_by_id_on_the_space_api_not_at_its_url(
    sandboxes: Sandboxes, client: CobotClient
) -> None:
    sub = client.create_subscription("created_invoice", "https://addon.example/hooks/x/y/")
    trap = f"{sandboxes.sevdesk.base_url}/api/subscriptions/{sub.id}"
    # Cobot's answer names another host as the subscription's URL.
    sandboxes.cobot.fault(
        "/space/co-up/api/subscriptions$",
        method="GET",
        status=200,
        body=[{**sub.__dict__, "callback_url": sub.callback_url, "url": trap}],
    )
    [listed] = client.list_subscriptions()
    assert listed.url == trap
    sandboxes.sevdesk.clear_requests()
    client.delete_subscription(listed)
    assert sandboxes.sevdesk.requests() == []  # nothing went to the other host
    [deleted] = sandboxes.cobot.requests(method="DELETE")
    assert deleted["path"] == f"/space/co-up/api/subscriptions/{sub.id}"
    assert client.list_subscriptions() == []


def test_the_api_clients_refuse_absolute_urls_on_other_hosts(
    sandboxes: Sandboxes, client: CobotClient
) -> None:
    with pytest.raises(ValueError, match="outside"):
        client.space_api.request("GET", f"{sandboxes.sevdesk.base_url}/api/subscriptions")
    assert sandboxes.sevdesk.requests() == []


def test_a_pdf_link_to_another_host_is_refused_without_a_request(
    sandboxes: Sandboxes, client: CobotClient
) -> None:
    sandboxes.sevdesk.clear_requests()
    for url in (
        f"{sandboxes.sevdesk.base_url}/invoices/1.pdf?token=abc",
        f"http://user@{sandboxes.cobot.api2_url.split('://')[1]}/invoices/1.pdf",
        "ftp://127.0.0.1/x.pdf",
        "http://[not-a-host/x.pdf",
    ):
        with pytest.raises(BusinessRuleError) as err:
            client.download_pdf(url)
        assert err.value.code == "pdf_host"
        assert "COBOT_PDF_HOSTS" in str(err.value.admin_message)
    assert sandboxes.sevdesk.requests() == []


class _Redirect(BaseHTTPRequestHandler):
    target = ""
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers.items()))
        self.send_response(302)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[tuple[str, type[_Redirect]]]:
    handler = type("Redirect", (_Redirect,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_pdf_redirects_are_followed_only_to_allowed_hosts_and_never_with_a_token(
    sandboxes: Sandboxes, client: CobotClient, redirector: tuple[str, type[_Redirect]]
) -> None:
    base, handler = redirector
    handler.target = f"{sandboxes.sevdesk.base_url}/stolen.pdf"
    host = base.split("://")[1]
    allowing = CobotClient(
        "the-api-token",
        urls=CobotUrls(
            client.urls.www, client.urls.space_template, client.urls.api2, pdf_hosts=(host,)
        ),
    )
    sandboxes.sevdesk.clear_requests()
    with pytest.raises(BusinessRuleError):
        allowing.download_pdf(f"{base}/invoices/1.pdf?token=t")
    assert len(handler.seen) == 1
    assert not any(k.lower() == "authorization" for k in handler.seen[0])
    assert sandboxes.sevdesk.requests() == []  # the redirect was not followed


@pytest.mark.django_db
def test_an_invoice_whose_pdf_is_elsewhere_fails_with_a_reason_and_sends_nothing(
    sandboxes: Sandboxes,
) -> None:
    world: World = make_world(sandboxes)
    invoice = world.invoice()
    real = requests.get(
        f"{sandboxes.cobot.api2_url}/invoices/{invoice['id']}",
        headers={"Authorization": f"Bearer {world.cobot_token}"},
        timeout=10,
    ).json()
    real["data"]["attributes"]["pdf"]["url"] = f"{sandboxes.sevdesk.base_url}/invoice.pdf?t=1"
    sandboxes.cobot.fault(f"/api2/invoices/{invoice['id']}$", status=200, body=real, times=None)
    item = world.run(world.receive_invoice(invoice))
    assert item.state == LedgerItem.State.FAILED
    assert "is not a Cobot host the add-on downloads from" in item.error_text()
    assert world.vouchers() == []
    assert not sandboxes.sevdesk.requests(path="invoice.pdf")
