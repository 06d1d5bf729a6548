"""Page mode (``SYNC_PAGES``) against item mode: what a backfill and a month-end run cost
in Cobot and sevDesk calls, and how close they come to the fastest any client could go.

Every sandbox request takes 100 ms and Cobot takes 60 requests per minute per token (the
product keeps to that: ``COBOT_REQUESTS_PER_MINUTE`` 60). Two bounds, each a floor on the
wall time:

- the **Cobot bound**: the Cobot API calls made, one per second (the limit);
- the **sevDesk bound**: the sevDesk calls made, 100 ms each, one at a time per space.
  Spaces run in parallel, so a run over several spaces is bound by its busiest space.
  Page mode overlaps a space's sevDesk requests (documents uploaded ahead in a thread,
  a second lane of saves), so there the bound is a yardstick, not a floor: the results
  say how many of a space's requests were in flight at most.

PDF downloads (Cobot's signed links, no token, outside the limit) are counted apart.

A. ``backfill``: one space with N invoices of one year already in Cobot when it is
   connected, and a backfill of that year; one worker process (four threads). Wall time
   from the moment the backfill is queued until every invoice's item is final.
B. ``monthend``: 40 spaces, each warmed up with one invoice, then 100 invoices each
   created in Cobot at once (Cobot's webhooks bring them); one worker process (48
   threads). 3 s in, one invoice in an unrelated 41st space: how long until its receipt
   is in sevDesk.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cobot_sevdesk.sandbox.control import invoice_line

from .env import CUSTOMER, Env, environment, percentile
from .scenarios import calls, final_count, receipt_times, wait_for

Result = dict[str, Any]
DELAY = 0.1
LIMIT = 60
#: 0 and 1, as ``python -m bench.one`` passes numbers.
MODES = {0: "items", 1: "pages"}
IDS = re.compile(r"/[0-9a-f-]{6,}(?=/|\.pdf$|$)|/\d+(?=/|$)")


def _settings(pages: bool) -> dict[str, str]:
    return {
        "SYNC_PAGES": "true" if pages else "false",
        "COBOT_REQUESTS_PER_MINUTE": str(LIMIT),
    }


def _endpoints(logged: list[dict[str, Any]]) -> dict[str, int]:
    """Requests by method and path with the ids left out, most frequent first."""
    counted = Counter(f"{r['method']} {IDS.sub('/<id>', r['path'])}" for r in logged)
    return dict(counted.most_common())


def _started(env: Env, name: str, timeout: float = 60) -> None:
    """Wait until the worker process says it runs (its first line of output)."""
    log = env.data_dir / f"{name}.log"
    if not wait_for(lambda: log.exists() and "worker:" in log.read_text(errors="replace"), timeout):
        raise RuntimeError(f"{name} did not start; see {log}")


def _fresh_limits(env: Env) -> None:
    """Empty request logs and Cobot rate windows: the set-up's calls count for neither."""
    env.boxes.cobot.clear_requests()
    env.boxes.sevdesk.clear_requests()
    env.boxes.cobot.rate_limit(LIMIT)


def _duplicates(env: Env, tokens: list[str]) -> dict[str, int]:
    """Document numbers stored twice: among the ``saveVoucher`` calls answered 201 (per
    sevDesk account) and among the receipts the sandbox holds."""
    saved: Counter[tuple[str, str]] = Counter()
    for logged in env.boxes.sevdesk.requests(method="POST", path="saveVoucher"):
        if logged["status"] == 201 and logged["body"]:
            token = logged["headers"]["authorization"]
            saved[(token, logged["body"]["voucher"]["description"])] += 1
    held: Counter[tuple[str, str]] = Counter()
    for token in tokens:
        for voucher in env.boxes.sevdesk.state(token)["vouchers"]:
            held[(token, voucher["description"])] += 1
    return {
        "saved_twice": sum(1 for n in saved.values() if n > 1),
        "held_twice": sum(1 for n in held.values() if n > 1),
    }


def peak_parallel(sevdesk_log: list[dict[str, Any]]) -> int:
    """The most sevDesk requests of one account in flight at once. A request is logged
    when it is answered, after the sandbox's delay: it was open for the delay before
    (less a few ms, so back-to-back requests do not count as overlapping)."""
    events: dict[str, list[tuple[float, int]]] = {}
    for r in sevdesk_log:
        token = r["headers"].get("authorization", "")
        events.setdefault(token, []).extend([(r["at"] - DELAY + 0.005, 1), (r["at"], -1)])
    peak = 0
    for marks in events.values():
        open_now = 0
        for _at, step in sorted(marks):
            open_now += step
            peak = max(peak, open_now)
    return peak


def _retries() -> dict[str, int]:
    """Retry entries in the items' history, by their message."""
    from cobot_sevdesk.ledger.models import LedgerEvent

    retried = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.RETRY)
    return dict(Counter(e.text()[:120] for e in retried).most_common(10))


def _receipts(env: Env, token: str) -> int:
    return len(env.boxes.sevdesk.state(token)["vouchers"])


def _cpu_seconds(pid: int) -> float:
    """CPU time a process used so far (user and system), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _machine_busy() -> tuple[float, float]:
    """Seconds of CPU busy and in all, over all cores, since boot."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Where the CPU went during a run: cores used on average by this process (the
    sandboxes and the load), the worker processes, the web app (gunicorn and its
    workers), and everything on the machine (PostgreSQL included)."""

    def __init__(self, env: Env) -> None:
        groups: dict[str, list[int]] = {"sandboxes": [os.getpid()], "worker": [], "web": []}
        for child in env.children:
            group = "web" if "gunicorn" in str(child.args) else "worker"
            groups[group] += [child.pid, *_children(child.pid)]
        self.groups = groups
        self.wall = time.monotonic()
        self.start = {name: sum(map(_cpu_seconds, pids)) for name, pids in groups.items()}
        self.machine = _machine_busy()

    def cores(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall
        used = {
            name: round((sum(map(_cpu_seconds, pids)) - self.start[name]) / wall, 2)
            for name, pids in self.groups.items()
        }
        busy, total = _machine_busy()
        used["machine_busy_share"] = round(
            (busy - self.machine[0]) / max(total - self.machine[1], 1e-9), 2
        )
        used["cores"] = os.cpu_count() or 0
        return used


def product_version() -> dict[str, Any]:
    """The product's commit the run measured, and whether its checkout had changes."""
    import cobot_sevdesk

    where = Path(cobot_sevdesk.__file__).resolve().parent
    git = ["git", "-C", str(where)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
    )
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--", "."], check=False, capture_output=True, text=True
    )
    return {
        "product_commit": head.stdout.strip() or None,
        "product_changed_files": len(dirty.stdout.splitlines()),
    }


def _progress(stop: threading.Event, started: float, samples: list[tuple[float, int]]) -> None:
    from django.db import connection

    try:
        while not stop.wait(2.0):
            samples.append((round(time.monotonic() - started, 1), final_count()))
    finally:
        connection.close()


# ------------------------------------------------------------------ A. backfill
def backfill(database: str, quick: bool, pages: int = 1, tag: int = 1) -> Result:
    """``tag=0`` turns the space's "Import" tag off (one sevDesk call less per invoice)."""
    count, year = (150, 2025) if quick else (1000, 2025)
    mode = MODES[pages]
    version = product_version()  # the code the processes about to start will run
    with environment(
        database,
        sandbox_delay=DELAY,
        cobot_rate_limit=LIMIT,
        settings=_settings(bool(pages)),
    ) as env:

        def existing(subdomain: str) -> None:
            for n in range(count):
                env.boxes.cobot.add_invoice(
                    subdomain,
                    [invoice_line("Desk", str(10 + n % 9), "19", "Desks")],
                    invoice_date=f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                    customer_number=CUSTOMER,
                    recipient={"name": "Customer", "company": None, "countryCode": "DE"},
                )

        space = env.add_space("backfill", before_connect=existing)
        from cobot_sevdesk.ledger.models import Backfill, LedgerItem
        from cobot_sevdesk.ledger.models import Space as SpaceRow
        from cobot_sevdesk.runtime.tasks import enqueue
        from cobot_sevdesk.sync.context import SpaceContext
        from cobot_sevdesk.sync.reconcile import take_baseline

        # As the connect page does: the invoices there are now are noted (none of
        # them is in the periodic check's window, they are a year old).
        take_baseline(SpaceContext(SpaceRow.objects.get(pk=space.pk)))
        SpaceRow.objects.filter(pk=space.pk).update(tag_import=bool(tag))
        env.start_workers(1, threads=4)
        _started(env, "worker-0")
        _fresh_limits(env)
        cpu = CpuMeter(env)
        started = time.monotonic()
        Backfill.objects.create(
            space_id=space.pk, start_date=dt.date(year, 1, 1), end_date=dt.date(year, 12, 31)
        )
        enqueue(space.pk)
        samples: list[tuple[float, int]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_progress, args=(stop, started, samples), daemon=True)
        sampler.start()
        complete = wait_for(lambda: final_count() == count, 2200, interval=0.2)
        wall = time.monotonic() - started
        cores = cpu.cores()
        stop.set()
        sampler.join()
        counted = calls(env)
        cobot_log = env.boxes.cobot.requests()
        sevdesk_log = env.boxes.sevdesk.requests()
        cobot_bound = counted["cobot_api"] * 60.0 / LIMIT
        sevdesk_bound = counted["sevdesk"] * DELAY
        return {
            **version,
            "database": database,
            "mode": mode,
            "sync_pages": bool(pages),
            "sandbox_delay_s": DELAY,
            "cobot_limit_per_min": LIMIT,
            "worker_threads": 4,
            "import_tag": bool(tag),
            "invoices": count,
            "complete": complete,
            "final": final_count(),
            "synced": LedgerItem.objects.filter(state="synced").count(),
            "receipts": _receipts(env, space.sevdesk_token),
            **_duplicates(env, [space.sevdesk_token]),
            "wall_s": wall,
            "cobot_api_calls": counted["cobot_api"],
            "cobot_pdf_downloads": counted["cobot_pdf"],
            "sevdesk_calls": counted["sevdesk"],
            "cobot_429": sum(1 for r in cobot_log if r["status"] == 429),
            "cobot_api_calls_per_invoice": counted["cobot_api"] / count,
            "cobot_pdf_downloads_per_invoice": counted["cobot_pdf"] / count,
            "sevdesk_calls_per_invoice": counted["sevdesk"] / count,
            "cobot_bound_s": cobot_bound,
            "sevdesk_bound_s": sevdesk_bound,
            "ratio_to_cobot_bound": wall / cobot_bound if cobot_bound else float("nan"),
            "ratio_to_sevdesk_bound": wall / sevdesk_bound if sevdesk_bound else float("nan"),
            # Above 1, the product overlaps a space's sevDesk requests: the bound
            # (one at a time) is then no floor.
            "sevdesk_peak_parallel_per_space": peak_parallel(sevdesk_log),
            "cobot_endpoints": _endpoints(
                [r for r in cobot_log if "authorization" in r["headers"]]
            ),
            "sevdesk_endpoints": _endpoints(sevdesk_log),
            "cpu_cores_used": cores,
            "progress": samples,
        }


# ------------------------------------------------------------------ B. month-end
def monthend(
    database: str,
    quick: bool,
    pages: int = 1,
    space_count: int | None = None,
    invoices_per_space: int | None = None,
    processes: int = 1,
    threads: int = 48,
) -> Result:
    spaces_n = space_count or (8 if quick else 40)
    per_space = invoices_per_space or (20 if quick else 100)
    probe_after = 3.0
    version = product_version()  # the code the processes about to start will run
    with environment(
        database,
        sandbox_delay=DELAY,
        cobot_rate_limit=LIMIT,
        settings=_settings(bool(pages)),
    ) as env:
        spaces = [env.add_space(f"me-{n}") for n in range(spaces_n)]
        other = env.add_space("me-other")
        from cobot_sevdesk.ledger.models import LedgerItem
        from cobot_sevdesk.ledger.models import Space as SpaceRow

        cobot_tokens = {
            f"Bearer {row.cobot_token}": row.subdomain for row in SpaceRow.objects.all()
        }
        env.start_web()
        env.start_workers(processes, threads)
        for space in [*spaces, other]:  # warm-up: caches filled, contacts linked
            env.invoice(space.subdomain)
        warm = spaces_n + 1
        if not wait_for(lambda: final_count() == warm, 120):
            raise RuntimeError("the warm-up invoices did not sync")
        time.sleep(2.0)  # the warm-up's follow-ups (tags) settled
        _fresh_limits(env)

        probe: dict[str, Any] = {}

        def create_probe() -> None:
            time.sleep(max(0.0, started + probe_after - time.monotonic()))
            probe["at"] = time.time()
            probe["after_s"] = time.monotonic() - started
            probe["invoice"] = env.invoice(other.subdomain)

        cpu = CpuMeter(env)
        started = time.monotonic()
        started_at = time.time()
        samples: list[tuple[float, int]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_progress, args=(stop, started, samples), daemon=True)
        sampler.start()
        prober = threading.Thread(target=create_probe, daemon=True)
        prober.start()
        for _n in range(per_space):  # Cobot's month-end run: every space at once
            for space in spaces:
                env.invoice(space.subdomain)
        created_s = time.monotonic() - started
        prober.join()
        total = spaces_n * per_space
        complete = wait_for(lambda: final_count() == warm + total + 1, 1800, interval=0.2)
        wall = time.monotonic() - started
        cores = cpu.cores()
        stop.set()
        sampler.join()

        stored = receipt_times(env)
        probe_key = (other.sevdesk_token, probe["invoice"]["attributes"]["number"])
        probe_latency = stored[probe_key] - probe["at"] if probe_key in stored else float("nan")
        cobot_log = env.boxes.cobot.requests()
        sevdesk_log = env.boxes.sevdesk.requests()
        per_space_sevdesk = Counter(r["headers"].get("authorization") for r in sevdesk_log)
        per_space_cobot = Counter(
            cobot_tokens.get(r["headers"]["authorization"])
            for r in cobot_log
            if "authorization" in r["headers"]
        )
        run_tokens = {s.sevdesk_token for s in spaces}
        sevdesk_run = sum(n for t, n in per_space_sevdesk.items() if t in run_tokens)
        cobot_run = sum(n for s, n in per_space_cobot.items() if s != other.subdomain)
        busiest = max(per_space_sevdesk[t] for t in run_tokens)
        sevdesk_bound = busiest * DELAY
        cobot_bound = max(per_space_cobot[s.subdomain] for s in spaces) * 60.0 / LIMIT
        receipts = sum(_receipts(env, s.sevdesk_token) for s in spaces)
        # When each space's last receipt was stored, from the start.
        finished: dict[str, float] = {}
        for (token, _number), at in stored.items():
            if token in run_tokens:
                finished[token] = max(finished.get(token, 0.0), at - started_at)
        done = sorted(finished.values())
        return {
            **version,
            "database": database,
            "sync_pages": bool(pages),
            "sandbox_delay_s": DELAY,
            "cobot_limit_per_min": LIMIT,
            "worker_processes": processes,
            "worker_threads": threads,
            "spaces": spaces_n,
            "invoices": total,
            "complete": complete,
            "created_in_s": created_s,
            # the warm-up's receipts included: one per space
            "receipts": receipts - spaces_n,
            **_duplicates(env, [s.sevdesk_token for s in [*spaces, other]]),
            "wall_s": wall,
            "cobot_api_calls_per_invoice": cobot_run / total,
            "cobot_pdf_downloads_per_invoice": sum(
                1
                for r in cobot_log
                if r["path"].endswith(".pdf") and probe["invoice"]["id"] not in r["path"]
            )
            / total,
            "sevdesk_calls_per_invoice": sevdesk_run / total,
            "cobot_429": sum(1 for r in cobot_log if r["status"] == 429),
            "busiest_space_sevdesk_calls": busiest,
            "sevdesk_bound_s": sevdesk_bound,
            "cobot_bound_s": cobot_bound,
            "ratio_to_sevdesk_bound": wall / sevdesk_bound if sevdesk_bound else float("nan"),
            "ratio_to_cobot_bound": wall / cobot_bound if cobot_bound else float("nan"),
            "bound_note": "spaces run in parallel, one sevDesk request at a time per space: "
            "the bound is the busiest space's sevDesk calls × 100 ms",
            "sevdesk_peak_parallel_per_space": peak_parallel(sevdesk_log),
            "space_done_s": {
                "first": done[0] if done else float("nan"),
                "p50": percentile(done, 50),
                "last": done[-1] if done else float("nan"),
            },
            "probe_created_after_s": probe["after_s"],
            "probe_latency_s": probe_latency,
            "log_may_be_truncated": max(len(cobot_log), len(sevdesk_log)) >= 19_999,
            "cobot_endpoints": _endpoints(
                [r for r in cobot_log if "authorization" in r["headers"]]
            ),
            "sevdesk_endpoints": _endpoints(sevdesk_log),
            "synced": LedgerItem.objects.filter(state="synced").count(),
            "states": dict(Counter(LedgerItem.objects.values_list("state", flat=True))),
            # Retries say where a run stalled (a retry waits its backoff).
            "retries": _retries(),
            "cpu_cores_used": cores,
            # The worker's CPU per invoice sets how many invoices a second one worker
            # process (one core, Python's lock) can take, whatever the services allow.
            "worker_cpu_ms_per_invoice": cores["worker"] * wall / total * 1000,
            # final items (the warm-up's included) by seconds from the start
            "progress": samples,
        }
