"""Twilio voice webhooks: the hotline, each IVR step, recordings, outbound calls, call status.

Every route: signature check → parse (telephony.inputs) → flow host → commit → TwiML →
queue work after the answer is sent. Nothing slow happens here: no download, no recognition.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry
from grid.models import Call, CallAttempt, CallBack, Recording
from grid.phones import InvalidPhone, mask, normalise
from grid.reports import Facts, file_report
from ivr_flows import hotline
from ivr_flows.actions import Start
from telephony import effects, flow_host, inputs, twiml
from telephony.commit import committed
from telephony.flow_host import StepResult, get_or_create_call, run_step
from telephony.signature import twilio_signed
from worker import outcomes

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
NO_CONTENT = StepResult("")  # 204: callbacks Twilio does not read an answer from


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def caller_number(raw: str, region: str) -> str:
    """E.164 for registry look-ups; withheld or odd caller ids stay as they came (and match nobody)."""
    try:
        return normalise(raw, region)
    except InvalidPhone:
        return raw


@bp.post("")
@twilio_signed
def incoming() -> Response:
    """The phone number's voice webhook: a new inbound call."""
    settings = current_app.config["SETTINGS"]
    info = inputs.call_info(request.form)

    def work(session: Session) -> StepResult:
        people = registry.people_by_phone(session, caller_number(info.from_number, settings.default_region))
        person = people[0] if people else None
        call = get_or_create_call(
            session,
            info.call_sid,
            direction="inbound",
            from_number=info.from_number,
            to_number=info.to_number,
            person_id=person.id if person else None,
            flow_state=hotline.new_state(person.language if person else settings.default_language),
        )
        log.info("inbound call %s from %s (%s)", info.call_sid, mask(info.from_number), "known" if person else "unknown")
        return run_step(session, settings, call, 0, Start())

    return committed(work)


@bp.post("/step")
@twilio_signed
def step() -> Response:
    """Every later turn of a call; the action URL says which step and what input is expected."""
    settings = current_app.config["SETTINGS"]
    call_sid = request.form.get("CallSid", "")
    step_no = request.args.get("step", type=int, default=0)
    event = inputs.flow_input(request.args.get("expect", ""), request.form)

    def work(session: Session) -> StepResult:
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is None:
            log.warning("step for unknown call %s", call_sid)
            return StepResult(twiml.hangup_only())
        return run_step(session, settings, call, step_no, event)

    return committed(work)


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    """recordingStatusCallback: files the report even when the caller hung up mid-recording."""
    settings = current_app.config["SETTINGS"]
    event = inputs.recording_event(request.form)

    def work(session: Session) -> StepResult:
        call = session.scalar(select(Call).where(Call.call_sid == event.call_sid))
        if call is None or not event.recording_sid:
            return NO_CONTENT
        known = session.scalar(select(Recording).where(Recording.recording_sid == event.recording_sid))
        state = call.flow_state or {}
        if known is None and (state.get("flow") != hotline.FLOW or state.get("note")):
            # A voice note (on a call-back, or a worker's note from the hotline's staff menu): its
            # <Record> action files it, the answer it belongs to already recorded; no report here.
            log.info("recording %s on call %s is not a report", event.recording_sid, call.call_sid)
            return NO_CONTENT
        if known is not None and known.kind != "report":
            known.status, known.duration = event.status, event.duration or known.duration
            return StepResult("", effects.claim_transcription(known)) if event.status == "completed" else NO_CONTENT
        facts = Facts.from_state(call.flow_state or {})
        filed = file_report(
            session, call, facts, effects.filing_rules(settings), event.recording_sid, event.recording_url,
            event.duration,
        )
        rec = filed.recording
        if rec is None:
            return NO_CONTENT
        rec.status = event.status
        rec.duration = event.duration or rec.duration
        if event.status == "completed":
            return StepResult("", effects.claim_transcription(rec))
        if rec.transcription_enqueued or rec.kind != "report":  # an addition without audio: the report stands
            return NO_CONTENT
        report = filed.report
        report.transcript_status = "unavailable"
        report.transcript_error = f"recording {event.status}: Twilio kept no audio"
        report.needs_listening = True
        return StepResult("", [effects.report_ready(report)])

    return committed(work)


def _attempt(session: Session, callback_id: int, number: int, call_sid: str) -> CallAttempt | None:
    """The attempt a webhook is about (its number is in the URL we gave Twilio); it learns its CallSid."""
    attempt = session.scalar(
        select(CallAttempt).where(CallAttempt.callback_id == callback_id, CallAttempt.number == number)
    )
    if attempt is not None and not attempt.call_sid and call_sid:
        attempt.call_sid = call_sid
    return attempt


@bp.post("/outbound")
@twilio_signed
def outbound() -> Response:
    """Twilio fetches this when a call-back is answered: start the flow for its purpose.

    With answering-machine detection, AnsweredBy says who picked up: a machine gets a short
    message with the duty number (the status callback then counts the attempt as not reached).
    """
    settings = current_app.config["SETTINGS"]
    callback_id = request.args.get("callback", type=int, default=0)
    attempt_no = request.args.get("attempt", type=int, default=0)
    info = inputs.call_info(request.form)

    def work(session: Session) -> StepResult:
        callback = session.get(CallBack, callback_id)
        if callback is None:
            return StepResult(twiml.hangup_only())
        attempt = _attempt(session, callback_id, attempt_no, info.call_sid)
        if attempt is not None and info.answered_by:
            attempt.answered_by = info.answered_by
        if outcomes.classify("completed", info.answered_by, "x") == outcomes.MACHINE:
            log.info("call-back %s reached an answering machine; leaving the duty number", callback_id)
            return StepResult(flow_host.machine_twiml(session, settings, callback))
        call = get_or_create_call(
            session,
            info.call_sid,
            direction="outbound",
            from_number=info.to_number,  # the person we called is the "caller" of the flow
            to_number=info.from_number,
            person_id=callback.person_id,
            flow_state=flow_host.new_outbound_state(callback),
        )
        return run_step(session, settings, call, 0, Start())

    return committed(work)


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """Outbound call status callbacks: the attempt's outcome, then retry, escalate or close.

    Repeats and late arrivals never move anything twice (worker.outcomes.call_ended).
    """
    settings = current_app.config["SETTINGS"]
    event = inputs.call_status_event(request.form)
    callback_id = request.args.get("callback", type=int, default=0)
    attempt_no = request.args.get("attempt", type=int, default=0)

    def work(session: Session) -> StepResult:
        call = session.scalar(select(Call).where(Call.call_sid == event.call_sid))
        if call is not None and call.status not in FINAL_STATUSES:
            call.status = event.status
        callback = session.get(CallBack, callback_id)
        attempt = _attempt(session, callback_id, attempt_no, event.call_sid)
        if callback is None or attempt is None:
            return NO_CONTENT
        follow = outcomes.call_ended(
            session, settings, callback, attempt, event.status, event.answered_by, effects.now()
        )
        return StepResult("", effects.follow_ups(follow))

    return committed(work)
