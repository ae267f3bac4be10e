"""How an outbound attempt's end is read from Twilio's CallStatus, AnsweredBy and the recorded answer."""
from __future__ import annotations

import pytest

from worker.outcomes import MACHINE, NO_RESPONSE, REACHED, classify


@pytest.mark.parametrize(
    ("status", "answered_by", "answer", "outcome"),
    [
        ("ringing", "", "", None),  # still going: nothing to decide yet
        ("in-progress", "human", "accepted", None),
        ("completed", "human", "accepted", REACHED),
        ("completed", "", "solved", REACHED),  # no AMD result: the answer decides
        ("completed", "human", "", NO_RESPONSE),  # picked up, hung up before answering
        ("completed", "human", "no_answer", NO_RESPONSE),  # stayed silent through the menu
        ("completed", "machine_end_beep", "", MACHINE),  # message left, still not reached
        ("completed", "machine_start", "", MACHINE),
        ("completed", "fax", "", MACHINE),
        ("no-answer", "", "", "no-answer"),
        ("busy", "", "", "busy"),
        ("failed", "", "", "failed"),
        ("canceled", "", "", "canceled"),
    ],
)
def test_classify(status: str, answered_by: str, answer: str, outcome: str | None) -> None:
    """Only a person who answered the question counts as reached; machines and silence are retried."""
    assert classify(status, answered_by, answer) == outcome
