"""The whole path in a real browser (Playwright driving Debian's Chromium) against the
sandboxes, a live server and a real worker process; screenshots of every page in
every language go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.sandbox.control import Sandboxes
from tests.conftest import IN_CI
from tests.processes import wait_until, workers
from tests.web.conftest import CLIENT_ID, CLIENT_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: What the language switch must show on the dashboard, per language.
DASHBOARD_WORDS = {
    "en": "Sync dashboard",
    "de": "Synchronisations-Übersicht",
    "fr": "Tableau de bord",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls are still synchronous, so Django's guard against async use is lifted here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def shot(page: Any, language: str, name: str) -> None:
    folder = SCREENSHOTS / language
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_admin_connects_a_space_and_fixes_a_failed_invoice(
    browser: Any, sandboxes: Sandboxes, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.PUBLIC_URL = live_server.url
    settings.COBOT_CLIENT_ID, settings.COBOT_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    cobot, sevdesk = sandboxes.cobot, sandboxes.sevdesk
    cobot.add_client(CLIENT_ID, CLIENT_SECRET, [f"{live_server.url}/auth/callback/"])
    ada = cobot.add_user("ada@example.org", "Ada Admin")
    for subdomain, name in (("co-up", "co.up Berlin"), ("hafen", "Hafenbüro Hamburg")):
        cobot.add_space(subdomain, name, [ada["id"]])
    for code in ("Desks", "Meeting rooms", "Parking"):
        cobot.add_accounting_code("co-up", code)
    token = secrets.token_hex(16)
    sevdesk.add_account(
        token,
        cost_centres=[{"number": "100", "name": "Coworking"}],
        booking_accounts=[
            {"name": "Desks", "like": "4400"},
            {"name": "Meeting rooms", "like": "4400"},
        ],
    )

    page = browser.new_page(locale="en-US")
    page.set_default_timeout(15_000)
    # Log in with Cobot and pick one of two spaces.
    page.goto(f"{live_server.url}/")
    shot(page, "en", "home")
    page.get_by_role("link", name="Log in with Cobot").click()
    page.get_by_role("button", name="Approve as Ada Admin").click()
    page.wait_for_url(f"{live_server.url}/spaces/")
    assert page.get_by_text("Hafenbüro Hamburg").is_visible()
    shot(page, "en", "spaces")
    page.locator("tr", has_text="co.up Berlin").get_by_role("button").click()
    page.wait_for_url(f"{live_server.url}/s/co-up/settings/")

    # A wrong token is a clear form error.
    page.get_by_label("sevDesk API token").fill("0" * 32)
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("sevDesk does not accept this API token").is_visible()
    shot(page, "en", "settings-wrong-token")
    # The right one, a cost centre and 14 days connect the space.
    page.get_by_label("sevDesk API token").fill(token)
    page.get_by_label("Cost center number (optional)").fill("100")
    page.get_by_label("Vouchers due after (days)").fill("14")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/s/co-up/")
    assert page.get_by_text("Saved.").is_visible()
    # The booking-code check: Parking has no account in sevDesk.
    page.get_by_role("link", name="Settings").click()
    assert page.locator("#booking-codes tr.unmatched").inner_text().startswith("Parking")
    assert page.locator("#booking-codes tr.matched").count() == 2
    shot(page, "en", "settings")

    with workers(sandboxes, tmp_path, PUBLIC_URL=live_server.url):
        # A member and an invoice arrive through Cobot's webhooks and sync.
        member = cobot.add_member("co-up", "Jane Doe", email="jane@example.org", city="Berlin")
        cobot.add_invoice(
            "co-up",
            [
                {
                    "description": "Flex desk",
                    "quantity": "1",
                    "unit_net": "150",
                    "tax_rate": "19",
                    "accounting_code": "Desks",
                }
            ],
            membership_id=member["id"],
        )
        wait_until(
            lambda: LedgerItem.objects.filter(state="synced").count() == 2,
            timeout=30,
            message="synced",
        )
        page.goto(f"{live_server.url}/s/co-up/")
        assert page.locator("#items tr[data-state=synced]").count() == 2
        shot(page, "en", "dashboard")

        # An invoice whose accounting code has no account: failure with its reason.
        sevdesk.remove_booking_account(token, "Meeting rooms")
        cobot.add_invoice(
            "co-up",
            [
                {
                    "description": "Meeting room 2h",
                    "quantity": "2",
                    "unit_net": "25",
                    "tax_rate": "19",
                    "accounting_code": "Meeting rooms",
                }
            ],
            membership_id=member["id"],
        )
        wait_until(
            lambda: LedgerItem.objects.filter(state="failed").exists(), timeout=30, message="failed"
        )
        page.goto(f"{live_server.url}/s/co-up/")
        attention = page.locator("#needs-admin")
        assert (
            "Meeting rooms" in attention.inner_text()
            and "no booking account" in attention.inner_text()
        )
        shot(page, "en", "dashboard-failure")
        attention.get_by_role("link").first.click()
        assert "Meeting rooms" in page.locator("#last-error").inner_text()
        shot(page, "en", "item-failed")
        # The admin creates the account in sevDesk, then presses Retry.
        sevdesk.add_booking_account(token, "Meeting rooms", like="4400")
        page.get_by_role("button", name="Retry").click()
        wait_until(
            lambda: (
                not LedgerItem.objects.filter(state__in=["failed", "pending", "running"]).exists()
            ),
            timeout=30,
            message="retried",
        )
        page.reload()
        assert page.locator("#item-state").inner_text() == "synced"
        shot(page, "en", "item-synced")
    assert len(sevdesk.state(token)["vouchers"]) == 2

    # Every page in every language.
    item = LedgerItem.objects.filter(kind="invoice").first()
    assert item is not None
    pages = {
        "dashboard": "/s/co-up/",
        "settings": "/s/co-up/settings/",
        "item": f"/s/co-up/items/{item.pk}/",
        "spaces": "/spaces/",
    }
    for language, word in DASHBOARD_WORDS.items():
        page.goto(f"{live_server.url}/s/co-up/")
        with page.expect_navigation():
            page.locator("select[name=language]").select_option(language)
        assert word in page.content(), language
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            shot(page, language, name)
    assert Space.objects.get(subdomain="co-up").status == "active"
