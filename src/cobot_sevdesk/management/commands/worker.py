"""``cobot-sevdesk worker``: queue workers (threads) plus the sweep that re-queues due
work. SIGTERM finishes the item at hand and takes no more; Ctrl-C stops at once.

Metrics go to the machine's shared directory, set up by the console script before
anything imported prometheus_client (``cli.share_metrics``).
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from huey.consumer import Consumer, ThreadEnvironment

from cobot_sevdesk.management import base
from cobot_sevdesk.queue import ensure_queue_schema
from cobot_sevdesk.runtime import tasks, worker


class Command(base.Command):
    help = "run background workers (Ctrl-C or SIGTERM stops them cleanly)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads", type=int, default=None, help="worker threads (default: WORKER_THREADS)"
        )
        parser.add_argument(
            "--poll", type=float, default=0.5, help="longest queue polling interval, seconds"
        )

    def handle(self, *args: Any, threads: int | None, poll: float, **options: Any) -> None:
        if threads is None:
            threads = settings.WORKER_THREADS
        huey = settings.HUEY
        ensure_queue_schema(huey)
        consumer = WorkerConsumer(
            huey,
            workers=threads,
            worker_type="thread",
            periodic=False,
            graceful_signal="TERM",
            initial_delay=0.05,
            backoff=1.5,
            max_delay=poll,
        )
        threading.Thread(
            target=tasks.sweep_until,
            args=(worker.stop_requested, settings.SWEEP_INTERVAL),
            name="sweep",
            daemon=True,
        ).start()
        self.stdout.write(
            f"cobot-sevdesk worker: {threads} threads, queue {settings.HUEY_URL.split('@')[-1]}"
        )
        self.stdout.flush()
        consumer.run()


class WorkerConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer, stopping through ``runtime.worker.stop_requested``.

    Huey sets its consumer's stop flag on SIGTERM (then waits for running tasks) and
    on Ctrl-C (then exits at once). Here that flag is the event a running turn checks
    between items, so SIGTERM lets the current item finish and no more start. The
    consumer creates its flag through its environment; this one hands out the
    worker's event instead of a new one."""

    def get_environment(self, worker_type: str) -> ThreadEnvironment:
        threads = super().get_environment(worker_type)
        if not isinstance(threads, ThreadEnvironment):
            raise ValueError("the worker runs its queue workers as threads")
        return StopOnWorkerEvent(threads.graceful, threads.interrupt)


class StopOnWorkerEvent(ThreadEnvironment):  # type: ignore[misc]
    def get_stop_flag(self) -> threading.Event:
        return worker.stop_requested
