"""Pure helpers for the report pages: transcript words marked by confidence, one timeline out of
transitions, call attempts and texts, and a report's age in words."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from grid.models import as_utc

# Vosk gives each word a confidence in 0..1; below this a listener should check the recording.
# On the measured fixtures, misrecognised words mostly scored under 0.6 and correct ones above it.
LOW_CONFIDENCE = 0.6
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Word:
    text: str
    low: bool
    space_before: bool
    conf: float


def marked_words(words: list[dict[str, Any]] | None, threshold: float = LOW_CONFIDENCE) -> list[Word]:
    """The transcript as words to render, each flagged when its confidence is below threshold;
    spaces as in the stored text (none between two Han words)."""
    out: list[Word] = []
    previous = ""
    for item in words or []:
        text = str(item.get("word", ""))
        if not text:
            continue
        conf = float(item.get("conf", 1.0))
        space = bool(previous) and not (_HAN.search(previous[-1]) and _HAN.search(text[0]))
        out.append(Word(text, conf < threshold, space, conf))
        previous = text
    return out


@dataclass(frozen=True)
class Line:
    """One timeline line."""

    at: datetime
    kind: str  # filed | transition | assignment | call | escalation | note | rating | attempt | message
    text: str
    actor: str = ""
    channel: str = ""
    event: str = ""
    to_state: str = ""


def timeline(events: list[Any], attempts: list[Any], messages: list[Any]) -> list[Line]:
    """Every transition and note, every call attempt (with its outcome) and every text about the
    report, oldest first; ties keep that order (an event before the attempt it caused)."""
    lines: list[tuple[datetime, int, Line]] = []
    for event in events:
        lines.append((as_utc(event.at), 0, Line(as_utc(event.at), event.kind, event.note, event.actor, event.channel,
                                                 event.event, event.to_state)))
    for attempt in attempts:
        callback = attempt.callback
        outcome = attempt.outcome or attempt.status
        who = callback.person.name if callback.person else callback.to_number
        text = f"#{attempt.number} → {who}: {outcome}"
        if attempt.error:
            text += f" ({attempt.error})"
        lines.append((as_utc(attempt.placed_at), 1,
                      Line(as_utc(attempt.placed_at), "attempt", text, "system", "voice", event=callback.purpose)))
    for message in messages:
        arrow = "←" if message.direction == "inbound" else "→"
        status = "" if message.direction == "inbound" else f" [{message.status}]"
        text = f"{arrow} {message.body}{status}"
        lines.append((as_utc(message.created_at), 2, Line(as_utc(message.created_at), "message", text, "", "sms")))
    lines.sort(key=lambda item: (item[0], item[1]))
    return [line for _, _, line in lines]


def age(since: datetime, now: datetime, lang: str) -> str:
    """"3 h" / "3小时", "2 d" / "2天" — how long a report has been waiting, for the list."""
    delta = as_utc(now) - as_utc(since)
    if delta < timedelta(hours=1):
        n, zh, en = max(0, int(delta.total_seconds() // 60)), "分钟", "min"
    elif delta < timedelta(days=2):
        n, zh, en = int(delta.total_seconds() // 3600), "小时", "h"
    else:
        n, zh, en = delta.days, "天", "d"
    return f"{n} {en}" if lang.startswith("en") else f"{n}{zh}"
