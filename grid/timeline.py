"""Moving a report through its lifecycle and writing its timeline (who, when, channel, note).

Every change is a new ReportEvent row; nothing in the timeline is ever updated or deleted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from grid import lifecycle
from grid.models import Person, Report, ReportEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who did it and through which channel: a registry person, or a label ("system", "api:desk")."""

    person: Person | None = None
    label: str = "system"
    channel: str = "system"

    @classmethod
    def of(cls, person: Person | None, channel: str) -> Actor:
        return cls(person, person.name if person is not None else "system", channel)


SYSTEM = Actor()


def record(
    session: Session, report: Report, kind: str, at: datetime, actor: Actor = SYSTEM, note: str = "", **fields: str
) -> ReportEvent:
    """Append one line to the report's timeline."""
    event = ReportEvent(
        report_id=report.id,
        at=at,
        kind=kind,
        actor_id=actor.person.id if actor.person is not None else None,
        actor=actor.label,
        channel=actor.channel,
        note=note,
        **fields,
    )
    session.add(event)
    return event


def transition(
    session: Session, report: Report, event: str, at: datetime, actor: Actor = SYSTEM, note: str = ""
) -> bool:
    """Apply a lifecycle event and log it. False (and nothing changes) when the event is not
    allowed in the report's state: a repeated answer, or two channels answering the same question.

    A new state starts its own deadline, so the overdue flag and escalation level reset.
    """
    try:
        target = lifecycle.next_state(report.state, event)
    except lifecycle.IllegalTransition as exc:
        log.info("report %s: %s", report.id, exc)
        return False
    record(session, report, "transition", at, actor, note, event=event, from_state=report.state, to_state=target)
    report.state = target
    report.state_changed_at = at
    report.overdue = False
    report.escalation_level = 0
    if target in lifecycle.CLOSED:
        report.closed_at = at
    elif report.closed_at is not None:  # reopened after closing
        report.closed_at = None
    if event == "reopen":
        report.reopen_count = (report.reopen_count or 0) + 1
    return True
