"""The retry policy: what happens to a ledger item after an error. One pure function,
tested branch by branch.

- authorization errors (401/403) pause the whole space: no more calls with a dead
  token until it works again;
- permanent errors (400/404/409/422, unreadable payloads, our own refusals) fail the
  item at once: retrying the same request would fail the same way, and sevDesk may
  block tokens that send many failing requests;
- transient errors wait and retry: capped exponential backoff with jitter, or exactly
  what ``Retry-After`` asked for; after ``max_attempts`` the item fails with its last
  error;
- a write whose outcome is unknown retries the same way, but the item is marked
  ``ambiguous`` so the next attempt reads back before it writes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cobot_sevdesk.errors import AuthorizationError, OutcomeUnknown, TransientError


class Verdict(StrEnum):
    PAUSE_SPACE = "pause_space"
    FAIL = "fail"
    RETRY = "retry"
    RETRY_AMBIGUOUS = "retry_ambiguous"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 15.0
    max_delay: float = 3600.0

    def backoff(self, attempt: int, rand: Callable[[], float]) -> float:
        """Delay before attempt ``attempt + 1``: base·2^(attempt-1), capped, with
        "equal jitter" (between half and all of it) so retries of many items spread."""
        delay: float = min(self.max_delay, self.base_delay * 2.0 ** max(attempt - 1, 0))
        return delay / 2 + delay / 2 * rand()


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    delay: float | None = None


def decide(
    error: BaseException,
    attempts: int,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> Decision:
    """What to do after ``error`` ended attempt number ``attempts`` (1-based)."""
    if isinstance(error, AuthorizationError):
        return Decision(Verdict.PAUSE_SPACE)
    if not isinstance(error, TransientError):
        return Decision(Verdict.FAIL)
    if error.code == "read_back_pending":
        # Waiting to read back a write of unknown outcome: waiting is the point, and
        # it ends by itself when the window is over; never a failure.
        return Decision(Verdict.RETRY_AMBIGUOUS, error.retry_after)
    if attempts >= policy.max_attempts:
        return Decision(Verdict.FAIL)
    if error.retry_after is not None:
        delay = min(error.retry_after, policy.max_delay)
    else:
        delay = policy.backoff(attempts, rand)
    verdict = Verdict.RETRY_AMBIGUOUS if isinstance(error, OutcomeUnknown) else Verdict.RETRY
    return Decision(verdict, delay)
