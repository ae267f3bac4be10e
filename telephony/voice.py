"""Twilio voice webhooks: the hotline, each IVR step, recordings, outbound calls, call status.

Every route: signature check → parse (telephony.inputs) → flow host → commit → TwiML →
after-commit work (enqueue jobs). Nothing slow happens here: no download, no recognition.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select

from grid import registry
from grid.models import Call, CallBack
from grid.phones import InvalidPhone, mask, normalise
from grid.reports import Facts, file_report
from ivr_flows import hotline, verification
from ivr_flows.actions import Start
from telephony import database, effects, inputs, twiml
from telephony.flow_host import AfterCommit, get_or_create_call, run_step
from telephony.signature import twilio_signed
from worker.callbacks import MISSED_CALL_RETURN

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def caller_number(raw: str, region: str) -> str:
    """E.164 for registry look-ups; withheld or odd caller ids stay as they came (and match nobody)."""
    try:
        return normalise(raw, region)
    except InvalidPhone:
        return raw


def _answer(response: Response, after: list[AfterCommit]) -> Response:
    """Send the answer first; queue work (Redis round trips) runs when the response is closed.

    The rows were committed before, so work lost here (Redis down, process killed) is found and
    re-enqueued by the sweeper.
    """
    if after:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: _finish(app, after))
    return response


def _xml(body: str, after: list[AfterCommit] | None = None) -> Response:
    return _answer(Response(body, mimetype="text/xml"), after or [])


def _finish(app: Flask, after: list[AfterCommit]) -> None:
    with app.app_context():
        for job in after:
            try:
                job()
            except Exception:  # noqa: BLE001 - the database has it; the sweeper re-enqueues
                log.exception("could not enqueue after commit; the sweeper will pick it up")


@bp.post("")
@twilio_signed
def incoming() -> Response:
    """The phone number's voice webhook: a new inbound call."""
    settings = current_app.config["SETTINGS"]
    info = inputs.call_info(request.form)
    session = database.session()
    people = registry.people_by_phone(session, caller_number(info.from_number, settings.default_region))
    person = people[0] if people else None
    language = person.language if person else settings.default_language
    call, _created = get_or_create_call(
        session,
        info.call_sid,
        direction="inbound",
        from_number=info.from_number,
        to_number=info.to_number,
        person_id=person.id if person else None,
        flow_state=hotline.new_state(language),
    )
    log.info("inbound call %s from %s (%s)", info.call_sid, mask(info.from_number), "known" if person else "unknown")
    result = run_step(session, settings, call, 0, Start())
    session.commit()
    return _xml(result.twiml, result.after_commit)


@bp.post("/step")
@twilio_signed
def step() -> Response:
    """Every later turn of a call; the action URL says which step and what input is expected."""
    settings = current_app.config["SETTINGS"]
    session = database.session()
    call = session.scalar(select(Call).where(Call.call_sid == request.form.get("CallSid", "")))
    if call is None:
        log.warning("step for unknown call %s", request.form.get("CallSid", ""))
        return _xml(twiml.hangup_only())
    step_no = request.args.get("step", type=int, default=0)
    event = inputs.flow_input(request.args.get("expect", ""), request.form)
    result = run_step(session, settings, call, step_no, event)
    session.commit()
    return _xml(result.twiml, result.after_commit)


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    """recordingStatusCallback: files the report even when the caller hung up mid-recording."""
    settings = current_app.config["SETTINGS"]
    event = inputs.recording_event(request.form)
    session = database.session()
    call = session.scalar(select(Call).where(Call.call_sid == event.call_sid))
    if call is None or not event.recording_sid:
        return Response(status=204)
    facts = Facts.from_state(call.flow_state or {})
    filed = file_report(
        session, call, facts, settings.urgent_categories, event.recording_sid, event.recording_url, event.duration
    )
    after: list[AfterCommit] = []
    rec = filed.recording
    if rec is not None:
        rec.status = event.status
        if event.duration:
            rec.duration = event.duration
        if event.status == "completed":
            after.extend(effects.claim_transcription(rec))
        elif not rec.transcription_enqueued:
            report = filed.report
            report.transcript_status = "unavailable"
            report.transcript_error = f"recording {event.status}: Twilio kept no audio"
            report.needs_listening = True
            after.append(effects.report_ready(report))
    session.commit()
    return _answer(Response(status=204), after)


@bp.post("/outbound")
@twilio_signed
def outbound() -> Response:
    """Twilio fetches this when a call-back is answered: start the flow for its purpose."""
    settings = current_app.config["SETTINGS"]
    session = database.session()
    callback = session.get(CallBack, request.args.get("callback", type=int, default=0))
    info = inputs.call_info(request.form)
    if callback is None:
        return _xml(twiml.hangup_only())
    if callback.purpose == MISSED_CALL_RETURN:
        state = hotline.new_state(callback.language)
    else:
        state = verification.new_state(callback.language)
    state["callback_id"] = callback.id
    call, _ = get_or_create_call(
        session,
        info.call_sid,
        direction="outbound",
        from_number=info.to_number,  # the person we called is the "caller" of the flow
        to_number=info.from_number,
        person_id=callback.person_id,
        flow_state=state,
    )
    if not callback.call_sid:
        callback.call_sid = info.call_sid
    result = run_step(session, settings, call, 0, Start())
    session.commit()
    return _xml(result.twiml, result.after_commit)


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """Outbound call status callbacks. Repeats and late arrivals never move a final state back."""
    event = inputs.call_status_event(request.form)
    session = database.session()
    callback = session.get(CallBack, request.args.get("callback", type=int, default=0))
    call = session.scalar(select(Call).where(Call.call_sid == event.call_sid))
    if call is not None and call.status not in FINAL_STATUSES:
        call.status = event.status
    if callback is not None and callback.status not in FINAL_STATUSES and event.status in FINAL_STATUSES:
        callback.status = event.status
    session.commit()
    return Response(status=204)


FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
