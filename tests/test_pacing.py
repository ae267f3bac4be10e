"""The outbound-call pacing gate (worker.pacing) against a real Redis: spacing, atomicity, refusals."""
from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from redis import Redis

from tests.conftest import _redis_url
from worker.pacing import EXPIRY_GRACE_MS, MICROS, CallPacer, interval_us

ACCOUNT = "AC" + "1" * 32
OTHER_ACCOUNT = "AC" + "2" * 32
T = 1_800_000_000 * MICROS  # a fixed "now" on the server's clock, in microseconds


def server_now_us(conn: Redis) -> int:
    seconds, micros = conn.time()
    return int(seconds) * MICROS + int(micros)


def at_most_per_second(slots: list[int], cps: int) -> bool:
    """No window of one second holds more than cps slots: slot i and slot i + cps are a second apart."""
    ordered = sorted(slots)
    return all(later - first >= MICROS for first, later in zip(ordered, ordered[cps:], strict=False))


@pytest.mark.parametrize(
    ("cps", "interval"),
    [(1, 1_000_000), (0.5, 2_000_000), (25, 40_000), (3, 333_334), (7.5, 133_334)],
)
def test_slots_are_spaced_exactly_one_over_cps_apart(redis_conn: Redis, cps: float, interval: int) -> None:
    """Reservations made at one moment get slots now, now + 1/cps, now + 2/cps… (µs, rounded up)."""
    pacer = CallPacer(redis_conn, ACCOUNT, cps)
    assert pacer.interval_us == interval
    got = [pacer.reserve(max_wait=3600, now_us=T) for _ in range(6)]
    assert all(r.granted for r in got)
    assert [r.slot_us for r in got] == [T + k * interval for k in range(6)]
    assert [r.wait for r in got] == [k * interval / MICROS for k in range(6)]


@pytest.mark.parametrize("cps", [0, -1, float("nan")])
def test_a_rate_of_zero_or_less_is_refused(redis_conn: Redis, cps: float) -> None:
    """A pacer with no budget at all would hold every call forever: it is a configuration error."""
    with pytest.raises(ValueError):
        CallPacer(redis_conn, ACCOUNT, cps)


def test_an_idle_line_earns_no_burst(redis_conn: Redis) -> None:
    """Slots unused while the line was idle are not saved up: after a pause the next slot is now."""
    pacer = CallPacer(redis_conn, ACCOUNT, 1)
    pacer.reserve(max_wait=60, now_us=T)
    pacer.reserve(max_wait=60, now_us=T)
    later = T + 10 * MICROS
    assert [pacer.reserve(max_wait=60, now_us=later).slot_us for _ in range(2)] == [later, later + MICROS]


def test_a_slot_further_than_max_wait_is_refused_and_nothing_is_booked(redis_conn: Redis) -> None:
    """Refused: the answer says how long until the next free slot, and that slot stays free."""
    pacer = CallPacer(redis_conn, ACCOUNT, 1)
    for _ in range(4):
        pacer.reserve(max_wait=60, now_us=T)
    booked = redis_conn.get(pacer.key)
    refused = pacer.reserve(max_wait=3.999, now_us=T)
    assert not refused.granted and refused.wait == 4.0 and refused.slot_us == T + 4 * MICROS
    assert redis_conn.get(pacer.key) == booked
    granted = pacer.reserve(max_wait=4, now_us=T)  # exactly max_wait away: granted
    assert granted.granted and granted.slot_us == T + 4 * MICROS


def test_accounts_do_not_share_a_budget(redis_conn: Redis) -> None:
    """Each Twilio account has its own calls-per-second: one account's burst does not delay another."""
    busy = CallPacer(redis_conn, ACCOUNT, 1)
    for _ in range(5):
        busy.reserve(max_wait=60, now_us=T)
    other = CallPacer(redis_conn, OTHER_ACCOUNT, 1)
    first = other.reserve(max_wait=0, now_us=T)
    assert first.granted and first.slot_us == T and first.wait == 0


def test_two_pacers_for_one_account_share_its_budget(redis_conn: Redis) -> None:
    """Two workers' pacers for the same account draw from one budget (the key is the account SID)."""
    a, b = CallPacer(redis_conn, ACCOUNT, 2), CallPacer(redis_conn, ACCOUNT, 2)
    slots = [p.reserve(max_wait=60, now_us=T).slot_us for p in (a, b, a, b)]
    assert slots == [T, T + 500_000, T + 1_000_000, T + 1_500_000]


def test_concurrent_threads_get_distinct_consecutive_slots(redis_conn: Redis) -> None:
    """8 threads reserving 25 slots each at one instant get exactly the 200 consecutive slots, none shared."""
    pacer = CallPacer(redis_conn, ACCOUNT, 25)
    start = threading.Barrier(8)

    def reserve_many(_: int) -> list[int]:
        start.wait()
        return [pacer.reserve(max_wait=3600, now_us=T).slot_us for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:
        slots = [slot for batch in pool.map(reserve_many, range(8)) for slot in batch]
    assert sorted(slots) == [T + k * 40_000 for k in range(200)]
    assert at_most_per_second(slots, 25)


def reserve_in_process(redis_url: str, account_sid: str, cps: float, count: int, start: Any, out: Any) -> None:
    """A worker process: its own connection, 2 threads, `count` reservations each on the server's clock."""
    pacer = CallPacer(Redis.from_url(redis_url), account_sid, cps)
    start.wait()
    with ThreadPoolExecutor(2) as pool:
        batches = pool.map(lambda _: [pacer.reserve(max_wait=3600).slot_us for _ in range(count)], range(2))
        out.put([slot for batch in batches for slot in batch])


def test_concurrent_processes_never_exceed_cps_in_any_second(redis_conn: Redis) -> None:
    """4 processes × 2 threads on Redis's clock: 200 distinct slots, ≥ 1/cps apart, ≤ cps in any second."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(4), ctx.Queue()
    args = (_redis_url(redis_conn), ACCOUNT, 25, 25, start, out)
    procs = [ctx.Process(target=reserve_in_process, args=args) for _ in range(4)]
    for p in procs:
        p.start()
    slots = [slot for _ in procs for slot in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=10)
        assert p.exitcode == 0
    ordered = sorted(slots)
    assert len(set(ordered)) == 200
    assert all(b - a >= interval_us(25) for a, b in zip(ordered, ordered[1:], strict=False))
    assert at_most_per_second(slots, 25)


def test_the_key_expires_just_after_its_last_booked_slot(redis_conn: Redis) -> None:
    """The next-free key lives until one interval after the last slot, plus a grace second, no longer."""
    pacer = CallPacer(redis_conn, ACCOUNT, 1)
    for _ in range(3):
        pacer.reserve(max_wait=60, now_us=T)  # next free: T + 3 s
    assert 3000 < redis_conn.pttl(pacer.key) <= 3000 + EXPIRY_GRACE_MS


def test_a_stale_next_free_from_yesterday_does_no_harm(redis_conn: Redis) -> None:
    """A next-free slot left in the past (e.g. a key without expiry) grants the slot now, on Redis's clock."""
    pacer = CallPacer(redis_conn, ACCOUNT, 1)
    redis_conn.set(pacer.key, server_now_us(redis_conn) - 86_400 * MICROS)
    got = pacer.reserve(max_wait=0)
    assert got.granted and got.wait == 0 and got.slot_us == got.now_us


def test_try_reserve_answers_the_sleep_or_none_with_retry_after(redis_conn: Redis) -> None:
    """try_reserve gives the seconds to sleep; refused, None, with retry_after until the next free slot."""
    pacer = CallPacer(redis_conn, ACCOUNT, 2)
    assert [pacer.try_reserve(max_wait=1, now_us=T) for _ in range(3)] == [0.0, 0.5, 1.0]
    assert pacer.retry_after == 0.0
    assert pacer.try_reserve(max_wait=1, now_us=T) is None and pacer.retry_after == 1.5
    assert pacer.try_reserve(max_wait=2, now_us=T) == 1.5 and pacer.retry_after == 0.0


def test_wait_for_slot_returns_no_earlier_than_its_slot(redis_conn: Redis) -> None:
    """Granted, wait_for_slot sleeps until the slot; by Redis's clock the call goes out on time, not early."""
    pacer = CallPacer(redis_conn, ACCOUNT, 20)
    for _ in range(3):
        booked_before = int(redis_conn.get(pacer.key) or 0)
        assert pacer.wait_for_slot(max_wait=1)
        assert server_now_us(redis_conn) >= booked_before  # the slot was max(now, next free then)


def test_wait_for_slot_refused_books_nothing(redis_conn: Redis) -> None:
    """With the next slot beyond max_wait, wait_for_slot books nothing and says how long to wait."""
    pacer = CallPacer(redis_conn, ACCOUNT, 1)
    for _ in range(30):
        pacer.reserve(max_wait=60)  # the next free slot is now ~30 s away
    booked = redis_conn.get(pacer.key)
    assert not pacer.wait_for_slot(max_wait=5)
    assert 25 < pacer.retry_after <= 30
    assert redis_conn.get(pacer.key) == booked
