"""A stateful fake of Cobot: OAuth, API 1 (www and per-space), API 2, webhooks.

One server plays every Cobot host. Paths:

- ``/oauth/authorize``, ``/oauth/access_token``, ``/api/user``, ``/api/spaces/<sub>``,
  ``/api/access_tokens/<token>[/space]`` -- what lives on www.cobot.me (``COBOT_URL``);
- ``/space/<subdomain>/api/...`` -- API 1 of one space (``COBOT_SPACE_URL`` is
  ``<base>/space/{subdomain}``), standing in for ``https://<subdomain>.cobot.me``;
- ``/api2/...`` -- API 2 (``COBOT_API2_URL`` is ``<base>/api2``).

Each area is a module with one class that holds the shared ``CobotState`` and
registers its routes: ``oauth``, ``api1``, ``api2``, ``payments`` (payment records
and paid invoices), ``webhooks`` (subscriptions and their delivery over HTTP),
``control`` (``/_sandbox/...``) and ``ui`` (a page to create members and invoices by
hand). Invoice amounts follow ``cobot_sevdesk.sandbox.rounding``.

Guesses about the real API are marked GUESS at the one place they are made.
"""

from __future__ import annotations

from cobot_sevdesk.sandbox.app import App, Area
from cobot_sevdesk.sandbox.cobot.api1 import Api1
from cobot_sevdesk.sandbox.cobot.api2 import Api2
from cobot_sevdesk.sandbox.cobot.control import Control
from cobot_sevdesk.sandbox.cobot.oauth import OAuth
from cobot_sevdesk.sandbox.cobot.payments import Payments
from cobot_sevdesk.sandbox.cobot.state import CobotState
from cobot_sevdesk.sandbox.cobot.ui import Ui
from cobot_sevdesk.sandbox.cobot.webhooks import Webhooks

__all__ = ["CobotSandbox"]


class CobotSandbox(App):
    name = "cobot-sandbox"

    def __init__(self) -> None:
        super().__init__()
        self.state = CobotState(self.lock, lambda: self.base_url)
        self.webhooks = Webhooks(self.state)
        control = Control(self.state, self.webhooks)
        self.payments = Payments(self.state, self.webhooks)
        areas: tuple[Area[CobotState], ...] = (
            OAuth(self.state),
            self.payments,  # before API 1, whose invoice route would take its paths
            Api1(self.state),
            self.webhooks,
            Api2(self.state),
            control,
            Ui(self.state, control),
        )
        for area in areas:
            area.register(self)
        self.webhooks.start()

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.state.reset()
            self.webhooks.reset()
            self.payments.reset()
