"""Filing a report from a call: one report per call, one recording per RecordingSid.

Both Twilio's <Record> action and its recordingStatusCallback may arrive (in either order,
and each may be retried); whichever comes first files the report, the rest find it. Two
arriving at the same instant collide on a unique key at commit; the webhook layer runs the
loser again (telephony.voice._committed), and then it finds the winner's rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import lifecycle, registry
from grid.models import REPORT_AUDIO, Call, Grid, Person, Recording, Report
from grid.timeline import Actor, record
from ivr_flows.categories import is_urgent


@dataclass
class Filed:
    report: Report
    recording: Recording | None
    new_report: bool


def _reporter_grid(session: Session, reporter: Person | None, building: str) -> Grid | None:
    """The micro-grid a report belongs to: the caller's household, their grid, or the keyed building."""
    grid = registry.home_grid(reporter)
    if grid is None and building:
        return registry.resolve_building(session, building)
    return grid


@dataclass(frozen=True)
class Facts:
    """What the caller told the hotline: the category key's meaning, a keyed building, the language."""

    category: str
    building: str
    language: str
    add_to: int | None = None  # the caller chose to add their voice to this open report

    @classmethod
    def from_state(cls, state: dict[str, object]) -> Facts:
        add_to = state.get("add_to")
        return cls(
            str(state.get("category", "other")), str(state.get("building", "")), str(state.get("lang", "zh-CN")),
            int(str(add_to)) if add_to else None,
        )


@dataclass(frozen=True)
class Filing:
    """Deployment rules for filing: which categories are urgent, the duplicate window, and now."""

    urgent_categories: tuple[str, ...]
    duplicate_window: timedelta
    now: datetime


def open_by_category(session: Session, grid_id: int, since: datetime) -> dict[str, int]:
    """category -> the oldest open report in the micro-grid filed since `since`: what a caller with
    the same problem is offered to add their voice to, and what a new report is linked to."""
    query = (
        select(Report.category, Report.id)
        .where(Report.grid_id == grid_id, Report.created_at >= since, Report.state.in_(lifecycle.OPEN),
               Report.duplicate_of_id.is_(None))
        .order_by(Report.id)
    )
    found: dict[str, int] = {}
    for category, number in session.execute(query):
        found.setdefault(category, number)
    return found


def open_duplicate(session: Session, grid_id: int | None, category: str, since: datetime) -> Report | None:
    """The oldest open report in this micro-grid and category filed since `since`, if any."""
    number = open_by_category(session, grid_id, since).get(category) if grid_id is not None else None
    return session.get(Report, number) if number is not None else None


def _addition(session: Session, call: Call, facts: Facts) -> Report | None:
    """The open report the caller chose to add their voice to (None: file a report of their own)."""
    if facts.add_to is None:
        return None
    report = session.get(Report, facts.add_to)
    return report if report is not None and report.state in lifecycle.OPEN else None


def file_report(
    session: Session,
    call: Call,
    facts: Facts,
    rules: Filing,
    recording_sid: str = "",
    recording_url: str = "",
    duration: int | None = None,
) -> Filed:
    """Get or create the call's report (routed to its assignee) and attach the recording.

    A caller who chose to add their voice to an open report files no report: the recording
    joins that report as an "addition". A new report in the same micro-grid and category as an
    open one within the duplicate window is linked to it as a possible duplicate.
    """
    addition = _addition(session, call, facts)
    if addition is not None:
        return _attach(session, call, addition, "addition", rules, recording_sid, recording_url, duration)
    report = session.scalar(select(Report).where(Report.call_id == call.id))
    created = report is None
    if report is None:
        reporter = session.get(Person, call.person_id) if call.person_id else None
        report = new_report(session, rules, facts, reporter, call.from_number, "voice", call_id=call.id)
    recording = None
    if recording_sid:
        recording = session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))
        if recording is None:
            recording = Recording(recording_sid=recording_sid, report_id=report.id, url=recording_url, duration=duration,
                                  kind=REPORT_AUDIO)
            session.add(recording)
    return Filed(report, recording, created)


def new_report(
    session: Session, rules: Filing, facts: Facts, reporter: Person | None, phone: str, channel: str, **fields: object
) -> Report:
    """File a report (either channel): routed to its assignee, linked to an open twin, on the timeline."""
    grid = _reporter_grid(session, reporter, facts.building)
    assignee, rule = registry.assign_report(session, grid)
    report = Report(
        channel=channel,
        reporter_id=reporter.id if reporter else None,
        reporter_phone=phone,
        language=facts.language,
        category=facts.category,
        urgent=is_urgent(facts.category, rules.urgent_categories),
        building=facts.building or (reporter.household.building if reporter and reporter.household else ""),
        grid_id=grid.id if grid else None,
        assignee_id=assignee.id if assignee else None,
        assignment_rule=rule,
        created_at=rules.now,
        state_changed_at=rules.now,
        **fields,
    )
    twin = open_duplicate(session, report.grid_id, facts.category, rules.now - rules.duplicate_window)
    report.possible_duplicate_of_id = twin.id if twin is not None else None
    session.add(report)
    session.flush()  # its number is read back to the caller
    note = f"possible duplicate of report {twin.id}" if twin is not None else ""
    record(session, report, "filed", rules.now, Actor.of(reporter, channel), note, to_state=report.state)
    return report


def _attach(
    session: Session, call: Call, report: Report, kind: str, rules: Filing, recording_sid: str, recording_url: str,
    duration: int | None,
) -> Filed:
    recording = None
    if recording_sid:
        recording = session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))
        if recording is None:
            recording = Recording(recording_sid=recording_sid, report_id=report.id, url=recording_url,
                                  duration=duration, kind=kind)
            session.add(recording)
            caller = session.get(Person, call.person_id) if call.person_id else None
            record(session, report, "note", rules.now, Actor.of(caller, "voice"), "another caller added their voice")
    return Filed(report, recording, False)
