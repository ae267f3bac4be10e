"""The outbound verification call to a grid worker (核实): who is calling, what, then 1/2/3.

1 = I will go and verify (accept), 2 = not my area (reassign upward), 3 or * = hear it again.
An overdue report (the escalation call to the next rung up uses this flow too) says that nobody
took it in time, and 1 means "I take it".
"""
from __future__ import annotations

from typing import Any

from ivr_flows import answers, outbound
from ivr_flows.actions import Action, Digits, Hangup, Input, NoInput, Play, RecordAnswer, Say, Start, Turn
from ivr_flows.categories import spoken
from ivr_flows.common import evolve, menu
from ivr_flows.outbound import OutboundContext, ReportBrief

FLOW = "verification"
# Kept for hosts that imported the answers from here; ivr_flows.answers is their home.
ACCEPTED = answers.ACCEPTED
NOT_MY_AREA = answers.NOT_MY_AREA
NO_ANSWER = answers.NO_ANSWER


def new_state(language: str) -> dict[str, Any]:
    return outbound.new_state(FLOW, language)


def step(state: dict[str, Any], event: Input, ctx: OutboundContext) -> Turn:
    """Advance the verification call by one input."""
    node = state.get("node", "start")
    lang = state["lang"]
    report = ctx.report
    if isinstance(event, Start) or node == "start":
        if report is None:  # nothing to verify (the report was withdrawn or merged before the call)
            return Turn(evolve(state, node="ended"), (*outbound.trust_words(lang, ctx), Say("nothing_to_ask"), Hangup()))
        return Turn(evolve(state, node="menu"), (*outbound.trust_words(lang, ctx), *briefing(lang, report), _menu(report)))
    if node != "menu" or report is None:
        return outbound.ended(state)
    if isinstance(event, NoInput):
        return outbound.no_answer(state, (_menu(report),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "1":
        said = "verification_taken" if report.overdue else "verification_accepted"
        return Turn(evolve(state, node="ended"), (Say(said), Hangup()), (RecordAnswer(ACCEPTED),))
    if key == "2":
        return Turn(
            evolve(state, node="ended"), (Say("verification_reassigned"), Hangup()), (RecordAnswer(NOT_MY_AREA),)
        )
    if key in ("3", "*"):
        return Turn(evolve(state, silences=0), (*briefing(lang, report), _menu(report)))
    return Turn(state, (Say("invalid_key"), _menu(report)))


def _menu(report: ReportBrief) -> Action:
    return menu(Say("verification_menu_overdue" if report.overdue else "verification_menu"))


def briefing(lang: str, report: ReportBrief) -> tuple[Action, ...]:
    """The report: overdue or not, category, urgency, what the resident said and their own voice."""
    said: list[Action] = []
    if report.overdue:
        said.append(Say("verification_overdue"))
    said.append(Say("verification_category", {"category": spoken(lang, report.category)}))
    if report.urgent:
        said.append(Say("verification_urgent"))
    if report.transcript:
        said.append(Say("verification_transcript", {"text": report.transcript}))
    else:
        said.append(Say("verification_no_transcript"))
    if report.recording_url:
        said.extend((Say("verification_recording"), Play(report.recording_url)))
    return tuple(said)

