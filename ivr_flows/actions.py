"""What a flow can ask the host to do (actions, effects) and what the host can tell it (inputs)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


# ---- actions: rendered to TwiML by the host, in order -------------------------------------
@dataclass(frozen=True)
class Say:
    """Speak a catalog prompt (or play its recorded audio when the catalog names one)."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


@dataclass(frozen=True)
class Play:
    """Play an audio URL that is not a prompt (e.g. the caller's original recording)."""

    url: str


@dataclass(frozen=True)
class Gather:
    """Wait for key presses while speaking prompts (callers may press before they end)."""

    prompts: tuple[Say | Pause | Play, ...]
    num_digits: int = 1
    timeout: int = 6
    finish_on_key: str = ""


@dataclass(frozen=True)
class Record:
    max_length: int = 120
    finish_on_key: str = "#"
    timeout: int = 10


@dataclass(frozen=True)
class Dial:
    number: str
    timeout: int = 25


@dataclass(frozen=True)
class Hangup:
    pass


Action = Say | Pause | Play | Gather | Record | Dial | Hangup


# ---- effects: performed by the host after it has saved the new state -----------------------
@dataclass(frozen=True)
class FileReport:
    """File the report from this call with its recording; the host answers with ReportFiled."""

    category: str
    building: str
    recording_sid: str
    recording_url: str
    duration: int
    add_to: int | None = None  # the caller chose to add their voice to this open report instead


@dataclass(frozen=True)
class QueueCallBack:
    """The caller could not be served now: the community owes them a call."""

    purpose: str


@dataclass(frozen=True)
class RecordAnswer:
    """An answer (ivr_flows.answers) about a report: the call-back's own (report_number None) or,
    from the staff menu of the inbound hotline, about the report with that number."""

    answer: str
    report_number: int | None = None


@dataclass(frozen=True)
class RecordRating:
    """The resident's satisfaction, 1 to 5."""

    rating: int
    report_number: int | None = None


@dataclass(frozen=True)
class FileNote:
    """A short voice note (kind: grid.models.NOTE_KINDS) about a report, transcribed like reports."""

    kind: str
    recording_sid: str
    recording_url: str
    duration: int
    report_number: int | None = None


Effect = FileReport | QueueCallBack | RecordAnswer | RecordRating | FileNote


# ---- inputs: parsed from Twilio's form fields by the host (one place) ----------------------
@dataclass(frozen=True)
class Start:
    pass


@dataclass(frozen=True)
class Digits:
    value: str


@dataclass(frozen=True)
class NoInput:
    pass


@dataclass(frozen=True)
class RecordingDone:
    recording_sid: str
    recording_url: str
    duration: int


@dataclass(frozen=True)
class DialEnded:
    status: str  # Twilio's DialCallStatus: completed, busy, no-answer, failed, canceled


@dataclass(frozen=True)
class ReportFiled:
    number: int


Input = Start | Digits | NoInput | RecordingDone | DialEnded | ReportFiled


@dataclass(frozen=True)
class Turn:
    """The result of one step: the new (JSON-able) state, what to say/do, what to perform."""

    state: dict[str, Any]
    actions: tuple[Action, ...]
    effects: tuple[Effect, ...] = ()
