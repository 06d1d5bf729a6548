"""``cobot-sevdesk sandbox``: the fake Cobot and sevDesk, until Ctrl-C, with the
variables that point the product at them."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import CommandParser

from cobot_sevdesk.management import base
from cobot_sevdesk.sandbox.cobot import CobotSandbox
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.demo import stop_on_signals
from cobot_sevdesk.sandbox.server import SandboxServer
from cobot_sevdesk.sandbox.sevdesk import SevdeskSandbox


class Command(base.Command):
    help = "run the Cobot and sevDesk sandboxes"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--cobot-port", type=int, default=8801)
        parser.add_argument("--sevdesk-port", type=int, default=8802)

    def handle(
        self, *args: Any, host: str, cobot_port: int, sevdesk_port: int, **options: Any
    ) -> None:
        cobot = SandboxServer(CobotSandbox(), host, cobot_port).start()
        sevdesk = SandboxServer(SevdeskSandbox(), host, sevdesk_port).start()
        boxes = Sandboxes.at(cobot.url, sevdesk.url)
        self.stdout.write(f"Cobot sandbox:  {cobot.url}")
        self.stdout.write(f"sevDesk sandbox: {sevdesk.url}")
        self.stdout.write("\nPoint cobot-sevdesk at them with:")
        for key, value in boxes.environment().items():
            self.stdout.write(f"  export {key}={value}")
        self.stdout.write("\nCtrl-C stops both.")
        self.stdout.flush()
        stop = threading.Event()
        stop_on_signals(stop)
        while not stop.wait(0.5):
            pass
        cobot.stop()
        sevdesk.stop()
