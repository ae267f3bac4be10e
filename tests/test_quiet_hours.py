"""Quiet-hour arithmetic: when a call-back may ring, in the community's zone (incl. DST zones)."""
from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from grid.quiet_hours import call_time, is_quiet, next_allowed

NIGHT = (time(21), time(8))
NOON = (time(12), time(14))


@pytest.mark.parametrize(
    ("local", "window", "quiet"),
    [
        (time(20, 59), NIGHT, False),
        (time(21, 0), NIGHT, True),
        (time(23, 30), NIGHT, True),
        (time(0, 0), NIGHT, True),
        (time(7, 59), NIGHT, True),
        (time(8, 0), NIGHT, False),
        (time(12, 0), NOON, True),
        (time(14, 0), NOON, False),
        (time(3, 0), (time(9), time(9)), False),  # equal ends: no quiet window
    ],
)
def test_is_quiet(local: time, window: tuple[time, time], quiet: bool) -> None:
    """Windows that wrap midnight and windows that don't both hold their ends right."""
    assert is_quiet(local, window) is quiet


@pytest.mark.parametrize(
    ("now_utc", "zone", "expected_utc"),
    [
        # Shanghai is UTC+8 all year: 21:30 local → 08:00 next day local = 00:00 UTC
        ("2026-11-22T13:30:00", "Asia/Shanghai", "2026-11-23T00:00:00"),
        # 02:00 local (18:00 UTC the day before) → 08:00 the same local day
        ("2026-11-21T18:00:00", "Asia/Shanghai", "2026-11-22T00:00:00"),
        # 10:00 local: not quiet, rings now
        ("2026-11-22T02:00:00", "Asia/Shanghai", "2026-11-22T02:00:00"),
        # New York, the night DST ends (1 Nov 2026, 02:00 EDT → 01:00 EST): 22:00 EDT → 08:00 EST
        ("2026-11-01T02:00:00", "America/New_York", "2026-11-01T13:00:00"),
        # New York, the night DST starts (8 Mar 2026): 23:00 EST → 08:00 EDT = 12:00 UTC
        ("2026-03-08T04:00:00", "America/New_York", "2026-03-08T12:00:00"),
        # New York summer afternoon: rings now
        ("2026-07-01T18:00:00", "America/New_York", "2026-07-01T18:00:00"),
    ],
)
def test_next_allowed(now_utc: str, zone: str, expected_utc: str) -> None:
    """A call due in quiet hours waits for the next allowed minute, in the zone's own clock."""
    now = datetime.fromisoformat(now_utc).replace(tzinfo=UTC)
    assert next_allowed(now, zone, NIGHT) == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)


def test_exempt_calls_ring_at_once_even_at_night() -> None:
    """Urgent calls to staff on duty are not held for the morning."""
    night = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert call_time(night, "Asia/Shanghai", NIGHT, exempt=True) == night
    assert call_time(night, "Asia/Shanghai", NIGHT, exempt=False) == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def test_naive_time_is_refused() -> None:
    """A clock without a zone is a bug, not a guess."""
    with pytest.raises(ValueError):
        next_allowed(datetime(2026, 1, 1, 12), "Asia/Shanghai", NIGHT)
