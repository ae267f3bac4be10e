"""Side effects the flows ask for, done in the request's transaction; queue work runs after commit."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.models import GRID_LEADER, STAFF, Call, CallBack, Person, Recording, Report
from grid.phones import is_mobile, mask
from grid.reports import Facts, Filing, file_report
from grid.timeline import Actor, record
from ivr_flows import answers, catalog
from ivr_flows.actions import Effect, FileNote, FileReport, QueueCallBack, RecordAnswer, RecordRating
from telephony import jobs
from telephony.config import Settings
from worker import callbacks, loop
from worker.queues import TRANSCRIPTION_QUEUE

log = logging.getLogger(__name__)
AfterCommit = Callable[[], None]


def now() -> datetime:
    """The request's "now": the app's CLOCK when a test set one, else the real time."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(UTC)



def enqueue_call_back(callback: CallBack) -> AfterCommit:
    """After commit: put the call-back on the queue (its row stays the truth if Redis is down)."""
    at = now()

    def run() -> None:
        callbacks.enqueue(jobs.queue(), callback, at)

    return run


def enqueue_transcription(recording: Recording) -> AfterCommit:
    recording_id = recording.id

    def run() -> None:
        from worker.transcription import enqueue_transcription as enqueue

        enqueue(jobs.queue(TRANSCRIPTION_QUEUE), recording_id)

    return run


def report_ready(report: Report) -> AfterCommit:
    """After commit: schedule the verification call (a transcript will not come)."""
    report_id = report.id

    def run() -> None:
        from worker.dispatch import report_ready as job

        jobs.queue().enqueue(job, report_id, job_id=f"ready-{report_id}", job_timeout=60)

    return run


def send_sms(to: str, body: str) -> AfterCommit:
    def run() -> None:
        from worker.messaging import send_sms as job

        jobs.queue().enqueue(job, to, body, job_timeout=60, description=f"SMS to {mask(to)}")

    return run


def follow_ups(follow: loop.FollowUps) -> list[AfterCommit]:
    """After commit: queue the call-backs and texts the closed loop asked for."""
    if not follow.callbacks and not follow.messages:
        return []
    at = now()

    def run() -> None:
        callbacks.enqueue_follow_ups(jobs.queue().connection, follow, at)

    return [run]


def filing_rules(settings: Settings) -> Filing:
    return Filing(settings.urgent_categories, timedelta(hours=settings.duplicate_window_hours), now())


def file_from_call(
    session: Session, settings: Settings, call: Call, effect: FileReport, language: str
) -> tuple[int, list[AfterCommit]]:
    """File (or find) the call's report; confirm by SMS to a mobile the first time."""
    facts = Facts(effect.category, effect.building, language, effect.add_to)
    filed = file_report(
        session, call, facts, filing_rules(settings), effect.recording_sid, effect.recording_url, effect.duration
    )
    after: list[AfterCommit] = []
    report = filed.report
    if filed.new_report and report.reporter_phone and is_mobile(report.reporter_phone):
        body = catalog.text(
            report.language, "sms_report_filed", {"community": settings.community_name, "number": str(report.id)}
        )
        after.append(send_sms(report.reporter_phone, body))
    if filed.recording is not None and filed.recording.status == "completed":
        after.extend(claim_transcription(filed.recording))
    return report.id, after


def claim_transcription(recording: Recording) -> list[AfterCommit]:
    """Enqueue the recording's transcription once (the flag is committed with the request)."""
    if recording.transcription_enqueued:
        return []
    recording.transcription_enqueued = True
    return [enqueue_transcription(recording)]


def apply(session: Session, settings: Settings, call: Call, effect: Effect) -> list[AfterCommit]:
    if isinstance(effect, QueueCallBack):
        return _queue_call_back(session, settings, call, effect)
    if isinstance(effect, RecordAnswer):
        return _record_answer(session, settings, call, effect)
    if isinstance(effect, RecordRating):
        target = _target(session, call, effect.report_number)
        if target is not None and target[0] is not None:
            loop.record_rating(session, target[0], effect.rating, now(), target[1], "voice")
        return []
    if isinstance(effect, FileNote):
        return _file_note(session, call, effect)
    return []


def _queue_call_back(session: Session, settings: Settings, call: Call, effect: QueueCallBack) -> list[AfterCommit]:
    if not call.from_number.startswith("+"):  # withheld number ("anonymous"): nobody to call back
        log.warning("call %s: caller id withheld, no call-back possible", call.call_sid)
        return []
    person = session.get(Person, call.person_id) if call.person_id else None
    callback = callbacks.schedule(
        session, settings, purpose=effect.purpose, now=now(), to_number=call.from_number, person=person
    )
    session.flush()
    log.info("caller %s gave no input: call-back %s queued", mask(call.from_number), callback.id)
    return [enqueue_call_back(callback)]


def _call_back_of(session: Session, call: Call) -> CallBack | None:
    callback_id = int((call.flow_state or {}).get("callback_id", 0) or 0)
    return session.get(CallBack, callback_id) if callback_id else None


def _target(session: Session, call: Call, report_number: int | None) -> tuple[Report | None, Person | None] | None:
    """The report an answer is about and who gave it; None when the caller may not act on it.

    On a call-back: its own report and person. From the hotline's staff menu: the report with
    that number, if the caller is its assignee, a grid leader or community staff.
    """
    person = session.get(Person, call.person_id) if call.person_id else None
    if report_number is None:
        callback = _call_back_of(session, call)
        if callback is None:
            return None
        return callback.report, callback.person or person
    report = session.get(Report, report_number)
    if report is None or person is None:
        return None
    if report.assignee_id != person.id and person.role not in (GRID_LEADER, STAFF):
        log.warning("call %s: %s may not answer for report %s", call.call_sid, mask(call.from_number), report_number)
        return None
    return report, person


def _record_answer(session: Session, settings: Settings, call: Call, effect: RecordAnswer) -> list[AfterCommit]:
    at = now()
    if effect.report_number is None:
        callback = _call_back_of(session, call)
        if callback is not None:
            callback.answer = effect.answer
            if effect.answer != answers.NO_ANSWER:
                callback.answered_at = at
    target = _target(session, call, effect.report_number)
    if target is None or target[0] is None or effect.answer == answers.NO_ANSWER:
        return []
    report, by = target
    assert report is not None
    if effect.answer in (answers.ACCEPTED, answers.NOT_MY_AREA):
        report.verification_answer, report.verification_answered_at = effect.answer, at
    return follow_ups(loop.apply_answer(session, settings, report, effect.answer, at, by, "voice"))


def _file_note(session: Session, call: Call, effect: FileNote) -> list[AfterCommit]:
    """Keep the voice note (a worker's site note, a resident's reason, an answer) and transcribe it."""
    existing = session.scalar(select(Recording).where(Recording.recording_sid == effect.recording_sid))
    if existing is not None:
        return []
    callback = _call_back_of(session, call) if effect.report_number is None else None
    report_id = effect.report_number if effect.report_number is not None else (callback.report_id if callback else None)
    recording = Recording(
        recording_sid=effect.recording_sid, url=effect.recording_url, duration=effect.duration, kind=effect.kind,
        report_id=report_id, callback_id=callback.id if callback else None, status="completed",
    )
    session.add(recording)
    report = session.get(Report, report_id) if report_id else None
    if report is not None:
        person = session.get(Person, call.person_id) if call.person_id else None
        record(session, report, "note", now(), Actor.of(person, "voice"), f"voice note ({effect.kind})")
    session.flush()
    return claim_transcription(recording)
