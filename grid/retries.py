"""When an unanswered call-back rings again, and what happens when it never gets an answer.

Pure arithmetic; quiet hours are applied afterwards by grid.quiet_hours.call_time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """RETRY_SCHEDULE (default 10 min, 30 min, 2 h: at most 3 retries) and the urgent cadence."""

    delays: tuple[timedelta, ...] = (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2))
    urgent_interval: timedelta = timedelta(minutes=5)
    urgent_max_misses: int = 2  # staff on duty for an urgent report: escalate after two misses


def next_attempt(policy: RetryPolicy, misses: int, last_attempt_at: datetime, urgent_staff: bool) -> datetime | None:
    """When to ring again after `misses` unanswered attempts (>= 1); None when it is time to give up.

    urgent_staff: an urgent report's call to staff on duty, which rings every few minutes, day or
    night, and escalates quickly. Residents never get this cadence.
    """
    if misses < 1:
        raise ValueError("next_attempt is asked after an unanswered attempt")
    if urgent_staff:
        return last_attempt_at + policy.urgent_interval if misses < policy.urgent_max_misses else None
    if misses > len(policy.delays):
        return None
    return last_attempt_at + policy.delays[misses - 1]


def parse_delays(value: str) -> tuple[timedelta, ...]:
    """RETRY_SCHEDULE: "10m,30m,2h" (units s, m, h; a bare number is minutes)."""
    units = {"s": 1, "m": 60, "h": 3600}
    delays = []
    for part in (p.strip().lower() for p in value.split(",")):
        if not part:
            continue
        unit = part[-1] if part[-1] in units else "m"
        number = part[:-1] if part[-1] in units else part
        try:
            amount = float(number)
        except ValueError:
            raise ValueError(f"RETRY_SCHEDULE entries look like 10m, 30m, 2h; got {part!r}") from None
        if amount <= 0:
            raise ValueError(f"RETRY_SCHEDULE entries must be positive; got {part!r}")
        delays.append(timedelta(seconds=amount * units[unit]))
    return tuple(delays)
