"""The inbound hotline: greet, main menu, then report (1), status (2), my reports (3, staff),
my grid worker (0), language (9).

Pressing 1, a category key and speaking is all a known caller needs to do. The same flow serves
the call-back to a caller who gave no input: it opens with trust words instead of the warning.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr_flows import answers, assigned, catalog, reporting, status
from ivr_flows.actions import Dial, DialEnded, Digits, Hangup, Input, NoInput, RecordAnswer, Say, Start, Turn
from ivr_flows.common import callback_on_silence, evolve
from ivr_flows.hotline_context import AssignedReport, HotlineContext, ReportSummary
from ivr_flows.main_menu import main_menu_actions, to_main_menu
from ivr_flows.trust import RETURNING, Opening, trust_words

FLOW = "hotline"
__all__ = ["FLOW", "AssignedReport", "HotlineContext", "ReportSummary", "new_state", "step"]


def new_state(language: str, returning: bool = False) -> dict[str, Any]:
    """A new hotline session; returning=True when we call back a caller who gave no input."""
    state: dict[str, Any] = {"flow": FLOW, "node": "start", "lang": catalog.supported(language), "silences": 0}
    if returning:
        state["returning"] = True
    return state


def step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    """Advance the hotline by one input."""
    node = state.get("node", "start")
    if isinstance(event, Start) or node == "start":
        return _greet(state, ctx)
    handler = _NODES.get(node)
    if handler is None:  # ended, or a state from an older version: close cleanly
        return Turn(state, (Say("goodbye"), Hangup()))
    turn = handler(state, event, ctx)
    if state.get("returning") and isinstance(event, Digits) and not state.get("picked_up"):
        # The caller we rang back is using the line: the call-back reached them (no retry).
        return Turn({**turn.state, "picked_up": True}, turn.actions, (RecordAnswer(answers.PICKED_UP), *turn.effects))
    return turn


# ---- greeting and main menu -----------------------------------------------------------------
def _greet(state: dict[str, Any], ctx: HotlineContext) -> Turn:
    lang = state["lang"]
    if state.get("returning"):
        opening = Opening(ctx.community_name, ctx.caller_name, source=RETURNING)
        return to_main_menu(state, ctx, trust_words(lang, opening, ctx.duty_phone_digits))
    emergency = catalog.join_list(lang, [catalog.spell_digits(lang, n, compact=True) for n in ctx.emergency_numbers])
    greeting = (
        Say("greeting_known", {"name": ctx.caller_name, "community": ctx.community_name})
        if ctx.caller_name
        else Say("greeting_unknown", {"community": ctx.community_name})
    )
    return to_main_menu(state, ctx, (Say("not_emergency", {"emergency": emergency}), greeting))


def _main_menu(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    main = main_menu_actions(ctx)
    if isinstance(event, NoInput):
        return callback_on_silence(state, main)
    if not isinstance(event, Digits):
        return Turn(state, main)
    key = event.value[:1]
    if key == "1":
        return reporting.start_report(state)
    if key == "2":
        return status.say_status(state, ctx)
    if key == "3" and ctx.caller_is_staff:
        return assigned.start_walk(state, ctx)
    if key == "0":
        return _dial_worker(state, ctx)
    if key == "9":
        return Turn(evolve(state, lang=catalog.other_language(state["lang"]), silences=0), main)
    if key == "*":
        return Turn(state, main)
    return Turn(state, (Say("invalid_key"), *main))


# ---- talk to my grid worker (key 0) ---------------------------------------------------------
def _dial_worker(state: dict[str, Any], ctx: HotlineContext) -> Turn:
    if ctx.worker_phone:
        return Turn(evolve(state, node="dial_worker"), (Say("connecting_worker"), Dial(ctx.worker_phone)))
    return _dial_duty(state, ctx, "connecting_worker")


def _dial_duty(state: dict[str, Any], ctx: HotlineContext, say_key: str) -> Turn:
    if ctx.duty_phone:
        return Turn(evolve(state, node="dial_duty"), (Say(say_key), Dial(ctx.duty_phone)))
    return to_main_menu(state, ctx, (Say("no_one_available"),))


def _after_worker_dial(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, DialEnded) and event.status == "completed":
        return Turn(evolve(state, node="ended"), (Say("goodbye"), Hangup()))
    return _dial_duty(state, ctx, "connecting_duty")


def _after_duty_dial(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, DialEnded) and event.status == "completed":
        return Turn(evolve(state, node="ended"), (Say("goodbye"), Hangup()))
    return to_main_menu(state, ctx, (Say("no_one_available"),))


_NODES: dict[str, Callable[[dict[str, Any], Input, HotlineContext], Turn]] = {
    "main_menu": _main_menu,
    "category": reporting.category_step,
    "duplicate": reporting.duplicate_step,
    "building": reporting.building_step,
    "record": reporting.record_step,
    "filing": reporting.filing_step,
    "status": status.status_step,
    "assigned": assigned.assigned_step,
    "assigned_note": assigned.note_step,
    "dial_worker": _after_worker_dial,
    "dial_duty": _after_duty_dial,
}
