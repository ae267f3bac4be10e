"""The outbound-call pacing gate: never more than OUTBOUND_CPS calls per second per Twilio account.

A burst of due call-backs (the morning after quiet hours, a sweep after Redis came back) must be
spread out, none lost. Several RQ worker processes place calls at once, so the budget lives in Redis
and one Lua script reserves a slot atomically: a "next free slot" scheduler per account SID,

    slot = max(now, next_free);  next_free = slot + 1/cps

so N concurrent callers get slots exactly 1/cps apart and never two in one interval. An idle line
earns no burst credit: a slot is never earlier than now.

A worker may sleep until a near slot but must not sleep for minutes holding a work horse; when the
next free slot is further than `max_wait` away nothing is reserved and the caller is told how long
to wait, to re-enqueue the job for then (`Queue.enqueue_in`):

    pacer = CallPacer(redis, settings.twilio_account_sid, settings.outbound_cps)
    if not pacer.wait_for_slot(max_wait=20):
        queue.enqueue_in(timedelta(seconds=pacer.retry_after), place_call_back, callback_id)

Times are the Redis server's clock (TIME) in whole microseconds, the one clock every worker shares;
tests pass `now` explicitly to be deterministic. The key expires just after its last booked slot,
so a stale next_free never outlives its meaning.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from redis import Redis

KEY_PREFIX = "gridline:pacing:"
MICROS = 1_000_000
# Kept this long after the last booked slot: the value means nothing once that slot has passed.
EXPIRY_GRACE_MS = 1000

# KEYS[1] next-free slot (µs); ARGV: interval µs, max wait µs, now µs ("" = Redis server time), grace ms.
# Returns {granted 0/1, slot µs, now µs}; a refused slot is the next free one, not reserved.
# Numbers are written with %.0f: Lua 5.1's tostring keeps 14 digits, too few for epoch microseconds.
_RESERVE = """
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if slot - now > max_wait then
  return {0, slot, now}
end
local ttl = math.ceil((slot + interval - now) / 1000) + tonumber(ARGV[4])
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', string.format('%.0f', ttl))
return {1, slot, now}
"""


@dataclass(frozen=True)
class Reservation:
    """The gate's answer.

    granted: the slot is booked for this caller; sleep `wait` seconds, then place the call.
    refused: nothing was booked; the next free slot is `wait` seconds away: re-enqueue for then.
    `slot_us` and `now_us` are on the Redis server's clock (or the `now` the caller passed).
    """

    granted: bool
    slot_us: int
    now_us: int

    @property
    def wait(self) -> float:
        """Seconds from the reservation to the slot."""
        return (self.slot_us - self.now_us) / MICROS


def interval_us(cps: float) -> int:
    """The spacing between two slots: 1/cps seconds, rounded up to the microsecond so rounding can
    never let cps + 1 calls into one second."""
    if not cps > 0:  # also refuses NaN
        raise ValueError(f"calls per second must be above 0, not {cps!r}")
    return math.ceil(round(MICROS / cps, 3))


class CallPacer:
    """One Twilio account's call budget, shared through Redis by every worker process."""

    def __init__(self, redis: Redis, account_sid: str, cps: float) -> None:
        if not account_sid:
            raise ValueError("pacing is per Twilio account: an account SID is needed")
        self.key = KEY_PREFIX + account_sid
        self.cps = cps
        self.interval_us = interval_us(cps)
        self.retry_after = 0.0  # after a refused try_reserve: seconds until the next free slot
        self._script = redis.register_script(_RESERVE)

    def reserve(self, max_wait: float, now_us: int | None = None) -> Reservation:
        """Book the next free slot if it is at most `max_wait` seconds away, atomically.

        `now_us` (microseconds) replaces the Redis server's clock; tests use it, workers should not,
        since their clocks may disagree with each other.
        """
        max_wait_us = max(0, math.floor(max_wait * MICROS))
        args = [self.interval_us, max_wait_us, "" if now_us is None else int(now_us), EXPIRY_GRACE_MS]
        granted, slot, now = self._script(keys=[self.key], args=args)
        return Reservation(granted=bool(granted), slot_us=int(slot), now_us=int(now))

    def try_reserve(self, max_wait: float, now_us: int | None = None) -> float | None:
        """Seconds to sleep before placing the call, or None when the next free slot is further than
        `max_wait` away; then nothing is booked and `retry_after` says in how many seconds it is free.

        `retry_after` is this pacer's own state: use one pacer per job (they are cheap) rather than
        one shared by threads; `reserve` itself is safe to share.
        """
        reservation = self.reserve(max_wait, now_us)
        self.retry_after = 0.0 if reservation.granted else reservation.wait
        return reservation.wait if reservation.granted else None

    def wait_for_slot(self, max_wait: float) -> bool:
        """`try_reserve`, then sleep until the slot: True means the call may go out now.

        False (refused) returns at once: enqueue the job again in `retry_after` seconds rather than
        holding the worker.
        """
        wait = self.try_reserve(max_wait)
        if wait is None:
            return False
        if wait > 0:
            time.sleep(wait)
        return True
