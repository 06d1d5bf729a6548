"""``cobot-sevdesk serve``: the web app under gunicorn, migrations first.

Metrics go to the machine's shared directory, set up by the console script before
anything imported prometheus_client (``cli.share_metrics``).
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser
from gunicorn.app.base import BaseApplication

from cobot_sevdesk.doctor import refuse_unsafe_serve
from cobot_sevdesk.management import base

T = TypeVar("T")


class Command(base.Command):
    help = "run the web app under gunicorn (runs migrations first)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=None, help="default: HOST")
        parser.add_argument("--port", type=int, default=None, help="default: PORT")
        parser.add_argument(
            "--workers", type=int, default=None, help="processes (default: WEB_WORKERS)"
        )
        parser.add_argument(
            "--threads", type=int, default=None, help="threads per process (default: WEB_THREADS)"
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not run migrations at start-up"
        )
        parser.add_argument("--access-log", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        host = _given(options["host"], settings.WEB_HOST)
        port = _given(options["port"], settings.WEB_PORT)
        workers = _given(options["workers"], settings.WEB_WORKERS)
        threads = _given(options["threads"], settings.WEB_THREADS)
        refuse_unsafe_serve()
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        from cobot_sevdesk.wsgi import application

        gunicorn = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": "-" if options["access_log"] else None,
            "logger_class": "cobot_sevdesk.logs.GunicornLogger",  # redacts both logs
            "errorlog": "-",
            "loglevel": "warning",
            "proc_name": "cobot-sevdesk",
        }
        self.stdout.write(
            f"cobot-sevdesk web: http://{host}:{port}/ ({workers} x {threads} threads)"
        )
        self.stdout.flush()
        Gunicorn(application, gunicorn).run()


def _given(option: T | None, setting: T) -> T:
    return setting if option is None else option


class Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured here instead of by its own command line."""

    def __init__(self, application: object, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> object:
        return self.application
