"""The inbound hotline: greet, menu, report (category → building → recording), status, dial.

Pressing 1, a category key and speaking is all a known caller needs to do.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ivr_flows import catalog
from ivr_flows.actions import (
    Action,
    Dial,
    DialEnded,
    Digits,
    FileReport,
    Hangup,
    Input,
    NoInput,
    Record,
    RecordingDone,
    ReportFiled,
    Say,
    Start,
    Turn,
)
from ivr_flows.categories import CATEGORY_KEYS
from ivr_flows.common import callback_on_silence, evolve, menu

FLOW = "hotline"


@dataclass(frozen=True)
class ReportSummary:
    number: int
    category: str
    state: str
    assignee_name: str | None = None


@dataclass(frozen=True)
class HotlineContext:
    """What the host knows about this call, resolved before the step (flows do no I/O)."""

    community_name: str
    caller_name: str | None
    caller_has_grid: bool
    emergency_numbers: tuple[str, ...]
    duty_phone: str
    worker_phone: str | None
    latest_report: ReportSummary | None
    buildings: frozenset[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, so the host can look the caller up once per call instead of per webhook."""
        data = asdict(self)
        data["buildings"] = sorted(self.buildings)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HotlineContext:
        latest = data.get("latest_report")
        return cls(
            **{
                **data,
                "emergency_numbers": tuple(data["emergency_numbers"]),
                "latest_report": ReportSummary(**latest) if latest else None,
                "buildings": frozenset(data["buildings"]),
            }
        )


def new_state(language: str) -> dict[str, Any]:
    return {"flow": FLOW, "node": "start", "lang": catalog.supported(language), "silences": 0}


def step(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    """Advance the hotline by one input."""
    node = state.get("node", "start")
    if isinstance(event, Start) or node == "start":
        return _greet(state, ctx)
    handler = _NODES.get(node)
    if handler is None:  # ended, or a state from an older version: close cleanly
        return Turn(state, (Say("goodbye"), Hangup()))
    return handler(state, event, ctx)


# ---- greeting and main menu -----------------------------------------------------------------
def _greet(state: dict[str, Any], ctx: HotlineContext) -> Turn:
    lang = state["lang"]
    emergency = catalog.join_list(lang, [catalog.spell_digits(lang, n, compact=True) for n in ctx.emergency_numbers])
    greeting = (
        Say("greeting_known", {"name": ctx.caller_name, "community": ctx.community_name})
        if ctx.caller_name
        else Say("greeting_unknown", {"community": ctx.community_name})
    )
    main = _main_menu_actions()
    return Turn(
        evolve(state, node="main_menu", silences=0),
        (Say("not_emergency", {"emergency": emergency}), greeting, *main),
    )


def _main_menu_actions() -> tuple[Action, ...]:
    return (menu(Say("main_menu")),)


def _main_menu(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    main = _main_menu_actions()
    if isinstance(event, NoInput):
        return callback_on_silence(state, main)
    if not isinstance(event, Digits):
        return Turn(state, main)
    key = event.value[:1]
    if key == "1":
        return Turn(evolve(state, node="category", silences=0), _category_actions())
    if key == "2":
        return Turn(evolve(state, silences=0), (*_status_actions(state["lang"], ctx), *main))
    if key == "0":
        return _dial_worker(state, ctx)
    if key == "9":
        return Turn(evolve(state, lang=catalog.other_language(state["lang"]), silences=0), main)
    if key == "*":
        return Turn(state, main)
    return Turn(state, (Say("invalid_key"), *main))


def _status_actions(lang: str, ctx: HotlineContext) -> tuple[Action, ...]:
    report = ctx.latest_report
    if report is None:
        return (Say("status_none"),)
    state_key = f"state_{report.state}" if f"state_{report.state}" in catalog.keys(lang) else "state_other"
    said: list[Action] = [
        Say(
            "status_latest",
            {
                "number": catalog.spell_digits(lang, str(report.number)),
                "category": catalog.text(lang, f"category_{report.category}"),
                "state": catalog.text(lang, state_key),
            },
        )
    ]
    if report.assignee_name:
        said.append(Say("status_assignee", {"assignee": report.assignee_name}))
    return tuple(said)


# ---- talk to my grid worker (key 0) ---------------------------------------------------------
def _dial_worker(state: dict[str, Any], ctx: HotlineContext) -> Turn:
    if ctx.worker_phone:
        return Turn(evolve(state, node="dial_worker"), (Say("connecting_worker"), Dial(ctx.worker_phone)))
    return _dial_duty(state, ctx, "connecting_worker")


def _dial_duty(state: dict[str, Any], ctx: HotlineContext, say_key: str) -> Turn:
    if ctx.duty_phone:
        return Turn(evolve(state, node="dial_duty"), (Say(say_key), Dial(ctx.duty_phone)))
    return Turn(evolve(state, node="main_menu", silences=0), (Say("no_one_available"), *_main_menu_actions()))


def _after_worker_dial(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, DialEnded) and event.status == "completed":
        return Turn(evolve(state, node="ended"), (Say("goodbye"), Hangup()))
    return _dial_duty(state, ctx, "connecting_duty")


def _after_duty_dial(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, DialEnded) and event.status == "completed":
        return Turn(evolve(state, node="ended"), (Say("goodbye"), Hangup()))
    return Turn(evolve(state, node="main_menu", silences=0), (Say("no_one_available"), *_main_menu_actions()))


# ---- reporting ------------------------------------------------------------------------------
def _category_actions() -> tuple[Action, ...]:
    return (menu(Say("category_menu")),)


def _category(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, NoInput):
        return callback_on_silence(state, _category_actions())
    if not isinstance(event, Digits) or event.value[:1] == "*":
        return Turn(state, _category_actions())
    category = CATEGORY_KEYS.get(event.value[:1])
    if category is None:
        return Turn(state, (Say("invalid_key"), *_category_actions()))
    state = evolve(state, category=category, silences=0)
    if ctx.caller_has_grid:
        return _start_recording(state)
    return Turn(evolve(state, node="building", building_tries=0), _building_actions())


def _building_actions() -> tuple[Action, ...]:
    return (menu(Say("ask_building"), num_digits=4, finish_on_key="#", timeout=8),)


def _building(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
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


def _start_recording(state: dict[str, Any], before: tuple[Action, ...] = ()) -> Turn:
    return Turn(evolve(state, node="record"), (*before, Say("record_instructions"), Record()))


def _record(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if isinstance(event, RecordingDone):
        effect = FileReport(
            category=state["category"],
            building=state.get("building", ""),
            recording_sid=event.recording_sid,
            recording_url=event.recording_url,
            duration=event.duration,
        )
        return Turn(evolve(state, node="filing"), (), (effect,))
    if isinstance(event, NoInput):  # <Record> heard nothing and fell through to our redirect
        return callback_on_silence(state, (Say("nothing_recorded"), Say("record_instructions"), Record()))
    return Turn(state, (Say("record_instructions"), Record()))


def _filing(state: dict[str, Any], event: Input, ctx: HotlineContext) -> Turn:
    if not isinstance(event, ReportFiled):
        return Turn(state, (Say("goodbye"), Hangup()))
    number = catalog.spell_digits(state["lang"], str(event.number))
    return Turn(
        evolve(state, node="ended", report_number=event.number),
        (Say("report_filed", {"number": number}), Say("worker_will_call"), Say("goodbye"), Hangup()),
    )


_NODES = {
    "main_menu": _main_menu,
    "category": _category,
    "building": _building,
    "record": _record,
    "filing": _filing,
    "dial_worker": _after_worker_dial,
    "dial_duty": _after_duty_dial,
}
