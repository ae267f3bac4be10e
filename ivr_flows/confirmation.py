"""The call to the resident who reported: it was handled — is it solved, and how satisfied are you?

1 solved → a rating from 1 to 5. 2 not solved → stored at once (the report goes back to the
worker), then the resident says after the beep what is still wrong.
"""
from __future__ import annotations

from typing import Any

from ivr_flows import answers, catalog, outbound
from ivr_flows.actions import Action, Digits, Hangup, Input, NoInput, RecordAnswer, RecordRating, Say, Start, Turn
from ivr_flows.categories import spoken
from ivr_flows.common import evolve, menu
from ivr_flows.outbound import OutboundContext

FLOW = "confirmation"
RATINGS = ("1", "2", "3", "4", "5")


def new_state(language: str) -> dict[str, Any]:
    return outbound.new_state(FLOW, language)


def step(state: dict[str, Any], event: Input, ctx: OutboundContext) -> Turn:
    """Advance the confirmation call by one input."""
    node = state.get("node", "start")
    if isinstance(event, Start) or node == "start":
        return Turn(evolve(state, node="solved", silences=0), (*outbound.trust_words(state["lang"], ctx), *_ask(state, ctx)))
    if node == "solved":
        return _solved(state, event, ctx)
    if node == "rating":
        return _rating(state, event)
    if node == "note":
        return outbound.note_step(state, event)
    return outbound.ended(state)


def _ask(state: dict[str, Any], ctx: OutboundContext) -> tuple[Action, ...]:
    """What was reported and what was done, then "is it solved?"."""
    lang = state["lang"]
    said: list[Action] = []
    if ctx.report is not None:
        number = catalog.spell_digits(lang, str(ctx.report.number))
        category = spoken(lang, ctx.report.category)
        said.append(Say("confirm_handled", {"number": number, "category": category}))
        if ctx.report.handling_note:
            said.append(Say("confirm_handling_note", {"text": ctx.report.handling_note}))
    return (*said, _solved_menu())


def _solved_menu() -> Action:
    return menu(Say("confirm_menu"))


def _rating_menu() -> Action:
    return menu(Say("confirm_rating_menu"))


def _solved(state: dict[str, Any], event: Input, ctx: OutboundContext) -> Turn:
    if isinstance(event, NoInput):
        return outbound.no_answer(state, (_solved_menu(),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "1":
        return Turn(evolve(state, node="rating", silences=0), (_rating_menu(),), (RecordAnswer(answers.SOLVED),))
    if key == "2":
        return outbound.ask_note(
            state,
            "reopen_reason",
            "note_reopen_prompt",
            saved_key="confirm_sent_back",
            empty_key="confirm_sent_back",
            effects=(RecordAnswer(answers.NOT_SOLVED),),
        )
    if key == "*":
        return Turn(evolve(state, silences=0), _ask(state, ctx))
    return Turn(state, (Say("invalid_key"), _solved_menu()))


def _rating(state: dict[str, Any], event: Input) -> Turn:
    if isinstance(event, NoInput):  # solved is stored; no rating is no rating
        return outbound.quiet_after_answer(state, (_rating_menu(),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key in RATINGS:
        return Turn(evolve(state, node="ended"), (Say("confirm_rated"), Hangup()), (RecordRating(int(key)),))
    if key == "*":
        return Turn(evolve(state, silences=0), (_rating_menu(),))
    return Turn(state, (Say("invalid_key"), _rating_menu()))
