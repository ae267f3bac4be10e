"""After a report's transcript is final: schedule the verification call-back to the right person."""
from __future__ import annotations

from grid.models import Report
from worker import callbacks
from worker.context import current
from worker.queues import job_queue


def report_ready(report_id: int) -> None:
    """Schedule (once) and enqueue the report's verification call. Safe to call twice."""
    ctx = current()
    now = ctx.now()
    with ctx.sessions() as session:
        report = session.get(Report, report_id)
        if report is None:
            return
        callback = callbacks.schedule_verification(session, ctx.settings, report, now)
        session.commit()
        if callback is not None and callback.status == "scheduled":
            callbacks.enqueue(job_queue(ctx.redis), callback, now)
