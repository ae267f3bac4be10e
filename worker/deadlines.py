"""Overdue reports: a missed deadline rings the grid leader (and texts them); a second miss, staff.

Run by the sweep every minute. The escalation level on the report makes each step happen once;
a report that changes state starts a fresh deadline (grid.timeline.transition resets it).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import lifecycle, registry, routing
from grid.models import Report, as_utc
from grid.phones import is_mobile
from grid.quiet_hours import call_time
from grid.timeline import record
from telephony.config import Settings
from worker import callbacks
from worker.loop import FollowUps
from worker.outcomes import escalation_text

log = logging.getLogger(__name__)
_WAITING_ON = {
    lifecycle.NEW: "accept",
    lifecycle.VERIFYING: "verify",
    lifecycle.CONFIRMED: "handle",
    lifecycle.DISPATCHED: "handle",
}


def _clock_start(settings: Settings, report: Report) -> datetime:
    """When the report's deadline clock started: when it entered its state, or, for a report that
    is not urgent, when quiet hours ended (nobody may be rung about it before then)."""
    entered = as_utc(report.state_changed_at)
    return entered if report.urgent else call_time(entered, settings.timezone, settings.quiet_window)


def escalate_overdue(session: Session, settings: Settings, now: datetime) -> FollowUps:
    """Mark reports past their state's deadline overdue and ring the next rung; once per level."""
    out = FollowUps()
    limits = settings.deadlines
    candidates = select(Report).where(
        Report.state.in_(tuple(_WAITING_ON)), Report.escalation_level < lifecycle.MAX_ESCALATION
    )
    people = None
    for report in session.scalars(candidates).all():
        level = lifecycle.escalation_level_due(report.state, _clock_start(settings, report), now, limits)
        if level <= (report.escalation_level or 0):
            continue
        people = people if people is not None else registry.responders(session)
        person, _rule = routing.escalation_target(report.grid, people, level)
        number = person.phone if person is not None else settings.duty_phone
        reason = _WAITING_ON[report.state]
        report.overdue = True
        report.escalation_level = level
        who = person.name if person is not None else "the duty phone"
        record(session, report, "escalation", now, note=f"overdue ({reason}): escalated to {who}, level {level}")
        log.info("report %s overdue (%s): escalation level %s", report.id, reason, level)
        if not number:
            continue
        cb = callbacks.schedule(
            session, settings, purpose=callbacks.ESCALATION, now=now, to_number=number, person=person, report=report,
            urgent=report.urgent, cycle=f"overdue-{report.state}-{report.reopen_count}-{level}",
        )
        session.flush()
        if cb.status == "scheduled":
            out.callbacks.append(cb)
        if is_mobile(number):
            out.messages.append((number, escalation_text(settings, report, reason)))
    return out
