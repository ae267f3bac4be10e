"""The retry schedule: when an unanswered call-back rings again, and when the engine gives up."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from grid.retries import RetryPolicy, next_attempt, parse_delays

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("misses", "urgent_staff", "expected"),
    [
        (1, False, T0 + 10 * MIN),  # default 10 min, 30 min, 2 h
        (2, False, T0 + 30 * MIN),
        (3, False, T0 + 120 * MIN),
        (4, False, None),  # at most 3 retries
        (1, True, T0 + 5 * MIN),  # urgent, staff on duty: every 5 minutes
        (2, True, None),  # ... and escalated after 2 misses
    ],
)
def test_default_schedule(misses: int, urgent_staff: bool, expected: datetime | None) -> None:
    """Misses map to the configured delays; past the last one, the engine gives up."""
    assert next_attempt(RetryPolicy(), misses, T0, urgent_staff) == expected


def test_configured_schedule_from_the_environment_string() -> None:
    """RETRY_SCHEDULE="5m,1h" means two retries, 5 minutes and an hour after each miss."""
    policy = RetryPolicy(delays=parse_delays("5m, 1h"))
    assert [next_attempt(policy, n, T0, False) for n in (1, 2, 3)] == [T0 + 5 * MIN, T0 + 60 * MIN, None]


@pytest.mark.parametrize(
    ("text", "delays"),
    [
        ("10m,30m,2h", (10 * MIN, 30 * MIN, 120 * MIN)),
        ("90s, 15", (timedelta(seconds=90), 15 * MIN)),  # a bare number is minutes
        ("", ()),  # no retries at all
    ],
)
def test_parse_delays(text: str, delays: tuple[timedelta, ...]) -> None:
    """Units s, m, h; spaces and blanks tolerated."""
    assert parse_delays(text) == delays


@pytest.mark.parametrize("bad", ["ten minutes", "-5m", "0", "5d"])
def test_parse_delays_refuses_nonsense(bad: str) -> None:
    """A typo in RETRY_SCHEDULE stops start-up with the entry named, instead of never retrying."""
    with pytest.raises(ValueError, match="RETRY_SCHEDULE"):
        parse_delays(bad)


def test_next_attempt_is_only_asked_after_a_miss() -> None:
    """Asking for a retry without a miss is a programming error."""
    with pytest.raises(ValueError):
        next_attempt(RetryPolicy(), 0, T0, False)
