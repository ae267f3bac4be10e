"""The job that places a call-back through the twilio REST client, paced and counted.

Order of checks: still scheduled and due → fewer than MAX_CONCURRENT_CALLS in flight → a pacing
slot (OUTBOUND_CPS, shared in Redis by every worker) → claim with a conditional UPDATE (so two
workers, or a job run twice, never ring twice) → one CallAttempt row → the REST call.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from twilio.base.exceptions import TwilioRestException

from grid.models import CallAttempt, CallBack, as_utc
from grid.phones import mask
from telephony.config import Settings
from worker.callbacks import MISSED_CALL_RETURN, RESIDENT_CONFIRMATION, still_needed
from worker.context import WorkerContext, current
from worker.outcomes import IN_FLIGHT, REST_ERROR, give_up
from worker.texts import opted_out

log = logging.getLogger(__name__)
CONCURRENCY_RECHECK = timedelta(seconds=15)  # at MAX_CONCURRENT_CALLS: look again this much later
PACE_MAX_WAIT_S = 20.0  # wait in the job for a pacing slot at most this long, else come back later
DUE_SLACK = timedelta(seconds=2)  # a job for a call-back rescheduled later than this is stale
ABOUT_THEIR_OWN_REPORT = (RESIDENT_CONFIRMATION, MISSED_CALL_RETURN)  # still rung after STOP


def callback_urls(settings: Settings, callback_id: int, attempt: int) -> tuple[str, str]:
    base = settings.public_base_url.rstrip("/")
    return (
        f"{base}/twilio/voice/outbound?callback={callback_id}&attempt={attempt}",
        f"{base}/twilio/voice/status?callback={callback_id}&attempt={attempt}",
    )


def _later(ctx: WorkerContext, callback_id: int, delay: timedelta, why: str) -> str:
    """Put the placement back on the queue for later (the row stays scheduled: nothing is lost)."""
    from worker.callbacks import enqueue_later

    enqueue_later(ctx.redis, callback_id, delay)
    log.info("call-back %s waits %.0f s: %s", callback_id, delay.total_seconds(), why)
    return f"deferred: {why}"


def place_call_back(callback_id: int) -> str:
    """Place the call. Returns what happened, for the job's result."""
    ctx = current()
    settings = ctx.settings
    if not settings.twilio_configured:  # stays scheduled; the sweeper offers it again each minute
        log.warning("call-back %s waits: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set", callback_id)
        return "waiting for Twilio credentials"
    now = ctx.now()
    with ctx.sessions() as session:
        callback = session.get(CallBack, callback_id)
        if callback is None or callback.status != "scheduled":
            return "already placed or not scheduled"
        if as_utc(callback.scheduled_for) > now + DUE_SLACK:
            return "not due yet"  # an old job; the call-back was rescheduled and has its own job
        if not still_needed(callback):
            state = callback.report.state if callback.report else ""
            callback.status, callback.last_error = "canceled", f"not needed any more: the report is {state}"
            session.commit()
            return "canceled: the report moved on"
        if opted_out(session, callback.to_number) and callback.purpose not in ABOUT_THEIR_OWN_REPORT:
            # STOP/退订: no calls either, except about the person's own report; a worker's duty
            # call moves on to the next rung as if unanswered.
            follow = give_up(session, settings, callback, now, "the number opted out (STOP)", status="canceled")
            session.commit()
            _enqueue_follow_ups(ctx, follow)
            return "canceled: opted out"
        in_flight = session.scalar(select(func.count()).select_from(CallBack).where(CallBack.status.in_(IN_FLIGHT)))
    if (in_flight or 0) >= settings.max_concurrent_calls:
        return _later(ctx, callback_id, CONCURRENCY_RECHECK, f"{in_flight} calls in flight")
    from worker.pacing import CallPacer

    pacer = CallPacer(ctx.redis, settings.twilio_account_sid, settings.outbound_cps)
    wait = pacer.try_reserve(PACE_MAX_WAIT_S)
    if wait is None:
        return _later(ctx, callback_id, timedelta(seconds=pacer.retry_after), "pacing")
    return _claim_and_place(ctx, callback_id, ctx.now(), wait)


def _claim_and_place(ctx: WorkerContext, callback_id: int, now: datetime, wait: float) -> str:
    """Claim and write the attempt first, then sleep to the pacing slot: only the REST request
    follows the slot, so database work cannot bunch two calls into one interval."""
    settings = ctx.settings
    client = ctx.twilio()
    with ctx.sessions() as session:
        claim = update(CallBack).where(CallBack.id == callback_id, CallBack.status == "scheduled")
        values = {"status": "placing", "attempts": CallBack.attempts + 1, "answer": ""}
        if not cast(CursorResult[Any], session.execute(claim.values(**values))).rowcount:
            session.commit()
            return "already placed or not scheduled"
        callback = session.get(CallBack, callback_id)
        assert callback is not None
        session.refresh(callback)
        attempt = CallAttempt(callback_id=callback_id, number=callback.attempts, placed_at=now, status="placing")
        session.add(attempt)
        session.commit()
        url, status_url = callback_urls(settings, callback_id, attempt.number)
        if wait > 0:
            time.sleep(wait)
        try:
            call = client.calls.create(
                to=callback.to_number,
                from_=settings.twilio_number,
                url=url,
                method="POST",
                status_callback=status_url,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                # Answering-machine detection that waits for the greeting to end, so the short
                # message we leave (the duty number) lands on the tape.
                machine_detection="DetectMessageEnd",
            )
        except TwilioRestException as exc:
            attempt.outcome, attempt.ended_at = REST_ERROR, now
            if exc.status == 429 or exc.status >= 500:
                attempt.error = f"HTTP {exc.status}: {exc.msg}"
                callback.status = "scheduled"  # let RQ's Retry try again with backoff
                callback.last_error = attempt.error
                session.commit()
                raise
            attempt.error = f"Twilio error {exc.code}: {exc.msg}"
            follow = give_up(session, settings, callback, now, attempt.error, status="failed")
            session.commit()
            log.warning("call-back %s to %s failed: %s", callback_id, mask(callback.to_number), attempt.error)
            _enqueue_follow_ups(ctx, follow)
            return "failed"
        except Exception as exc:  # network down: keep it scheduled, RQ retries
            attempt.outcome, attempt.ended_at, attempt.error = REST_ERROR, now, str(exc)
            callback.status = "scheduled"
            callback.last_error = str(exc)
            session.commit()
            raise
        # The call may already have ended and its status callback moved the call-back on (a
        # retry scheduled): only a call-back still "placing" this attempt becomes "placed".
        session.execute(
            update(CallAttempt).where(CallAttempt.id == attempt.id, CallAttempt.call_sid.is_(None))
            .values(call_sid=call.sid)
        )
        session.execute(
            update(CallBack)
            .where(CallBack.id == callback_id, CallBack.status == "placing", CallBack.attempts == attempt.number)
            .values(status="placed", call_sid=call.sid, last_error="")
        )
        session.commit()
        log.info("call-back %s placed to %s (%s), attempt %s", callback_id, mask(callback.to_number), call.sid,
                 attempt.number)
        return "placed"


def _enqueue_follow_ups(ctx: WorkerContext, follow: Any) -> None:
    from worker.callbacks import enqueue_follow_ups

    enqueue_follow_ups(ctx.redis, follow, ctx.now())
