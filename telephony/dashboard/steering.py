"""What the dashboard's buttons do to a report: the same lifecycle, timeline and call-backs as an
answer given on the phone or by text, with the login named on the timeline (channel "dashboard").

Functions take the session and return the FollowUps to queue after the commit; a move that the
report's state does not allow raises Refused with a message for the page, and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from grid import lifecycle, registry
from grid.models import Person, Report, User
from grid.timeline import Actor, record, transition
from ivr_flows import answers
from telephony.config import Settings
from worker import callbacks, loop

MAX_NOTE = 2000
# Dashboard events that mean what a phone answer means: the loop schedules the same call-backs.
_AS_ANSWER = {
    "accept": answers.ACCEPTED,
    "unfounded": answers.UNFOUNDED,
    "handle": answers.HANDLED,
    "satisfied": answers.SOLVED,
}


class Refused(ValueError):
    """The action cannot be done; str() is shown to the user (in English and Chinese)."""


@dataclass(frozen=True)
class Who:
    """The login acting and the registry person behind it (if any)."""

    user: User

    @property
    def actor(self) -> Actor:
        return Actor(self.user.person, self.user.username, "dashboard")

    @property
    def person(self) -> Person | None:
        return self.user.person


def move(
    session: Session, settings: Settings, report: Report, event: str, now: datetime, who: Who, note: str = "",
    handler: str = "",
) -> loop.FollowUps:
    """Apply a lifecycle event chosen on the report page (not mark_duplicate: see mark_duplicate)."""
    if event not in lifecycle.allowed_events(report.state) or event == "mark_duplicate":
        raise Refused(f"“{event}” is not possible while the report is {report.state} / 当前状态下不能这样操作")
    note = note.strip()[:MAX_NOTE]
    out = loop.FollowUps()
    if event in _AS_ANSWER:
        responder = who.person if event == "accept" and _is_responder(who.person) else None
        out = loop.apply_answer(session, settings, report, _AS_ANSWER[event], now, responder, "dashboard", who.actor)
        if note:
            record(session, report, "note", now, who.actor, note)
    elif event == "dispatch":
        report.handler = handler.strip()[:200] or report.handler or (report.assignee.name if report.assignee else "")
        if not report.handler:
            raise Refused("say who handles it (a worker or a department) / 请填写承办人或部门")
        transition(session, report, "dispatch", now, who.actor, _join(f"handler: {report.handler}", note))
        out.callbacks += loop.handling_check(session, settings, report, now)
        out.messages += loop.tell_reporter(settings, report, now)
    elif event == "confirm":
        transition(session, report, "confirm", now, who.actor, note)
    elif event == "request_check":
        out = loop.request_check(session, settings, report, now)
        if note:
            record(session, report, "note", now, who.actor, note)
    elif event == "reopen":
        if transition(session, report, "reopen", now, who.actor, note or "reopened by staff"):
            out.callbacks += loop.call(session, settings, callbacks.WORKER_FOLLOW_UP, report.assignee, report,
                                        now + loop.REOPEN_NOTICE_DELAY, cycle=f"reopen-{report.reopen_count}")
    else:  # unreachable, withdraw: nothing follows
        transition(session, report, event, now, who.actor, note)
    return out


def mark_duplicate(session: Session, report: Report, original: Report | None, now: datetime, who: Who) -> None:
    """Close `report` as a duplicate of `original`, which stays the one being handled."""
    if original is None:
        raise Refused("no such report / 没有这个报告编号")
    if original.id == report.id:
        raise Refused("a report cannot duplicate itself / 不能标记为自身的重复")
    if original.duplicate_of_id is not None:
        raise Refused(f"report {original.id} is itself a duplicate of {original.duplicate_of_id} / 请选原始报告")
    if "mark_duplicate" not in lifecycle.allowed_events(report.state):
        raise Refused(f"a {report.state} report cannot be marked duplicate / 当前状态不能标记重复")
    transition(session, report, "mark_duplicate", now, who.actor, f"duplicate of report {original.id}")
    report.duplicate_of_id = original.id
    record(session, original, "note", now, who.actor, f"report {report.id} was marked a duplicate of this one")


def reassign(
    session: Session, settings: Settings, report: Report, person: Person | None, now: datetime, who: Who
) -> loop.FollowUps:
    """Give the report to another grid worker, leader or staff member; a report not yet accepted
    rings the new assignee with the verification call, as "not my area" does."""
    if person is None or not _is_responder(person):
        raise Refused("choose a grid worker, grid leader or community staff member / 请选择网格员、网格长或社区工作人员")
    if person.id == report.assignee_id:
        raise Refused(f"{person.name} already has this report / 已经是承办人")
    before = report.assignee.name if report.assignee else "nobody"
    report.assignee_id, report.assignee, report.assignment_rule = person.id, person, "dashboard"
    record(session, report, "assignment", now, who.actor, f"reassigned from {before} to {person.name}")
    out = loop.FollowUps()
    if report.state == lifecycle.NEW:
        out.callbacks += loop.call(session, settings, callbacks.WORKER_VERIFICATION, person, report, now,
                                    cycle=f"reassigned-{person.id}", urgent=report.urgent)
    return out


def add_note(session: Session, report: Report, text: str, now: datetime, who: Who) -> None:
    text = text.strip()
    if not text:
        raise Refused("the note is empty / 备注为空")
    record(session, report, "note", now, who.actor, text[:MAX_NOTE])


def _is_responder(person: Person | None) -> bool:
    return person is not None and person.role in registry.RESPONDER_ROLES


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
