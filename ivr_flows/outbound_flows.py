"""Every flow of a call we place, by the name its state carries (state["flow"])."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr_flows import confirmation, follow_up, staff_question, verification
from ivr_flows.actions import Input, Turn
from ivr_flows.outbound import OutboundContext

OutboundStep = Callable[[dict[str, Any], Input, OutboundContext], Turn]

STEPS: dict[str, OutboundStep] = {
    verification.FLOW: verification.step,
    follow_up.FLOW: follow_up.step,
    confirmation.FLOW: confirmation.step,
    staff_question.FLOW: staff_question.step,
}
NEW_STATES: dict[str, Callable[[str], dict[str, Any]]] = {
    verification.FLOW: verification.new_state,
    follow_up.FLOW: follow_up.new_state,
    confirmation.FLOW: confirmation.new_state,
    staff_question.FLOW: staff_question.new_state,
}
