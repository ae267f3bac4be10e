"""Quiet-hour arithmetic, pure and time-zone aware: when may we ring somebody?

A window "21:00-08:00" wraps past midnight; "12:00-14:00" does not; equal ends mean no window.
Times are compared in the community's zone (IANA name), so DST zones work too.
"""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

Window = tuple[time, time]


def is_quiet(local: time, window: Window) -> bool:
    """Is this wall-clock time inside the quiet window?"""
    start, end = window
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(now: datetime, zone: str, window: Window) -> datetime:
    """The first moment at or after `now` outside quiet hours, in UTC.

    Nonexistent local times (a DST gap) resolve forward, as zoneinfo's fold=0 does.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if not is_quiet(local.time().replace(tzinfo=None), window):
        return now.astimezone(UTC)
    end = window[1]
    day = local.date() if local.time().replace(tzinfo=None) < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def call_time(now: datetime, zone: str, window: Window, exempt: bool = False) -> datetime:
    """When a call-back may ring: now if exempt (urgent, staff on duty), else after quiet hours."""
    return now.astimezone(UTC) if exempt else next_allowed(now, zone, window)
