"""The benchmark scenarios. Each runs in a fresh process (``python -m bench.one``) and
returns a dict of numbers."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from cobot_sevdesk.sandbox.control import invoice_line

from .env import Env, Space, environment, percentile, rss_mb

HERE = Path(__file__).resolve().parent
Result = dict[str, Any]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def final_count(kind: str = "invoice") -> int:
    from cobot_sevdesk.ledger.models import LedgerItem

    return LedgerItem.objects.filter(kind=kind, state__in=LedgerItem.FINAL_STATES).count()


def receipt_times(env: Env) -> dict[tuple[str, str], float]:
    """When each receipt was stored in sevDesk, by (sevDesk token, document number):
    invoice numbers repeat across spaces."""
    times = {}
    for logged in env.boxes.sevdesk.requests(method="POST", path="saveVoucher"):
        if logged["status"] == 201 and logged["body"]:
            key = (logged["headers"]["authorization"], logged["body"]["voucher"]["description"])
            times[key] = logged["at"]
    return times


def calls(env: Env) -> dict[str, int]:
    cobot = env.boxes.cobot.requests()
    return {
        "cobot_api": sum(1 for r in cobot if "authorization" in r["headers"]),
        "cobot_pdf": sum(1 for r in cobot if r["path"].endswith(".pdf")),
        "sevdesk": len(env.boxes.sevdesk.requests()),
    }


# ------------------------------------------------------------------ 1. intake
WRK = re.compile(r"Requests/sec:\s+([\d.]+)")
LATENCY = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
TOTAL = re.compile(r"(\d+) requests in")
NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")


def _wrk(url: str, script: Path, seconds: int, connections: int) -> Result:
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {f"p{p}_ms": float(v) * scale[u] for p, v, u in LATENCY.findall(out)}
    total = int(TOTAL.search(out).group(1))  # type: ignore[union-attr]
    non_2xx = int(m.group(1)) if (m := NON_2XX.search(out)) else 0
    rps = float(WRK.search(out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "requests": total, "non_2xx": non_2xx, **latency}


def intake(database: str, quick: bool, workers: int = 2, threads: int = 8) -> Result:
    """Webhook intake against a no-op view on the same server, alternated over three
    rounds (medians), since a shared machine's speed drifts during a run."""
    if shutil.which("wrk") is None:
        raise SystemExit("the intake benchmark needs wrk (apt-get install wrk)")
    seconds, connections, rounds = (4, 8, 3) if quick else (10, 8, 3)
    with environment(database) as env:
        space = env.add_space("intake")
        env.start_web(workers=workers, threads=threads)
        from cobot_sevdesk.ledger.models import LedgerItem, Space

        secret = Space.objects.get(pk=space.pk).webhook_secret
        base = f"{env.boxes.cobot.base_url}/space/intake/api/invoices/"
        noop_url = f"{env.web_url}/bench/noop/"
        hook_url = f"{env.web_url}/hooks/{secret}/created_invoice/"

        def script(prefix: str) -> Path:
            """Invoice ids unique per run (wrk restarts its counters every run)."""
            path = env.data_dir / f"hook-{prefix}.lua"
            path.write_text((HERE / "hook.lua").read_text().replace("__BASE__", f"{base}{prefix}-"))
            return path

        _wrk(noop_url, script("noop"), 2, connections)  # warm up both
        _wrk(hook_url, script("warm"), 2, connections)
        noops, hooks = [], []
        for n in range(rounds):
            # Pauses let the database's background work (WAL, autovacuum) after a
            # webhook round settle, so it does not land in the next round.
            time.sleep(2)
            noops.append(_wrk(noop_url, script("noop"), seconds, connections))
            time.sleep(2)
            hooks.append(_wrk(hook_url, script(f"r{n}"), seconds, connections))
        accepted = sum(h["requests"] - h["non_2xx"] for h in hooks)
        recorded = LedgerItem.objects.filter(
            space_id=space.pk, cobot_id__regex=r"^r[0-9]+-"
        ).count()

        def median(runs: list[Result], key: str) -> float:
            return percentile([r[key] for r in runs], 50)

        keys = ("rps", "p50_ms", "p90_ms", "p99_ms")
        noop = {k: median(noops, k) for k in keys}
        hook = {k: median(hooks, k) for k in keys}
        return {
            "database": database,
            "connections": connections,
            "web_workers": workers,
            "web_threads": threads,
            "rounds": rounds,
            "noop": noop,
            "webhook": hook,
            "share_of_ceiling": hook["rps"] / noop["rps"],
            "rounds_rps": {"noop": [r["rps"] for r in noops], "webhook": [r["rps"] for r in hooks]},
            "accepted": accepted,
            "recorded": recorded,
            # wrk does not count the requests still in flight when it stops (at most
            # one per connection per round), but the server records them.
            "in_flight_at_stop": recorded - accepted,
            "all_recorded": accepted <= recorded <= accepted + connections * rounds,
        }


# ------------------------------------------------------------------ 2. end-to-end latency
def e2e(database: str, quick: bool, delay: float) -> Result:
    count, spaces_n, rate = (60, 12, 10.0) if quick else (300, 30, 10.0)
    with environment(database, sandbox_delay=delay) as env:
        spaces = [env.add_space(f"e2e-{n}") for n in range(spaces_n)]
        env.start_web()
        env.start_workers(1, threads=16)
        for space in spaces:  # warm-up: caches filled, contacts linked
            env.invoice(space.subdomain)
        wait_for(lambda: final_count() == spaces_n, 60)
        created: dict[tuple[str, str], float] = {}
        started = time.time()
        for n in range(count):
            space = spaces[n % spaces_n]
            at = time.time()
            invoice = env.invoice(space.subdomain)
            created[(space.sevdesk_token, invoice["attributes"]["number"])] = at
            time.sleep(max(0.0, started + (n + 1) / rate - time.time()))
        done = wait_for(lambda: final_count() == spaces_n + count, 120)
        stored = receipt_times(env)
        latencies = [stored[key] - at for key, at in created.items() if key in stored]
        return {
            "database": database,
            "sandbox_delay_s": delay,
            "invoices": count,
            "synced": len(latencies),
            "complete": done and len(latencies) == count,
            "p50_s": percentile(latencies, 50),
            "p99_s": percentile(latencies, 99),
            "max_s": max(latencies) if latencies else float("nan"),
            "latencies": sorted(latencies),
        }


# ------------------------------------------------------------------ 3. throughput vs bound
def throughput(
    database: str,
    quick: bool,
    processes: int = 1,
    threads: int = 48,
    delay: float = 0.1,
    limit: int | None = 60,
) -> Result:
    spaces_n, per_space = (8, 12) if quick else (40, 50)
    settings = {} if limit else {"COBOT_REQUESTS_PER_MINUTE": "1000000"}
    with environment(
        database, sandbox_delay=delay, cobot_rate_limit=limit, settings=settings
    ) as env:
        spaces = [env.add_space(f"tp-{n}") for n in range(spaces_n)]
        env.start_web()
        for space in spaces:
            for _n in range(per_space):
                env.invoice(space.subdomain)
        total = spaces_n * per_space
        from cobot_sevdesk.ledger.models import LedgerItem

        wait_for(lambda: LedgerItem.objects.count() == total, 120)  # every webhook recorded
        env.boxes.cobot.clear_requests()
        env.boxes.sevdesk.clear_requests()
        started = time.monotonic()
        env.start_workers(processes, threads)
        complete = wait_for(lambda: final_count() == total, 1800, interval=0.5)
        wall = time.monotonic() - started
        counted = calls(env)
        synced = LedgerItem.objects.filter(state="synced").count()
        result: Result = {
            "database": database,
            "processes": processes,
            "threads": threads,
            "sandbox_delay_s": delay,
            "cobot_limit_per_min": limit,
            "spaces": spaces_n,
            "invoices": total,
            "synced": synced,
            "complete": complete,
            "wall_s": wall,
            "invoices_per_s": total / wall,
            "cobot_api_calls_per_invoice": counted["cobot_api"] / total,
            "cobot_pdf_downloads_per_invoice": counted["cobot_pdf"] / total,
            "sevdesk_calls_per_invoice": counted["sevdesk"] / total,
            "receipts": len(receipt_times(env)),
        }
        # Steady state: one more invoice per space, with every cache already warm.
        env.boxes.cobot.clear_requests()
        env.boxes.sevdesk.clear_requests()
        for space in spaces:
            env.invoice(space.subdomain)
        wait_for(lambda: final_count() == total + spaces_n, 120, interval=0.2)
        warm = calls(env)
        result["steady_cobot_api_calls_per_invoice"] = warm["cobot_api"] / spaces_n
        result["steady_sevdesk_calls_per_invoice"] = warm["sevdesk"] / spaces_n
        if limit:
            # The fastest any client could go: each space's Cobot calls at the limit
            # (the first at once), plus one invoice's remaining requests.
            cobot_per_space = counted["cobot_api"] / spaces_n
            per_invoice_other = (counted["sevdesk"] + counted["cobot_pdf"]) / total * delay
            bound = (cobot_per_space - 1) * 60.0 / limit + delay + per_invoice_other
            result["bound_s"] = bound
            result["ratio_to_bound"] = wall / bound
        return result


# ------------------------------------------------------------------ 4. fairness
def start_backfill(env: Env, space: Space, count: int, year: int) -> subprocess.Popen[bytes]:
    """``count`` invoices of ``year`` already in Cobot, a backfill of that year, and
    one worker (four threads) started on it."""
    for n in range(count):
        env.boxes.cobot.add_invoice(
            space.subdomain,
            [invoice_line("Desk", str(10 + n % 9), "19", "Desks")],
            invoice_date=f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            customer_number="K-1",
            recipient={"name": "Customer", "company": None, "countryCode": "DE"},
        )
    import datetime as dt

    from cobot_sevdesk.ledger.models import Backfill
    from cobot_sevdesk.runtime.tasks import enqueue

    Backfill.objects.create(
        space_id=space.pk, start_date=dt.date(year, 1, 1), end_date=dt.date(year, 12, 31)
    )
    [worker] = env.start_workers(1, threads=4)
    enqueue(space.pk)
    return worker


def fairness(database: str, quick: bool) -> Result:
    backlog, probes = (1500, 5) if quick else (3000, 12)
    settings = {"COBOT_REQUESTS_PER_MINUTE": "1000000"}
    with environment(database, settings=settings) as env:
        big = env.add_space("backlog")
        other = env.add_space("other")
        env.start_web()
        start_backfill(env, big, backlog, 2025)
        from cobot_sevdesk.ledger.models import LedgerItem

        wait_for(
            lambda: (
                LedgerItem.objects.filter(
                    space_id=big.pk, state__in=LedgerItem.FINAL_STATES
                ).count()
                > 200
            ),
            120,
        )
        created = {}
        for _n in range(probes):
            at = time.time()
            invoice = env.invoice(other.subdomain)
            created[(other.sevdesk_token, invoice["attributes"]["number"])] = at
            time.sleep(2.0)
        wait_for(
            lambda: (
                LedgerItem.objects.filter(
                    space_id=other.pk, state__in=LedgerItem.FINAL_STATES
                ).count()
                == probes
            ),
            60,
        )
        during = LedgerItem.objects.filter(
            space_id=big.pk, state__in=LedgerItem.FINAL_STATES
        ).count()
        stored = receipt_times(env)
        latencies = [stored[key] - at for key, at in created.items() if key in stored]
        return {
            "database": database,
            "backlog": backlog,
            "backlog_synced_while_probing": during,
            "backlog_still_open": during < backlog,
            "probes": probes,
            "probe_p50_s": percentile(latencies, 50),
            "probe_max_s": max(latencies) if latencies else float("nan"),
            "latencies": latencies,
        }


# ------------------------------------------------------------------ 5. memory
def memory(database: str, quick: bool, backlog: int | None = None) -> Result:
    backlog = backlog or (2000 if quick else 10_000)
    settings = {"COBOT_REQUESTS_PER_MINUTE": "1000000"}
    with environment(database, settings=settings) as env:
        space = env.add_space("memory")
        env.start_web()
        worker = start_backfill(env, space, backlog, 2024)
        from cobot_sevdesk.ledger.models import LedgerItem

        samples: list[tuple[float, int, float]] = []
        stop = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(1.0):
                done = LedgerItem.objects.filter(state__in=LedgerItem.FINAL_STATES).count()
                samples.append((time.monotonic() - started, done, rss_mb(worker.pid)))

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        complete = wait_for(lambda: final_count() == backlog, 1800, interval=1.0)
        stop.set()
        thread.join()
        rss = [s[2] for s in samples]
        # Growth over the second half of the run, per 1,000 invoices: flat means ~0.
        half = [s for s in samples if s[1] >= backlog / 2]
        slope = (
            ((half[-1][2] - half[0][2]) / max(half[-1][1] - half[0][1], 1) * 1000)
            if len(half) > 1
            else 0.0
        )
        return {
            "database": database,
            "backlog": backlog,
            "complete": complete,
            "wall_s": time.monotonic() - started,
            "rss_start_mb": rss[0] if rss else float("nan"),
            "rss_peak_mb": max(rss) if rss else float("nan"),
            "rss_end_mb": rss[-1] if rss else float("nan"),
            "rss_growth_mb_per_1000_second_half": slope,
            "samples": samples,
        }


def noop_check(env: Env) -> bool:
    return requests.get(f"{env.web_url}/healthz", timeout=5).status_code == 200
