"""The periodic sweep: whatever the database says is due but Redis lost, goes back on the queue.

Redis flushed, a worker killed, Redis down while the web process committed: the rows are the
truth. Re-enqueueing is safe because every job is idempotent (claims, final-state checks).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from rq.job import Job
from sqlalchemy import select

from grid.models import CallBack, Recording, Report, as_utc
from worker import callbacks
from worker.context import current
from worker.queues import TRANSCRIPTION_QUEUE, job_queue

log = logging.getLogger(__name__)
RECORDING_CALLBACK_GRACE = timedelta(minutes=10)  # how long to wait for Twilio's "completed"


def _job_alive(job_id: str, conn) -> bool:  # type: ignore[no-untyped-def]
    try:
        job = Job.fetch(job_id, connection=conn)
    except Exception:  # noqa: BLE001 - NoSuchJobError or a damaged hash: treat as lost
        return False
    return job.get_status(refresh=False) not in ("finished", "failed", "canceled", "stopped")


def sweep() -> dict[str, int]:
    """Re-enqueue lost transcriptions, verification scheduling and due call-backs."""
    from worker.transcription import enqueue_transcription, transcription_job_id

    ctx = current()
    queue = job_queue(ctx.redis)
    now = ctx.now()
    counts = {"transcriptions": 0, "reports": 0, "callbacks": 0}
    with ctx.sessions() as session:
        pending = select(Recording).join(Report).where(Report.transcript_status == "pending")
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
        unrouted = select(Report).where(Report.transcript_status.in_(("done", "unavailable")), ~has_verification)
        for report in session.scalars(unrouted).all():
            if callbacks.schedule_verification(session, ctx.settings, report, now) is not None:
                counts["reports"] += 1
        session.commit()
        due = select(CallBack).where(CallBack.status == "scheduled", CallBack.scheduled_for <= now)
        for cb in session.scalars(due).all():
            if as_utc(cb.scheduled_for) <= now and not _job_alive(f"callback-{cb.id}-{cb.attempts}", ctx.redis):
                callbacks.enqueue(queue, cb, now)
                counts["callbacks"] += 1
    if any(counts.values()):
        log.info("sweep re-enqueued %s", counts)
    return counts
