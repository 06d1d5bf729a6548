"""Invoice PDFs downloaded ahead, in a thread, while sevDesk works on the receipt before
(page mode, ``sync.pages``): at 100 ms a request, a download in line would add half
again to the two sevDesk calls an invoice needs.

Cobot's PDF links live a few minutes, so only the next few are fetched. A download not
started by the time its receipt is written is made in line instead (``take``), so a
busy pool never slows a space down; one that failed is made again in line, which
reports the failure the usual way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.sync.context import SpaceContext, timeouts

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="pdf-ahead")
_lock = threading.Lock()
#: Downloads under way or done, by space cache key and invoice id.
_started: dict[tuple[str, ...], dict[str, tuple[float, Future[bytes]]]] = {}


def start(ctx: SpaceContext, invoices: Iterable[Invoice]) -> None:
    now = time.monotonic()
    oldest = now - settings.SYNC_PAGE_MAX_AGE
    with _lock:
        for key in [k for k, v in _started.items() if not v]:
            del _started[key]
        mine = _started.setdefault(ctx.cache_key, {})
        for invoice_id in [i for i, (at, _f) in mine.items() if at < oldest]:
            mine.pop(invoice_id)[1].cancel()
        for invoice in invoices:
            if invoice.pdf_url and invoice.id not in mine:
                mine[invoice.id] = (now, _pool.submit(_download, invoice.pdf_url))


def _download(url: str) -> bytes:
    # A client of its own (its own connection): the worker's is busy meanwhile. No
    # token: PDF links carry their own.
    return CobotClient("", timeouts=timeouts()).download_pdf(url)


def take(ctx: SpaceContext, invoice_id: str) -> bytes | None:
    """The invoice's PDF if it was downloaded ahead (waiting for it if under way);
    None if not, or if that download failed (the caller downloads it now)."""
    with _lock:
        entry = _started.get(ctx.cache_key, {}).pop(invoice_id, None)
    if entry is None or entry[1].cancel():  # not started yet: the caller downloads now
        return None
    try:
        return entry[1].result(timeout=timeouts().read + timeouts().connect)
    except Exception:  # the download in line reports the failure
        return None


def clear() -> None:
    with _lock:
        _started.clear()
