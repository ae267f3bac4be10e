"""A staff question end to end: POST /api/v1/verification-calls, a real worker places the call through
the Twilio-compatible sandbox, the callee answers (or never does), and GET shows what happened."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from grid.models import Person
from tests.loop_driver import Loop
from tests.test_closed_loop import RESIDENT, file, report
from tests.twilio_driver import said

TOKEN = "desk-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = "/api/v1/verification-calls"
VOLUNTEER = "+8613900000301"  # 黄丽, 微网格员 of HG-01-1
DUTY_DIGITS = "零，五，七，幺，八，八，八，八，幺，二，三，四"  # DUTY_PHONE 0571 8888 1234, digit by digit
BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def loop(loop: Loop) -> Loop:
    """The demo community, the staff desk's API token (as API_TOKENS), both clocks at 09:00 Shanghai."""
    loop.app.config["SETTINGS"] = replace(loop.app.config["SETTINGS"], api_tokens=(f"desk:{TOKEN}",))
    return loop


def person_id(loop: Loop, phone: str) -> int:
    with loop.app.extensions["gridline.sessions"]() as s:
        found = s.scalars(select(Person.id).where(Person.phone == phone)).first()
    assert found is not None
    return int(found)


def ask(loop: Loop, phone: str, question: str, report_id: int | None = None) -> int:
    """Staff POST the question; the worker runs at once (it is day time, so the call is placed)."""
    body: dict[str, Any] = {"person_id": person_id(loop, phone), "question": question}
    if report_id is not None:
        body["report_id"] = report_id
    resp = loop.app.test_client().post(URL, json=body, headers=AUTH)
    assert resp.status_code == 201, resp.get_json()
    loop.work()
    return int(resp.get_json()["id"])


def shown(loop: Loop, callback_id: int) -> dict[str, Any]:
    resp = loop.app.test_client().get(f"{URL}/{callback_id}", headers=AUTH)
    assert resp.status_code == 200
    return dict(resp.get_json())


@BOTH
def test_resident_answers_yes_with_a_voice_note_and_staff_see_it(loop: Loop) -> None:
    """林小红 hears who calls, that we never ask for money and the question; her yes and note show in GET."""
    question = "楼道灯修好了吗？"
    callback_id = ask(loop, RESIDENT, question)
    [placed] = loop.calls_to(RESIDENT)
    assert f"callback={callback_id}" in placed["Url"]
    call = loop.pick_up(placed)
    heard = said(call.twiml)
    assert heard.startswith("林小红您好，这里是花果社区网格热线。"), heard
    assert "我们不会向您要钱" in heard and DUTY_DIGITS in heard
    assert f"社区想问您：{question}" in heard and "是，请按1" in heard
    assert heard.index("我们不会向您要钱") < heard.index(question)  # trust words before the question
    assert "嘀声" in said(call.press("1"))
    sid = "RE" + placed["Sid"][2:]
    assert said(call.finish_recording(sid, loop.twilio_api.add_recording(sid, b""), duration=4)) == "谢谢，已经记下。再见。"
    loop.status(placed, "completed", "human")
    loop.work()  # the voice note's transcription (no speech model here: kept, flagged unavailable)
    got = shown(loop, callback_id)
    assert (got["status"], got["answer"], got["question"], got["report_id"]) == ("done", "yes", question, None)
    assert got["answered_at"] is not None
    assert [(a["number"], a["status"], a["outcome"]) for a in got["attempts"]] == [(1, "completed", "reached")]
    assert got["voice_notes"] == [{"kind": "answer", "transcript_status": "unavailable", "transcript_text": ""}]
    loop.advance(timedelta(hours=3))
    assert loop.calls_to(RESIDENT) == [placed] and loop.twilio_api.messages == []  # no retry, no fallback text


@BOTH
def test_a_question_about_a_report_puts_the_answer_on_its_timeline(loop: Loop) -> None:
    """Staff ask the micro-grid volunteer about 林小红's report: the yes and the voice note land on its timeline."""
    number = file(loop)  # 林小红 reports an environment problem through the hotline; the worker routes it
    question = "请去看一下1号楼垃圾是否清理"
    callback_id = ask(loop, VOLUNTEER, question, report_id=number)
    [placed] = loop.calls_to(VOLUNTEER)
    heard = loop.answer(placed, "1", note="cleaned")
    assert question in heard and "我们不会向您要钱" in heard
    loop.work()
    got = shown(loop, callback_id)
    assert (got["status"], got["answer"], got["report_id"]) == ("done", "yes", number)
    assert [a["outcome"] for a in got["attempts"]] == ["reached"]
    assert [n["kind"] for n in got["voice_notes"]] == ["answer"]
    timeline = [(e.kind, e.actor, e.note) for e in report(loop, number).events if e.kind in ("call", "note")]
    assert timeline == [
        ("call", "api:desk", f"staff question: {question}"),
        ("note", "黄丽", "answered yes"),
        ("note", "黄丽", "voice note (answer)"),
        ("call", "system", "staff_question to +86139****0301: reached"),
    ]
    assert [r.kind for r in report(loop, number).recordings] == ["report", "answer"]
    assert report(loop, number).state == "new"  # a staff question does not move the report


@BOTH
def test_never_answered_the_question_comes_by_sms_and_the_call_back_ends_unreached(loop: Loop) -> None:
    """No answer to the call and its three retries (10 min, 30 min, 2 h apart): an SMS with the question, unreached."""
    question = "您家门口的路灯还亮吗？"
    callback_id = ask(loop, RESIDENT, question)
    rang_at = []
    for delay in (None, timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)):
        if delay is not None:
            loop.advance(delay)
        rang_at.append(loop.now)
        pending = loop.pending_calls()
        assert [c["To"] for c in pending] == [RESIDENT], pending
        loop.ring_out(pending[0])
    loop.work()  # the fallback text
    assert [t - rang_at[0] for t in rang_at] == [timedelta(0), timedelta(minutes=10), timedelta(minutes=40),
                                                 timedelta(minutes=160)]
    [text] = [m["Body"] for m in loop.twilio_api.messages if m["To"] == RESIDENT]
    assert question in text and "请回复1" in text, text  # answerable by a reply
    got = shown(loop, callback_id)
    assert (got["status"], got["answer"], got["answered_at"]) == ("unreached", "", None)
    assert [(a["number"], a["outcome"]) for a in got["attempts"]] == [(n, "no-answer") for n in (1, 2, 3, 4)]
    assert got["last_error"].startswith("not reached after 4 calls")
    loop.advance(timedelta(hours=24))
    assert loop.pending_calls() == []  # given up: nothing rings again
