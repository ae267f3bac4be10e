"""The outbound verification call as a pure function."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ivr_flows import verification
from ivr_flows.actions import Digits, Gather, Hangup, NoInput, Play, RecordAnswer, Say, Start, Turn
from ivr_flows.verification import VerificationContext

CTX = VerificationContext(
    community_name="花果社区",
    worker_name="王强",
    report_number=17,
    category="environment",
    urgent=False,
    transcript="三号楼下水道堵了",
    recording_url="https://api.twilio.com/rec/RE1",
    duty_phone="057188881234",
)


def start(ctx: VerificationContext = CTX) -> Turn:
    return verification.step(verification.new_state("zh-CN"), Start(), ctx)


def test_opens_with_trust_words_then_category_transcript_and_recording() -> None:
    """Who is calling and about which report comes first, then what the resident said and their voice."""
    actions = start().actions
    assert actions[0] == Say("verification_intro", {"name": "王强", "community": "花果社区", "number": "幺，七"})
    assert actions[1].key == "verification_trust"  # type: ignore[union-attr]
    assert Say("verification_transcript", {"text": "三号楼下水道堵了"}) in actions
    assert Play("https://api.twilio.com/rec/RE1") in actions
    assert isinstance(actions[-1], Gather)


def test_missing_transcript_is_said_and_the_voice_still_played() -> None:
    """No transcript: the worker hears that, and the original recording."""
    actions = start(replace(CTX, transcript=None)).actions
    assert Say("verification_no_transcript") in actions and Play(CTX.recording_url or "") in actions


@pytest.mark.parametrize(
    ("key", "answer", "say"),
    [("1", "accepted", "verification_accepted"), ("2", "not_my_area", "verification_reassigned")],
)
def test_answers_are_recorded(key: str, answer: str, say: str) -> None:
    """1 accepts, 2 says 'not my area'; either is stored and the call ends politely."""
    turn = verification.step(start().state, Digits(key), CTX)
    assert turn.effects == (RecordAnswer(answer),)
    assert turn.actions == (Say(say), Hangup())


@pytest.mark.parametrize("key", ["3", "*"])
def test_three_or_star_replays_without_repeating_trust_words(key: str) -> None:
    """3 (or *) plays the report again."""
    turn = verification.step(start().state, Digits(key), CTX)
    assert Play(CTX.recording_url or "") in turn.actions and turn.effects == ()


def test_silence_ladder_ends_with_no_answer_recorded() -> None:
    """Two re-prompts, then the call ends and 'no answer' is stored."""
    state = start().state
    for _ in range(2):
        turn = verification.step(state, NoInput(), CTX)
        assert turn.effects == () and isinstance(turn.actions[-1], Gather)
        state = turn.state
    turn = verification.step(state, NoInput(), CTX)
    assert turn.effects == (RecordAnswer("no_answer"),) and isinstance(turn.actions[-1], Hangup)


def test_urgent_reports_say_so() -> None:
    """An urgent report is announced as urgent."""
    assert Say("verification_urgent") in start(replace(CTX, urgent=True)).actions
