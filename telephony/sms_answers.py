"""Texted answers to the questions the system asked: matched to the open question for that number.

A call-back is the question (is it solved? will you verify? did you find it?). Whether it was
asked by a call or by the fallback text, "1", "2", "是", "否" or a rating answers it here, and
moves the report through worker.loop exactly as a key press would (channel "sms").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.models import CallBack, as_utc
from ivr_flows import answers
from ivr_flows.texting_replies import RATING, interpret
from telephony.config import Settings
from worker import callbacks, loop

ANSWERABLE = (
    callbacks.RESIDENT_CONFIRMATION, callbacks.WORKER_VERIFICATION, callbacks.ESCALATION,
    callbacks.WORKER_FOLLOW_UP, callbacks.STAFF_QUESTION,
)
OPEN = ("scheduled", "placing", "placed", "unreached")  # asked, and not answered yet
QUESTION_LIFETIME = timedelta(days=7)
RATING_LIFETIME = timedelta(days=2)  # "solved" by text: a rating may follow


@dataclass(frozen=True)
class Matched:
    callback: CallBack
    answer: str  # an ivr_flows.answers value, or RATING
    rating: int | None = None


def _meaning(callback: CallBack, value: str) -> str | None:
    """What "1"/"2"/"3"/"yes"/"no" means for this call-back's question (None: it does not fit)."""
    state = callback.report.state if callback.report is not None else None
    return interpret(callback.purpose, value, state)


def match(session: Session, phone: str, value: str, now: datetime) -> Matched | None:
    """The newest open question to this number that `value` answers, or a rating after "solved"."""
    recent = select(CallBack).where(
        CallBack.to_number == phone, CallBack.purpose.in_(ANSWERABLE), CallBack.created_at >= now - QUESTION_LIFETIME,
    ).order_by(CallBack.id.desc())
    for callback in session.scalars(recent):
        report = callback.report
        rating = interpret(RATING, value)
        if (rating is not None and callback.answer == answers.SOLVED and report is not None
                and report.rating is None and callback.answered_at is not None
                and now - as_utc(callback.answered_at) <= RATING_LIFETIME):
            return Matched(callback, RATING, int(rating))
        if callback.status in OPEN and callbacks.still_needed(callback):
            meaning = _meaning(callback, value)
            if meaning is not None:
                return Matched(callback, meaning)
    return None


def apply(session: Session, settings: Settings, matched: Matched, now: datetime) -> loop.FollowUps:
    """Record the texted answer on the call-back (no more calls about it) and move the report."""
    callback = matched.callback
    report = callback.report
    if matched.answer == RATING:
        if report is not None and matched.rating is not None:
            loop.record_rating(session, report, matched.rating, now, callback.person, "sms")
        return loop.FollowUps()
    callback.answer, callback.answered_at = matched.answer, now
    callback.status = "done"  # answered: a scheduled retry finds it done, a call in flight changes nothing
    if report is None:
        return loop.FollowUps()
    if matched.answer in (answers.ACCEPTED, answers.NOT_MY_AREA):
        report.verification_answer, report.verification_answered_at = matched.answer, now
    return loop.apply_answer(session, settings, report, matched.answer, now, callback.person, "sms")
