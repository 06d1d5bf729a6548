"""Prometheus metrics shared by the web app and the workers.

Counters live in the process that increments them; ``serve`` and ``worker`` processes
on one machine keep them in files in ``PROMETHEUS_MULTIPROC_DIR``, so /metrics adds
them all up.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram, values

WEBHOOKS = Counter(
    "cobot_sevdesk_webhooks_total",
    "Webhook calls received, by outcome",
    ["outcome"],
)
EXTERNAL_CALLS = Counter(
    "cobot_sevdesk_external_calls_total",
    "HTTP calls to Cobot and sevDesk, by service and status (or error kind)",
    ["service", "status"],
)
EXTERNAL_SECONDS = Histogram(
    "cobot_sevdesk_external_call_seconds",
    "Duration of HTTP calls to Cobot and sevDesk",
    ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
ITEMS_FINISHED = Counter(
    "cobot_sevdesk_items_finished_total",
    "Ledger items that reached a final state, by kind and state",
    ["kind", "state"],
)
SYNC_LATENCY = Histogram(
    "cobot_sevdesk_sync_latency_seconds",
    "From the ledger item's creation to its final state",
    ["kind"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)


def multiprocess_mode() -> bool:
    """Whether this process keeps its metrics in the machine's shared directory
    (prometheus_client's multiprocess mode), so /metrics must add up every process's
    files. prometheus_client decides once, when first imported, from the environment:
    ``cobot-sevdesk serve`` and ``worker`` set it (``cli.share_metrics``)."""
    return values.ValueClass is not values.MutexValue
