"""Runs a pure flow for one webhook: load state by CallSid → step → persist → TwiML → effects.

Safe to repeat: each action URL carries the step number; a webhook for a step already
answered (Twilio's retry) gets the stored answer back and changes nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.models import Call, CallBack
from ivr_flows import confirmation, follow_up, hotline, outbound, outbound_flows, staff_question, verification
from ivr_flows.actions import Effect, FileReport, Input, ReportFiled, Turn
from ivr_flows.common import MAX_STEPS_PER_REQUEST
from ivr_flows.outbound import OutboundContext
from telephony import contexts, effects, twiml
from telephony.config import Settings
from worker import callbacks

log = logging.getLogger(__name__)
AfterCommit = Callable[[], None]


@dataclass
class StepResult:
    twiml: str
    after_commit: list[AfterCommit] = field(default_factory=list)


def get_or_create_call(session: Session, sid: str, **fields: Any) -> Call:
    """The Call row for a CallSid. Two first webhooks racing: the loser's commit hits the unique
    CallSid and the webhook runs again (see telephony.commit.committed), finding this row."""
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    if call is None:
        call = Call(call_sid=sid, step=0, **fields)
        session.add(call)
    return call


def _step_flow(session: Session, settings: Settings, call: Call, state: dict[str, Any], event: Input) -> Turn:
    """One flow step. The flow's context is looked up on the call's first webhook and kept on the
    call: later webhooks (a key press) then cost one read and one write of the call row."""
    outbound_step = outbound_flows.STEPS.get(str(state.get("flow", "")))
    if outbound_step is not None:
        if call.flow_context is None:
            callback = contexts.callback_of(session, call)
            call.flow_context = contexts.outbound_context(session, settings, callback).to_dict()
        return outbound_step(state, event, OutboundContext.from_dict(call.flow_context))
    if call.flow_context is None:
        call.flow_context = contexts.hotline_context(session, settings, call).to_dict()
    return hotline.step(state, event, hotline.HotlineContext.from_dict(call.flow_context))


def new_outbound_state(callback: CallBack) -> dict[str, Any]:
    """The flow state a call-back starts in: the flow for its purpose, in the callee's language.

    A missed-call return is the hotline itself, opening with trust words instead of the warning.
    """
    flow_of_purpose = {
        callbacks.WORKER_VERIFICATION: verification.FLOW,
        callbacks.ESCALATION: verification.FLOW,
        callbacks.WORKER_FOLLOW_UP: follow_up.FLOW,
        callbacks.RESIDENT_CONFIRMATION: confirmation.FLOW,
        callbacks.STAFF_QUESTION: staff_question.FLOW,
    }
    if callback.purpose == callbacks.MISSED_CALL_RETURN:
        state = hotline.new_state(callback.language, returning=True)
    else:
        flow = flow_of_purpose.get(callback.purpose, verification.FLOW)
        state = outbound_flows.NEW_STATES[flow](callback.language)
    return {**state, "callback_id": callback.id, "purpose": callback.purpose}


def machine_twiml(session: Session, settings: Settings, callback: CallBack) -> str:
    """TwiML for an answering machine: who called about which report, that we will call again,
    and the duty number to check the call; then hang up."""
    ctx = contexts.outbound_context(session, settings, callback)
    return twiml.render(
        outbound.machine_message(ctx),
        ctx.language,
        settings,
        step_url=lambda expect: step_url(settings, 0, expect),
        recording_callback_url=f"{settings.public_base_url.rstrip('/')}/twilio/voice/recording",
    )


def run_step(session: Session, settings: Settings, call: Call, step: int, event: Input) -> StepResult:
    """Answer one webhook for `call`. `step` is the number in the action URL Twilio followed."""
    if step < call.step:
        log.info("replaying step %s for call %s (Twilio retry)", step, call.call_sid)
        return StepResult(call.last_response or twiml.hangup_only())
    state = dict(call.flow_state or {})
    actions: list[Any] = []
    pending: list[Effect] = []
    after: list[AfterCommit] = []
    # Writes wait for the commit: on SQLite an early flush would hold the write lock for the
    # whole request.
    with session.no_autoflush:
        for _ in range(MAX_STEPS_PER_REQUEST):
            turn = _step_flow(session, settings, call, state, event)
            state = turn.state
            actions.extend(turn.actions)
            filing = [e for e in turn.effects if isinstance(e, FileReport)]
            pending.extend(e for e in turn.effects if not isinstance(e, FileReport))
            if not filing:
                break
            language = str(state.get("lang", settings.default_language))
            number, follow_up = effects.file_from_call(session, settings, call, filing[0], language)
            after.extend(follow_up)
            event = ReportFiled(number)
        else:
            log.error("flow loop guard hit for call %s", call.call_sid)
        for effect in pending:
            after.extend(effects.apply(session, settings, call, effect))
    call.flow_state = state
    call.step = step + 1
    call.updated_at = datetime.now(UTC)
    call.last_response = twiml.render(
        actions,
        str(state.get("lang", settings.default_language)),
        settings,
        step_url=lambda expect: step_url(settings, call.step, expect),
        recording_callback_url=f"{settings.public_base_url.rstrip('/')}/twilio/voice/recording",
    )
    return StepResult(call.last_response, after)


def step_url(settings: Settings, step: int, expect: str) -> str:
    query = urlencode({"step": step, "expect": expect})
    return f"{settings.public_base_url.rstrip('/')}/twilio/voice/step?{query}"
