"""The missed-call return: a caller who stayed silent through the hotline's menu is rung back by the
worker; the call opens with trust words (not the emergency warning) and is the hotline from then on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grid.models import Person, Report
from tests.loop_driver import Loop
from tests.test_closed_loop import RESIDENT, WORKER, call_backs, report
from tests.twilio_driver import Call as Caller
from tests.twilio_driver import said

DUTY_DIGITS = "零，五，七，幺，八，八，八，八，幺，二，三，四"  # DUTY_PHONE 0571 8888 1234, digit by digit
BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


def silent_caller(loop: Loop, sid: str = "CA" + "4" * 32) -> str:
    """林小红 rings the hotline and presses nothing three times; returns the last thing she heard."""
    call = Caller(loop.post, sid, RESIDENT)
    assert said(call.start()).startswith("这里不是紧急求助电话")
    for _ in range(3):
        heard = said(call.silence())
    return heard


def returned_call(loop: Loop) -> dict[str, str]:
    """The worker places the call-back the silence left behind: one call, to her."""
    loop.work()
    pending = loop.pending_calls()
    assert [c["To"] for c in pending] == [RESIDENT], pending
    return pending[0]


@BOTH
def test_the_return_call_opens_with_trust_words_then_the_main_menu(loop: Loop) -> None:
    """She hears her name, "the hotline returning your call", "never money" and the duty phone, then the menu."""
    assert "社区会给您回电话" in silent_caller(loop)
    [owed] = call_backs(loop)
    assert (owed.purpose, owed.to_number) == ("missed_call_return", RESIDENT)
    heard = said(loop.pick_up(returned_call(loop)).twiml)
    assert heard.startswith("林小红您好，这里是花果社区网格热线，给您回电话。"), heard
    assert "我们不会向您要钱" in heard and DUTY_DIGITS in heard
    assert "紧急求助" not in heard and "幺幺零" not in heard  # no emergency warning on a call we placed
    assert heard.index(DUTY_DIGITS) < heard.index("反映问题，请按1")  # trust words first, then the menu


@BOTH
def test_she_reports_on_the_return_call_and_is_not_rung_again(loop: Loop) -> None:
    """On the return call she presses 1, 2 and speaks: a report from her phone, routed; the call-back is done."""
    silent_caller(loop)
    placed = returned_call(loop)
    call = loop.pick_up(placed)
    call.press("1")
    assert "请在嘀声后说出问题" in said(call.press("2"))
    sid = "RE" + placed["Sid"][2:]
    url = loop.twilio_api.add_recording(sid, b"")
    readback = said(call.finish_recording(sid, url))
    call.twiml = call.history[-2]
    assert call.recording_status(sid, url) == 204
    loop.status(placed, "completed", "human")
    loop.work()
    with loop.app.extensions["gridline.sessions"]() as s:
        filed = s.scalars(select(Report)).one()
        reporter = s.get(Person, filed.reporter_id) if filed.reporter_id else None
    assert readback.startswith("您的问题已经记录。编号是："), readback
    assert (filed.reporter_phone, filed.category, filed.channel) == (RESIDENT, "environment", "voice")
    assert reporter is not None and reporter.name == "林小红"
    assert [r.kind for r in report(loop, filed.id).recordings] == ["report"]
    assert [m["To"] for m in loop.twilio_api.messages] == [RESIDENT]  # "your report is number …"
    assert [c["To"] for c in loop.pending_calls()] == [WORKER]  # the report's verification call
    owed = call_backs(loop)[0]
    assert (owed.purpose, owed.status) == ("missed_call_return", "done"), (
        "BUG: a missed-call return that reached the caller (she filed a report on it) is counted as "
        f"not reached (status {owed.status!r}, last_error {owed.last_error!r}) and will ring her again"
    )
    loop.advance(timedelta(minutes=10))
    assert len(loop.calls_to(RESIDENT)) == 1, "BUG: the caller who was reached is rung again 10 minutes later"


def test_a_second_silent_call_while_the_return_is_owed_makes_no_second_call(loop: Loop) -> None:
    """Two silent calls before we ring back: one call-back, one call."""
    silent_caller(loop)
    silent_caller(loop, "CA" + "6" * 32)
    assert len(call_backs(loop)) == 1
    returned_call(loop)


@BOTH
def test_silent_again_on_the_return_call_she_is_rung_once_more_later_not_at_once(loop: Loop) -> None:
    """She picks up the return call but presses nothing: the retry rings 10 minutes later, and only once."""
    silent_caller(loop)
    placed = returned_call(loop)
    call = loop.pick_up(placed)
    for _ in range(3):
        heard = said(call.silence())
    assert "社区会给您回电话" in heard and "<Hangup" in call.twiml
    loop.status(placed, "completed", "human")
    loop.work()
    owed = [(cb.purpose, cb.status) for cb in call_backs(loop)]
    assert owed == [("missed_call_return", "scheduled")], (
        f"BUG: silence on the return call queued a new call-back besides the engine's retry: {owed}"
    )
    assert loop.pending_calls() == [], "BUG: she is rung again the moment she hung up"
    loop.advance(timedelta(minutes=10))
    assert len(loop.calls_to(RESIDENT)) == 2
