"""A question staff asked us to put to somebody (yes/no plus a voice note), as a pure function."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ivr_flows import catalog, staff_question
from ivr_flows.actions import Digits, FileNote, NoInput, Record, RecordAnswer, RecordingDone, Say, Turn
from ivr_flows.outbound import OutboundContext, ReportBrief
from tests.test_hotline_flow import keys
from tests.test_outbound_flow import call

CTX = OutboundContext(
    community_name="花果社区", callee_name="陈静", caller_name="花果社区", duty_phone="057188881234",
    language="zh-CN", question="三号楼的路灯今晚能修好吗？",
)
WITH_REPORT = replace(CTX, report=ReportBrief(number=8, category="facility", urgent=False, state="dispatched"))
NOTE = RecordingDone("RE5", "https://api.twilio.com/rec/RE5", 4)
OPENING = ["call_opening", "call_no_money", "call_check_number"]


def walk(inputs: list[Any], ctx: OutboundContext = CTX) -> Turn:
    return call(staff_question, ctx, inputs)


@pytest.mark.parametrize(
    ("inputs", "expect_keys", "expect_effects", "expect_node"),
    [
        ([], [*OPENING, "question_ask", "question_menu"], (), "question"),
        ([Digits("1")], ["note_answer_prompt"], (RecordAnswer("yes"),), "note"),
        ([Digits("2")], ["note_answer_prompt"], (RecordAnswer("no"),), "note"),
        ([Digits("1"), NOTE], ["note_saved"], (FileNote("answer", "RE5", NOTE.recording_url, 4),), "ended"),
        ([Digits("2"), NoInput()], ["goodbye"], (), "ended"),
        ([Digits("*")], ["question_ask", "question_menu"], (), "question"),
        ([Digits("3")], ["invalid_key", "question_menu"], (), "question"),
        ([NoInput()], ["no_input", "question_menu"], (), "question"),
        ([NoInput(), NoInput(), NoInput()], ["call_no_answer"], (RecordAnswer("no_answer"),), "ended"),
    ],
)
def test_staff_question_paths(
    inputs: list[Any], expect_keys: list[str], expect_effects: tuple[Any, ...], expect_node: str
) -> None:
    """Yes or no is stored at the key press; anything to add is recorded after the beep."""
    turn = walk(inputs)
    assert keys(turn) == expect_keys
    assert turn.effects == expect_effects
    assert turn.state["node"] == expect_node


@pytest.mark.parametrize(
    ("ctx", "opening"),
    [
        (CTX, "陈静您好，这里是花果社区网格热线。"),
        (WITH_REPORT, "陈静您好，这里是花果社区网格热线，关于第八号问题。"),
    ],
)
def test_works_with_or_without_a_report(ctx: OutboundContext, opening: str) -> None:
    """The question is read as staff typed it; a report's number is named only when there is one."""
    turn = walk([], ctx)
    first = turn.actions[0]
    assert isinstance(first, Say) and catalog.text("zh-CN", first.key, first.params) == opening
    assert Say("question_ask", {"question": "三号楼的路灯今晚能修好吗？"}) in turn.actions


def test_the_note_is_a_recording_ended_by_hash() -> None:
    """After yes or no the callee may add something; '#' ends the recording."""
    record = walk([Digits("1")]).actions[-1]
    assert isinstance(record, Record) and record.finish_on_key == "#"
