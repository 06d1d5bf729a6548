"""Per-space runtime: the two API clients built from the space's own tokens, and
short-lived caches of what rarely changes (booking accounts, cost centres, countries).

The caches live in this process and are keyed by space and token, so a new token
never sees the old account's data. A miss that matters (an accounting code with no
account) refreshes once before it counts as missing, so an account the admin just
created is found on retry.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings

from cobot_sevdesk.cobot.client import CobotClient
from cobot_sevdesk.http import Timeouts, new_session
from cobot_sevdesk.ledger.models import Space
from cobot_sevdesk.sevdesk.client import SevdeskClient
from cobot_sevdesk.sevdesk.models import BookingAccount, CostCentre, Country

T = TypeVar("T")

_cache: dict[tuple[str, ...], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def clear_caches() -> None:
    with _cache_lock:
        _cache.clear()


def timeouts() -> Timeouts:
    return Timeouts(settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT)


class SpaceContext:
    def __init__(self, space: Space, *, cobot_throttle: Callable[[], None] | None = None) -> None:
        self.space = space
        session = new_session()
        self.cobot = CobotClient(
            space.cobot_token,
            subdomain=space.subdomain,
            timeouts=timeouts(),
            throttle=cobot_throttle,
            session=session,
        )
        self.sevdesk = SevdeskClient(space.sevdesk_token, timeouts=timeouts(), session=session)
        token_hash = hashlib.sha256(space.sevdesk_token.encode()).hexdigest()[:16]
        #: Caches of this space's data in this process are keyed by it.
        self.cache_key = (str(space.pk), token_hash)

    def __repr__(self) -> str:
        return f"<SpaceContext {self.space.subdomain}>"

    def _cached(self, name: str, load: Callable[[], T], *, refresh: bool = False) -> T:
        key = (*self.cache_key, name)
        now = time.monotonic()
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and not refresh and hit[0] > now:
            value: T = hit[1]
            return value
        value = load()
        with _cache_lock:
            _cache[key] = (now + settings.CACHE_SECONDS, value)
        return value

    def revenue_accounts(self, *, refresh: bool = False) -> list[BookingAccount]:
        return self._cached("accounts", self.sevdesk.revenue_accounts, refresh=refresh)

    def cost_centres(self, *, refresh: bool = False) -> list[CostCentre]:
        return self._cached("cost_centres", self.sevdesk.cost_centres, refresh=refresh)

    def countries(self) -> list[Country]:
        return self._cached("countries", self.sevdesk.countries)
