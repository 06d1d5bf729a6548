"""The retry policy: one pure function, tested branch by branch."""

from __future__ import annotations

import pytest

from cobot_sevdesk.errors import (
    AuthorizationError,
    BusinessRuleError,
    NotFound,
    OutcomeUnknown,
    PayloadError,
    PermanentError,
    RateLimited,
    TransientError,
)
from cobot_sevdesk.runtime.retry import RetryPolicy, Verdict, decide


class TestRetryPolicy:
    policy = RetryPolicy(max_attempts=5, base_delay=10, max_delay=100)

    def test_authorization_pauses_the_space(self) -> None:
        assert (
            decide(AuthorizationError("sevDesk", "no", status=401), 1, self.policy).verdict
            == Verdict.PAUSE_SPACE
        )

    @pytest.mark.parametrize(
        "error",
        [
            PermanentError("sevDesk", "bad", status=422),
            NotFound("sevDesk", "gone", status=404),
            PayloadError("sevDesk", "objects", "is missing"),
            BusinessRuleError("missing_account", "no account"),
            ValueError("a bug"),
        ],
    )
    def test_permanent_errors_fail_at_once(self, error: Exception) -> None:
        assert decide(error, 1, self.policy).verdict == Verdict.FAIL

    def test_backoff_doubles_with_jitter_and_is_capped(self) -> None:
        low = [
            decide(TransientError("x", "503"), n, self.policy, rand=lambda: 0.0).delay
            for n in (1, 2, 3, 4)
        ]
        high = [
            decide(TransientError("x", "503"), n, self.policy, rand=lambda: 1.0).delay
            for n in (1, 2, 3, 4)
        ]
        assert low == [5, 10, 20, 40]
        assert high == [10, 20, 40, 80]
        capped = RetryPolicy(max_attempts=20, base_delay=10, max_delay=100)
        assert decide(TransientError("x", "503"), 9, capped, rand=lambda: 1.0).delay == 100

    def test_retry_after_is_honoured(self) -> None:
        decision = decide(
            RateLimited("Cobot", "slow down", retry_after=42), 1, self.policy, rand=lambda: 0.0
        )
        assert (decision.verdict, decision.delay) == (Verdict.RETRY, 42)
        long = decide(RateLimited("Cobot", "slow down", retry_after=5000), 1, self.policy)
        assert long.delay == 100

    def test_unknown_outcome_retries_as_ambiguous(self) -> None:
        decision = decide(OutcomeUnknown("sevDesk", "dropped"), 2, self.policy)
        assert decision.verdict == Verdict.RETRY_AMBIGUOUS and decision.delay

    def test_attempts_run_out(self) -> None:
        assert decide(TransientError("x", "503"), 5, self.policy).verdict == Verdict.FAIL
        assert decide(TransientError("x", "503"), 4, self.policy).verdict == Verdict.RETRY
