"""The outbound verification call to a grid worker (核实): who is calling, what, then 1/2/3.

1 = I will go and verify (accept), 2 = not my area (reassign upward), 3 = hear it again.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ivr_flows import catalog
from ivr_flows.actions import Action, Digits, Hangup, Input, NoInput, Play, RecordAnswer, Say, Start, Turn
from ivr_flows.common import evolve, menu, silence

FLOW = "verification"
ACCEPTED = "accepted"
NOT_MY_AREA = "not_my_area"
NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class VerificationContext:
    community_name: str
    worker_name: str
    report_number: int
    category: str
    urgent: bool
    transcript: str | None
    recording_url: str | None
    duty_phone: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, so the host can look the report up once per call instead of per webhook."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerificationContext:
        return cls(**data)


def new_state(language: str) -> dict[str, Any]:
    return {"flow": FLOW, "node": "start", "lang": catalog.supported(language), "silences": 0}


def step(state: dict[str, Any], event: Input, ctx: VerificationContext) -> Turn:
    """Advance the verification call by one input."""
    node = state.get("node", "start")
    if isinstance(event, Start) or node == "start":
        return Turn(evolve(state, node="menu"), (*_briefing(state["lang"], ctx, trust=True), _menu()))
    if node != "menu":
        return Turn(state, (Hangup(),))
    if isinstance(event, NoInput):
        return silence(state, (_menu(),), (Say("verification_no_answer"),), (RecordAnswer(NO_ANSWER),))
    key = event.value[:1] if isinstance(event, Digits) else ""
    if key == "1":
        return Turn(evolve(state, node="ended"), (Say("verification_accepted"), Hangup()), (RecordAnswer(ACCEPTED),))
    if key == "2":
        return Turn(
            evolve(state, node="ended"), (Say("verification_reassigned"), Hangup()), (RecordAnswer(NOT_MY_AREA),)
        )
    if key in ("3", "*"):
        return Turn(evolve(state, silences=0), (*_briefing(state["lang"], ctx, trust=False), _menu()))
    return Turn(state, (Say("invalid_key"), _menu()))


def _menu() -> Action:
    return menu(Say("verification_menu"))


def _briefing(lang: str, ctx: VerificationContext, trust: bool) -> tuple[Action, ...]:
    """Trust words first (scam fear), then the report: category, transcript, original voice."""
    number = catalog.spell_digits(lang, str(ctx.report_number))
    said: list[Action] = [
        Say("verification_intro", {"name": ctx.worker_name, "community": ctx.community_name, "number": number})
    ]
    if trust and ctx.duty_phone:
        said.append(Say("verification_trust", {"duty_phone": catalog.spell_digits(lang, ctx.duty_phone)}))
    said.append(Say("verification_category", {"category": catalog.text(lang, f"category_{ctx.category}")}))
    if ctx.urgent:
        said.append(Say("verification_urgent"))
    if ctx.transcript:
        said.append(Say("verification_transcript", {"text": ctx.transcript}))
    else:
        said.append(Say("verification_no_transcript"))
    if ctx.recording_url:
        said.extend((Say("verification_recording"), Play(ctx.recording_url)))
    return tuple(said)
