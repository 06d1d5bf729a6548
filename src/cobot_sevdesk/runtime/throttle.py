"""Staying under Cobot's request limit (60 per minute per token by default).

A GCRA throttle (the "theoretical arrival time" form of a leaky bucket): each call
may start no earlier than one interval after the previous one's slot. Without a
burst allowance it can never exceed the limit in any 60-second window, whatever the
server's window looks like. Only the holder of a space's lease calls Cobot for that
space, so the state is kept in memory while working and stored on the space when the
lease is released: a space's budget survives a change of worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cobot_sevdesk.ledger.models import Space

#: A little under the limit, so clock granularity never tips a window over it.
SAFETY = 1.02


class CobotThrottle:
    def __init__(
        self,
        space_id: int,
        per_minute: float,
        tat: float = 0.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.space_id = space_id
        self.interval = 60.0 / per_minute * SAFETY if per_minute > 0 else 0.0
        self.tat = tat
        self._sleep = sleep
        self._clock = clock
        self.waited = 0.0
        # A turn's two lanes (``runtime.lanes``) share it: a slot is booked by one.
        self._lock = threading.Lock()

    @classmethod
    def for_space(cls, space: Space, per_minute: float) -> CobotThrottle:
        return cls(space.pk, per_minute, space.cobot_tat)

    def delay(self) -> float:
        """Seconds until the next call may start."""
        return max(self.tat - self._clock(), 0.0)

    def __call__(self) -> None:
        """Book this call's slot, then wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(self.tat, now)
            self.tat = slot + self.interval
        wait = slot - now
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

    def hold_off(self, seconds: float) -> None:
        """The server said "too many requests": nothing before ``seconds`` from now."""
        self.tat = max(self.tat, self._clock() + seconds)

    def save(self) -> None:
        Space.objects.filter(pk=self.space_id).update(cobot_tat=self.tat)
