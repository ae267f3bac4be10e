"""The closed loop: what an answer does to a report, and which call-back it owes next.

An answer comes from a call (the flows' RecordAnswer), and later from a text message; both
land here, so a report moves the same way whatever the channel. Every move is a lifecycle
transition with a timeline line (grid.timeline); an answer that no longer fits the report's
state (given twice, or on two channels) changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from grid import lifecycle, registry, routing
from grid.models import CallBack, Person, Report
from grid.phones import is_mobile
from grid.timeline import Actor, record, transition
from ivr_flows import answers
from ivr_flows import texting_replies as replies
from telephony.config import Settings
from worker import callbacks

log = logging.getLogger(__name__)
REOPEN_NOTICE_DELAY = timedelta(minutes=10)  # lets the resident's reason be transcribed first


@dataclass
class FollowUps:
    """What the caller must do once its transaction commits: enqueue call-backs, send texts."""

    callbacks: list[CallBack] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (to, body)

    def add(self, other: FollowUps) -> FollowUps:
        self.callbacks.extend(other.callbacks)
        self.messages.extend(other.messages)
        return self


def call(
    session: Session, settings: Settings, purpose: str, person: Person | None, report: Report, now: datetime,
    cycle: str, urgent: bool = False,
) -> list[CallBack]:
    """Schedule a call-back about `report` to `person` (DUTY_PHONE when None); [] when it exists already."""
    number = person.phone if person is not None else settings.duty_phone
    if not number:
        log.error("report %s: nobody to call for %s (no person and no DUTY_PHONE)", report.id, purpose)
        return []
    cb = callbacks.schedule(
        session, settings, purpose=purpose, now=now, to_number=number, person=person, report=report,
        urgent=urgent, cycle=cycle,
    )
    session.flush()
    return [cb] if cb.status == "scheduled" else []


def take_report(session: Session, report: Report, person: Person, now: datetime, actor: Actor) -> None:
    """`person` takes the report (accepting it, or a grid leader taking an overdue one)."""
    if report.assignee_id != person.id:
        record(session, report, "assignment", now, actor, f"assigned to {person.name}")
        report.assignee_id = person.id
        report.assignee = person
        report.assignment_rule = "took_it"


def apply_answer(
    session: Session,
    settings: Settings,
    report: Report,
    answer: str,
    now: datetime,
    by: Person | None,
    channel: str = "voice",
    actor: Actor | None = None,
) -> FollowUps:
    """Move `report` for `answer` given by `by` and schedule what the loop needs next.

    `actor` names who did it on the timeline when that is not `by` itself (a dashboard login).
    """
    actor = actor or Actor.of(by, channel)
    out = FollowUps()
    if answer == answers.ACCEPTED:
        if by is not None:
            take_report(session, report, by, now, actor)
        if report.state == lifecycle.NEW:
            transition(session, report, "accept", now, actor)
        if report.state == lifecycle.VERIFYING:
            when = now + timedelta(minutes=settings.site_check_after_minutes)
            out.callbacks += call(session, settings, callbacks.WORKER_FOLLOW_UP, report.assignee, report, when,
                                   cycle=f"site-{report.assignee_id}")
        elif report.state in (lifecycle.CONFIRMED, lifecycle.DISPATCHED):  # a leader took an overdue one
            out.callbacks += handling_check(session, settings, report, now)
    elif answer == answers.NOT_MY_AREA:
        out.add(pass_upward(session, settings, report, by, now, actor))
    elif answer == answers.CONFIRMED:
        if transition(session, report, "confirm", now, actor):
            # 大事不出社区: the grid worker who verified it handles it unless staff dispatch elsewhere.
            report.handler = report.handler or (report.assignee.name if report.assignee else "")
            transition(session, report, "dispatch", now, actor, f"handler: {report.handler}")
            out.callbacks += handling_check(session, settings, report, now)
            out.messages += tell_reporter(settings, report, now)
    elif answer == answers.UNFOUNDED:
        if transition(session, report, "unfounded", now, actor):
            out.messages += tell_reporter(settings, report, now)
    elif answer == answers.HANDLED:
        if transition(session, report, "handle", now, actor):
            out.add(request_check(session, settings, report, now))
    elif answer == answers.SOLVED:
        transition(session, report, "satisfied", now, actor)
    elif answer == answers.NOT_SOLVED:
        if transition(session, report, "reopen", now, actor, "the resident says it is not solved"):
            out.callbacks += call(session, settings, callbacks.WORKER_FOLLOW_UP, report.assignee, report,
                                   now + REOPEN_NOTICE_DELAY, cycle=f"reopen-{report.reopen_count}")
    elif answer == answers.NOT_YET:
        record(session, report, "note", now, actor, "not yet")
    elif answer in (answers.YES, answers.NO):
        record(session, report, "note", now, actor, f"answered {answer}")
    return out


def tell_reporter(settings: Settings, report: Report, now: datetime) -> list[tuple[str, str]]:
    """A text telling the reporter where their report stands (confirmed and being handled, or
    found to be nothing), for mobiles; the sender applies opt-outs and quiet hours."""
    if not is_mobile(report.reporter_phone):
        return []
    from telephony.contexts import local_date, report_summary  # telephony.effects imports this module

    summary = report_summary(settings, report)
    text = replies.reply_status(report.language, settings.community_name, local_date(settings, now), summary)
    return [(report.reporter_phone, text)]


def handling_check(session: Session, settings: Settings, report: Report, now: datetime) -> list[CallBack]:
    """The follow-up call asking the handler, HANDLING_CHECK_AFTER_MINUTES later, whether it is handled."""
    when = now + timedelta(minutes=settings.handling_check_after_minutes)
    return call(session, settings, callbacks.WORKER_FOLLOW_UP, report.assignee, report, when,
                 cycle=f"handling-{report.reopen_count}-{report.assignee_id}")


def request_check(session: Session, settings: Settings, report: Report, now: datetime) -> FollowUps:
    """Handled: ask the resident whether it is solved (or close it when nobody can be asked).

    The call goes to the number the report came from, in the reporter's language and quiet hours.
    """
    out = FollowUps()
    transition(session, report, "request_check", now)
    if not report.reporter_phone.startswith("+"):
        transition(session, report, "unreachable", now, note="no number to check with the resident")
        return out
    cb = callbacks.schedule(
        session, settings, purpose=callbacks.RESIDENT_CONFIRMATION, now=now, to_number=report.reporter_phone,
        person=report.reporter, report=report, cycle=f"check-{report.reopen_count}",
    )
    session.flush()
    if cb.status == "scheduled":
        out.callbacks.append(cb)
    return out


def pass_upward(
    session: Session, settings: Settings, report: Report, by: Person | None, now: datetime, actor: Actor
) -> FollowUps:
    """"Not my area": the report climbs from whoever said it (not from the assignee on record,
    which may be somebody else when the on-duty leader answered an urgent call)."""
    out = FollowUps()
    current = by or report.assignee
    person, rule = routing.next_up(report.grid, registry.responders(session), current)
    if person is None:
        record(session, report, "assignment", now, actor, "not my area; nobody above to pass it to")
        return out
    record(session, report, "assignment", now, actor, f"not my area: passed to {person.name}")
    report.assignee_id, report.assignee, report.assignment_rule = person.id, person, rule
    out.callbacks += call(session, settings, callbacks.WORKER_VERIFICATION, person, report, now,
                           cycle=f"passed-{person.id}", urgent=report.urgent)
    return out


def record_rating(session: Session, report: Report, rating: int, now: datetime, by: Person | None, channel: str) -> None:
    """The resident's 1-5; a later rating replaces the number, the timeline keeps both."""
    if not 1 <= rating <= 5:
        return
    report.rating = rating
    record(session, report, "rating", now, Actor.of(by, channel), f"rated {rating}")
