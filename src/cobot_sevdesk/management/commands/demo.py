"""``cobot-sevdesk demo``: the whole product on this machine, against the sandboxes
(``sandbox/demo.py``). Ctrl-C stops everything it started."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from cobot_sevdesk.management import base
from cobot_sevdesk.sandbox.control import Sandboxes
from cobot_sevdesk.sandbox.demo import DemoConfig, connect_first_space, run


class Command(base.Command):
    help = "the whole product on your machine, against the sandboxes"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="web app port")
        parser.add_argument("--cobot-port", type=int, default=8801)
        parser.add_argument("--sevdesk-port", type=int, default=8802)
        parser.add_argument(
            "--data-dir", default="var/demo", help="wiped and rebuilt at every start"
        )
        parser.add_argument("--pace", type=float, default=1.5, help="seconds between seeded events")
        # The demo's own step in the product's database. This process loaded its settings
        # before the demo chose its data directory and keys, so the demo runs this step
        # in a child process started with the demo's environment.
        parser.add_argument("--connect-first-space", metavar="ADMIN_ID", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["connect_first_space"]:
            boxes = Sandboxes.at(settings.COBOT_URL, settings.SEVDESK_URL)
            connect_first_space(boxes, options["connect_first_space"])
            return
        config = DemoConfig(
            host=options["host"],
            web_port=options["port"],
            cobot_port=options["cobot_port"],
            sevdesk_port=options["sevdesk_port"],
            data_dir=Path(options["data_dir"]),
            pace=options["pace"],
        )
        code = run(config)
        if code:
            sys.exit(code)
