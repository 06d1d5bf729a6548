"""Shared fixtures: both sandboxes on loopback ports, reset before every test, and the
product's settings pointed at them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from cobot_sevdesk.sandbox.cobot import CobotSandbox
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.server import SandboxServer, serve_in_thread
from cobot_sevdesk.sandbox.sevdesk import SevdeskSandbox

if TYPE_CHECKING:
    from tests.world import World

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session", autouse=True)
def _queue_tables() -> None:
    """What `serve` and `worker` do at start: the queue's tables exist."""
    from django.conf import settings

    from cobot_sevdesk.queue import ensure_queue_schema

    ensure_queue_schema(settings.HUEY)


@pytest.fixture(scope="session")
def sandbox_servers() -> Iterator[tuple[SandboxServer, SandboxServer]]:
    cobot = serve_in_thread(CobotSandbox())
    sevdesk = serve_in_thread(SevdeskSandbox())
    yield cobot, sevdesk
    cobot.stop()
    sevdesk.stop()


@pytest.fixture
def sandboxes(sandbox_servers: tuple[SandboxServer, SandboxServer], settings: object) -> Sandboxes:
    cobot, sevdesk = sandbox_servers
    boxes = Sandboxes.at(cobot.url, sevdesk.url)
    boxes.reset()
    for key, value in boxes.environment().items():
        setattr(settings, key, value)
    return boxes


@pytest.fixture
def world(sandboxes: Sandboxes) -> World:
    """A connected space with its sandbox accounts (a module may define its own)."""
    from tests.world import make_world

    return make_world(sandboxes)


@pytest.fixture(autouse=True)
def _fresh_page_caches() -> None:
    """Listings kept in the process are keyed by space id and token, which a new test
    database can repeat."""
    from cobot_sevdesk.sync import pages

    pages.clear()


@pytest.fixture(params=["pages", "items"])
def sync_mode(request: pytest.FixtureRequest, settings: object) -> str:
    """Both ways of reading invoices (``sync.pages``). In page mode even a single due
    invoice is read from a listing, so every test that uses this runs through it."""
    settings.SYNC_PAGES = request.param == "pages"
    settings.SYNC_PAGE_MIN = 1
    return str(request.param)


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """Django's locale middleware leaves the last request's language active in the
    thread; a test that asked in German must not make the next one read German."""
    yield
    from django.utils import translation

    translation.activate("en")
