"""The call to the resident who reported ('is it solved? how satisfied?'), as a pure function."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ivr_flows import catalog, confirmation
from ivr_flows.actions import (
    Digits,
    FileNote,
    Hangup,
    NoInput,
    Record,
    RecordAnswer,
    RecordingDone,
    RecordRating,
    Say,
    Turn,
)
from ivr_flows.outbound import OutboundContext, ReportBrief
from tests.test_hotline_flow import keys
from tests.test_outbound_flow import call

REPORT = ReportBrief(number=42, category="facility", urgent=False, state="awaiting_check", handling_note="路灯换了新灯泡")
CTX = OutboundContext(
    community_name="花果社区", callee_name="张秀英", caller_name="王强", caller_role="grid_worker",
    duty_phone="057188881234", language="zh-CN", report=REPORT,
)
NOTE = RecordingDone("RE7", "https://api.twilio.com/rec/RE7", 6)
OPENING = ["call_opening", "call_no_money", "call_check_number"]


def walk(inputs: list[Any], ctx: OutboundContext = CTX, lang: str = "zh-CN") -> Turn:
    return call(confirmation, ctx, inputs, lang)


@pytest.mark.parametrize(
    ("inputs", "expect_keys", "expect_effects", "expect_node"),
    [
        ([], [*OPENING, "confirm_handled", "confirm_handling_note", "confirm_menu"], (), "solved"),
        ([Digits("1")], ["confirm_rating_menu"], (RecordAnswer("solved"),), "rating"),
        ([Digits("1"), Digits("5")], ["confirm_rated"], (RecordRating(5),), "ended"),
        ([Digits("1"), Digits("1")], ["confirm_rated"], (RecordRating(1),), "ended"),
        ([Digits("1"), Digits("7")], ["invalid_key", "confirm_rating_menu"], (), "rating"),
        ([Digits("1"), Digits("0")], ["invalid_key", "confirm_rating_menu"], (), "rating"),
        ([Digits("1"), Digits("*")], ["confirm_rating_menu"], (), "rating"),
        ([Digits("1"), NoInput()], ["no_input", "confirm_rating_menu"], (), "rating"),
        ([Digits("1"), NoInput(), NoInput(), NoInput()], ["goodbye"], (), "ended"),
        ([Digits("2")], ["note_reopen_prompt"], (RecordAnswer("not_solved"),), "note"),
        ([Digits("2"), NOTE], ["confirm_sent_back"], (FileNote("reopen_reason", "RE7", NOTE.recording_url, 6),), "ended"),
        ([Digits("2"), NoInput()], ["confirm_sent_back"], (), "ended"),
        ([Digits("*")], ["confirm_handled", "confirm_handling_note", "confirm_menu"], (), "solved"),
        ([Digits("3")], ["invalid_key", "confirm_menu"], (), "solved"),
        ([NoInput(), NoInput(), NoInput()], ["call_no_answer"], (RecordAnswer("no_answer"),), "ended"),
    ],
)
def test_confirmation_paths(inputs: list[Any], expect_keys: list[str], expect_effects: tuple[Any, ...], expect_node: str) -> None:
    """Solved leads to a 1-5 rating; not solved is stored at once and the resident says what is wrong."""
    turn = walk(inputs)
    assert keys(turn) == expect_keys
    assert turn.effects == expect_effects
    assert turn.state["node"] == expect_node


def test_rating_and_goodbye_end_the_call() -> None:
    """After the rating the resident is thanked and the call hangs up."""
    assert walk([Digits("1"), Digits("4")]).actions == (Say("confirm_rated"), Hangup())


def test_not_solved_records_what_is_still_wrong_after_the_beep() -> None:
    """2 asks the resident to speak after the beep, then says it goes back to the grid worker."""
    turn = walk([Digits("2")])
    assert isinstance(turn.actions[-1], Record) and turn.state["note"]["kind"] == "reopen_reason"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh-CN", ["您反映的第四，二号问题，公共设施报修，已经处理了。", "处理情况：路灯换了新灯泡"]),
        ("en-US", ["Your report number four, two, repair of a public facility, was handled.", "What was done: 路灯换了新灯泡"]),
    ],
)
def test_what_was_done_is_read_out_in_the_resident_language(lang: str, expected: list[str]) -> None:
    """The resident hears their report number digit by digit, its category and the worker's note."""
    said = [a for a in walk([], lang=lang).actions if isinstance(a, Say)][3:]
    assert [catalog.text(lang, s.key, s.params) for s in said] == expected


def test_without_a_handling_note_only_the_handled_sentence_is_said() -> None:
    """No transcribed note: the resident hears that it was handled, and the question."""
    turn = walk([], replace(CTX, report=replace(REPORT, handling_note=None)))
    assert keys(turn)[3:] == ["confirm_handled", "confirm_menu"]
