"""Builds the pure flows' contexts from the database (the flows themselves do no I/O)."""
from __future__ import annotations

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry
from grid.models import Call, CallBack, Person, Report
from ivr_flows.hotline import HotlineContext, ReportSummary
from ivr_flows.verification import VerificationContext
from telephony.config import Settings


def national_digits(e164: str, region: str = "CN") -> str:
    """A number as people here dial it (0571 8888 1234), for reading it out."""
    try:
        parsed = phonenumbers.parse(e164, region)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in e164 if ch.isdigit())
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in formatted if ch.isdigit())


def hotline_context(session: Session, settings: Settings, call: Call) -> HotlineContext:
    person = session.get(Person, call.person_id) if call.person_id else None
    grid = registry.home_grid(person)
    worker = registry.grid_worker_for(session, grid) if grid is not None else None
    latest = session.scalar(
        select(Report).where(Report.reporter_phone == call.from_number).order_by(Report.id.desc()).limit(1)
    )
    summary = None
    if latest is not None:
        assignee = latest.assignee.name if latest.assignee else None
        summary = ReportSummary(latest.id, latest.category, latest.state, assignee)
    return HotlineContext(
        community_name=settings.community_name,
        caller_name=person.name if person else None,
        caller_has_grid=grid is not None,
        emergency_numbers=settings.emergency_numbers,
        duty_phone=settings.duty_phone,
        worker_phone=worker.phone if worker else None,
        latest_report=summary,
        buildings=registry.building_numbers(session) if grid is None else frozenset(),
    )


def verification_context(session: Session, settings: Settings, call: Call) -> VerificationContext:
    callback = session.get(CallBack, int(call.flow_state.get("callback_id", 0)))
    if callback is None or callback.report is None:
        raise LookupError(f"call {call.call_sid} has no call-back with a report")
    report = callback.report
    recording = report.recordings[0].url if report.recordings else None
    transcript = report.transcript_text if report.transcript_status == "done" else None
    return VerificationContext(
        community_name=settings.community_name,
        worker_name=callback.person.name if callback.person else settings.community_name,
        report_number=report.id,
        category=report.category,
        urgent=report.urgent,
        transcript=transcript or None,
        recording_url=recording,
        duty_phone=national_digits(settings.duty_phone, settings.default_region) if settings.duty_phone else "",
    )
