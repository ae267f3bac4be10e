"""Filing a report from a call: one report per call, one recording per RecordingSid.

Both Twilio's <Record> action and its recordingStatusCallback may arrive (in either order,
and each may be retried); whichever comes first files the report, the rest find it. Two
arriving at the same instant collide on a unique key at commit; the webhook layer runs the
loser again (telephony.voice._committed), and then it finds the winner's rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry
from grid.models import Call, Grid, Person, Recording, Report
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

    @classmethod
    def from_state(cls, state: dict[str, object]) -> Facts:
        return cls(str(state.get("category", "other")), str(state.get("building", "")), str(state.get("lang", "zh-CN")))


def file_report(
    session: Session,
    call: Call,
    facts: Facts,
    urgent_categories: tuple[str, ...],
    recording_sid: str = "",
    recording_url: str = "",
    duration: int | None = None,
) -> Filed:
    """Get or create the call's report (routed to its assignee) and attach the recording."""
    report = session.scalar(select(Report).where(Report.call_id == call.id))
    new_report = report is None
    if report is None:
        reporter = session.get(Person, call.person_id) if call.person_id else None
        building, category = facts.building, facts.category
        grid = _reporter_grid(session, reporter, building)
        assignee, rule = registry.assign_report(session, grid)
        report = Report(
            call_id=call.id,
            channel="voice",
            reporter_id=reporter.id if reporter else None,
            reporter_phone=call.from_number,
            language=facts.language,
            category=category,
            urgent=is_urgent(category, urgent_categories),
            building=building or (reporter.household.building if reporter and reporter.household else ""),
            grid_id=grid.id if grid else None,
            assignee_id=assignee.id if assignee else None,
            assignment_rule=rule,
        )
        session.add(report)
        session.flush()  # its number is read back to the caller
    recording = None
    if recording_sid:
        recording = session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))
        if recording is None:
            recording = Recording(recording_sid=recording_sid, report_id=report.id, url=recording_url, duration=duration)
            session.add(recording)
    return Filed(report, recording, new_report)
