"""The sandbox phone's memory: one line per phone number, each with an event log and an SMS thread.

The page and the CLI learn everything by reading a line's events after the last id they saw (they
poll; `wait` lets a reader block until something new arrives, which the CLI uses). Events are plain
JSON-able dicts so the server can hand them out as they are; `kind` is one of EVENT_KINDS.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

# What a line's events say, each with "id", "kind", "at" (unix time) and, for call events, "call_sid":
#   call      a call started on this line: direction ("inbound" = the phone called the hotline,
#             "outbound-api" = the hotline called the phone), from, to
#   incoming  the hotline is ringing this phone: from, ring_timeout (seconds)
#   say       text, lang (BCP-47 for speechSynthesis), twilio_language, voice, loop
#   play      url (as in the TwiML), src (a same-origin URL the page can play, or null), loop
#   pause     seconds
#   gather    the call waits for keys: num_digits (null: any), finish_on_key, timeout
#   record    the call waits for a recording: max_length, finish_on_key, timeout, play_beep
#   key       a key the phone pressed: key, digits (collected so far), submitted
#   recorded  the phone's recording was kept: recording_sid, url, duration, note (why it may not play)
#   ended     the call is over: status (completed, busy, no-answer, failed), reason, detail, duration
#   sms       a text: direction ("to-phone" or "from-phone"), body, sid
#   error     something the person at the phone should know (the app did not answer...): message
EVENT_KINDS = ("call", "incoming", "say", "play", "pause", "gather", "record", "key", "recorded", "ended", "sms", "error")
MAX_EVENTS = 2000  # per line; older ones are dropped (a reader that far behind starts over)


@dataclass
class Line:
    number: str
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Lines:
    """Every line the sandbox has seen, keyed by number (E.164 where it normalises)."""

    _lines: dict[str, Line] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def emit(self, number: str, kind: str, **fields: Any) -> dict[str, Any]:
        """Append an event to the line and wake any reader waiting for it."""
        assert kind in EVENT_KINDS, kind
        with self._changed:
            line = self._lines.setdefault(number, Line(number))
            event = {"id": next(self._ids), "kind": kind, "at": round(time.time(), 3), **fields}
            line.events.append(event)
            del line.events[:-MAX_EVENTS]
            self._changed.notify_all()
            return event

    def after(self, number: str, last_id: int, wait: float = 0.0) -> list[dict[str, Any]]:
        """The line's events newer than last_id; with wait, block up to that long for the first one."""
        deadline = time.monotonic() + max(0.0, wait)
        with self._changed:
            while True:
                line = self._lines.get(number)
                found = [e for e in line.events if e["id"] > last_id] if line else []
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self._changed.wait(left)

    def last_id(self, number: str) -> int:
        with self._changed:
            line = self._lines.get(number)
            return line.events[-1]["id"] if line and line.events else 0

    def thread(self, number: str) -> list[dict[str, Any]]:
        """The line's texts, oldest first."""
        with self._changed:
            line = self._lines.get(number)
            return [e for e in line.events if e["kind"] == "sms"] if line else []
