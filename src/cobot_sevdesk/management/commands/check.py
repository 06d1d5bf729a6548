"""``cobot-sevdesk check``: Django's system checks, then ours (``doctor.py``):
configuration and reachability, one line per problem; exit code 1 if any.

It replaces Django's command of the same name and keeps all its options
(docs/DECISIONS.md). Asked for particular system checks (app labels, ``--tag``,
``--list-tags``), it runs only those, like Django's.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import SystemCheckError
from django.core.management.commands import check

from cobot_sevdesk import doctor


class Command(check.Command):
    help = "validate configuration and reachability, one line per problem"

    def handle(self, *app_labels: Any, **options: Any) -> None:
        try:
            super().handle(*app_labels, **options)
            system_ok = True
        except SystemCheckError as error:  # printed the way Django's command prints it
            self.stderr.write(str(error))
            system_ok = False
        if app_labels or options["tags"] or options["list_tags"]:
            if not system_ok:
                sys.exit(1)
            return
        results = doctor.run()
        for result in results:
            self.stdout.write(result.line())
        problems = sum(not r.ok for r in results) + (0 if system_ok else 1)
        self.stdout.write(f"\n{problems} problem(s)." if problems else "\nAll checks passed.")
        if problems:
            sys.exit(1)
