"""Hotline key 3 for staff: the open reports assigned to them, one at a time, answered by key."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ivr_flows import catalog
from ivr_flows.actions import Digits, FileNote, Gather, NoInput, Record, RecordAnswer, RecordingDone, Say, Turn
from ivr_flows.hotline_context import AssignedReport, HotlineContext
from tests.test_hotline_flow import CTX, keys
from tests.test_hotline_flow import walk as hotline_walk

ASSIGNED = (
    AssignedReport(11, "environment", False, "new", "垃圾桶满了"),
    AssignedReport(12, "safety", True, "verifying", None),
    AssignedReport(13, "facility", False, "dispatched", "路灯坏了"),
    AssignedReport(14, "other", False, "awaiting_check", None),
)
STAFF = replace(CTX, caller_name="陈静", caller_is_staff=True, assigned_reports=ASSIGNED)
NONE_ASSIGNED = replace(STAFF, assigned_reports=())
NOTE = RecordingDone("RE3", "https://api.twilio.com/rec/RE3", 9)


def walk(inputs: list[Any], ctx: HotlineContext = STAFF) -> Turn:
    return hotline_walk(inputs, ctx)


def item_number(turn: Turn) -> int | None:
    return turn.state.get("current") if turn.state["node"] == "assigned" else None


@pytest.mark.parametrize(
    ("inputs", "ctx", "expect_keys", "expect_effects", "expect_current"),
    [
        ([], CTX, ["not_emergency", "greeting_known", "main_menu"], (), None),
        ([], STAFF, ["not_emergency", "greeting_known", "main_menu_staff"], (), None),
        ([Digits("3")], CTX, ["invalid_key", "main_menu"], (), None),
        ([Digits("3")], NONE_ASSIGNED, ["assigned_none", "main_menu_staff"], (), None),
        ([Digits("3")], STAFF, ["assigned_count", "assigned_item", "verification_transcript", "assigned_menu_new"], (), 11),
        ([Digits("3"), Digits("1")], STAFF,
         ["assigned_noted", "assigned_item", "verification_urgent", "assigned_menu_verify"],
         (RecordAnswer("accepted", report_number=11),), 12),
        ([Digits("3"), Digits("2")], STAFF, ["invalid_key", "assigned_menu_new"], (), 11),
        ([Digits("3"), Digits("#")], STAFF, ["assigned_item", "verification_urgent", "assigned_menu_verify"], (), 12),
        ([Digits("3"), Digits("#"), Digits("1")], STAFF, ["note_site_prompt"], (RecordAnswer("confirmed", report_number=12),),
         None),
        ([Digits("3"), Digits("#"), Digits("2")], STAFF, ["note_site_prompt"], (RecordAnswer("unfounded", report_number=12),),
         None),
        ([Digits("3"), Digits("#"), Digits("2"), NOTE], STAFF,
         ["assigned_noted", "assigned_item", "verification_transcript", "assigned_menu_handle"],
         (FileNote("site_note", "RE3", NOTE.recording_url, 9, report_number=12),), 13),
        ([Digits("3"), Digits("#"), Digits("1"), NoInput()], STAFF,
         ["nothing_recorded", "assigned_item", "verification_transcript", "assigned_menu_handle"], (), 13),
        ([Digits("3"), Digits("#"), Digits("#"), Digits("1")], STAFF, ["note_handling_prompt"],
         (RecordAnswer("handled", report_number=13),), None),
        ([Digits("3"), Digits("#"), Digits("#"), Digits("1"), NOTE], STAFF,
         ["assigned_noted", "assigned_item", "assigned_menu_other"],
         (FileNote("handling_note", "RE3", NOTE.recording_url, 9, report_number=13),), 14),
        ([Digits("3"), Digits("#"), Digits("#"), Digits("#"), Digits("1")], STAFF, ["invalid_key", "assigned_menu_other"],
         (), 14),
        ([Digits("3"), Digits("#"), Digits("#"), Digits("#"), Digits("#")], STAFF, ["assigned_end", "main_menu_staff"], (),
         None),
        ([Digits("3"), Digits("*")], STAFF, ["assigned_item", "verification_transcript", "assigned_menu_new"], (), 11),
        ([Digits("3"), Digits("0")], STAFF, ["main_menu_staff"], (), None),
        ([Digits("3"), NoInput()], STAFF, ["no_input", "assigned_menu_new"], (), 11),
    ],
)
def test_assigned_reports_paths(
    inputs: list[Any], ctx: HotlineContext, expect_keys: list[str], expect_effects: tuple[Any, ...], expect_current: int | None
) -> None:
    """Staff walk their reports oldest first and answer each by key; residents never hear option 3."""
    turn = walk(inputs, ctx)
    assert keys(turn) == expect_keys
    assert turn.effects == expect_effects
    assert item_number(turn) == expect_current


def test_count_and_first_report_are_read_out() -> None:
    """'分配给您的待办问题有4个。第幺，幺号问题，环境卫生，等待接单。居民说：垃圾桶满了'"""
    said = [a for a in walk([Digits("3")]).actions if isinstance(a, Say)]
    assert [catalog.text("zh-CN", s.key, s.params) for s in said] == [
        "分配给您的待办问题有4个。", "第幺，幺号问题，环境卫生，等待接单。", "居民说：垃圾桶满了",
    ]


def test_a_note_is_recorded_after_confirming() -> None:
    """Confirmed or unfounded asks for a voice note: the prompt, then a <Record>."""
    turn = walk([Digits("3"), Digits("#"), Digits("1")])
    assert isinstance(turn.actions[-1], Record) and turn.state["note"] == {"kind": "site_note", "report_number": 12}


def test_answered_reports_are_not_offered_again_on_the_same_call() -> None:
    """Back at the main menu, 3 again counts and starts from the reports not answered yet."""
    turn = walk([Digits("3"), Digits("1"), Digits("0"), Digits("3")])
    assert turn.actions[0] == Say("assigned_count", {"count": "3"}) and item_number(turn) == 12


def test_the_last_answered_report_leads_back_to_the_main_menu() -> None:
    """Answering the last report says that was all and offers the main menu."""
    ctx = replace(STAFF, assigned_reports=ASSIGNED[:1])
    turn = walk([Digits("3"), Digits("1")], ctx)
    assert keys(turn) == ["assigned_noted", "assigned_end", "main_menu_staff"]
    assert isinstance(turn.actions[-1], Gather)
