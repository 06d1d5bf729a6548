"""The ``cobot-sevdesk`` command.

Sub-commands that need the database set Django up first; ``sandbox`` and
``generate-key`` do not touch it.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Django models load only after ``_django()``
    from cobot_sevdesk.ledger.models import Backfill, Space

Command = Callable[[argparse.Namespace], int]


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cobot_sevdesk.settings")
    import django

    django.setup()


def _shared_metrics_dir() -> None:
    """Web and worker processes on one machine add up their counters in one place, so
    /metrics shows the external calls the workers made (prometheus multiprocess mode).
    Must run before prometheus_client is imported."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        from pathlib import Path

        data_dir = Path(os.environ.get("DATA_DIR", Path.cwd() / "var"))
        path = data_dir / "prometheus"
        path.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def migrate() -> None:
    """Database migrations and the queue's tables."""
    from django.conf import settings
    from django.core.management import call_command

    from cobot_sevdesk.queue import ensure_queue_schema

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    ensure_queue_schema(settings.HUEY)


def _wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM."""
    from cobot_sevdesk.sandbox.demo import stop_on_signals

    stop = threading.Event()
    stop_on_signals(stop)
    while not stop.wait(0.5):
        pass


def cmd_sandbox(args: argparse.Namespace) -> int:
    from cobot_sevdesk.sandbox.cobot import CobotSandbox
    from cobot_sevdesk.sandbox.control import Sandboxes
    from cobot_sevdesk.sandbox.server import SandboxServer
    from cobot_sevdesk.sandbox.sevdesk import SevdeskSandbox

    cobot = SandboxServer(CobotSandbox(), args.host, args.cobot_port).start()
    sevdesk = SandboxServer(SevdeskSandbox(), args.host, args.sevdesk_port).start()
    boxes = Sandboxes.at(cobot.url, sevdesk.url)
    print(f"Cobot sandbox:  {cobot.url}")
    print(f"sevDesk sandbox: {sevdesk.url}")
    print("\nPoint cobot-sevdesk at them with:")
    for key, value in boxes.environment().items():
        print(f"  export {key}={value}")
    print("\nCtrl-C stops both.", flush=True)
    _wait_for_stop()
    cobot.stop()
    sevdesk.stop()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cobot_sevdesk.sandbox.demo import DemoConfig, run

    config = DemoConfig(
        host=args.host,
        web_port=args.port,
        cobot_port=args.cobot_port,
        sevdesk_port=args.sevdesk_port,
        data_dir=Path(args.data_dir),
        pace=args.pace,
    )
    return run(config)


def cmd_generate_key(args: argparse.Namespace) -> int:
    from cobot_sevdesk.crypto import generate_key

    print(generate_key())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run queue workers plus the sweep that re-queues due work."""
    _shared_metrics_dir()
    _django()
    from django.conf import settings

    from cobot_sevdesk.queue import ensure_queue_schema
    from cobot_sevdesk.runtime import tasks, worker

    huey = settings.HUEY
    ensure_queue_schema(huey)
    consumer = huey.create_consumer(
        workers=args.threads,
        worker_type="thread",
        periodic=False,
        graceful_signal="TERM",
        initial_delay=0.05,
        backoff=1.5,
        max_delay=args.poll,
    )
    # Huey sets this flag on SIGTERM (then waits for running tasks) and on Ctrl-C (then
    # exits at once); running turns check it between items and finish the current one.
    worker.stop_requested = consumer.stop_flag

    def sweep_forever() -> None:
        from django.db import connection

        while True:
            try:
                tasks.sweep()
            except Exception:
                import logging

                logging.getLogger(__name__).exception("sweep failed")
            finally:
                connection.close()
            if worker.stop_requested.wait(settings.SWEEP_INTERVAL):
                return

    threading.Thread(target=sweep_forever, name="sweep", daemon=True).start()
    print(
        f"cobot-sevdesk worker: {args.threads} threads, queue {settings.HUEY_URL.split('@')[-1]}",
        flush=True,
    )
    consumer.run()
    return 0


def _space(subdomain: str) -> Space:
    from cobot_sevdesk.ledger.models import Space

    try:
        return Space.objects.get(subdomain=subdomain)
    except Space.DoesNotExist:
        raise SystemExit(f"No connected space with the subdomain {subdomain!r}.") from None


def _bar(fraction: float, width: int = 30) -> str:
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def cmd_backfill(args: argparse.Namespace) -> int:
    """Sync the existing invoices (and optionally members) of a date range."""
    _django()
    import datetime as dt
    import time

    from cobot_sevdesk.ledger.models import Backfill
    from cobot_sevdesk.runtime import tasks, worker

    space = _space(args.subdomain)
    if args.resume:
        job = Backfill.objects.filter(pk=args.resume, space=space).first()
        if job is None:
            raise SystemExit(f"No backfill #{args.resume} in {space.subdomain}.")
        job.resume()
    else:
        try:
            start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
        except ValueError:
            raise SystemExit("--from and --to must be dates as YYYY-MM-DD.") from None
        if end < start:
            raise SystemExit("--to must not be before --from")
        job = Backfill.objects.create(
            space=space,
            start_date=start,
            end_date=end,
            dry_run=args.dry_run,
            include_members=args.members,
        )
    print(
        f"Backfill #{job.pk} for {space.subdomain}: {job.start_date} to {job.end_date}"
        f"{' (dry run)' if job.dry_run else ''}"
    )
    if args.inline:
        while True:
            result = worker.drain_space(space.pk)
            job.refresh_from_db()
            _print_progress(job)
            if job.state not in Backfill.ACTIVE and not result.more:
                break
            if not result.acquired:
                time.sleep(1)
    else:
        tasks.wake_space(space.pk)
        if args.no_wait:
            print("Queued; a running `cobot-sevdesk worker` does the work.")
            return 0
        while True:
            job.refresh_from_db()
            _print_progress(job)
            progress = job.progress()
            if job.state not in Backfill.ACTIVE and (
                job.dry_run or progress["synced"] >= job.added
            ):
                break
            time.sleep(1)
    print()
    if job.dry_run:
        print(f"Would add {job.added} invoices ({job.already_known} already known):")
        for row in job.preview[:50]:
            amount = f"{row['total']:>12} {row['currency']}"
            print(f"  {row['date']}  {row['number']:<20} {amount}  {row['recipient']}")
        if job.added > 50:
            print(f"  ... and {job.added - 50} more")
    return 0 if job.state == Backfill.State.DONE else 1


def _print_progress(job: Backfill) -> None:
    p = job.progress()
    listed = p["pages_done"] / p["total_pages"] if p["total_pages"] else 0.0
    synced = p["synced"] / job.added if job.added else (1.0 if job.state == "done" else 0.0)
    line = (
        f"\rlisted {_bar(listed, 15)} {p['pages_done']}/{p['total_pages'] or '?'} pages, "
        f"{job.added} new"
        + ("" if job.dry_run else f"  synced {_bar(synced, 15)} {p['synced']}/{job.added}")
    )
    print(line, end="", flush=True)


def cmd_retry(args: argparse.Namespace) -> int:
    """Retry one failed item, or all failed items of a space."""
    _django()
    from cobot_sevdesk.runtime import tasks

    space = _space(args.subdomain)
    if args.item:
        item = space.items.filter(pk=args.item).first()
        if item is None:
            raise SystemExit(f"No item {args.item} in {space.subdomain}.")
        count = int(item.retry())
        if not count:
            print(f"Item {item.pk} is {item.state}; only failed or skipped items can be retried.")
    else:
        count = sum(i.retry() for i in space.items.filter(state="failed"))
    if count:
        tasks.wake_space(space.pk)
    print(f"{count} item(s) queued again.")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _django()
    migrate()
    print("Database and queue are up to date.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The web app under gunicorn (migrations first, unless --no-migrate)."""
    _shared_metrics_dir()
    _django()
    from cobot_sevdesk.doctor import refuse_unsafe_serve

    refuse_unsafe_serve()
    if not args.no_migrate:
        migrate()
    from gunicorn.app.base import BaseApplication

    from cobot_sevdesk.wsgi import application

    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": "-" if args.access_log else None,
        "logger_class": "cobot_sevdesk.logs.GunicornLogger",  # redacts both logs
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "cobot-sevdesk",
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> object:
            return application

    print(
        f"cobot-sevdesk web: http://{args.host}:{args.port}/ "
        f"({args.workers} x {args.threads} threads)",
        flush=True,
    )
    Server().run()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _django()
    from cobot_sevdesk import doctor

    results = doctor.run()
    for result in results:
        print(result.line())
    problems = [r for r in results if not r.ok]
    print(f"\n{len(problems)} problem(s)." if problems else "\nAll checks passed.")
    return 1 if problems else 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    """Re-encrypt every stored secret with the first key in FERNET_KEYS."""
    _django()
    from cobot_sevdesk.ledger.models import Space

    count = sum(space.reencrypt() for space in Space.objects.all())
    print(
        f"Re-encrypted {count} secret(s) with the newest key. Sessions hold users' Cobot "
        "tokens for up to 12 hours: keep the old key that long, then remove it from FERNET_KEYS."
    )
    return 0


def cmd_rotate_webhook_secret(args: argparse.Namespace) -> int:
    """A new webhook secret for a space, its Cobot subscriptions moved to it."""
    _django()
    from cobot_sevdesk.sync.subscriptions import rotate_webhook_secret

    rotation = rotate_webhook_secret(_space(args.subdomain))
    print(rotation.summary())
    return 0 if rotation.ok else 1


def cmd_pause(args: argparse.Namespace) -> int:
    _django()

    from cobot_sevdesk.ledger.models import Space

    space = _space(args.subdomain)
    if args.command == "pause":
        space.pause(Space.PauseReason.MANUAL, args.reason or "Paused by an operator.")
        print(f"{space.subdomain} paused: nothing is sent to sevDesk; webhooks are still recorded.")
    else:
        space.resume()
        from cobot_sevdesk.runtime import tasks

        tasks.wake_space(space.pk)
        print(f"{space.subdomain} resumed.")
    return 0


def cmd_prune_history(args: argparse.Namespace) -> int:
    """Delete old history entries. Ledger items themselves are kept: they are what
    makes a re-delivered webhook a no-op, years later too."""
    _django()
    import datetime as dt

    from django.conf import settings
    from django.utils import timezone

    from cobot_sevdesk.ledger.models import Backfill, LedgerEvent

    days = args.days if args.days is not None else settings.HISTORY_RETENTION_DAYS
    cutoff = timezone.now() - dt.timedelta(days=days)
    events, _detail = LedgerEvent.objects.filter(at__lt=cutoff).delete()
    backfills, _detail = Backfill.objects.filter(finished_at__lt=cutoff).delete()
    print(
        f"Deleted {events} history entries and {backfills} finished backfills "
        f"older than {days} days."
    )
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cobot-sevdesk manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cobot-sevdesk",
        description="Keeps a Cobot space and a sevDesk account in step.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sandbox", help="run the Cobot and sevDesk sandboxes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--cobot-port", type=int, default=8801)
    p.add_argument("--sevdesk-port", type=int, default=8802)
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("demo", help="the whole product on your machine, against the sandboxes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="web app port")
    p.add_argument("--cobot-port", type=int, default=8801)
    p.add_argument("--sevdesk-port", type=int, default=8802)
    p.add_argument("--data-dir", default="var/demo", help="wiped and rebuilt at every start")
    p.add_argument("--pace", type=float, default=1.5, help="seconds between seeded events")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "worker", help="run background workers (Ctrl-C or SIGTERM stops them cleanly)"
    )
    p.add_argument(
        "--threads", type=int, default=None, help="worker threads (default WORKER_THREADS or 4)"
    )
    p.add_argument(
        "--poll", type=float, default=0.5, help="longest queue polling interval, seconds"
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("backfill", help="sync the existing invoices of a date range")
    p.add_argument("subdomain")
    p.add_argument("--from", dest="start", help="first invoice date, YYYY-MM-DD")
    p.add_argument("--to", dest="end", help="last invoice date, YYYY-MM-DD")
    p.add_argument("--dry-run", action="store_true", help="only show what would be added")
    p.add_argument("--members", action="store_true", help="also members confirmed in the range")
    p.add_argument("--resume", type=int, metavar="ID", help="resume a stopped backfill")
    p.add_argument(
        "--inline", action="store_true", help="do the work in this process (no worker needed)"
    )
    p.add_argument("--no-wait", action="store_true", help="queue it and return")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("retry", help="retry a failed item, or all failed items of a space")
    p.add_argument("subdomain")
    p.add_argument("item", nargs="?", type=int, help="item id (default: all failed items)")
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("serve", help="run the web app under gunicorn (runs migrations first)")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    p.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    p.add_argument("--no-migrate", action="store_true", help="do not run migrations at start-up")
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations and create the queue's tables")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "check", help="validate configuration and reachability, one line per problem"
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "rotate-keys", help="re-encrypt stored secrets with the newest FERNET_KEYS key"
    )
    p.set_defaults(func=cmd_rotate_keys)

    p = sub.add_parser(
        "rotate-webhook-secret",
        help="give a space a new webhook secret and move its Cobot subscriptions to it",
    )
    p.add_argument("subdomain")
    p.set_defaults(func=cmd_rotate_webhook_secret)

    for name, text in (
        ("pause", "stop sending a space's data to sevDesk"),
        ("resume", "resume a paused space"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("subdomain")
        if name == "pause":
            p.add_argument("--reason", default="")
        p.set_defaults(func=cmd_pause)

    p = sub.add_parser(
        "prune-history", help="delete history entries older than HISTORY_RETENTION_DAYS"
    )
    p.add_argument("--days", type=int, default=None)
    p.set_defaults(func=cmd_prune_history)

    p = sub.add_parser("generate-key", help="print a new encryption key for FERNET_KEYS")
    p.set_defaults(func=cmd_generate_key)

    p = sub.add_parser("manage", help="Django's manage.py commands")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "worker" and args.threads is None:
        args.threads = int(os.environ.get("WORKER_THREADS", "4"))
    if args.command == "backfill" and not args.resume and not (args.start and args.end):
        parser.error("backfill needs --from and --to (or --resume ID)")
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    sys.exit(main())
