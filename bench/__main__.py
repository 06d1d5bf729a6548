"""``make bench``: run every scenario (each in its own process), print a table, and
write bench-results/ (JSON, a Markdown table) and docs/bench/*.svg (the README's plots).

``python -m bench [--quick] [scenario ...]`` where scenario is one of intake, e2e,
throughput, fairness, memory, scaleout, payments, backfill, monthend, or one row's key
(say backfill-pages). A partial run takes the other rows of the table from the results
an earlier full run left in bench-results/.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import svg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"
PLOTS = ROOT / "docs" / "bench"

PLAN: list[tuple[str, str, str, dict[str, Any]]] = [
    ("intake", "intake-sqlite", "sqlite", {}),
    ("intake", "intake-postgresql", "postgresql", {}),
    ("e2e", "e2e-instant", "sqlite", {"delay": 0.0}),
    ("e2e", "e2e-100ms", "sqlite", {"delay": 0.1}),
    ("throughput", "throughput-bound", "sqlite", {}),
    ("fairness", "fairness", "sqlite", {}),
    ("memory", "memory", "sqlite", {}),
    ("payments", "payments", "sqlite", {}),
    # Page mode against item mode (SYNC_PAGES), 1,000 invoices. Item mode waits for
    # Cobot's limit: about 17 minutes.
    ("backfill", "backfill-items", "sqlite", {"pages": 0}),
    ("backfill", "backfill-pages", "sqlite", {"pages": 1}),
    # The Import tag (on by default) costs a sevDesk call per invoice; without it:
    ("backfill", "backfill-pages-notag", "sqlite", {"pages": 1, "tag": 0}),
    # SQLite: with 48 worker threads writing while the web app takes 4,000 webhooks it
    # did as well as PostgreSQL (106 s against 124 and 180 s); the run is bound by
    # the worker's CPU, not by the database's lock.
    ("monthend", "monthend", "sqlite", {}),
]
for n in (1, 2, 4):
    PLAN.append(
        ("throughput", f"scaleout-bound-{n}", "postgresql", {"processes": n, "threads": 48 // n})
    )
for n in (1, 2, 4):
    PLAN.append(
        (
            "throughput",
            f"scaleout-raw-{n}",
            "postgresql",
            {"processes": n, "threads": 8, "delay": 0.0, "limit": "none"},
        )
    )
GROUPS = {"scaleout": "scaleout-"}


def run(
    name: str, key: str, database: str, params: dict[str, Any], quick: bool
) -> dict[str, Any] | None:
    out = (RESULTS / "quick" if quick else RESULTS) / f"{key}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "bench.one", name, database, str(out)]
    args += ["--quick"] if quick else []
    args += [f"{k}={v}" for k, v in params.items()]
    started = time.monotonic()
    print(f"== {key} ...", end=" ", flush=True)
    try:
        subprocess.run(args, cwd=ROOT, check=True, timeout=2400)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"FAILED ({exc})")
        return None
    print(f"{time.monotonic() - started:.0f} s")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = ["| Measure | Result | Goal |", "|---|---|---|"]

    def add(measure: str, value: str, goal: str) -> None:
        rows.append(f"| {measure} | {value} | {goal} |")

    for db in ("sqlite", "postgresql"):
        r = results.get(f"intake-{db}")
        if r:
            add(
                f"Webhook intake, {db} ({r['connections']} connections)",
                f"{r['webhook']['rps']:.0f} req/s = {r['share_of_ceiling']:.0%} of the no-op view's "
                f"{r['noop']['rps']:.0f} req/s; p50 {r['webhook']['p50_ms']:.1f} ms, p99 "
                f"{r['webhook']['p99_ms']:.1f} ms; {r['accepted']} accepted, all in the ledger: "
                f"{'yes' if r['all_recorded'] else 'NO'} (+{r['in_flight_at_stop']} in flight "
                "when the load stopped)",
                "≥ 60 % of no-op, p99 < 50 ms",
            )
    for key, label in (("e2e-instant", "instant sandboxes"), ("e2e-100ms", "100 ms per request")):
        r = results.get(key)
        if r:
            add(
                f"End-to-end latency, {label}",
                f"p50 {r['p50_s']:.2f} s, p99 {r['p99_s']:.2f} s, max "
                f"{r['max_s']:.2f} s over {r['synced']}/{r['invoices']} invoices",
                "p99 < 2 s (instant)",
            )
    r = results.get("throughput-bound")
    if r:
        add(
            "Calls per invoice",
            f"steady state: Cobot API {r['steady_cobot_api_calls_per_invoice']:.2f}, sevDesk "
            f"{r['steady_sevdesk_calls_per_invoice']:.2f}; whole run incl. each space's first-use "
            f"lookups: Cobot API {r['cobot_api_calls_per_invoice']:.2f} (+ "
            f"{r['cobot_pdf_downloads_per_invoice']:.2f} PDF download), sevDesk "
            f"{r['sevdesk_calls_per_invoice']:.2f}",
            "sevDesk ≤ 3",
        )
        add(
            f"Throughput, {r['invoices']} invoices in {r['spaces']} spaces, 100 ms/request, Cobot 60/min",
            f"{r['wall_s']:.1f} s vs. bound {r['bound_s']:.1f} s = {r['ratio_to_bound']:.2f}×",
            "≤ 1.25× bound",
        )
    r = results.get("fairness")
    if r:
        add(
            f"Fairness: another space's invoice during a {r['backlog']}-invoice backfill",
            f"p50 {r['probe_p50_s']:.2f} s, max {r['probe_max_s']:.2f} s ({r['probes']} invoices)",
            "< 5 s",
        )
    r = results.get("memory")
    if r:
        add(
            f"Worker RSS during a {r['backlog']:,}-invoice backfill",
            f"{r['rss_start_mb']:.0f} → peak {r['rss_peak_mb']:.0f} MB, growth "
            f"{r['rss_growth_mb_per_1000_second_half']:.1f} MB per 1,000 invoices in the second half",
            "< 200 MB, flat",
        )
    r = results.get("payments")
    if r:
        a, b, idle = (
            r["cobot_to_sevdesk_per_payment"],
            r["sevdesk_to_cobot_per_payment"],
            r["idle_check_per_space"],
        )
        add(
            f"Calls per payment ({r['paid_in_cobot']} paid in Cobot, {r['paid_in_sevdesk']} "
            f"in sevDesk, {r['spaces']} spaces)",
            f"Cobot → sevDesk: Cobot API {a['cobot_api']:.2f}, sevDesk {a['sevdesk']:.2f}; "
            f"sevDesk → Cobot: Cobot API {b['cobot_api']:.2f}, sevDesk {b['sevdesk']:.2f} "
            f"(incl. the check that found them); a check with nothing new, per space: Cobot API "
            f"{idle['cobot_api']:.2f}, sevDesk {idle['sevdesk']:.2f}; {r['bookings']} bookings "
            f"for {r['paid_in_cobot']} payments; Cobot → sevDesk p50 "
            f"{r['cobot_to_sevdesk_p50_s']:.2f} s, p99 {r['cobot_to_sevdesk_p99_s']:.2f} s",
            "—",
        )
    backfills(results, add)
    r = results.get("monthend")
    if r:
        add(
            f"Month-end: {r['invoices']:,} invoices created at once in {r['spaces']} spaces, "
            f"{'page' if r['sync_pages'] else 'item'} mode, 100 ms/request, Cobot 60/min",
            f"{r['wall_s']:.1f} s vs. bound {r['sevdesk_bound_s']:.1f} s (the busiest space's "
            f"sevDesk calls × 100 ms) = {r['ratio_to_sevdesk_bound']:.2f}×; per invoice: Cobot "
            f"API {r['cobot_api_calls_per_invoice']:.3f} (+ "
            f"{r['cobot_pdf_downloads_per_invoice']:.2f} PDF download), sevDesk "
            f"{r['sevdesk_calls_per_invoice']:.2f}; {in_flight(r)} of a space at a time; "
            f"{r['receipts']:,} receipts, {r['saved_twice']} saved twice; CPU: the worker "
            f"{r['worker_cpu_ms_per_invoice']:.0f} ms per invoice, the machine's "
            f"{r['cpu_cores_used']['cores']} cores {r['cpu_cores_used']['machine_busy_share']:.0%} "
            "busy",
            "≤ 1.25× bound",
        )
        add(
            f"Another space's invoice {r['probe_created_after_s']:.0f} s into the month-end run",
            f"receipt in sevDesk after {r['probe_latency_s']:.2f} s",
            "< 5 s",
        )
    for kind, label in (("bound", "100 ms/request, Cobot 60/min"), ("raw", "instant, no limit")):
        parts = []
        for n in (1, 2, 4):
            r = results.get(f"scaleout-{kind}-{n}")
            if r:
                parts.append(f"{n} proc: {r['wall_s']:.1f} s ({r['invoices_per_s']:.0f}/s)")
        if parts:
            add(f"Scale-out on PostgreSQL, {label}", "; ".join(parts), "—")
    return "\n".join(rows)


def in_flight(r: dict[str, Any]) -> str:
    n = r.get("sevdesk_peak_parallel_per_space", "?")
    return f"up to {n} sevDesk request{'' if n == 1 else 's'}"


def backfills(results: dict[str, dict[str, Any]], add: Callable[[str, str, str], None]) -> None:
    """The backfill rows: item mode, page mode and how much faster pages are."""
    items, pages = results.get("backfill-items"), results.get("backfill-pages")
    goal = "Cobot API ≤ 0.05, sevDesk ≤ 2.1 per invoice; ≤ 1.25× the sevDesk bound"
    for r, label, row_goal in (
        (items, "item mode (SYNC_PAGES=false)", "—"),
        (pages, "page mode (SYNC_PAGES=true; Import tag on, the default)", goal),
        (results.get("backfill-pages-notag"), "page mode, Import tag off", goal),
    ):
        if r:
            add(
                f"Backfill of {r['invoices']:,} invoices, {label}, 100 ms/request, Cobot 60/min",
                f"{r['wall_s']:.1f} s; per invoice: Cobot API {r['cobot_api_calls_per_invoice']:.3f} "
                f"(+ {r['cobot_pdf_downloads_per_invoice']:.2f} PDF download), sevDesk "
                f"{r['sevdesk_calls_per_invoice']:.2f}; Cobot bound {r['cobot_bound_s']:.0f} s "
                f"({r['ratio_to_cobot_bound']:.2f}×), sevDesk bound {r['sevdesk_bound_s']:.1f} s "
                f"({r['ratio_to_sevdesk_bound']:.2f}×); {in_flight(r)} at a time; "
                f"{r['receipts']:,} receipts, {r['saved_twice']} saved twice",
                row_goal,
            )
    if items and pages:
        notag = results.get("backfill-pages-notag")
        add(
            "Backfill: page mode against item mode",
            f"{items['wall_s'] / pages['wall_s']:.1f}× faster"
            + (f" (Import tag off: {items['wall_s'] / notag['wall_s']:.1f}×)" if notag else ""),
            "≥ 10×",
        )


def plots(results: dict[str, dict[str, Any]]) -> None:
    PLOTS.mkdir(parents=True, exist_ok=True)
    series = {}
    for key, label in (("e2e-instant", "instant sandboxes"), ("e2e-100ms", "100 ms per request")):
        r = results.get(key)
        if r and r["latencies"]:
            values = r["latencies"]
            series[label] = [(v, (i + 1) / len(values) * 100) for i, v in enumerate(values)]
    if series:
        (PLOTS / "latency.svg").write_text(
            svg.lines(
                "End-to-end latency: invoice created in Cobot → receipt in sevDesk",
                "seconds",
                "% of invoices",
                series,
            )
        )
    r = results.get("memory")
    if r and r["samples"]:
        (PLOTS / "memory.svg").write_text(
            svg.lines(
                f"Worker RSS during a {r['backlog']:,}-invoice backfill",
                "invoices synced",
                "MB",
                {"RSS": [(s[1], s[2]) for s in r["samples"]]},
            )
        )
    modes = {
        label: {
            "wall time": r["wall_s"],
            "Cobot bound": r["cobot_bound_s"],
            "sevDesk bound": r["sevdesk_bound_s"],
        }
        for key, label in (
            ("backfill-items", "item mode"),
            ("backfill-pages", "page mode"),
            ("backfill-pages-notag", "page mode, no tag"),
        )
        if (r := results.get(key))
    }
    if modes:
        invoices = next(
            results[k]["invoices"] for k in ("backfill-items", "backfill-pages") if k in results
        )
        (PLOTS / "backfill.svg").write_text(
            svg.grouped_bars(
                f"Backfill of {invoices:,} invoices, 100 ms/request, Cobot 60/min",
                "seconds",
                modes,
            )
        )
    values = {
        f"{n} proc": results[f"scaleout-raw-{n}"]["invoices_per_s"]
        for n in (1, 2, 4)
        if f"scaleout-raw-{n}" in results
    }
    if values:
        (PLOTS / "scaleout.svg").write_text(
            svg.bars("Invoices per second, PostgreSQL, instant sandboxes", "invoices/s", values)
        )


def main() -> int:
    quick = "--quick" in sys.argv
    wanted = [a for a in sys.argv[1:] if not a.startswith("--")]
    RESULTS.mkdir(exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    failed = []
    for name, key, database, params in PLAN:
        if (
            wanted
            and name not in wanted
            and key not in wanted
            and not any(key.startswith(GROUPS.get(w, "\0")) for w in wanted)
        ):
            continue
        if (
            wanted
            and name == "throughput"
            and key.startswith("scaleout")
            and "scaleout" not in wanted
        ):
            continue
        result = run(name, key, database, params, quick)
        if result is None:
            failed.append(key)
        else:
            results[key] = result
    if wanted and not quick:
        # A partial run keeps the other scenarios' latest full results in the table.
        kept = [
            key
            for _n, key, _d, _p in PLAN
            if key not in results and key not in failed and (RESULTS / f"{key}.json").exists()
        ]
        for key in kept:
            results[key] = json.loads((RESULTS / f"{key}.json").read_text())
        if kept:
            print(f"Kept from an earlier run: {', '.join(kept)}")
    summary = table(results)
    folder = RESULTS / "quick" if quick else RESULTS
    (folder / "summary.json").write_text(json.dumps(results, indent=1, default=str))
    (folder / "table.md").write_text(summary + "\n")
    if not quick:
        plots(results)
    print("\n" + summary)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
