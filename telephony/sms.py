"""The SMS webhook: a text reports, adds to a report, asks for status, answers a question, or
stops and starts messages. Idempotent by MessageSid: Twilio's retries get the stored reply.

Every route: signature check → parse (telephony.inputs) → classify (ivr_flows.texting, pure) →
one transaction → reply TwiML (telephony.twiml) → queue work after the answer is sent.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, Flask, Response, current_app
from flask import request as flask_request
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry
from grid.models import Message, OptOut, Person, Report
from grid.phones import mask
from ivr_flows import texting
from ivr_flows import texting_replies as replies
from telephony import contexts, effects, inputs, sms_answers, sms_conversation, twiml
from telephony.commit import committed
from telephony.config import Settings
from telephony.flow_host import AfterCommit, StepResult
from telephony.signature import twilio_signed
from telephony.voice import caller_number

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/twilio")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.post("/sms")
@twilio_signed
def incoming() -> Response:
    """The phone number's messaging webhook."""
    settings: Settings = current_app.config["SETTINGS"]
    event = inputs.sms_event(flask_request.form)

    def work(session: Session) -> StepResult:
        if event.message_sid:
            seen = session.scalar(select(Message).where(Message.message_sid == event.message_sid))
            if seen is not None:
                log.info("SMS %s delivered again: replaying the reply", event.message_sid)
                return StepResult(seen.reply or twiml.message_reply(""))
        phone = caller_number(event.from_number, settings.default_region)
        message = Message(
            # NUL is the one character a PostgreSQL text cannot hold; everything else is kept as sent
            message_sid=event.message_sid or None, direction="inbound", phone=phone, body=event.body.replace("\x00", ""),
            segments=event.segments, status="received", created_at=effects.now(),
            media=[{"url": m.url, "content_type": m.content_type, "status": "pending"} for m in event.media] or None,
        )
        session.add(message)
        text, after = _handle(session, settings, message)
        message.reply = twiml.message_reply(text)
        session.flush()
        if message.media:
            after.append(_fetch_media(message))
        log.info("SMS %s from %s taken as %s", event.message_sid, mask(phone), message.kind)
        return StepResult(message.reply, after)

    return committed(work)


def _fetch_media(message: Message) -> AfterCommit:
    message_id = message.id

    def run() -> None:
        from telephony import jobs
        from worker.media import RETRY, download_media

        jobs.queue().enqueue(download_media, message_id, job_id=f"media-{message_id}", job_timeout=120, retry=RETRY)

    return run


def _language(person: Person | None, settings: Settings) -> str:
    return person.language if person is not None else settings.default_language


def _handle(session: Session, settings: Settings, message: Message) -> tuple[str, list[AfterCommit]]:
    """Decide what the text is and act on it; the reply text and the work to queue after commit."""
    now = message.created_at
    people = registry.people_by_phone(session, message.phone)
    person = people[0] if people else None
    lang = _language(person, settings)
    community = settings.community_name
    command = texting.classify(message.body)
    if isinstance(command, texting.Empty) and not message.media:
        message.kind = "empty"
        return replies.reply_empty(lang, community), []
    if isinstance(command, texting.Ack) and not message.media:
        message.kind = "ack"  # "谢谢", "好的", 👍: nothing to do, nothing to answer
        return "", []
    if isinstance(command, texting.Stop):
        message.kind = "keyword"
        if session.get(OptOut, message.phone) is None:
            session.add(OptOut(phone=message.phone, source="keyword", created_at=now))
        return replies.reply_stopped(lang, community), []
    if isinstance(command, texting.Start):
        message.kind = "keyword"
        opted = session.get(OptOut, message.phone)
        if opted is not None:
            session.delete(opted)
        return replies.reply_started(lang, community), []
    if isinstance(command, texting.Help):
        message.kind = "help"
        return replies.reply_help(lang, community), []
    if isinstance(command, texting.Status):
        message.kind = "keyword"
        return _status(session, settings, message.phone, command.number, lang, now), []
    if sms_conversation.awaiting_building(session, message.phone, now):
        # "3" or "3号楼" here answers "which building?", not a question from a call
        return _report(session, settings, message, person, message.body, lang)
    if isinstance(command, texting.Answer):
        matched = sms_answers.match(session, message.phone, command.value, now)
        if matched is None:
            message.kind = "help"
            return replies.reply_unmatched_answer(lang, community), []
        message.kind, message.callback_id = "answer", matched.callback.id
        message.report_id = matched.callback.report_id
        follow = sms_answers.apply(session, settings, matched, now)
        meaning = str(matched.rating) if matched.rating is not None else matched.answer
        reply = replies.reply_answer(lang, community, meaning, matched.callback.report_id)
        return reply, effects.follow_ups(follow)
    text = command.text if isinstance(command, (texting.Report, texting.Text)) else ""
    if isinstance(command, texting.Report) and not text and not message.media:
        message.kind = "help"
        return replies.reply_help(lang, community), []
    return _report(session, settings, message, person, message.body if isinstance(command, texting.Text) else text, lang)


def _report(
    session: Session, settings: Settings, message: Message, person: Person | None, text: str, lang: str
) -> tuple[str, list[AfterCommit]]:
    now = message.created_at
    outcome = sms_conversation.take_report_text(session, settings, message.phone, person, text, lang, now)
    community = settings.community_name
    if outcome.kind == "ask_building":
        message.kind = "report"
        return replies.reply_ask_building(lang, community), []
    report = outcome.report
    assert report is not None
    message.report_id = report.id
    message.kind = "addition" if outcome.kind == "added" else "report"
    after = [_report_ready_later(report, settings)] if outcome.kind == "filed" else []
    if outcome.kind == "added":
        reply = replies.reply_report_added(lang, community, report.id)
    elif outcome.building_unknown:
        reply = replies.reply_building_unknown(lang, community, report.id, outcome.building_unknown)
    else:
        reply = replies.reply_report_filed(lang, community, report.id)
    if texting.is_long(message.body):
        reply = replies.reply_long_message(lang, community, report.id)
    elif message.media:
        reply = replies.reply_photos(lang, community, report.id, len(message.media))
    return reply, after


def _report_ready_later(report: Report, settings: Settings) -> AfterCommit:
    """The verification call waits SMS_MERGE_SECONDS, so the worker hears every text the sender added."""
    report_id = report.id
    delay = timedelta(seconds=settings.sms_merge_seconds)

    def run() -> None:
        from telephony import jobs
        from worker.dispatch import report_ready

        jobs.queue().enqueue_in(delay, report_ready, report_id, job_id=f"ready-{report_id}", job_timeout=60)

    return run


def _status(session: Session, settings: Settings, phone: str, number: int | None, lang: str, now: datetime) -> str:
    """The state of the sender's latest report, or of the report they named, if it is theirs.

    Somebody else's number gets the same answer as a number that does not exist: a text must not
    reveal that a report exists, let alone its contents.
    """
    community = settings.community_name
    if number is not None:
        report = session.get(Report, number)
        if report is None or report.reporter_phone != phone:
            return replies.reply_status_not_found(lang, community, number)
    else:
        report = session.scalar(
            select(Report).where(Report.reporter_phone == phone).order_by(Report.id.desc()).limit(1)
        )
    summary = contexts.report_summary(settings, report) if report is not None else None
    return replies.reply_status(lang, community, contexts.local_date(settings, now), summary)
