"""The follow-up call to the worker who took a report: what did you find, or is it handled?

Before the site visit (new / verifying): 1 confirmed, 2 unfounded, 3 not yet; after 1 or 2 a short
voice note on what was found. Once confirmed (confirmed / dispatched): 1 handled, 2 not yet; after 1
a voice note on what was done. The answer is stored at the key press, so a worker who hangs up
during the note has still answered.
"""
from __future__ import annotations

from typing import Any

from ivr_flows import answers, outbound
from ivr_flows.actions import Action, Digits, Hangup, Input, NoInput, RecordAnswer, Say, Start, Turn
from ivr_flows.categories import spoken
from ivr_flows.common import evolve, menu
from ivr_flows.outbound import OutboundContext, ReportBrief

FLOW = "follow_up"
BEFORE_VISIT = ("new", "verifying")
BEFORE_HANDLING = ("confirmed", "dispatched")


def new_state(language: str) -> dict[str, Any]:
    return outbound.new_state(FLOW, language)


def step(state: dict[str, Any], event: Input, ctx: OutboundContext) -> Turn:
    """Advance the follow-up call by one input."""
    node = state.get("node", "start")
    if isinstance(event, Start) or node == "start":
        return _start(state, ctx)
    if node == "note":
        return outbound.note_step(state, event)
    if node not in ("visit", "handling") or ctx.report is None:
        return outbound.ended(state)
    if isinstance(event, NoInput):
        return outbound.no_answer(state, (_menu(node),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "*":
        return Turn(evolve(state, silences=0), _ask(state["lang"], ctx.report, node))
    if node == "visit":
        return _visit_answer(state, key)
    return _handling_answer(state, key)


def _start(state: dict[str, Any], ctx: OutboundContext) -> Turn:
    lang = state["lang"]
    opening = outbound.trust_words(lang, ctx)
    report = ctx.report
    if report is None or report.state not in (*BEFORE_VISIT, *BEFORE_HANDLING):
        # the report moved on (dashboard, another call) since this call was scheduled
        return Turn(evolve(state, node="ended"), (*opening, Say("nothing_to_ask"), Hangup()))
    node = "visit" if report.state in BEFORE_VISIT else "handling"
    return Turn(evolve(state, node=node, silences=0), (*opening, *_ask(lang, report, node)))


def _ask(lang: str, report: ReportBrief, node: str) -> tuple[Action, ...]:
    """What the report is (briefly), the resident's complaint if it came back, then the question."""
    said: list[Action] = [Say("follow_up_about", {"category": spoken(lang, report.category)})]
    if report.transcript:
        said.append(Say("verification_transcript", {"text": report.transcript}))
    if node == "handling" and report.reopen_reason:
        said.append(Say("follow_up_reopened", {"text": report.reopen_reason}))
    return (*said, _menu(node))


def _menu(node: str) -> Action:
    return menu(Say("follow_up_visit_menu" if node == "visit" else "follow_up_handling_menu"))


def _visit_answer(state: dict[str, Any], key: str) -> Turn:
    found = {"1": answers.CONFIRMED, "2": answers.UNFOUNDED}.get(key)
    if found is not None:
        return outbound.ask_note(state, "site_note", "note_site_prompt", effects=(RecordAnswer(found),))
    if key == "3":
        return _not_yet(state)
    return Turn(state, (Say("invalid_key"), _menu(state["node"])))


def _handling_answer(state: dict[str, Any], key: str) -> Turn:
    if key == "1":
        return outbound.ask_note(state, "handling_note", "note_handling_prompt", effects=(RecordAnswer(answers.HANDLED),))
    if key == "2":
        return _not_yet(state)
    return Turn(state, (Say("invalid_key"), _menu(state["node"])))


def _not_yet(state: dict[str, Any]) -> Turn:
    return Turn(evolve(state, node="ended"), (Say("follow_up_not_yet"), Hangup()), (RecordAnswer(answers.NOT_YET),))
