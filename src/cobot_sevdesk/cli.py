"""The ``cobot-sevdesk`` command: this project's ``manage.py``.

Every sub-command is a Django management command, one per file in
``management/commands/`` (``rotate-keys`` is ``rotate_keys.py``), and Django's own
commands (``createsuperuser``, ``dbshell``, ``showmigrations``, ...) work too. Our
``check`` and ``migrate`` extend Django's commands of those names (docs/DECISIONS.md).
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from django.core.management import (
    BaseCommand,
    ManagementUtility,
    get_commands,
    load_command_class,
)

#: The app that holds our commands: the package itself.
APP = "cobot_sevdesk"
#: Commands whose processes add up their metrics with the machine's others.
SHARED_METRICS = frozenset({"serve", "worker"})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["manage"]:  # `cobot-sevdesk manage X` ran Django's commands before
        args = args[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobot_sevdesk.settings")
    if args[:1] and args[0] in SHARED_METRICS:
        share_metrics()
    CommandLine(["cobot-sevdesk", *args]).execute()
    return 0


def share_metrics() -> None:
    """Serve and worker processes on one machine add up their metrics in one directory
    (prometheus_client's multiprocess mode), so /metrics also counts the calls the
    workers made. prometheus_client takes the directory from the environment once,
    when it is first imported, so the setting is exported here: before Django loads
    the apps and the command, which import prometheus_client. Reading a setting loads
    only the settings module, which does not import it."""
    from django.conf import settings

    path = Path(settings.PROMETHEUS_MULTIPROC_DIR)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


class CommandLine(ManagementUtility):
    """Django's ``manage.py``, with our commands named as the README writes them
    (``rotate-keys``) and a help page that starts with them."""

    def fetch_command(self, subcommand: str) -> BaseCommand:
        return super().fetch_command(subcommand.replace("-", "_"))

    def main_help_text(self, commands_only: bool = False) -> str:
        if commands_only or self.settings_exception is not None:
            return super().main_help_text(commands_only)
        commands = get_commands()
        ours = sorted(name for name, app in commands.items() if app == APP)
        width = max(len(name) for name in ours) + 2
        lines = [
            f"Usage: {self.prog_name} COMMAND [options]",
            "",
            "Keeps a Cobot space and a sevDesk account in step.",
            "",
            "Commands:",
        ]
        for name in ours:
            summary = str(load_command_class(APP, name).help).strip().split("\n")[0]
            lines.append(f"  {name.replace('_', '-'):<{width}}{summary}")
        lines += [
            "",
            f"'{self.prog_name} COMMAND --help' shows a command's options.",
            "Django's commands work too:",
        ]
        others: dict[str, list[str]] = defaultdict(list)
        for name, app in commands.items():
            if app != APP:
                others["django" if app == "django.core" else app.rpartition(".")[2]].append(name)
        for app, names in sorted(others.items()):
            lines.append(
                textwrap.fill(
                    ", ".join(sorted(names)),
                    width=88,
                    initial_indent=f"  [{app}] ",
                    subsequent_indent="    ",
                )
            )
        return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
