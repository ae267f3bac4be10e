"""Texts that report a problem: file it, ask an unknown sender where, merge quick follow-ups.

One report pipeline, two channels: a texted report is filed with grid.reports.new_report like a
voice report, its text standing in for the transcript, and its verification call-back follows
once the sender has had SMS_MERGE_SECONDS to add to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry
from grid.models import Person, Report, SmsDraft, as_utc
from grid.reports import Facts, new_report
from grid.timeline import Actor, record
from telephony.config import Settings
from telephony.effects import filing_rules

AWAITING_BUILDING = "awaiting_building"
OPEN = "open"  # a filed report that quick follow-up texts extend


@dataclass(frozen=True)
class Outcome:
    """What became of a reporting text, for the reply."""

    kind: str  # filed | added | ask_building
    report: Report | None = None
    building_unknown: str = ""  # the sender's answer matched no building (passed to the duty leader)


def _draft(session: Session, phone: str, now: datetime) -> SmsDraft | None:
    draft = session.scalar(select(SmsDraft).where(SmsDraft.phone == phone))
    if draft is not None and as_utc(draft.expires_at) <= now:
        session.delete(draft)
        session.flush()
        return None
    return draft


def awaiting_building(session: Session, phone: str, now: datetime) -> bool:
    """Is this number's next text the answer to "which building?"?"""
    draft = session.scalar(select(SmsDraft).where(SmsDraft.phone == phone))
    return draft is not None and draft.state == AWAITING_BUILDING and as_utc(draft.expires_at) > now


def take_report_text(
    session: Session, settings: Settings, phone: str, person: Person | None, text: str, language: str, now: datetime
) -> Outcome:
    """A text that is (part of) a report: extend the open one, file it, or ask for the building."""
    draft = _draft(session, phone, now)
    merge = timedelta(seconds=settings.sms_merge_seconds)
    if draft is not None and draft.state == OPEN and draft.report_id is not None:
        report = session.get(Report, draft.report_id)
        if report is not None:
            report.transcript_text = "\n".join(part for part in (report.transcript_text, text) if part)
            draft.updated_at, draft.expires_at = now, now + merge
            record(session, report, "note", now, Actor.of(person, "sms"), "the reporter added a text")
            return Outcome("added", report)
    if draft is not None and draft.state == AWAITING_BUILDING:
        return _file_with_place(session, settings, draft, phone, person, text, now)
    if person is None or registry.home_grid(person) is None:
        expiry = now + timedelta(hours=settings.sms_draft_hours)
        if draft is None:
            draft = SmsDraft(phone=phone, state=AWAITING_BUILDING, text=text, language=language, expires_at=expiry)
            session.add(draft)
        else:
            draft.state, draft.text, draft.report_id, draft.expires_at = AWAITING_BUILDING, text, None, expiry
        draft.updated_at = now
        return Outcome("ask_building")
    report = _file(session, settings, phone, person, text, "", language, now)
    _open_draft(session, draft, phone, report, language, now + merge, now)
    return Outcome("filed", report)


def _file_with_place(
    session: Session, settings: Settings, draft: SmsDraft, phone: str, person: Person | None, answer: str, now: datetime
) -> Outcome:
    """The unknown sender answered "which building?": a building we know, or an address line."""
    grid = registry.resolve_building(session, answer)
    building = registry.building_number(answer) if grid is not None else ""
    text = draft.text if grid is not None else f"{draft.text}\n{answer}".strip()
    report = _file(session, settings, phone, person, text, building, draft.language, now)
    _open_draft(session, draft, phone, report, draft.language, now + timedelta(seconds=settings.sms_merge_seconds), now)
    return Outcome("filed", report, building_unknown="" if grid is not None else answer.strip())


def _file(
    session: Session, settings: Settings, phone: str, person: Person | None, text: str, building: str, language: str,
    now: datetime,
) -> Report:
    rules = filing_rules(settings)
    facts = Facts("other", building, language)
    return new_report(
        session, rules, facts, person, phone, "sms",
        transcript_status="done", transcript_text=text, transcript_model="sms",
    )


def _open_draft(
    session: Session, draft: SmsDraft | None, phone: str, report: Report, language: str, expires: datetime, now: datetime
) -> None:
    if draft is None:
        draft = SmsDraft(phone=phone, state=OPEN, language=language, expires_at=expires)
        session.add(draft)
    draft.state, draft.report_id, draft.text, draft.expires_at, draft.updated_at = OPEN, report.id, "", expires, now

