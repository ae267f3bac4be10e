"""Builds the pure flows' contexts from the database (the flows themselves do no I/O).

Dates are said in the community's time zone (settings.timezone), so "yesterday" means what the
caller means by it.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from grid import lifecycle, registry
from grid.models import (
    GRID_LEADER,
    GRID_WORKER,
    REPORT_AUDIO,
    RESIDENT,
    STAFF,
    VOLUNTEER,
    Call,
    CallBack,
    Person,
    Recording,
    Report,
    as_utc,
)
from grid.reports import open_by_category
from ivr_flows.hotline_context import AssignedReport, HotlineContext, ReportSummary
from ivr_flows.outbound import OutboundContext, ReportBrief
from telephony.config import Settings
from telephony.effects import now as clock_now
from worker.callbacks import ESCALATION

STAFF_ROLES = (GRID_WORKER, GRID_LEADER, STAFF, VOLUNTEER)  # hear "reports assigned to you" (menu 3)
RECENT_REPORTS = 3
# The day a status sentence names: when the report entered its state, except that "waiting for
# your check" names the day it was handled.
_DATE_OF = {lifecycle.AWAITING_CHECK: lifecycle.HANDLED}


def national_digits(e164: str, region: str = "CN") -> str:
    """A number as people here dial it (0571 8888 1234), for reading it out."""
    try:
        parsed = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in e164 if ch.isdigit())
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in formatted if ch.isdigit())


def _duty_digits(settings: Settings) -> str:
    return national_digits(settings.duty_phone, settings.default_region) if settings.duty_phone else ""


def local_date(settings: Settings, moment: datetime) -> str:
    """The ISO date of `moment` in the community's time zone."""
    return as_utc(moment).astimezone(ZoneInfo(settings.timezone)).date().isoformat()


def _event_date(settings: Settings, report: Report) -> str:
    """The day of the step that put the report where it is (timeline first, else state_changed_at)."""
    wanted = _DATE_OF.get(report.state, report.state)
    moments = [e.at for e in report.events if e.to_state == wanted]
    return local_date(settings, max(moments, key=as_utc) if moments else report.state_changed_at)


def report_summary(settings: Settings, report: Report) -> ReportSummary:
    assignee = report.assignee
    return ReportSummary(
        number=report.id,
        category=report.category,
        state=report.state,
        assignee_name=assignee.name if assignee else None,
        assignee_role=assignee.role if assignee else None,
        event_date=_event_date(settings, report),
        rating=report.rating,
        reopened=report.reopen_count > 0,
        duplicate_of=report.duplicate_of_id,
    )


def _transcript(report: Report) -> str | None:
    return (report.transcript_text or None) if report.transcript_status == "done" else None


def _assigned(session: Session, person: Person) -> tuple[AssignedReport, ...]:
    """The open reports assigned to a staff caller, oldest first."""
    query = (
        select(Report)
        .where(Report.assignee_id == person.id, Report.state.in_(lifecycle.OPEN))
        .order_by(Report.created_at, Report.id)
    )
    return tuple(
        AssignedReport(r.id, r.category, r.urgent, r.state, _transcript(r)) for r in session.scalars(query)
    )


def hotline_context(session: Session, settings: Settings, call: Call, now: datetime | None = None) -> HotlineContext:
    """Everything the hotline may say to this caller, looked up once when the call starts."""
    now = now or clock_now()
    person = session.get(Person, call.person_id) if call.person_id else None
    grid = registry.home_grid(person)
    worker = registry.grid_worker_for(session, grid) if grid is not None else None
    recent = list(
        session.scalars(
            select(Report)
            .where(Report.reporter_phone == call.from_number)
            .options(selectinload(Report.events), selectinload(Report.assignee))
            .order_by(Report.id.desc())
            .limit(RECENT_REPORTS)
        )
    )
    summaries = [report_summary(settings, r) for r in recent]
    is_staff = person is not None and person.role in STAFF_ROLES
    since = now - timedelta(hours=settings.duplicate_window_hours)
    return HotlineContext(
        community_name=settings.community_name,
        caller_name=person.name if person else None,
        caller_has_grid=grid is not None,
        emergency_numbers=settings.emergency_numbers,
        duty_phone=settings.duty_phone,
        worker_phone=worker.phone if worker else None,
        latest_report=summaries[0] if summaries else None,
        buildings=registry.building_numbers(session) if grid is None else frozenset(),
        duty_phone_digits=_duty_digits(settings),
        today=local_date(settings, now),
        earlier_reports=tuple(summaries[1:]),
        caller_is_staff=is_staff,
        assigned_reports=_assigned(session, person) if is_staff and person is not None else (),
        open_by_category=open_by_category(session, grid.id, since) if grid is not None else {},
    )


def _newest_note(report: Report, kind: str) -> str | None:
    """The newest transcribed voice note of `kind` about the report."""
    notes = [r for r in report.recordings if r.kind == kind and r.transcript_status == "done" and r.transcript_text]
    return notes[-1].transcript_text if notes else None


def _report_audio(report: Report) -> Recording | None:
    return next((r for r in report.recordings if r.kind == REPORT_AUDIO), None)


def report_brief(settings: Settings, report: Report, purpose: str) -> ReportBrief:
    """The report as an outbound call reads it out; an escalation call treats it as overdue.
    The caller's voice is played from our server (telephony.media), never Twilio's URL."""
    from telephony.media import play_url

    audio = _report_audio(report)
    return ReportBrief(
        number=report.id,
        category=report.category,
        urgent=report.urgent,
        state=report.state,
        transcript=_transcript(report),
        recording_url=play_url(settings, audio.recording_sid) if audio is not None else None,
        handling_note=_newest_note(report, "handling_note"),
        reopen_reason=_newest_note(report, "reopen_reason"),
        overdue=report.overdue or purpose == ESCALATION,
        escalation_level=report.escalation_level,
    )


def outbound_context(session: Session, settings: Settings, callback: CallBack) -> OutboundContext:
    """Everything a call-back may say, looked up once when it is answered (or reaches a machine).

    A resident hears the report's assignee calling about their report; everybody else hears the
    community's grid hotline.
    """
    report, callee = callback.report, callback.person
    to_resident = callee is None or callee.role == RESIDENT
    caller = report.assignee if report is not None and to_resident else None
    return OutboundContext(
        community_name=settings.community_name,
        callee_name=callee.name if callee else None,
        caller_name=caller.name if caller else settings.community_name,
        caller_role=caller.role if caller else None,
        duty_phone=_duty_digits(settings),
        language=callback.language or settings.default_language,
        report=report_brief(settings, report, callback.purpose) if report is not None else None,
        question=callback.question or None,
    )


def callback_of(session: Session, call: Call) -> CallBack:
    """The call-back an outbound call belongs to (its id is in the flow state)."""
    callback_id = int((call.flow_state or {}).get("callback_id", 0) or 0)
    callback = session.get(CallBack, callback_id) if callback_id else None
    if callback is None:
        raise LookupError(f"call {call.call_sid} belongs to no call-back")
    return callback

