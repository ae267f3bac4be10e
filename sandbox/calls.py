"""One live call on the sandbox phone: where it is in its TwiML, what it waits for, how it looks as JSON."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.phone import Ended, Fetch, GatherWait, Item, Pause, Play, RecordWait, Say, Verb, Wait

FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
INBOUND, OUTBOUND = "inbound", "outbound-api"


class UnknownCall(LookupError):
    """No call with that CallSid was seen by this sandbox."""


class CallConflict(Exception):
    """The phone asked for something the call cannot do now (answer a call that stopped ringing...)."""


@dataclass
class LiveCall:
    sid: str
    line: str  # the phone's number: the line whose page shows this call
    direction: str  # INBOUND: the phone called the hotline; OUTBOUND: the hotline called the phone
    from_number: str  # as Twilio reports them
    to_number: str
    status: str = "queued"  # queued, ringing, in-progress, then one of FINAL_STATUSES
    url: str = ""  # the TwiML document the call is in
    verbs: tuple[Verb, ...] = ()
    resume: int = 0  # where to go on if the wait falls through
    wait: Wait | None = None
    digits: str = ""  # keys collected by the current <Gather>
    answered_at: float | None = None
    # outbound calls: what the app asked for when it placed the call
    answer_url: str = ""
    status_callback: str = ""
    status_events: tuple[str, ...] = ()
    machine_detection: bool = False
    ring_timeout: float = 30.0
    ring_timer: threading.Timer | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def ended(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def answered_by(self) -> str:
        """What answering-machine detection would say: the sandbox phone is always a human."""
        return "human" if self.machine_detection and self.answered_at is not None else ""

    def duration(self) -> int:
        return round(time.monotonic() - self.answered_at) if self.answered_at is not None else 0

    def form(self, **extra: str) -> dict[str, str]:
        """The call's fields in every webhook Twilio sends about it."""
        form = {"CallSid": self.sid, "From": self.from_number, "To": self.to_number, "Direction": self.direction,
                "CallStatus": self.status, "Caller": self.from_number, "Called": self.to_number}
        if self.answered_by:
            form["AnsweredBy"] = self.answered_by
        return {**form, **extra}

    def snapshot(self) -> dict[str, Any]:
        """The call as the page and the CLI see it."""
        return {
            "call_sid": self.sid, "line": self.line, "direction": self.direction, "from": self.from_number,
            "to": self.to_number, "status": self.status, "digits": self.digits,
            "waiting": wait_json(self.wait) if self.wait is not None else None,
        }


def wait_json(wait: Wait) -> dict[str, Any]:
    """A wait as the events and snapshots show it; "kind" is gather, record, fetch or ended."""
    if isinstance(wait, GatherWait):
        return {"kind": "gather", "num_digits": wait.num_digits, "finish_on_key": wait.finish_on_key,
                "timeout": wait.timeout}
    if isinstance(wait, RecordWait):
        return {"kind": "record", "max_length": wait.max_length, "finish_on_key": wait.finish_on_key,
                "timeout": wait.timeout, "play_beep": wait.play_beep}
    if isinstance(wait, Fetch):
        return {"kind": "fetch", "url": wait.url}
    assert isinstance(wait, Ended)
    return {"kind": "ended", "reason": wait.reason, "number": wait.number}


def item_json(item: Item) -> tuple[str, dict[str, Any]]:
    """An item's event kind and fields (a <Play>'s page URL is added by the switchboard)."""
    if isinstance(item, Say):
        return "say", {"text": item.text, "lang": item.language, "twilio_language": item.twilio_language,
                       "voice": item.voice, "loop": item.loop}
    if isinstance(item, Play):
        return "play", {"url": item.url, "loop": item.loop}
    assert isinstance(item, Pause)
    return "pause", {"seconds": item.seconds}
