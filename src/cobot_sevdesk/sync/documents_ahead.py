"""Receipt documents prepared ahead (page mode, ``sync.pages``): the next invoices'
PDFs are downloaded from Cobot and uploaded to sevDesk's temporary file store in a
thread, while the worker saves the receipt before. Then an invoice's path holds one
request (``saveVoucher``) instead of three, and a space's backfill goes at the pace of
sevDesk's saves.

An upload is no write to the books: a temporary file nobody saves a receipt with is
left to expire (UNCERTAIN: sevDesk documents no lifetime for them; we use each within
seconds). Cobot's PDF links live a few minutes, so only the next few are prepared. A
preparation not started by the time its receipt is saved is made in line instead
(``take``), so a busy pool never slows a space down; one that failed is made again in
line, which reports the failure the usual way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from http.cookiejar import DefaultCookiePolicy

from django.conf import settings

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.cobot.models import Invoice
from cobot_sevdesk.http import new_session
from cobot_sevdesk.sevdesk.client import SevdeskClient
from cobot_sevdesk.sync.context import SpaceContext, timeouts
from cobot_sevdesk.sync.rules.mapping import pdf_filename

#: Shared by every space the process works on; a document takes two requests (download,
#: upload), so 32 threads keep some 40 spaces' lanes supplied at 100 ms a request.
_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="documents-ahead")
_lock = threading.Lock()
#: One HTTP session per pool thread, kept: no new connections (and their CPU) for each
#: document. Tokens go with each request, never into the session.
_local = threading.local()
#: Preparations under way or done, by space cache key and invoice id.
_started: dict[tuple[str, ...], dict[str, tuple[float, Future[str]]]] = {}


def start(ctx: SpaceContext, invoices: Iterable[Invoice]) -> None:
    now = time.monotonic()
    oldest = now - settings.SYNC_PAGE_MAX_AGE
    token = ctx.space.sevdesk_token
    with _lock:
        for key in [k for k, v in _started.items() if not v]:
            del _started[key]
        mine = _started.setdefault(ctx.cache_key, {})
        for invoice_id in [i for i, (at, _f) in mine.items() if at < oldest]:
            mine.pop(invoice_id)[1].cancel()
        for invoice in invoices:
            if invoice.pdf_url and invoice.id not in mine:
                mine[invoice.id] = (now, _pool.submit(_prepare, invoice, token))


def _prepare(invoice: Invoice, sevdesk_token: str) -> str:
    """The invoice's PDF in sevDesk's temporary store; returns its file name there."""
    assert invoice.pdf_url is not None
    # Clients of their own (the thread's connections): the worker's are busy meanwhile.
    # No Cobot token: PDF links carry their own.
    if not hasattr(_local, "session"):
        _local.session = new_session()
        # Shared by spaces: no cookie of one space's answer goes with another's request.
        _local.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    pdf = CobotClient("", timeouts=timeouts(), session=_local.session).download_pdf(invoice.pdf_url)
    sevdesk = SevdeskClient(sevdesk_token, timeouts=timeouts(), session=_local.session)
    return sevdesk.upload_temp_file(pdf_filename(invoice), pdf)


def take(ctx: SpaceContext, invoice_id: str) -> str | None:
    """The temporary file name of the invoice's document if it was prepared ahead
    (waiting for it if under way); None if not, or if that failed (the caller
    prepares it now)."""
    with _lock:
        entry = _started.get(ctx.cache_key, {}).pop(invoice_id, None)
    if entry is None or entry[1].cancel():  # not started yet: the caller does it now
        return None
    try:
        return entry[1].result(timeout=2 * (timeouts().read + timeouts().connect))
    except Exception:  # made again in line, which reports the failure
        return None


def clear() -> None:
    with _lock:
        _started.clear()
