"""What every call we place shares: its context, the trust words, the silence ladder, voice notes,
and the message left on an answering machine.

One context serves every call-back purpose; the host builds it once per call from the call-back,
its person and its report, and keeps it on the call as JSON.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ivr_flows import answers, catalog, trust
from ivr_flows.actions import Action, Effect, FileNote, Hangup, Input, Record, RecordAnswer, RecordingDone, Say, Turn
from ivr_flows.common import evolve, silence

NOTE_RECORD = Record(max_length=60)  # a voice note is short; "#" ends it


@dataclass(frozen=True)
class ReportBrief:
    """The report a call is about, as the callee should hear it."""

    number: int
    category: str
    urgent: bool
    state: str
    transcript: str | None = None
    recording_url: str | None = None
    handling_note: str | None = None  # what the worker said was done (a transcribed voice note)
    reopen_reason: str | None = None  # what the resident said is still wrong
    overdue: bool = False  # nobody took it in time: the call asks the next rung up to take it
    escalation_level: int = 0


@dataclass(frozen=True)
class OutboundContext:
    """What the host knows about a call-back, resolved before the first step (flows do no I/O)."""

    community_name: str
    callee_name: str | None
    caller_name: str  # who is calling: a worker's name, or the community's
    duty_phone: str  # national digits to read out; "" when the community has none
    language: str
    caller_role: str | None = None  # the worker's role when a worker is calling; None: the hotline
    report: ReportBrief | None = None
    question: str | None = None  # what staff asked, read out on a staff question call

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, so the host can look the call-back up once per call instead of per webhook."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboundContext:
        report = data.get("report")
        return cls(**{**data, "report": ReportBrief(**report) if report else None})

    @property
    def opening(self) -> trust.Opening:
        """Who speaks to whom in the first sentence."""
        return trust.Opening(
            community=self.community_name,
            callee_name=self.callee_name,
            source=trust.PERSON if self.caller_role else trust.HOTLINE,
            caller_name=self.caller_name,
            caller_role=self.caller_role or "",
            report_number=self.report.number if self.report else None,
        )


def new_state(flow: str, language: str) -> dict[str, Any]:
    return {"flow": flow, "node": "start", "lang": catalog.supported(language), "silences": 0}


def trust_words(lang: str, ctx: OutboundContext) -> tuple[Action, ...]:
    """Every call we place opens with these (scam fear): who, which community, which report, and
    that we never ask for money, with the duty phone to check the call."""
    return trust.trust_words(lang, ctx.opening, ctx.duty_phone)


def no_answer(state: dict[str, Any], reprompt: tuple[Action, ...]) -> Turn:
    """The outbound silence ladder: two re-prompts, then a polite goodbye and "no answer" is
    recorded (the engine counts the call as not reached and tries again later)."""
    return silence(state, reprompt, (Say("call_no_answer"),), (RecordAnswer(answers.NO_ANSWER),))


def quiet_after_answer(state: dict[str, Any], reprompt: tuple[Action, ...]) -> Turn:
    """Silence once the answer is stored: re-prompt twice, then just say goodbye."""
    return silence(state, reprompt, (Say("goodbye"),))


def ask_note(
    state: dict[str, Any],
    kind: str,
    prompt_key: str,
    *,
    saved_key: str = "note_saved",
    empty_key: str = "goodbye",
    effects: tuple[Effect, ...] = (),
) -> Turn:
    """Ask for a short voice note after the beep (its answer, in `effects`, is stored already).

    state["note"] says what is being recorded until the next note: the host's recording status
    callback reads it when the callee hangs up during the note.
    """
    note = {"kind": kind, "report_number": None, "saved": saved_key, "empty": empty_key}
    return Turn(evolve(state, node="note", silences=0, note=note), (Say(prompt_key), NOTE_RECORD), effects)


def note_step(state: dict[str, Any], event: Input) -> Turn:
    """The voice note arrived (file it, thank, hang up) or heard nothing (thank, hang up)."""
    note = dict(state.get("note") or {})
    if isinstance(event, RecordingDone):
        effect = FileNote(str(note.get("kind", "")), event.recording_sid, event.recording_url, event.duration)
        return Turn(evolve(state, node="ended"), (Say(str(note.get("saved", "note_saved"))), Hangup()), (effect,))
    return Turn(evolve(state, node="ended"), (Say(str(note.get("empty", "goodbye"))), Hangup()))


def machine_message(ctx: OutboundContext) -> tuple[Action, ...]:
    """What an answering machine hears: who called about which report, that we will call again,
    and the number to check the call. Short: machines cut long messages."""
    lang = catalog.supported(ctx.language)
    return (
        trust.opening(lang, ctx.opening),
        Say("machine_call_again"),
        *trust.check_number(lang, ctx.duty_phone),
        Say("goodbye"),
        Hangup(),
    )


def ended(state: dict[str, Any]) -> Turn:
    """Any input after the call's end (a late webhook): hang up again, change nothing."""
    return Turn(state, (Hangup(),))
