"""The first SMS job's name, kept for jobs already on the queue and for telephony.effects.send_sms.

Texts go out through worker.texts (opt-outs, quiet hours, pacing, REST errors); this only records one.
"""
from __future__ import annotations

from worker.texts import send_text


def send_sms(to: str, body: str, kind: str = "confirmation") -> str:
    """RQ job: record the text and queue its delivery through worker.texts (a report's confirmation).

    A confirmation answers what the person just did (they are on the phone right now), so quiet
    hours do not hold it until morning; opt-outs and pacing still apply.
    """
    return send_text(to, body, kind=kind, urgent=kind == "confirmation")
