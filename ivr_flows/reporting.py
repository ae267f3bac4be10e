"""Main menu 1: category → (building, for unknown callers) → speak → the number read back.

When the caller's micro-grid already has an open report in that category (filed within the
duplicate window), the caller may add their voice to it instead of filing another.
"""
from __future__ import annotations

from typing import Any

from ivr_flows import catalog
from ivr_flows.actions import Action, Digits, FileReport, Hangup, Input, NoInput, Record, RecordingDone, ReportFiled, Say, Turn
from ivr_flows.categories import CATEGORY_KEYS
from ivr_flows.common import callback_on_silence, evolve, menu
from ivr_flows.hotline_context import HotlineContext


def category_actions() -> tuple[Action, ...]:
    return (menu(Say("category_menu")),)


def start_report(state: dict[str, Any]) -> Turn:
    """Main menu 1: ask for the category."""
    return Turn(evolve(state, node="category", silences=0), category_actions())


def category_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, NoInput):
        return callback_on_silence(state, category_actions())
    if not isinstance(event, Digits) or event.value[:1] == "*":
        return Turn(state, category_actions())
    category = CATEGORY_KEYS.get(event.value[:1])
    if category is None:
        return Turn(state, (Say("invalid_key"), *category_actions()))
    state = evolve(state, category=category, silences=0)
    if not ctx.caller_has_grid:
        return Turn(evolve(state, node="building", building_tries=0), _building_actions())
    if category in ctx.open_by_category:
        return _offer_duplicate(state, ctx.open_by_category[category])
    return _start_recording(state)


# ---- an open report like it: add your voice (1) or report anyway (2) -------------------------
def _duplicate_actions(lang: str, number: int) -> tuple[Action, ...]:
    return (menu(Say("duplicate_offer", {"number": catalog.spell_digits(lang, str(number))})),)


def _offer_duplicate(state: dict[str, Any], number: int) -> Turn:
    return Turn(evolve(state, node="duplicate", open_report=number), _duplicate_actions(state["lang"], number))


def duplicate_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    number = int(state["open_report"])
    again = _duplicate_actions(state["lang"], number)
    if isinstance(event, NoInput):
        return callback_on_silence(state, again)
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "1":
        return _start_recording(evolve(state, silences=0), add_to=number)
    if key == "2":
        return _start_recording(evolve(state, silences=0))
    if key == "*":
        return Turn(state, again)
    return Turn(state, (Say("invalid_key"), *again))


# ---- unknown callers key their building ------------------------------------------------------
def _building_actions() -> tuple[Action, ...]:
    return (menu(Say("ask_building"), num_digits=4, finish_on_key="#", timeout=8),)


def building_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, NoInput):
        return callback_on_silence(state, _building_actions())
    if not isinstance(event, Digits) or event.value.startswith("*"):
        return Turn(state, _building_actions())
    number = event.value.rstrip("#").lstrip("0") or "0"
    if number in ctx.buildings:
        return _start_recording(evolve(state, building=number, silences=0))
    tries = int(state.get("building_tries", 0)) + 1
    if tries < 2:
        retry = Say("building_unknown_retry", {"building": catalog.spell_digits(state["lang"], number)})
        return Turn(evolve(state, building_tries=tries), (menu(retry, num_digits=4, finish_on_key="#", timeout=8),))
    state = evolve(state, building="", building_tries=tries, silences=0)
    return _start_recording(state, (Say("building_unknown_continue"),))


# ---- speaking and filing ---------------------------------------------------------------------
def _start_recording(state: dict[str, Any], before: tuple[Action, ...] = (), add_to: int | None = None) -> Turn:
    """state["add_to"] (and no "note") tells the host's recording callback what this recording is."""
    state = evolve(state, node="record", add_to=add_to, note=None)
    return Turn(state, (*before, Say("record_instructions"), Record()))


def record_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, RecordingDone):
        effect = FileReport(
            category=state["category"],
            building=state.get("building", ""),
            recording_sid=event.recording_sid,
            recording_url=event.recording_url,
            duration=event.duration,
            add_to=state.get("add_to"),
        )
        return Turn(evolve(state, node="filing"), (), (effect,))
    if isinstance(event, NoInput):  # <Record> heard nothing and fell through to our redirect
        return callback_on_silence(state, (Say("nothing_recorded"), Say("record_instructions"), Record()))
    return Turn(state, (Say("record_instructions"), Record()))


def filing_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if not isinstance(event, ReportFiled):
        return Turn(state, (Say("goodbye"), Hangup()))
    number = catalog.spell_digits(state["lang"], str(event.number))
    if state.get("add_to"):
        said: tuple[Action, ...] = (Say("voice_added", {"number": number}), Say("goodbye"), Hangup())
    else:
        said = (Say("report_filed", {"number": number}), Say("worker_will_call"), Say("goodbye"), Hangup())
    return Turn(evolve(state, node="ended", report_number=event.number), said)
