"""Side effects the flows ask for, done in the request's transaction; queue work runs after commit."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy.orm import Session

from grid import registry
from grid.models import Call, CallBack, Person, Recording, Report
from grid.phones import is_mobile, mask
from grid.reports import Facts, file_report
from ivr_flows import catalog
from ivr_flows.actions import Effect, FileReport, QueueCallBack, RecordAnswer
from ivr_flows.verification import ACCEPTED, NOT_MY_AREA
from telephony import jobs
from telephony.config import Settings
from worker import callbacks
from worker.queues import TRANSCRIPTION_QUEUE

log = logging.getLogger(__name__)
AfterCommit = Callable[[], None]


def _now() -> datetime:
    clock = current_app.config.get("CLOCK")
    return clock() if clock else datetime.now(UTC)


def enqueue_call_back(callback: CallBack) -> AfterCommit:
    """After commit: put the call-back on the queue (its row stays the truth if Redis is down)."""
    now = _now()

    def run() -> None:
        callbacks.enqueue(jobs.queue(), callback, now)

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


def file_from_call(
    session: Session, settings: Settings, call: Call, effect: FileReport, language: str
) -> tuple[int, list[AfterCommit]]:
    """File (or find) the call's report; confirm by SMS to a mobile the first time."""
    facts = Facts(effect.category, effect.building, language)
    filed = file_report(
        session, call, facts, settings.urgent_categories, effect.recording_sid, effect.recording_url, effect.duration
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
        if not call.from_number.startswith("+"):  # withheld number ("anonymous"): nobody to call back
            log.warning("call %s: caller id withheld, no call-back possible", call.call_sid)
            return []
        person = session.get(Person, call.person_id) if call.person_id else None
        callback = callbacks.schedule(
            session, settings, purpose=effect.purpose, now=_now(), to_number=call.from_number, person=person
        )
        session.flush()
        log.info("caller %s gave no input: call-back %s queued", mask(call.from_number), callback.id)
        return [enqueue_call_back(callback)]
    if isinstance(effect, RecordAnswer):
        return _record_answer(session, settings, call, effect.answer)
    return []


def _record_answer(session: Session, settings: Settings, call: Call, answer: str) -> list[AfterCommit]:
    callback = session.get(CallBack, int(call.flow_state.get("callback_id", 0)))
    if callback is None:
        return []
    callback.answer = answer
    report: Report | None = callback.report
    if report is None or answer not in (ACCEPTED, NOT_MY_AREA):
        return []
    report.verification_answer = answer
    report.verification_answered_at = _now()
    if answer == ACCEPTED:
        report.state = "verifying"
        if callback.person_id:
            report.assignee_id = callback.person_id
        return []
    nxt, _rule = registry.reassign_upward(session, report)
    if nxt is None:
        log.warning("report %s: nobody above to reassign to", report.id)
        return []
    session.flush()
    new = callbacks.schedule(
        session, settings, purpose=callbacks.WORKER_VERIFICATION, now=_now(), to_number=nxt.phone,
        person=nxt, report=report, urgent=report.urgent,
    )
    session.flush()
    return [enqueue_call_back(new)]
