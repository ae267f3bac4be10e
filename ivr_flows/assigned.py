"""Main menu 3, for staff callers only: the open reports assigned to them, one at a time.

Oldest first: number, category, urgency, state and what the resident said; then what can be
answered in that state (new: 1 I will go; verifying: 1 confirmed / 2 unfounded, then a voice
note; confirmed or dispatched: 1 handled, then a voice note). # next report, * again, 0 main menu.
"""
from __future__ import annotations

from typing import Any

from grid import lifecycle
from ivr_flows import answers, catalog
from ivr_flows.actions import Action, Digits, FileNote, Input, NoInput, RecordAnswer, RecordingDone, Say, Turn
from ivr_flows.categories import spoken
from ivr_flows.common import callback_on_silence, evolve, menu
from ivr_flows.hotline_context import AssignedReport, HotlineContext
from ivr_flows.main_menu import to_main_menu
from ivr_flows.outbound import NOTE_RECORD
from ivr_flows.status import short_state

# state -> {key: (answer, kind of voice note asked for afterwards or None)}
CHOICES: dict[str, dict[str, tuple[str, str | None]]] = {
    lifecycle.NEW: {"1": (answers.ACCEPTED, None)},
    lifecycle.VERIFYING: {"1": (answers.CONFIRMED, "site_note"), "2": (answers.UNFOUNDED, "site_note")},
    lifecycle.CONFIRMED: {"1": (answers.HANDLED, "handling_note")},
    lifecycle.DISPATCHED: {"1": (answers.HANDLED, "handling_note")},
}
MENUS = {
    lifecycle.NEW: "assigned_menu_new",
    lifecycle.VERIFYING: "assigned_menu_verify",
    lifecycle.CONFIRMED: "assigned_menu_handle",
    lifecycle.DISPATCHED: "assigned_menu_handle",
}
NOTE_PROMPTS = {"site_note": "note_site_prompt", "handling_note": "note_handling_prompt"}


def _pending(state: dict[str, Any], ctx: HotlineContext) -> list[AssignedReport]:
    """Reports not answered yet on this call (the context was read when the call began)."""
    done = set(state.get("answered", ()))
    return [r for r in ctx.assigned_reports if r.number not in done]


def _current(state: dict[str, Any], ctx: HotlineContext) -> AssignedReport | None:
    return next((r for r in ctx.assigned_reports if r.number == state.get("current")), None)


def _menu(report: AssignedReport) -> Action:
    return menu(Say(MENUS.get(report.state, "assigned_menu_other")))


def _item(lang: str, report: AssignedReport) -> tuple[Action, ...]:
    said: list[Action] = [
        Say(
            "assigned_item",
            {
                "number": catalog.spell_digits(lang, str(report.number)),
                "category": spoken(lang, report.category),
                "state": short_state(lang, report.state),
            },
        )
    ]
    if report.urgent:
        said.append(Say("verification_urgent"))
    if report.transcript:
        said.append(Say("verification_transcript", {"text": report.transcript}))
    return (*said, _menu(report))


def _show(state: dict[str, Any], report: AssignedReport, before: tuple[Action, ...] = ()) -> Turn:
    state = evolve(state, node="assigned", current=report.number, silences=0)
    return Turn(state, (*before, *_item(state["lang"], report)))


def start_walk(state: dict[str, Any], ctx: HotlineContext) -> Turn:
    """How many open reports are assigned to the caller, then the oldest one."""
    pending = _pending(state, ctx)
    if not pending:
        return to_main_menu(state, ctx, (Say("assigned_none"),))
    # a count, said as a quantity ("3个"), not digit by digit
    return _show(state, pending[0], (Say("assigned_count", {"count": str(len(pending))}),))


def _next(state: dict[str, Any], ctx: HotlineContext, before: tuple[Action, ...] = ()) -> Turn:
    """The next unanswered report after the current one, or the main menu after the last."""
    numbers = [r.number for r in ctx.assigned_reports]
    current = state.get("current")
    after = ctx.assigned_reports[numbers.index(current) + 1 :] if current in numbers else ()
    done = set(state.get("answered", ()))
    following = [r for r in after if r.number not in done]
    if not following:
        return to_main_menu(state, ctx, (*before, Say("assigned_end")))
    return _show(state, following[0], before)


def assigned_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    """A key on one assigned report: answer it, or move on."""
    report = _current(state, ctx)
    if report is None:
        return to_main_menu(state, ctx)
    if isinstance(event, NoInput):
        return callback_on_silence(state, (_menu(report),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "#":
        return _next(state, ctx)
    if key == "*":
        return _show(state, report)
    if key == "0":
        return to_main_menu(state, ctx)
    choice = CHOICES.get(report.state, {}).get(key)
    if choice is None:
        return Turn(state, (Say("invalid_key"), _menu(report)))
    answer, note_kind = choice
    state = evolve(state, answered=[*state.get("answered", ()), report.number])
    effect = RecordAnswer(answer, report_number=report.number)
    if note_kind is None:
        turn = _next(state, ctx, (Say("assigned_noted"),))
        return Turn(turn.state, turn.actions, (effect,))
    note = {"kind": note_kind, "report_number": report.number}
    return Turn(
        evolve(state, node="assigned_note", silences=0, note=note),
        (Say(NOTE_PROMPTS[note_kind]), NOTE_RECORD),
        (effect,),
    )


def note_step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    """The voice note about the report just answered: file it, then the next report."""
    if isinstance(event, RecordingDone):
        note = dict(state.get("note") or {})
        effect = FileNote(
            str(note.get("kind", "")), event.recording_sid, event.recording_url, event.duration,
            report_number=int(note["report_number"]) if note.get("report_number") else None,
        )
        turn = _next(state, ctx, (Say("assigned_noted"),))
        return Turn(turn.state, turn.actions, (effect,))
    return _next(state, ctx, (Say("nothing_recorded"),))
