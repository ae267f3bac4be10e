"""Status by voice (hotline key 2): a plain sentence for every report state, with who and which day."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from grid import lifecycle
from ivr_flows import catalog
from ivr_flows.actions import Digits, NoInput, Say, Turn
from ivr_flows.days import day_words
from ivr_flows.hotline_context import ReportSummary
from ivr_flows.status import phrase_key, state_phrase
from tests.test_hotline_flow import CTX, keys
from tests.test_hotline_flow import walk as hotline_walk

TODAY = "2026-11-26"  # a Thursday
WANG = {"assignee_name": "王强", "assignee_role": "grid_worker"}


@pytest.mark.parametrize(
    ("lang", "day", "expected"),
    [
        ("zh-CN", "2026-11-26", "今天"),
        ("zh-CN", "2026-11-25", "昨天"),
        ("zh-CN", "2026-11-24", "星期二"),
        ("zh-CN", "2026-11-20", "星期五"),
        ("zh-CN", "2026-11-19", "11月19日"),
        ("zh-CN", "2026-03-02", "3月2日"),
        ("zh-CN", "2026-11-27", "今天"),  # a clock that drifted: never "tomorrow"
        ("zh-CN", None, "最近"),
        ("en-US", "2026-11-26", "today"),
        ("en-US", "2026-11-25", "yesterday"),
        ("en-US", "2026-11-24", "on Tuesday"),
        ("en-US", "2026-11-19", "on November 19"),
        ("en-US", None, "recently"),
    ],
)
def test_days_are_said_the_way_people_say_them(lang: str, day: str | None, expected: str) -> None:
    """Today, yesterday, a weekday within the last six days, else month and day."""
    assert day_words(lang, TODAY, day) == expected


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (ReportSummary(1, "other", "new"), "已经收到，正在安排人员处理"),
        (ReportSummary(1, "other", "new", **WANG), "已经转给网格员王强，还在等待接单"),
        (ReportSummary(1, "other", "verifying", **WANG, event_date="2026-11-24"), "已经转给网格员王强，星期二接了单，正在核实"),
        (ReportSummary(1, "other", "confirmed", **WANG, event_date="2026-11-24"),
         "网格员王强星期二到现场核实，确认有这个问题，正在安排处理"),
        (ReportSummary(1, "other", "unfounded", **WANG, event_date="2026-11-25"),
         "网格员王强昨天到现场查看，没有发现需要处理的问题"),
        (ReportSummary(1, "other", "dispatched", **WANG, event_date="2026-11-26"), "今天已经交办，网格员王强正在跟进处理"),
        (ReportSummary(1, "other", "dispatched", **WANG, event_date="2026-11-26", reopened=True),
         "您说问题还没有解决，今天已经退回给网格员王强继续处理"),
        (ReportSummary(1, "other", "handled", **WANG, event_date="2026-11-25"), "昨天已经处理完，我们会给您打电话确认"),
        (ReportSummary(1, "other", "awaiting_check", event_date="2026-11-25"), "昨天已经处理完，正在等您确认，我们会给您打电话"),
        (ReportSummary(1, "other", "closed_satisfied", event_date="2026-11-23", rating=5), "星期一已经办结，您的评分是5分"),
        (ReportSummary(1, "other", "closed_satisfied", event_date="2026-11-23"), "星期一已经办结"),
        (ReportSummary(1, "other", "closed_unreachable", event_date="2026-11-02"),
         "已经处理完，因为联系不上您，11月2日办结了。如果问题还在，请重新反映"),
        (ReportSummary(1, "other", "duplicate", duplicate_of=12), "别人已经反映过这个问题，和第幺，二号问题一起处理"),
        (ReportSummary(1, "other", "duplicate"), "别人已经反映过这个问题，和那个问题一起处理"),
        (ReportSummary(1, "other", "withdrawn", event_date="2026-11-26"), "今天已经撤销"),
        (ReportSummary(1, "other", "verifying", "李芳", "grid_leader", "2026-11-26"), "已经转给网格长李芳，今天接了单，正在核实"),
        (ReportSummary(1, "other", "dispatched", event_date="2026-11-26"), "今天已经交办，社区工作人员正在跟进处理"),
        (ReportSummary(1, "other", "some_future_state"), "正在处理中"),
    ],
)
def test_each_state_has_a_plain_sentence(summary: ReportSummary, expected: str) -> None:
    """The caller hears who has the report, what happened and on which day, for every state."""
    assert state_phrase("zh-CN", TODAY, summary) == expected


@pytest.mark.parametrize("state", lifecycle.STATES)
@pytest.mark.parametrize("lang", ["zh-CN", "en-US"])
def test_every_lifecycle_state_has_its_own_sentence_in_both_languages(state: str, lang: str) -> None:
    """No state falls back to the generic 'being handled' (a new state needs a sentence here)."""
    key = phrase_key(lang, ReportSummary(1, "other", state, **WANG))
    assert key != "status_other" and key in catalog.keys(lang)
    assert f"state_short_{state}" in catalog.keys(lang)


def test_english_status_names_the_worker_and_the_day() -> None:
    """In English: 'It was sent to grid worker 王强, who accepted it on Tuesday and is checking it'."""
    summary = ReportSummary(1, "other", "verifying", **WANG, event_date="2026-11-24")
    expected = "It was sent to grid worker 王强, who accepted it on Tuesday and is checking it"
    assert state_phrase("en-US", TODAY, summary) == expected


LATEST = ReportSummary(42, "facility", "handled", **WANG, event_date="2026-11-25")
EARLIER = (ReportSummary(40, "environment", "closed_satisfied", rating=4), ReportSummary(31, "safety", "unfounded"))
WITH_HISTORY = replace(CTX, today=TODAY, latest_report=LATEST, earlier_reports=EARLIER)


def walk(inputs: list[Any], ctx: Any = WITH_HISTORY) -> Turn:
    return hotline_walk(inputs, ctx)


@pytest.mark.parametrize(
    ("inputs", "ctx", "expect_keys", "expect_node"),
    [
        ([Digits("2")], WITH_HISTORY, ["status_latest", "status_offer_recent"], "status"),
        ([Digits("2")], replace(WITH_HISTORY, earlier_reports=()), ["status_latest", "main_menu"], "main_menu"),
        ([Digits("2"), Digits("1")], WITH_HISTORY, ["status_recent_item"] * 3 + ["main_menu"], "main_menu"),
        ([Digits("2"), Digits("*")], WITH_HISTORY, ["status_latest", "status_offer_recent"], "status"),
        ([Digits("2"), Digits("0")], WITH_HISTORY, ["main_menu"], "main_menu"),
        ([Digits("2"), Digits("7")], WITH_HISTORY, ["main_menu"], "main_menu"),
        ([Digits("2"), NoInput()], WITH_HISTORY, ["no_input", "status_offer_recent"], "status"),
        ([Digits("2"), NoInput(), NoInput(), NoInput()], WITH_HISTORY, ["will_call_back"], "ended"),
    ],
)
def test_status_menu_paths(inputs: list[Any], ctx: Any, expect_keys: list[str], expect_node: str) -> None:
    """After the latest report: 1 the last three, * again, any other key back to the main menu."""
    turn = walk(inputs, ctx)
    assert keys(turn) == expect_keys
    assert turn.state["node"] == expect_node


def test_latest_report_is_read_with_number_category_and_sentence() -> None:
    """'您反映的第四，二号问题，公共设施报修。昨天已经处理完，我们会给您打电话确认。'"""
    said = walk([Digits("2")]).actions[0]
    assert isinstance(said, Say)
    expected = "您反映的第四，二号问题，公共设施报修。昨天已经处理完，我们会给您打电话确认。"
    assert catalog.text("zh-CN", said.key, said.params) == expected


def test_last_three_reports_are_read_briefly_newest_first() -> None:
    """Each of the last three reports: its number digit by digit, category, and a word or two for its state."""
    said = [a for a in walk([Digits("2"), Digits("1")]).actions if isinstance(a, Say)]
    assert [catalog.text("zh-CN", s.key, s.params) for s in said] == [
        "第四，二号，公共设施报修，已经处理完。",
        "第四，零号，环境卫生，已经办结。",
        "第三，幺号，安全隐患，核实后没有发现问题。",
    ]
