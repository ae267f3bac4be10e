"""The follow-up call to the worker who took a report, as a pure function."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ivr_flows import follow_up
from ivr_flows.actions import Digits, FileNote, Hangup, NoInput, Record, RecordAnswer, RecordingDone, Say, Turn
from ivr_flows.outbound import OutboundContext, ReportBrief
from tests.test_hotline_flow import keys
from tests.test_outbound_flow import call

REPORT = ReportBrief(number=17, category="environment", urgent=False, state="verifying", transcript="三号楼下水道堵了")
CTX = OutboundContext(
    community_name="花果社区", callee_name="王强", caller_name="花果社区", duty_phone="057188881234",
    language="zh-CN", report=REPORT,
)
CONFIRMED = replace(CTX, report=replace(REPORT, state="confirmed"))
REOPENED = replace(CTX, report=replace(REPORT, state="dispatched", reopen_reason="楼下还是有臭味"))
NOTE = RecordingDone("RE9", "https://api.twilio.com/rec/RE9", 8)
OPENING = ["call_opening", "call_no_money", "call_check_number"]


def walk(ctx: OutboundContext, inputs: list[Any]) -> Turn:
    return call(follow_up, ctx, inputs)


@pytest.mark.parametrize(
    ("ctx", "inputs", "expect_keys", "expect_effects", "expect_node"),
    [
        (CTX, [], [*OPENING, "follow_up_about", "verification_transcript", "follow_up_visit_menu"], (), "visit"),
        (replace(CTX, report=replace(REPORT, state="new")), [],
         [*OPENING, "follow_up_about", "verification_transcript", "follow_up_visit_menu"], (), "visit"),
        (CTX, [Digits("1")], ["note_site_prompt"], (RecordAnswer("confirmed"),), "note"),
        (CTX, [Digits("2")], ["note_site_prompt"], (RecordAnswer("unfounded"),), "note"),
        (CTX, [Digits("3")], ["follow_up_not_yet"], (RecordAnswer("not_yet"),), "ended"),
        (CTX, [Digits("1"), NOTE], ["note_saved"], (FileNote("site_note", "RE9", NOTE.recording_url, 8),), "ended"),
        (CTX, [Digits("2"), NoInput()], ["goodbye"], (), "ended"),
        (CTX, [Digits("*")], ["follow_up_about", "verification_transcript", "follow_up_visit_menu"], (), "visit"),
        (CTX, [Digits("4")], ["invalid_key", "follow_up_visit_menu"], (), "visit"),
        (CONFIRMED, [], [*OPENING, "follow_up_about", "verification_transcript", "follow_up_handling_menu"], (), "handling"),
        (REOPENED, [],
         [*OPENING, "follow_up_about", "verification_transcript", "follow_up_reopened", "follow_up_handling_menu"], (),
         "handling"),
        (CONFIRMED, [Digits("1")], ["note_handling_prompt"], (RecordAnswer("handled"),), "note"),
        (CONFIRMED, [Digits("1"), NOTE], ["note_saved"], (FileNote("handling_note", "RE9", NOTE.recording_url, 8),),
         "ended"),
        (CONFIRMED, [Digits("1"), NoInput()], ["goodbye"], (), "ended"),
        (CONFIRMED, [Digits("2")], ["follow_up_not_yet"], (RecordAnswer("not_yet"),), "ended"),
        (CONFIRMED, [Digits("3")], ["invalid_key", "follow_up_handling_menu"], (), "handling"),
        (CONFIRMED, [NoInput(), NoInput(), NoInput()], ["call_no_answer"], (RecordAnswer("no_answer"),), "ended"),
        (replace(CTX, report=replace(REPORT, state="closed_satisfied")), [], [*OPENING, "nothing_to_ask"], (), "ended"),
        (replace(CTX, report=None), [], [*OPENING, "nothing_to_ask"], (), "ended"),
    ],
)
def test_follow_up_paths(
    ctx: OutboundContext, inputs: list[Any], expect_keys: list[str], expect_effects: tuple[Any, ...], expect_node: str
) -> None:
    """Each answer is stored at its key press; a voice note follows 'confirmed', 'unfounded' and 'handled'."""
    turn = walk(ctx, inputs)
    assert keys(turn) == expect_keys
    assert turn.effects == expect_effects
    assert turn.state["node"] == expect_node


def test_note_is_recorded_after_the_beep_and_the_call_ends_after_it() -> None:
    """After 1 the worker hears the note prompt and a <Record>; after the note, thanks and hang up."""
    asked = walk(CTX, [Digits("1")])
    assert isinstance(asked.actions[-1], Record) and asked.state["note"]["kind"] == "site_note"
    done = follow_up.step(asked.state, NOTE, CTX)
    assert done.actions == (Say("note_saved"), Hangup())


def test_the_resident_reason_for_reopening_is_read_out() -> None:
    """A reopened report tells the worker what the resident says is still wrong."""
    assert Say("follow_up_reopened", {"text": "楼下还是有臭味"}) in walk(REOPENED, []).actions
