"""A question community staff asked us to put to somebody: yes (1) or no (2), then a voice note.

Works with or without a report; the question text is read out as staff typed it.
"""
from __future__ import annotations

from typing import Any

from ivr_flows import answers, outbound
from ivr_flows.actions import Action, Digits, Input, NoInput, RecordAnswer, Say, Start, Turn
from ivr_flows.common import evolve, menu
from ivr_flows.outbound import OutboundContext

FLOW = "staff_question"


def new_state(language: str) -> dict[str, Any]:
    return outbound.new_state(FLOW, language)


def step(state: dict[str, Any], event: Input, ctx: OutboundContext) -> Turn:
    """Advance the staff question call by one input."""
    node = state.get("node", "start")
    if isinstance(event, Start) or node == "start":
        return Turn(evolve(state, node="question", silences=0), (*outbound.trust_words(state["lang"], ctx), *_ask(ctx)))
    if node == "note":
        return outbound.note_step(state, event)
    if node != "question":
        return outbound.ended(state)
    if isinstance(event, NoInput):
        return outbound.no_answer(state, (_menu(),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    answer = {"1": answers.YES, "2": answers.NO}.get(key)
    if answer is not None:
        return outbound.ask_note(state, "answer", "note_answer_prompt", effects=(RecordAnswer(answer),))
    if key == "*":
        return Turn(evolve(state, silences=0), _ask(ctx))
    return Turn(state, (Say("invalid_key"), _menu()))


def _ask(ctx: OutboundContext) -> tuple[Action, ...]:
    return (Say("question_ask", {"question": ctx.question or ""}), _menu())


def _menu() -> Action:
    return menu(Say("question_menu"))
