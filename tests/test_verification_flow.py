"""The outbound verification call as a pure function."""
from __future__ import annotations

from dataclasses import replace

import pytest

from ivr_flows import verification
from ivr_flows.actions import Digits, Gather, Hangup, NoInput, Play, RecordAnswer, Say, Start, Turn
from ivr_flows.outbound import OutboundContext, ReportBrief

REPORT = ReportBrief(
    number=17,
    category="environment",
    urgent=False,
    state="new",
    transcript="三号楼下水道堵了",
    recording_url="https://api.twilio.com/rec/RE1",
)
CTX = OutboundContext(
    community_name="花果社区",
    callee_name="王强",
    caller_name="花果社区",
    duty_phone="057188881234",
    language="zh-CN",
    report=REPORT,
)


def start(ctx: OutboundContext = CTX) -> Turn:
    return verification.step(verification.new_state("zh-CN"), Start(), ctx)


def test_opens_with_trust_words_then_category_transcript_and_recording() -> None:
    """Who is calling and about which report comes first, then what the resident said and their voice."""
    actions = start().actions
    assert actions[0] == Say(
        "call_opening", {"hello": "王强您好，", "source": "这里是花果社区网格热线", "about": "，关于第幺，七号问题"}
    )
    assert actions[1] == Say("call_no_money") and actions[2].key == "call_check_number"  # type: ignore[union-attr]
    assert Say("verification_transcript", {"text": "三号楼下水道堵了"}) in actions
    assert Play("https://api.twilio.com/rec/RE1") in actions
    assert isinstance(actions[-1], Gather)


def test_missing_transcript_is_said_and_the_voice_still_played() -> None:
    """No transcript: the worker hears that, and the original recording."""
    actions = start(replace(CTX, report=replace(REPORT, transcript=None))).actions
    assert Say("verification_no_transcript") in actions and Play(REPORT.recording_url or "") in actions


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
    assert Play(REPORT.recording_url or "") in turn.actions and turn.effects == ()


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
    assert Say("verification_urgent") in start(replace(CTX, report=replace(REPORT, urgent=True))).actions


OVERDUE = replace(CTX, report=replace(REPORT, overdue=True, escalation_level=1))


@pytest.mark.parametrize(
    ("ctx", "says_overdue", "expect_menu"),
    [
        (CTX, False, "verification_menu"),
        (OVERDUE, True, "verification_menu_overdue"),
    ],
)
def test_overdue_report_says_nobody_took_it_in_time(ctx: OutboundContext, says_overdue: bool, expect_menu: str) -> None:
    """An escalated report says it is overdue, and its menu asks the callee to take it on."""
    actions = start(ctx).actions
    assert (Say("verification_overdue") in actions) is says_overdue
    menu = actions[-1]
    assert isinstance(menu, Gather) and menu.prompts[-1] == Say(expect_menu)


@pytest.mark.parametrize(
    ("ctx", "say"),
    [(CTX, "verification_accepted"), (OVERDUE, "verification_taken")],
)
def test_one_accepts_and_on_an_overdue_report_means_i_take_it(ctx: OutboundContext, say: str) -> None:
    """1 stores 'accepted' either way; the overdue call thanks the callee for taking it on."""
    turn = verification.step(start(ctx).state, Digits("1"), ctx)
    assert turn.effects == (RecordAnswer("accepted"),) and turn.actions == (Say(say), Hangup())


def test_invalid_key_repeats_the_menu_without_recording() -> None:
    """A key that is no option says so and asks again; nothing is stored."""
    turn = verification.step(start().state, Digits("9"), CTX)
    assert turn.effects == () and turn.actions[0] == Say("invalid_key") and isinstance(turn.actions[-1], Gather)


def test_a_call_without_a_report_says_so_and_ends() -> None:
    """The report vanished before the call: trust words, 'nothing to answer', hang up, nothing stored."""
    turn = start(replace(CTX, report=None))
    assert turn.actions[-2:] == (Say("nothing_to_ask"), Hangup()) and turn.effects == ()


def test_english_callee_hears_english_trust_words() -> None:
    """A worker whose language is English hears the opening in English."""
    from ivr_flows import catalog

    turn = verification.step(verification.new_state("en-US"), Start(), CTX)
    first = turn.actions[0]
    assert isinstance(first, Say)
    assert catalog.text("en-US", first.key, first.params).startswith("Hello 王强. This is the 花果社区 grid hotline")
