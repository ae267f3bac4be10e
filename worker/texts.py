"""The one outbound SMS sender: every text the system starts (not a TwiML reply) goes out here.

A text is a Message row first (`queue_text`, in the caller's transaction), its delivery a job after
the commit (`enqueue_text`); the row is the truth, so a lost job is found again by the sweep. The
sender keeps four promises:

- opt-outs: a number that texted STOP (an OptOut row) gets no REST-sent text; the row is kept as
  "suppressed". Replies to its own texts are TwiML answers and never come through here.
- quiet hours: a text that is not urgent waits ("held") until the person's quiet hours end, or the
  community's; checked again when it is sent, since a queue can be late.
- pacing: SMS_MPS texts per second per Twilio account, shared in Redis (worker.pacing, own key).
- errors, as for calls: 429/5xx and network failures go back to "queued" and RQ retries; another 4xx
  is final ("failed", "Twilio error <code>: …"); 21610 (the number unsubscribed at Twilio) also
  records an opt-out, so later texts are suppressed before they are tried.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from redis import Redis
from rq import Retry, get_current_job
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException

from grid import registry
from grid.models import CallBack, Message, OptOut, Person, as_utc
from grid.phones import mask
from grid.quiet_hours import next_allowed
from telephony.config import Settings
from worker.callbacks import ESCALATION, quiet_window
from worker.context import WorkerContext, current
from worker.queues import job_queue

log = logging.getLogger(__name__)
OUTBOUND = "outbound"
WAITING = ("queued", "held")  # statuses a delivery job may claim
PACE_MAX_WAIT_S = 5.0  # texts share the default queue's work horses: wait in the job only this long
DUE_SLACK = timedelta(seconds=2)  # a job for a text held later than this is stale
UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient"
DELIVERY_RETRY = (5, 15, 60, 120, 300)  # seconds between RQ's tries after a 429/5xx or a network error


def opted_out(session: Session, phone: str) -> bool:
    """Did the number text STOP (or Twilio report it unsubscribed)? Then no REST-sent text reaches it."""
    return session.get(OptOut, phone) is not None


def person_for(session: Session, phone: str) -> Person | None:
    """The registry person at a number whose quiet hours apply: the same one the webhooks take for
    that number (grid.registry.people_by_phone: most senior first, when a household shares it)."""
    people = registry.people_by_phone(session, phone)
    return people[0] if people else None


def queue_text(
    session: Session,
    settings: Settings,
    *,
    to: str,
    body: str,
    now: datetime,
    kind: str,
    report_id: int | None = None,
    callback_id: int | None = None,
    urgent: bool = False,
    person: Person | None = None,
) -> Message:
    """Record an outbound text in the caller's transaction; after the commit, `enqueue_text` it.

    Opted-out numbers get a "suppressed" row (kept, never sent: the record that we held back). A text
    that is not urgent, due inside quiet hours (the person's own, else the community's), is "held"
    until they end; everything else is "queued" for now.
    """
    if not to:
        raise ValueError("a text needs a number to go to")
    if opted_out(session, to):
        status, when = "suppressed", now
    else:
        when = now if urgent else next_allowed(now, settings.timezone, quiet_window(settings, person))
        status = "held" if when > now else "queued"
    message = Message(
        direction=OUTBOUND, phone=to, body=body, kind=kind, report_id=report_id, callback_id=callback_id,
        status=status, scheduled_for=when, urgent=urgent, attempts=0, error="", created_at=now,
    )
    session.add(message)
    session.flush()
    log.info("text %s (%s) to %s: %s%s", message.id, kind, mask(to), status,
             f" until {when.isoformat()}" if status == "held" else "")
    return message


def text_job_id(message: Message) -> str:
    """One job per attempt, as for call-backs: a retry is a new job, a repeat of one attempt is not."""
    return f"text-{message.id}-{message.attempts}"


def _job_kwargs(job_id: str, phone: str) -> dict[str, Any]:
    return {"job_id": job_id, "job_timeout": 60, "description": f"SMS to {mask(phone)}",
            "retry": Retry(max=len(DELIVERY_RETRY), interval=list(DELIVERY_RETRY))}


def enqueue_text(conn: Redis, message: Message, now: datetime) -> None:
    """After the commit: the delivery job, at once when due, else at its time (RQ's scheduler).

    Suppressed, sent and failed texts get no job.
    """
    if message.status not in WAITING:
        return
    queue = job_queue(conn)
    kwargs = _job_kwargs(text_job_id(message), message.phone)
    due = as_utc(message.scheduled_for) if message.scheduled_for is not None else now
    if due <= now:
        queue.enqueue(deliver_text, message.id, **kwargs)
    else:
        queue.enqueue_at(due, deliver_text, message.id, **kwargs)


def _enqueue_later(ctx: WorkerContext, message: Message, later: datetime | timedelta, why: str) -> str:
    """Look at the text again at a time or after a delay (held for quiet hours, or pacing says not
    yet); the row stays waiting, so the sweep would find it too."""
    queue = job_queue(ctx.redis)
    kwargs = _job_kwargs(f"text-{message.id}-later-{uuid.uuid4().hex[:8]}", message.phone)
    if isinstance(later, datetime):
        queue.enqueue_at(later, deliver_text, message.id, **kwargs)
    else:
        queue.enqueue_in(later, deliver_text, message.id, **kwargs)
    log.info("text %s waits: %s", message.id, why)
    return f"deferred: {why}"


def deliver_text(message_id: int) -> str:
    """RQ job: send one queued or held text. Safe to run twice: a conditional UPDATE claims it."""
    ctx = current()
    settings = ctx.settings
    if not settings.twilio_configured:  # stays queued; the sweeper offers it again each minute
        log.warning("text %s waits: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set", message_id)
        return "waiting for Twilio credentials"
    now = ctx.now()
    with ctx.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.direction != OUTBOUND or message.status not in WAITING:
            return "already sent or not waiting"
        if message.scheduled_for is not None and as_utc(message.scheduled_for) > now + DUE_SLACK:
            return "not due yet"  # an old job; the text was held later and has its own job
        if _suppress_if_opted_out(session, message):
            return "suppressed: opted out"
        if not message.urgent:
            when = next_allowed(now, settings.timezone, quiet_window(settings, person_for(session, message.phone)))
            if when > now:
                message.status, message.scheduled_for = "held", when
                session.commit()
                return _enqueue_later(ctx, message, when, f"quiet hours until {when.isoformat()}")
    from worker.pacing import CallPacer

    pacer = CallPacer(ctx.redis, f"{settings.twilio_account_sid}:sms", settings.sms_mps)
    reservation = pacer.reserve(PACE_MAX_WAIT_S)
    if not reservation.granted:
        return _enqueue_later(ctx, message, timedelta(seconds=reservation.wait), "pacing")
    send_at = time.monotonic() + reservation.wait
    job = get_current_job()
    if job is not None:  # the booked slot, for whoever checks the pacing (tests, a benchmark)
        job.meta["pacing_slot_us"] = reservation.slot_us
        job.save_meta()
    return _claim_and_send(ctx, message_id, send_at)


def _suppress_if_opted_out(session: Session, message: Message) -> bool:
    """Mark a waiting (or just claimed) text to an opted-out number "suppressed"; True if so."""
    if not opted_out(session, message.phone):
        return False
    message.status, message.error = "suppressed", "opted out"
    session.commit()
    log.info("text %s to %s suppressed: the number opted out", message.id, mask(message.phone))
    return True


def _claim_and_send(ctx: WorkerContext, message_id: int, send_at: float) -> str:
    """Claim, then sleep to the pacing slot (`send_at`, monotonic), then the REST request: only the
    request follows the slot, so database work cannot bunch two texts into one interval."""
    settings = ctx.settings
    client = ctx.twilio()
    with ctx.sessions() as session:
        claim = update(Message).where(Message.id == message_id, Message.status.in_(WAITING))
        values = {"status": "sending", "attempts": Message.attempts + 1, "error": ""}
        if not cast(CursorResult[Any], session.execute(claim.values(**values))).rowcount:
            session.commit()
            return "already sent or not waiting"
        message = session.get(Message, message_id)
        assert message is not None
        session.refresh(message)
        if _suppress_if_opted_out(session, message):  # STOP arrived since the job started
            return "suppressed: opted out"
        session.commit()
        wait = send_at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            sent = client.messages.create(to=message.phone, from_=settings.twilio_number, body=message.body)
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                message.status, message.error = "queued", f"HTTP {exc.status}: {exc.msg}"
                session.commit()
                raise  # RQ's Retry tries again with backoff
            message.status, message.error = "failed", f"Twilio error {exc.code}: {exc.msg}"
            if exc.code == UNSUBSCRIBED:
                _record_opt_out(session, message.phone, ctx.now())
            session.commit()
            log.warning("text %s to %s failed: %s", message_id, mask(message.phone), message.error)
            return "failed"
        except Exception as exc:  # network down: keep it queued, RQ retries
            message.status, message.error = "queued", str(exc)
            session.commit()
            raise
        message.status, message.message_sid = "sent", str(sent.sid)
        session.commit()
        log.info("text %s (%s) sent to %s: %s", message_id, message.kind, mask(message.phone), sent.sid)
        return "sent"


def _record_opt_out(session: Session, phone: str, now: datetime) -> None:
    """Twilio says the number unsubscribed (it texted STOP to Twilio directly): remember it like our own STOP."""
    if opted_out(session, phone):
        return
    try:
        with session.begin_nested():
            session.add(OptOut(phone=phone, source=f"twilio-{UNSUBSCRIBED}", created_at=now))
    except IntegrityError:  # recorded concurrently (a STOP webhook): one row is enough
        pass
    log.info("%s unsubscribed at Twilio (error %s): opted out", mask(phone), UNSUBSCRIBED)


def send_text(
    to: str, body: str, kind: str = "notice", urgent: bool = False, report_id: int | None = None,
    callback_id: int | None = None,
) -> str:
    """RQ job for callers that had no database session at hand (a follow-up built as (to, body)):
    record the text with `queue_text`, then enqueue its delivery.

    Safe to run twice: the job remembers the row it made (its meta), so RQ running it again (a retry)
    enqueues that row instead of recording the text a second time.
    """
    ctx = current()
    now = ctx.now()
    job = get_current_job()
    with ctx.sessions() as session:
        known = job.meta.get("message_id") if job is not None else None
        message = session.get(Message, known) if known else None
        if message is None:
            message = queue_text(
                session, ctx.settings, to=to, body=body, now=now, kind=kind, report_id=report_id,
                callback_id=callback_id, urgent=urgent, person=person_for(session, to),
            )
            session.commit()
            if job is not None:
                job.meta["message_id"] = message.id
                job.save_meta()
    enqueue_text(ctx.redis, message, now)
    return message.status


def enqueue_follow_up_texts(conn: Redis, texts: Iterable[Message | tuple[str, str]], callbacks: list[CallBack],
                            now: datetime) -> None:
    """After a commit: deliver the texts a FollowUps asked for.

    A Message row (made with `queue_text` in the caller's transaction) is enqueued as it is. A bare
    (to, body) pair is recorded by a `send_text` job; when it goes to the number of a call-back queued
    with it, it takes that call-back's report, id and urgency, so the text that goes with an urgent
    call at night goes with it, as the call does.
    """
    queue = job_queue(conn)
    for item in texts:
        if isinstance(item, Message):
            enqueue_text(conn, item, now)
            continue
        to, body = item
        with_call = next((cb for cb in callbacks if cb.to_number == to), None)
        about: dict[str, Any] = {"kind": "notice"}
        if with_call is not None:
            about = {"kind": "escalation" if with_call.purpose == ESCALATION else "notice", "urgent": with_call.urgent,
                     "report_id": with_call.report_id, "callback_id": with_call.id}
        queue.enqueue(send_text, args=(to, body), kwargs=about, job_timeout=60, description=f"record SMS to {mask(to)}",
                      retry=Retry(max=3, interval=[10, 60, 300]))


def due_texts(session: Session, now: datetime) -> list[Message]:
    """Outbound texts waiting and due (for the sweep: their job may be lost with Redis)."""
    waiting = select(Message).where(
        Message.direction == OUTBOUND, Message.status.in_(WAITING),
        (Message.scheduled_for.is_(None)) | (Message.scheduled_for <= now),
    )
    return list(session.scalars(waiting).all())
