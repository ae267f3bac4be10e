"""Call-backs: who the verification call goes to, when it may ring, and putting it on the queue.

Shared by the web process (a caller's silence, a worker's "not my area") and the worker
(a transcript is ready). The row in the database is the truth; the RQ job only carries its id.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from redis import Redis
from rq import Queue, Retry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grid import lifecycle, registry
from grid.models import RESIDENT, CallBack, Person, Report, as_utc
from grid.phones import mask
from grid.quiet_hours import Window, call_time
from telephony.config import Settings, parse_quiet_hours
from worker.queues import OUTBOUND_QUEUE, job_queue

if TYPE_CHECKING:
    from worker.loop import FollowUps

log = logging.getLogger(__name__)

# A call-back's purpose decides the call's flow (telephony.flow_host) and what an answer does.
WORKER_VERIFICATION = "worker_verification"  # the assignee: will you go and verify? (1 / 2 not my area)
WORKER_FOLLOW_UP = "worker_follow_up"  # the assignee: what did you find / is it handled? (+ voice note)
RESIDENT_CONFIRMATION = "resident_confirmation"  # the reporter: is it solved? how satisfied?
STAFF_QUESTION = "staff_question"  # staff asked: a free-text question, yes/no + voice note
MISSED_CALL_RETURN = "missed_call_return"  # a caller who gave no input: the hotline, calling back
ESCALATION = "escalation"  # an overdue or unanswered report: the next rung up is asked to take it
PURPOSES = (WORKER_VERIFICATION, WORKER_FOLLOW_UP, RESIDENT_CONFIRMATION, STAFF_QUESTION, MISSED_CALL_RETURN, ESCALATION)


# The report states in which a call-back still has something to ask; once the report moved on
# (answered on another call, by SMS or from the dashboard) ringing would only confuse people.
_STILL_ASKING = {
    WORKER_VERIFICATION: frozenset({lifecycle.NEW}),
    WORKER_FOLLOW_UP: frozenset({lifecycle.NEW, lifecycle.VERIFYING, lifecycle.CONFIRMED, lifecycle.DISPATCHED}),
    ESCALATION: frozenset({lifecycle.NEW, lifecycle.VERIFYING, lifecycle.CONFIRMED, lifecycle.DISPATCHED}),
    # closed unreachable after the calls, the texted question may still be answered
    RESIDENT_CONFIRMATION: frozenset({lifecycle.AWAITING_CHECK, lifecycle.CLOSED_UNREACHABLE}),
}


def still_needed(callback: CallBack) -> bool:
    """Does the call-back's question still fit its report? (Staff questions always do.)"""
    wanted = _STILL_ASKING.get(callback.purpose)
    return wanted is None or callback.report is None or callback.report.state in wanted


def quiet_window(settings: Settings, person: Person | None) -> Window:
    """The person's own quiet hours when they gave some, else the community's."""
    if person is not None and person.quiet_hours:
        return parse_quiet_hours(person.quiet_hours)
    return settings.quiet_window


def schedule(
    session: Session,
    settings: Settings,
    *,
    purpose: str,
    now: datetime,
    to_number: str,
    person: Person | None,
    report: Report | None = None,
    urgent: bool = False,
    cycle: str = "",
    question: str = "",
    requested_by: str = "",
) -> CallBack:
    """Create (once) the call-back row with the first moment it may ring.

    Urgent calls to staff ring at once whatever the hour; quiet hours always protect residents.
    The same (purpose, report, number, cycle) scheduled again returns the first row; `cycle`
    tells apart call-backs that legitimately repeat (a reopened report's second follow-up).
    Staff questions are never merged: each request is its own call-back.
    """
    exempt = urgent and (person is None or person.role != RESIDENT)
    when = call_time(now, settings.timezone, quiet_window(settings, person), exempt=exempt)
    person_id = person.id if person else None
    report_id = report.id if report else None
    key = f"{purpose}:{report_id}:{to_number}:{cycle}" if report_id is not None else None
    if key is not None:
        same = select(CallBack).where(CallBack.dedupe_key == key)
    elif purpose == STAFF_QUESTION:
        same = None
    else:  # e.g. two silent calls from one phone: one call-back while it is still owed
        same = select(CallBack).where(
            CallBack.report_id.is_(None), CallBack.purpose == purpose, CallBack.to_number == to_number,
            CallBack.status == "scheduled",
        )
    existing = session.scalar(same.limit(1)) if same is not None else None
    if existing is not None:
        return existing
    language = person.language if person else (report.language if report else settings.default_language)
    callback = CallBack(
        purpose=purpose,
        report_id=report_id,
        person_id=person_id,
        to_number=to_number,
        language=language,
        scheduled_for=when,
        dedupe_key=key,
        urgent=exempt,
        question=question,
        requested_by=requested_by,
        status="scheduled",
        attempts=0,
        misses=0,
    )
    try:
        with session.begin_nested():
            session.add(callback)
    except IntegrityError:  # the same call-back scheduled concurrently: keep the first
        assert same is not None
        found = session.scalar(same.limit(1))
        assert found is not None
        return found
    log.info("call-back %s (%s) to %s at %s", callback.id, purpose, mask(to_number), when.isoformat())
    return callback


def request_staff_call(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    question: str,
    requested_by: str,
    person: Person | None = None,
    phone: str = "",
    report: Report | None = None,
) -> CallBack:
    """A verification call staff asked for: to a person in the registry (or a bare number), with
    or without a report, reading out `question`; the answer is yes/no plus a voice note.

    Quiet hours apply as for every call (a resident is never rung at night for a staff question).
    """
    to_number = person.phone if person is not None else phone
    if not to_number:
        raise ValueError("a staff question needs a person or a phone number")
    if not question.strip():
        raise ValueError("a staff question needs the question to read out")
    return schedule(
        session, settings, purpose=STAFF_QUESTION, now=now, to_number=to_number, person=person, report=report,
        question=question.strip(), requested_by=requested_by,
    )


def verification_target(session: Session, settings: Settings, report: Report) -> tuple[Person | None, str]:
    """Who gets the verification call: urgent → the grid leader on duty, else DUTY_PHONE;
    otherwise the report's assignee (else DUTY_PHONE when the registry has nobody)."""
    person: Person | None
    if report.urgent:
        person = registry.on_duty_target(session, report.grid)
    else:
        person = report.assignee
    if person is not None:
        return person, person.phone
    return None, settings.duty_phone


def schedule_verification(session: Session, settings: Settings, report: Report, now: datetime) -> CallBack | None:
    person, number = verification_target(session, settings, report)
    if not number:
        log.error("report %s: nobody to call for verification (no assignee and no DUTY_PHONE)", report.id)
        return None
    return schedule(
        session,
        settings,
        purpose=WORKER_VERIFICATION,
        now=now,
        to_number=number,
        person=person,
        report=report,
        urgent=report.urgent,
    )


def job_id(callback: CallBack) -> str:
    """One job per attempt: a retry is a new job, a repeat of the same attempt is not."""
    return f"callback-{callback.id}-{callback.attempts}"


def enqueue(queue: Queue, callback: CallBack, now: datetime) -> None:
    """Put the placement job on RQ: at once when due, else at its time (RQ's scheduler).

    `queue` is any queue on the right Redis; placement always goes to the outbound queue.
    """
    from worker.outbound import place_call_back

    outbound = job_queue(queue.connection, OUTBOUND_QUEUE)
    kwargs = {"job_id": job_id(callback), "job_timeout": 90, "retry": Retry(max=5, interval=[5, 15, 60, 120, 300])}
    due = as_utc(callback.scheduled_for)
    if due <= now:
        outbound.enqueue(place_call_back, callback.id, **kwargs)
    else:
        outbound.enqueue_at(due, place_call_back, callback.id, **kwargs)


def enqueue_later(conn: Redis, callback_id: int, delay: timedelta) -> None:
    """Look at a due call-back again after `delay` (all lines busy, or pacing says not yet)."""
    from worker.outbound import place_call_back

    job_queue(conn, OUTBOUND_QUEUE).enqueue_in(
        delay, place_call_back, callback_id, job_id=f"callback-{callback_id}-later-{uuid.uuid4().hex[:8]}",
        job_timeout=90, retry=Retry(max=5, interval=[5, 15, 60, 120, 300]),
    )


def enqueue_follow_ups(conn: Redis, follow: FollowUps, now: datetime) -> None:
    """After a commit: queue the call-backs and texts the loop asked for (texts through worker.texts)."""
    from worker.texts import enqueue_follow_up_texts

    queue = job_queue(conn)
    for callback in follow.callbacks:
        enqueue(queue, callback, now)
    enqueue_follow_up_texts(conn, follow.messages, follow.callbacks, now)
