"""The hotline flow as a pure function: (state, input, context) -> (state, actions, effects)."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ivr_flows import catalog, hotline
from ivr_flows.actions import (
    Dial,
    DialEnded,
    Digits,
    FileReport,
    Gather,
    Hangup,
    NoInput,
    QueueCallBack,
    Record,
    RecordingDone,
    ReportFiled,
    Say,
    Start,
    Turn,
)
from ivr_flows.hotline import HotlineContext, ReportSummary
from ivr_flows.hotline_context import AssignedReport

CTX = HotlineContext(
    community_name="花果社区",
    caller_name="张秀英",
    caller_has_grid=True,
    emergency_numbers=("110", "119", "120"),
    duty_phone="+8657188881234",
    worker_phone="+8613800000001",
    latest_report=None,
    buildings=frozenset({"1", "2", "5"}),
)
UNKNOWN = replace(CTX, caller_name=None, caller_has_grid=False, worker_phone=None)


def keys(turn: Turn) -> list[str]:
    """The prompt keys a turn speaks, including those inside menus."""
    out: list[str] = []
    for action in turn.actions:
        items = action.prompts if isinstance(action, Gather) else (action,)
        out += [i.key for i in items if isinstance(i, Say)]
    return out


def walk(inputs: list[Any], ctx: HotlineContext = CTX, lang: str = "zh-CN") -> Turn:
    turn = hotline.step(hotline.new_state(lang), Start(), ctx)
    for event in inputs:
        turn = hotline.step(turn.state, event, ctx)
    return turn


@pytest.mark.parametrize(
    ("inputs", "ctx", "expect_keys", "expect_node"),
    [
        ([], CTX, ["not_emergency", "greeting_known", "main_menu"], "main_menu"),
        ([], UNKNOWN, ["not_emergency", "greeting_unknown", "main_menu"], "main_menu"),
        ([Digits("7")], CTX, ["invalid_key", "main_menu"], "main_menu"),
        ([Digits("*")], CTX, ["main_menu"], "main_menu"),
        ([Digits("1")], CTX, ["category_menu"], "category"),
        ([Digits("1"), Digits("8")], CTX, ["invalid_key", "category_menu"], "category"),
        ([Digits("1"), Digits("2")], CTX, ["record_instructions"], "record"),
        ([Digits("1"), Digits("2")], UNKNOWN, ["ask_building"], "building"),
        ([Digits("1"), Digits("2"), Digits("5#")], UNKNOWN, ["record_instructions"], "record"),
        ([Digits("1"), Digits("2"), Digits("05")], UNKNOWN, ["record_instructions"], "record"),
        ([Digits("1"), Digits("2"), Digits("9#")], UNKNOWN, ["building_unknown_retry"], "building"),
        ([Digits("1"), Digits("2"), Digits("9#"), Digits("8#")], UNKNOWN,
         ["building_unknown_continue", "record_instructions"], "record"),
        ([Digits("2")], CTX, ["status_none", "main_menu"], "main_menu"),
        ([NoInput()], CTX, ["no_input", "main_menu"], "main_menu"),
        ([NoInput(), NoInput()], CTX, ["no_input", "main_menu"], "main_menu"),
        ([NoInput(), NoInput(), NoInput()], CTX, ["will_call_back"], "ended"),
        ([Digits("1"), NoInput(), NoInput(), NoInput()], CTX, ["will_call_back"], "ended"),
        ([Digits("0")], CTX, ["connecting_worker"], "dial_worker"),
        ([Digits("0")], UNKNOWN, ["connecting_worker"], "dial_duty"),
        ([Digits("0"), DialEnded("no-answer")], CTX, ["connecting_duty"], "dial_duty"),
        ([Digits("0"), DialEnded("completed")], CTX, ["goodbye"], "ended"),
        ([Digits("0"), DialEnded("busy"), DialEnded("no-answer")], CTX, ["no_one_available", "main_menu"],
         "main_menu"),
    ],
)
def test_hotline_paths(inputs: list[Any], ctx: HotlineContext, expect_keys: list[str], expect_node: str) -> None:
    """Each path through the menu says the right prompts and lands in the right place."""
    turn = walk(inputs, ctx)
    assert keys(turn) == expect_keys
    assert turn.state["node"] == expect_node


def test_third_silence_queues_a_call_back_and_hangs_up() -> None:
    """Never hang up on silence without owing the caller a call."""
    turn = walk([NoInput(), NoInput(), NoInput()])
    assert turn.effects == (QueueCallBack("missed_call_return"),)
    assert isinstance(turn.actions[-1], Hangup)


def test_a_key_press_resets_the_silence_ladder() -> None:
    """Silence, then a key, then silence: the caller gets the full two re-prompts again."""
    turn = walk([NoInput(), NoInput(), Digits("1"), NoInput(), NoInput()])
    assert turn.state["node"] == "category" and turn.effects == ()


def test_recording_files_the_report_and_reads_the_number_digit_by_digit() -> None:
    """After speaking: FileReport with category and building; then the number is read digit by digit."""
    turn = walk([Digits("1"), Digits("5"), RecordingDone("RE1", "https://x/RE1", 7)])
    assert turn.effects == (FileReport("vulnerable_person", "", "RE1", "https://x/RE1", 7),)
    done = hotline.step(turn.state, ReportFiled(2031), CTX)
    assert done.actions[0] == Say("report_filed", {"number": "二，零，三，幺"})
    assert keys(done) == ["report_filed", "worker_will_call", "goodbye"]
    assert isinstance(done.actions[-1], Hangup)


def test_unknown_caller_building_is_carried_into_the_report() -> None:
    """The keyed building (leading zeros dropped) goes with the report."""
    turn = walk([Digits("1"), Digits("3"), Digits("005#"), RecordingDone("RE2", "u", 3)], UNKNOWN)
    assert turn.effects[0].building == "5"  # type: ignore[union-attr]


def test_nine_switches_language_both_ways() -> None:
    """9 switches 中文 → English and back; the menu is repeated in the new language."""
    turn = walk([Digits("9")])
    assert turn.state["lang"] == "en-US" and keys(turn) == ["main_menu"]
    assert walk([Digits("9"), Digits("9")]).state["lang"] == "zh-CN"


def test_status_reads_the_latest_report() -> None:
    """2 reads the caller's latest report: number, category, state and the grid worker's name."""
    ctx = replace(CTX, latest_report=ReportSummary(42, "facility", "new", "王强", "grid_worker"))
    turn = walk([Digits("2")], ctx)
    assert turn.actions[0] == Say(
        "status_latest", {"number": "四，二", "category": "公共设施报修", "state": "已经转给网格员王强，还在等待接单"}
    )


def test_dial_targets_worker_then_duty_phone() -> None:
    """0 dials the grid worker's phone; a missed dial falls back to the duty number."""
    assert walk([Digits("0")]).actions[-1] == Dial("+8613800000001")
    assert walk([Digits("0"), DialEnded("no-answer")]).actions[-1] == Dial("+8657188881234")


def test_recording_that_heard_nothing_asks_again() -> None:
    """<Record> with no audio falls through: the caller is told and may speak again."""
    turn = walk([Digits("1"), Digits("2"), NoInput()])
    assert keys(turn) == ["no_input", "nothing_recorded", "record_instructions"]
    assert isinstance(turn.actions[-1], Record)


# ---- an open report like it: add your voice or report anyway ---------------------------------
SAME_PROBLEM = replace(CTX, open_by_category={"environment": 1234})
REC = RecordingDone("RE8", "https://x/RE8", 5)


@pytest.mark.parametrize(
    ("inputs", "ctx", "expect_keys", "expect_node"),
    [
        ([Digits("1"), Digits("2")], SAME_PROBLEM, ["duplicate_offer"], "duplicate"),
        ([Digits("1"), Digits("3")], SAME_PROBLEM, ["record_instructions"], "record"),
        ([Digits("1"), Digits("2"), Digits("1")], SAME_PROBLEM, ["record_instructions"], "record"),
        ([Digits("1"), Digits("2"), Digits("2")], SAME_PROBLEM, ["record_instructions"], "record"),
        ([Digits("1"), Digits("2"), Digits("*")], SAME_PROBLEM, ["duplicate_offer"], "duplicate"),
        ([Digits("1"), Digits("2"), Digits("5")], SAME_PROBLEM, ["invalid_key", "duplicate_offer"], "duplicate"),
        ([Digits("1"), Digits("2"), NoInput()], SAME_PROBLEM, ["no_input", "duplicate_offer"], "duplicate"),
        ([Digits("1"), Digits("2"), NoInput(), NoInput(), NoInput()], SAME_PROBLEM, ["will_call_back"], "ended"),
        ([Digits("1"), Digits("2")], replace(UNKNOWN, open_by_category={"environment": 1234}), ["ask_building"], "building"),
    ],
)
def test_duplicate_offer_paths(inputs: list[Any], ctx: HotlineContext, expect_keys: list[str], expect_node: str) -> None:
    """A category with an open report nearby offers 1 add your voice / 2 report anyway; others record at once."""
    turn = walk(inputs, ctx)
    assert keys(turn) == expect_keys
    assert turn.state["node"] == expect_node


def test_duplicate_offer_names_the_open_report_digit_by_digit() -> None:
    """'This problem is already being handled, report 1 2 3 4.'"""
    offer = walk([Digits("1"), Digits("2")], SAME_PROBLEM).actions[-1]
    assert isinstance(offer, Gather) and offer.prompts[-1] == Say("duplicate_offer", {"number": "幺，二，三，四"})


@pytest.mark.parametrize(("key", "add_to"), [("1", 1234), ("2", None)])
def test_adding_a_voice_files_with_add_to_and_reading_back_says_so(key: str, add_to: int | None) -> None:
    """1 adds the recording to the open report (read back as 'added to report N'); 2 files a report of its own."""
    turn = walk([Digits("1"), Digits("2"), Digits(key), REC], SAME_PROBLEM)
    assert turn.effects == (FileReport("environment", "", "RE8", "https://x/RE8", 5, add_to=add_to),)
    done = hotline.step(turn.state, ReportFiled(add_to or 1300), SAME_PROBLEM)
    expected = ["voice_added", "goodbye"] if add_to else ["report_filed", "worker_will_call", "goodbye"]
    assert keys(done) == expected


# ---- the call-back to a caller who gave no input ---------------------------------------------
@pytest.mark.parametrize(
    ("lang", "first_words"),
    [
        ("zh-CN", "张秀英您好，这里是花果社区网格热线，给您回电话。"),
        ("en-US", "Hello 张秀英. This is the 花果社区 grid hotline, returning your call."),
    ],
)
def test_returning_a_missed_call_opens_with_trust_words_instead_of_the_warning(lang: str, first_words: str) -> None:
    """The return call says who calls back, 'never money', the duty number, then the normal menu."""
    ctx = replace(CTX, duty_phone_digits="057188881234")
    turn = hotline.step(hotline.new_state(lang, returning=True), Start(), ctx)
    assert keys(turn) == ["call_opening", "call_no_money", "call_check_number", "main_menu"]
    first = turn.actions[0]
    assert isinstance(first, Say) and catalog.text(lang, first.key, first.params) == first_words


def test_hotline_context_survives_a_json_round_trip() -> None:
    """The host keeps the caller's context on the call as JSON; reading it back gives the same context."""
    ctx = replace(
        CTX,
        latest_report=ReportSummary(42, "facility", "verifying", "王强", "grid_worker", "2026-11-24"),
        earlier_reports=(ReportSummary(40, "other", "closed_satisfied", rating=5),),
        caller_is_staff=True,
        assigned_reports=(AssignedReport(11, "safety", True, "new", "有电线掉下来"),),
        open_by_category={"environment": 1234},
        today="2026-11-26",
        duty_phone_digits="057188881234",
    )
    assert HotlineContext.from_dict(json.loads(json.dumps(ctx.to_dict()))) == ctx
