"""How a call-back attempt ended, and what the engine does next: done, retry, or give up.

Twilio's status callbacks may come twice, late, or out of order ("ringing" after "completed").
An attempt's outcome is written once, by a conditional UPDATE; only that first write moves the
call-back on, so a repeat or a straggler changes nothing.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from grid import registry, routing
from grid.models import CallAttempt, CallBack, Report
from grid.phones import is_mobile, mask
from grid.quiet_hours import call_time
from grid.retries import next_attempt
from grid.timeline import record, transition
from ivr_flows import answers, catalog
from ivr_flows import texting_replies as replies
from telephony.config import Settings
from worker import callbacks
from worker.loop import FollowUps

log = logging.getLogger(__name__)

FINAL_CALL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
REACHED = "reached"
MACHINE = "machine"
NO_RESPONSE = "no-response"  # picked up, but hung up or stayed silent without answering
REST_ERROR = "rest-error"
# Call-back statuses: scheduled → placing → placed → done | scheduled (retry) | unreached | failed
IN_FLIGHT = ("placing", "placed")
SETTLED = ("done", "unreached", "failed", "canceled")


def classify(call_status: str, answered_by: str, answer: str) -> str | None:
    """The attempt's outcome from Twilio's final CallStatus and AnsweredBy and the answer the
    flow recorded; None while the call is still going."""
    if call_status not in FINAL_CALL_STATUSES:
        return None
    if answered_by.startswith("machine") or answered_by == "fax":
        return MACHINE
    if call_status != "completed":
        return call_status  # no-answer, busy, failed, canceled
    return REACHED if answer and answer != answers.NO_ANSWER else NO_RESPONSE


def call_ended(
    session: Session,
    settings: Settings,
    callback: CallBack,
    attempt: CallAttempt,
    call_status: str,
    answered_by: str,
    now: datetime,
) -> FollowUps:
    """Record a final status for `attempt` once and move the call-back on."""
    outcome = classify(call_status, answered_by or attempt.answered_by, callback.answer)
    if outcome is None:
        if not attempt.outcome:
            attempt.status = call_status
        return FollowUps()
    won = cast(CursorResult[Any], session.execute(
        update(CallAttempt)
        .where(CallAttempt.id == attempt.id, CallAttempt.outcome == "")
        .values(outcome=outcome, status=call_status, ended_at=now, answered_by=answered_by or attempt.answered_by)
    )).rowcount
    if not won:
        return FollowUps()  # a repeat of a status we already acted on
    session.refresh(attempt)
    if callback.attempts != attempt.number or callback.status not in IN_FLIGHT:
        return FollowUps()  # a late status for an older attempt
    if callback.report is not None:
        record(session, callback.report, "call", now, note=f"{callback.purpose} to {mask(callback.to_number)}: {outcome}")
    if outcome == REACHED:
        callback.status = "done"
        callback.answered_at = now
        return FollowUps()
    return missed(session, settings, callback, now, outcome)


def missed(session: Session, settings: Settings, callback: CallBack, now: datetime, why: str) -> FollowUps:
    """An attempt that reached nobody: ring again per the retry policy, or give up."""
    callback.misses = (callback.misses or 0) + 1
    callback.last_error = why
    if not callbacks.still_needed(callback):  # answered meanwhile on another call or channel
        callback.status = "canceled"
        return FollowUps()
    again = next_attempt(settings.retry_policy, callback.misses, now, urgent_staff=callback.urgent)
    if again is None:
        return give_up(session, settings, callback, now, f"not reached after {callback.attempts} calls ({why})")
    window = callbacks.quiet_window(settings, callback.person)
    callback.scheduled_for = call_time(again, settings.timezone, window, exempt=callback.urgent)
    callback.status = "scheduled"
    log.info("call-back %s: %s; ringing again at %s", callback.id, why, callback.scheduled_for.isoformat())
    return FollowUps(callbacks=[callback])


def give_up(session: Session, settings: Settings, callback: CallBack, now: datetime, why: str, status: str = "unreached",
            ) -> FollowUps:
    """The last attempt failed: a text where the number takes one, then escalate (a worker) or
    close as unreachable (a resident's confirmation)."""
    callback.status = status
    callback.last_error = why
    out = FollowUps()
    report = callback.report
    if status != "failed" and is_mobile(callback.to_number):
        out.messages.append((callback.to_number, fallback_text(settings, callback)))
    if report is None:
        return out
    record(session, report, "call", now, note=f"{callback.purpose} to {mask(callback.to_number)}: gave up, {why}")
    if callback.purpose == callbacks.RESIDENT_CONFIRMATION:
        transition(session, report, "unreachable", now, note=why)
    elif callback.purpose in (callbacks.WORKER_VERIFICATION, callbacks.WORKER_FOLLOW_UP, callbacks.ESCALATION):
        out.add(escalate_unanswered(session, settings, callback, report, now))
    return out


def escalate_unanswered(
    session: Session, settings: Settings, callback: CallBack, report: Report, now: datetime
) -> FollowUps:
    """Nobody answered the worker's calls: the next rung up (worker → grid leader → staff) is rung."""
    people = registry.responders(session)
    person, _rule = routing.next_up(report.grid, people, callback.person)
    number = person.phone if person is not None else settings.duty_phone
    if not number or number == callback.to_number:
        log.error("report %s: nobody above %s to escalate to", report.id, mask(callback.to_number))
        return FollowUps()
    record(session, report, "escalation", now,
           note=f"{callback.person.name if callback.person else mask(callback.to_number)} did not answer; "
                f"escalated to {person.name if person else 'the duty phone'}")
    report.escalation_level = max(report.escalation_level or 0, 1)
    nxt = callbacks.schedule(
        session, settings, purpose=callbacks.ESCALATION, now=now, to_number=number, person=person, report=report,
        urgent=report.urgent, cycle=f"unanswered-{callback.id}",
    )
    session.flush()
    out = FollowUps(callbacks=[nxt] if nxt.status == "scheduled" else [])
    if is_mobile(number):
        out.messages.append((number, escalation_text(settings, report, "unanswered")))
    return out


def _hotline(settings: Settings) -> str:
    from telephony.contexts import national_digits

    number = settings.twilio_number or settings.duty_phone
    return national_digits(number, settings.default_region) if number else ""


def fallback_text(settings: Settings, callback: CallBack) -> str:
    """The SMS sent when calls did not get through, in the callee's language: the call's question,
    answerable by replying 1 / 2 (telephony.sms_answers), or for a missed-call return the hotline."""
    lang, community, report = callback.language, settings.community_name, callback.report
    purpose = callback.purpose
    if purpose == callbacks.STAFF_QUESTION:
        return replies.ask_staff_question(lang, community, callback.question, callback.report_id)
    if report is None:
        params = {"community": community, "number": "", "hotline": _hotline(settings), "attempts": str(callback.attempts)}
        return catalog.text(lang, "sms_fallback_missed", params)
    if purpose == callbacks.RESIDENT_CONFIRMATION:
        notes = [r.transcript_text for r in report.recordings if r.kind == "handling_note" and r.transcript_status == "done"]
        return replies.ask_resident_confirmation(lang, community, report.id, report.category, notes[-1] if notes else "")
    if purpose == callbacks.WORKER_FOLLOW_UP:
        return replies.ask_worker_follow_up(lang, community, report.id, report.category, report.state)
    transcript = report.transcript_text if report.transcript_status == "done" else ""
    return replies.ask_worker_verification(
        lang, community, report.id, report.category, transcript, urgent=report.urgent,
        overdue=purpose == callbacks.ESCALATION,
    )


def escalation_text(settings: Settings, report: Report, reason: str) -> str:
    """The SMS a grid leader or staff member gets with an escalation call."""
    lang = settings.default_language
    return catalog.text(lang, "sms_escalation", {
        "community": settings.community_name,
        "number": str(report.id),
        "reason": catalog.text(lang, f"escalation_reason_{reason}"),
        "hotline": _hotline(settings),
    })
