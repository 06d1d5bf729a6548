"""Endpoints for operators: health, Prometheus metrics, our own OpenAPI document."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cobot_sevdesk.ledger.models import LedgerItem, Space
from cobot_sevdesk.metrics import multiprocess_mode

OPENAPI = Path(__file__).with_name("openapi.yaml")


def queue_depth() -> int:
    return int(settings.HUEY.pending_count())


@csrf_exempt  # only GET is allowed; other methods get 405, not a CSRF 403
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the queue answer; 503 naming what does not."""
    checks: dict[str, Any] = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        healthy = False
    try:
        checks["queue_depth"] = queue_depth()
        checks["queue"] = "ok"
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
        healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", **checks}, status=200 if healthy else 503
    )


class LedgerCollector(Collector):
    """Gauges read from the database at scrape time, so they are right whatever
    process did the work."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        items = GaugeMetricFamily(
            "cobot_sevdesk_items", "Ledger items by kind and state", labels=["kind", "state"]
        )
        for kind, state, n in LedgerItem.objects.values_list("kind", "state").annotate(
            n=Count("id")
        ):
            items.add_metric([kind, state], n)
        yield items
        spaces = GaugeMetricFamily("cobot_sevdesk_spaces", "Spaces by status", labels=["status"])
        for status, n in Space.objects.values_list("status").annotate(n=Count("id")):
            spaces.add_metric([status], n)
        yield spaces
        depth = GaugeMetricFamily("cobot_sevdesk_queue_depth", "Tasks waiting in the queue")
        try:
            depth.add_metric([], queue_depth())
        except Exception:
            depth.add_metric([], float("nan"))
        yield depth


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if multiprocess_mode():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
            registry, path=str(settings.PROMETHEUS_MULTIPROC_DIR)
        )
    else:
        for collector in list(REGISTRY._collector_to_names):
            registry.register(collector)
    registry.register(LedgerCollector())
    return registry


@csrf_exempt
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. With METRICS_TOKEN set, a matching bearer token is needed."""
    expected = settings.METRICS_TOKEN
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return HttpResponse(status=401)
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


@csrf_exempt
@require_GET
def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(OPENAPI.read_bytes(), content_type="application/yaml")
