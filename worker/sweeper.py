"""The periodic sweep: whatever the database says is due but Redis lost, goes back on the queue.

Redis flushed, a worker killed, Redis down while the web process committed: the rows are the
truth. Re-enqueueing is safe because every job is idempotent (claims, final-state checks).
The sweep also escalates overdue reports and settles call-backs whose process died mid-placement.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq.job import Job
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import lifecycle
from grid.models import REPORT_AUDIO, CallAttempt, CallBack, Recording, Report, as_utc
from worker import callbacks, texts
from worker.context import WorkerContext, current
from worker.deadlines import escalate_overdue
from worker.loop import FollowUps
from worker.outcomes import call_ended
from worker.queues import TRANSCRIPTION_QUEUE, job_queue

log = logging.getLogger(__name__)
RECORDING_CALLBACK_GRACE = timedelta(minutes=10)  # how long to wait for Twilio's "completed"
# A placement whose REST request never came back with a CallSid (the process died): Twilio's
# "initiated" status callback would have told us the CallSid within seconds if the call exists.
PLACING_TIMEOUT = timedelta(minutes=5)
# A placed call with no final status callback after this long: ask Twilio how it ended.
PLACED_TIMEOUT = timedelta(hours=1)


def _job_alive(job_id: str, conn) -> bool:  # type: ignore[no-untyped-def]
    try:
        job = Job.fetch(job_id, connection=conn)
    except Exception:  # noqa: BLE001 - NoSuchJobError or a damaged hash: treat as lost
        return False
    return job.get_status(refresh=False) not in ("finished", "failed", "canceled", "stopped")


def sweep() -> dict[str, int]:
    """Re-enqueue lost transcriptions, verification scheduling, due call-backs and due texts;
    escalate overdue reports; settle call-backs stuck mid-placement."""
    from worker.transcription import enqueue_transcription, transcription_job_id

    ctx = current()
    queue = job_queue(ctx.redis)
    now = ctx.now()
    counts = {"transcriptions": 0, "reports": 0, "callbacks": 0, "escalations": 0, "settled": 0, "texts": 0}
    with ctx.sessions() as session:
        report_pending = (Recording.kind == REPORT_AUDIO) & (Report.transcript_status == "pending")
        note_pending = (Recording.kind != REPORT_AUDIO) & (Recording.transcript_status == "pending")
        pending = select(Recording).outerjoin(Report, Recording.report_id == Report.id).where(report_pending | note_pending)
        for rec in session.scalars(pending).all():
            stale = as_utc(rec.created_at) < now - RECORDING_CALLBACK_GRACE
            if rec.status == "completed" or stale:
                if not _job_alive(transcription_job_id(rec.id), ctx.redis):
                    rec.transcription_enqueued = True
                    session.commit()
                    enqueue_transcription(job_queue(ctx.redis, TRANSCRIPTION_QUEUE), rec.id)
                    counts["transcriptions"] += 1
        has_verification = (
            select(CallBack.id)
            .where(CallBack.report_id == Report.id, CallBack.purpose == callbacks.WORKER_VERIFICATION)
            .exists()
        )
        merging = (Report.channel == "sms") & (Report.created_at > now - timedelta(seconds=ctx.settings.sms_merge_seconds))
        unrouted = select(Report).where(
            Report.transcript_status.in_(("done", "unavailable")), Report.state == lifecycle.NEW, ~has_verification,
            ~merging,  # a texted report may still be growing; its own job routes it after the merge window
        )
        for report in session.scalars(unrouted).all():
            if callbacks.schedule_verification(session, ctx.settings, report, now) is not None:
                counts["reports"] += 1
        session.commit()
        follow = escalate_overdue(session, ctx.settings, now)
        counts["escalations"] = len(follow.callbacks)
        follow.add(_settle_stuck(ctx, session, now, counts))
        session.commit()
        callbacks.enqueue_follow_ups(ctx.redis, follow, now)
        due = select(CallBack).where(CallBack.status == "scheduled", CallBack.scheduled_for <= now)
        for cb in session.scalars(due).all():
            if as_utc(cb.scheduled_for) <= now and not _job_alive(callbacks.job_id(cb), ctx.redis):
                callbacks.enqueue(queue, cb, now)
                counts["callbacks"] += 1
        for message in texts.due_texts(session, now):
            if not _job_alive(texts.text_job_id(message), ctx.redis):
                texts.enqueue_text(ctx.redis, message, now)
                counts["texts"] += 1
    if any(counts.values()):
        log.info("sweep: %s", counts)
    return counts


def _settle_stuck(ctx: WorkerContext, session: Session, now: datetime, counts: dict[str, int]) -> FollowUps:
    """Call-backs whose placing process died, or whose final status callback never came."""
    out = FollowUps()
    stuck = (
        select(CallAttempt, CallBack)
        .join(CallBack, CallAttempt.callback_id == CallBack.id)
        .where(CallAttempt.outcome == "", CallBack.status.in_(("placing", "placed")),
               CallAttempt.number == CallBack.attempts)
    )
    for attempt, cb in session.execute(stuck).all():
        age = now - as_utc(attempt.placed_at)
        if cb.status == "placing" and age > PLACING_TIMEOUT:
            if attempt.call_sid:  # Twilio has the call (a status callback told us): wait for its end
                cb.status, cb.call_sid = "placed", attempt.call_sid
            else:  # never reached Twilio: ring again (it was never rung, so nobody is rung twice)
                attempt.outcome, attempt.ended_at, attempt.error = "lost", now, "placement did not finish"
                cb.status = "scheduled"
            counts["settled"] += 1
        elif cb.status == "placed" and age > PLACED_TIMEOUT and attempt.call_sid:
            status, answered_by = _twilio_status(ctx, attempt.call_sid)
            if status:
                out.add(call_ended(session, ctx.settings, cb, attempt, status, answered_by, now))
                counts["settled"] += 1
    return out


def _twilio_status(ctx: WorkerContext, call_sid: str) -> tuple[str, str]:
    """How Twilio says a call ended ("", "" when it cannot be asked)."""
    try:
        call = ctx.twilio().calls(call_sid).fetch()
    except Exception as exc:  # noqa: BLE001 - Twilio unreachable: try again at the next sweep
        log.warning("could not fetch call %s from Twilio: %s", call_sid, exc)
        return "", ""
    return str(call.status or ""), str(getattr(call, "answered_by", "") or "")
