"""What every call we place shares: trust words, '*', invalid keys, the silence ladder, the machine message."""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ivr_flows import catalog, confirmation, follow_up, outbound, staff_question, verification
from ivr_flows.actions import Digits, Gather, Hangup, NoInput, RecordAnswer, Say, Start, Turn
from ivr_flows.outbound import OutboundContext, ReportBrief
from tests.test_hotline_flow import keys

REPORT = ReportBrief(number=17, category="environment", urgent=False, state="new", transcript="三号楼下水道堵了")
TO_WORKER = OutboundContext(
    community_name="花果社区", callee_name="王强", caller_name="花果社区", duty_phone="057188881234",
    language="zh-CN", report=REPORT, question="三号楼的路灯修好了吗？",
)
TO_RESIDENT = replace(TO_WORKER, callee_name="张秀英", caller_name="王强", caller_role="grid_worker")
FLOWS: list[Any] = [verification, follow_up, confirmation, staff_question]


def texts(turn: Turn, lang: str) -> list[str]:
    """What the callee hears, prompt by prompt, as text."""
    out: list[str] = []
    for action in turn.actions:
        for item in action.prompts if isinstance(action, Gather) else (action,):
            if isinstance(item, Say):
                out.append(catalog.text(lang, item.key, item.params))
    return out


def call(flow: Any, ctx: OutboundContext, inputs: list[Any], lang: str = "zh-CN") -> Turn:
    """The turn after the call starts and the callee gives `inputs`."""
    turn = flow.step(flow.new_state(lang), Start(), ctx)
    for event in inputs:
        turn = flow.step(turn.state, event, ctx)
    return turn


def start(flow: Any, ctx: OutboundContext = TO_WORKER, lang: str = "zh-CN") -> Turn:
    return call(flow, ctx, [], lang)


@pytest.mark.parametrize(
    ("lang", "ctx", "expected"),
    [
        ("zh-CN", TO_WORKER, ["王强您好，这里是花果社区网格热线，关于第幺，七号问题。", "我们不会向您要钱或者银行信息。",
                              "如需核实这个电话，请拨打零，五，七，幺，八，八，八，八，幺，二，三，四。"]),
        ("en-US", TO_WORKER, ["Hello 王强. This is the 花果社区 grid hotline, about report number one, seven.",
                              "We will never ask you for money or bank details.",
                              "To check this call, ring zero, five, seven, one, eight, eight, eight, eight, "
                              "one, two, three, four."]),
        ("zh-CN", TO_RESIDENT, ["张秀英您好，这里是花果社区网格员王强，关于第幺，七号问题。", "我们不会向您要钱或者银行信息。",
                                "如需核实这个电话，请拨打零，五，七，幺，八，八，八，八，幺，二，三，四。"]),
        ("en-US", replace(TO_RESIDENT, duty_phone=""),
         ["Hello 张秀英. This is 王强, grid worker of 花果社区, about report number one, seven.",
          "We will never ask you for money or bank details."]),
        ("zh-CN", replace(TO_WORKER, callee_name=None, report=None, duty_phone=""),
         ["您好，这里是花果社区网格热线。", "我们不会向您要钱或者银行信息。"]),
    ],
)
def test_trust_words_say_who_calls_about_what_and_how_to_check(lang: str, ctx: OutboundContext, expected: list[str]) -> None:
    """The callee first hears who calls about which report, 'never money', and the duty phone digit by digit."""
    assert texts(Turn({}, outbound.trust_words(lang, ctx)), lang) == expected


@pytest.mark.parametrize("flow", FLOWS)
def test_every_outbound_call_opens_with_the_trust_words(flow: Any) -> None:
    """Whatever the purpose, the first words name the community and say we never ask for money."""
    assert keys(start(flow))[:3] == ["call_opening", "call_no_money", "call_check_number"]


@pytest.mark.parametrize("flow", FLOWS)
def test_silence_is_reprompted_twice_then_no_answer_is_recorded(flow: Any) -> None:
    """Two silences re-prompt the question; the third says goodbye and stores 'no answer' (retried later)."""
    turn = start(flow)
    for _ in range(2):
        turn = flow.step(turn.state, NoInput(), TO_WORKER)
        assert keys(turn)[0] == "no_input" and isinstance(turn.actions[-1], Gather) and turn.effects == ()
    turn = flow.step(turn.state, NoInput(), TO_WORKER)
    assert keys(turn) == ["call_no_answer"] and isinstance(turn.actions[-1], Hangup)
    assert turn.effects == (RecordAnswer("no_answer"),)


@pytest.mark.parametrize("flow", FLOWS)
def test_star_repeats_the_question_and_resets_the_silence_ladder(flow: Any) -> None:
    """'*' asks again (without the trust words) and the callee gets two fresh re-prompts."""
    first = start(flow)
    silent = flow.step(first.state, NoInput(), TO_WORKER)
    again = flow.step(silent.state, Digits("*"), TO_WORKER)
    assert keys(again)[-1] == keys(first)[-1] and "call_opening" not in keys(again)
    assert again.state["silences"] == 0 and again.effects == ()


@pytest.mark.parametrize("flow", FLOWS)
def test_a_key_that_is_no_option_is_named_and_the_menu_repeated(flow: Any) -> None:
    """An unused key changes nothing: 'that key is not an option', then the same menu."""
    first = start(flow)
    turn = flow.step(first.state, Digits("8"), TO_WORKER)
    assert keys(turn) == ["invalid_key", keys(first)[-1]] and turn.effects == ()


@pytest.mark.parametrize(
    ("ctx", "expected"),
    [
        (TO_WORKER, ["call_opening", "machine_call_again", "call_check_number", "goodbye"]),
        (replace(TO_WORKER, duty_phone=""), ["call_opening", "machine_call_again", "goodbye"]),
    ],
)
def test_answering_machine_hears_a_short_message_then_hang_up(ctx: OutboundContext, expected: list[str]) -> None:
    """A machine gets who called about which report, 'we will call again', the duty phone, then hang up."""
    actions = outbound.machine_message(ctx)
    assert keys(Turn({}, actions)) == expected and isinstance(actions[-1], Hangup)
    assert "第幺，七号问题" in catalog.text("zh-CN", actions[0].key, actions[0].params)  # type: ignore[union-attr]


def test_machine_message_is_in_the_callee_language() -> None:
    """An English-speaking callee's machine hears English."""
    actions = outbound.machine_message(replace(TO_WORKER, language="en-US", report=None))
    assert texts(Turn({}, actions), "en-US")[:2] == ["Hello 王强. This is the 花果社区 grid hotline.", "We will call you again."]


def test_context_survives_a_json_round_trip() -> None:
    """The host keeps the context on the call as JSON; reading it back gives the same context."""
    ctx = replace(TO_RESIDENT, report=replace(REPORT, handling_note="修好了", reopen_reason=None, overdue=True))
    assert OutboundContext.from_dict(json.loads(json.dumps(ctx.to_dict()))) == ctx
    bare = replace(TO_WORKER, report=None, question=None)
    assert OutboundContext.from_dict(json.loads(json.dumps(bare.to_dict()))) == bare


@pytest.mark.parametrize("flow", FLOWS)
def test_a_late_webhook_after_the_end_only_hangs_up(flow: Any) -> None:
    """Input after the call ended (a stray retry) records nothing and hangs up again."""
    state = {**flow.new_state("zh-CN"), "node": "ended"}
    assert flow.step(state, Digits("1"), TO_WORKER) == Turn(state, (Hangup(),))
