"""The SMS channel through the app's signed webhook: reports, the building conversation, merging,
keywords, answers to open questions, duplicates by MessageSid, opt-outs, MMS, odd bodies."""
from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from grid.models import Message, OptOut, Report
from tests.conftest import PUBLIC_BASE_URL
from tests.loop_driver import Loop
from tests.test_closed_loop import RESIDENT, WORKER, handled, only_pending, report
from tests.twilio_driver import signed_post

UNKNOWN = "+8613700000099"
BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
_sids = itertools.count(1)


def text(loop: Loop, body: str, phone: str = RESIDENT, sid: str | None = None, **extra: str) -> tuple[int, str]:
    """The phone texts the hotline number; returns (HTTP status, the reply's text)."""
    form = {"MessageSid": sid or f"SM{next(_sids):032x}", "AccountSid": loop.twilio_api.account_sid, "From": phone,
            "To": "+8657188880000", "Body": body, "NumSegments": "1", "NumMedia": "0", **extra}
    status, xml = signed_post(loop.post, PUBLIC_BASE_URL + "/twilio/sms", form)
    if status != 200:
        return status, xml
    root = ET.fromstring(xml)
    assert root.tag == "Response"
    return status, "".join(m.text or "" for m in root.iter("Message"))


def reports(loop: Loop) -> list[Report]:
    with loop.app.extensions["gridline.sessions"]() as s:
        found = list(s.scalars(select(Report).order_by(Report.id)))
        for r in found:
            _ = r.assignee, r.grid
        return found


@BOTH
def test_known_sender_files_a_report_routed_and_called_back_like_a_voice_report(loop: Loop) -> None:
    """林小红 texts a problem: report number in the reply; after the merge window her grid worker is called."""
    status, reply = text(loop, "3号楼门口垃圾两天没人清理了🗑️")
    assert status == 200
    [filed] = reports(loop)
    assert str(filed.id) in reply
    assert filed.channel == "sms" and filed.transcript_text == "3号楼门口垃圾两天没人清理了🗑️"
    assert filed.assignee.phone == WORKER
    loop.work()
    assert loop.pending_calls() == []  # the sender may still add to it
    loop.advance(timedelta(minutes=2))
    verify = only_pending(loop, WORKER)
    assert "垃圾两天没人清理" in loop.answer(verify, "1")
    assert report(loop, filed.id).state == "verifying"


@BOTH
def test_texts_in_quick_succession_extend_one_report(loop: Loop) -> None:
    """Three texts within two minutes make one report; a text after the window starts another."""
    text(loop, "楼道灯坏了")
    loop.at(loop.now + timedelta(seconds=50))
    _, second = text(loop, "是2单元的")
    loop.at(loop.now + timedelta(seconds=60))
    text(loop, "晚上很黑")
    [merged] = reports(loop)
    assert merged.transcript_text == "楼道灯坏了\n是2单元的\n晚上很黑" and str(merged.id) in second
    loop.at(loop.now + timedelta(minutes=3))
    text(loop, "另外，小区门口井盖松了")
    assert len(reports(loop)) == 2


def test_unknown_sender_is_asked_for_the_building_then_the_report_is_filed_there(loop: Loop) -> None:
    """An unknown number is asked where; "2号楼" files the report in the micro-grid serving building 2."""
    _, ask = text(loop, "有人在楼下烧东西，烟很大", phone=UNKNOWN)
    assert reports(loop) == [] and ask
    _, filed_reply = text(loop, "2", phone=UNKNOWN)  # a digit here is the building, not an answer
    [filed] = reports(loop)
    assert str(filed.id) in filed_reply
    assert filed.building == "2" and filed.grid.code == "HG-01-1" and filed.reporter_id is None
    assert filed.transcript_text == "有人在楼下烧东西，烟很大"


def test_unknown_sender_with_an_unknown_building_still_files_with_the_address(loop: Loop) -> None:
    """An address line instead of a known building: filed for the duty grid leader, address kept."""
    text(loop, "路灯不亮", phone=UNKNOWN)
    _, reply = text(loop, "幸福路88号门口", phone=UNKNOWN)
    [filed] = reports(loop)
    assert filed.grid_id is None and "幸福路88号门口" in filed.transcript_text and str(filed.id) in reply


def test_the_pending_report_expires(loop: Loop) -> None:
    """An unknown sender who never says where: after SMS_DRAFT_HOURS the next text starts over."""
    text(loop, "路灯不亮", phone=UNKNOWN)
    loop.at(loop.now + timedelta(hours=25))
    _, reply = text(loop, "2", phone=UNKNOWN)
    assert reports(loop) == [] and reply  # "2" is not taken as a building for a day-old question


@BOTH
def test_a_repeated_message_sid_creates_nothing_twice(loop: Loop) -> None:
    """Twilio retries the webhook: the same MessageSid gets the same reply and no second report."""
    first = text(loop, "电梯停了", sid="SM" + "a" * 32)
    again = text(loop, "电梯停了", sid="SM" + "a" * 32)
    assert first == again and len(reports(loop)) == 1
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 1


@pytest.mark.parametrize("body", ["查询", "STATUS", "status", "ＳＴＡＴＵＳ", "查询？"])
def test_status_keyword_reads_the_latest_report(loop: Loop, body: str) -> None:
    """查询/STATUS (any width or case) answers with the latest report's number and state, filing nothing."""
    text(loop, "楼道灯坏了")
    number = reports(loop)[0].id
    _, reply = text(loop, body)
    assert str(number) in reply and len(reports(loop)) == 1


def test_status_of_a_named_report_that_is_not_the_senders(loop: Loop) -> None:
    """Asking for somebody else's report number tells nothing about it."""
    text(loop, "楼道灯坏了", phone="+8613800000005")
    other = reports(loop)[0]
    _, reply = text(loop, f"查询 {other.id}")
    assert other.transcript_text not in reply and len(reports(loop)) == 1


@pytest.mark.parametrize("body", ["帮助", "HELP", "help", "ＨＥＬＰ"])
def test_help_keyword(loop: Loop, body: str) -> None:
    """帮助/HELP answers with usage and files nothing."""
    _, reply = text(loop, body)
    assert reply and reports(loop) == []


@pytest.mark.parametrize(("stop", "start"), [("退订", "订阅"), ("STOP", "START"), ("td", "start"), ("ＴＤ", "ＳＴＡＲＴ")])
def test_stop_then_no_outbound_text_then_start(loop: Loop, stop: str, start: str) -> None:
    """After STOP no fallback text is sent; after START texts flow again."""
    text(loop, stop)
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.get(OptOut, RESIDENT) is not None
    _send_text(loop, "社区通知：明天停水")
    assert [m for m in loop.twilio_api.messages if m["To"] == RESIDENT] == []
    text(loop, start)
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.get(OptOut, RESIDENT) is None
    _send_text(loop, "社区通知：明天停水")
    assert [m["Body"] for m in loop.twilio_api.messages if m["To"] == RESIDENT] == ["社区通知：明天停水"]
    assert reports(loop) == []


def _send_text(loop: Loop, body: str) -> None:
    """A text the system sends (a confirmation, a fallback): through the one outbound sender."""
    from worker.callbacks import enqueue_follow_ups
    from worker.loop import FollowUps

    enqueue_follow_ups(loop.redis, FollowUps(messages=[(RESIDENT, body)]), loop.now)
    loop.work()


def test_an_answer_that_fits_no_question_gets_help_not_a_report(loop: Loop) -> None:
    """"1" with no question open for this number: a short help reply, no report."""
    _, reply = text(loop, "1")
    assert reply and reports(loop) == []


@BOTH
def test_resident_answers_the_confirmation_by_text_and_rates(loop: Loop) -> None:
    """The confirmation call went unanswered; the resident texts "1" then "5": closed satisfied, rated 5."""
    number = handled(loop)
    loop.ring_out(only_pending(loop, RESIDENT))
    _, thanks = text(loop, "１")  # full-width, as many phones send it
    assert report(loop, number).state == "closed_satisfied" and thanks
    text(loop, "5")
    assert report(loop, number).rating == 5
    loop.advance(timedelta(minutes=10))
    assert loop.pending_calls() == []  # answered by text: the retry never rings


def test_resident_says_not_solved_by_text_and_it_reopens(loop: Loop) -> None:
    """"否" to the open confirmation reopens the report and the worker hears about it."""
    number = handled(loop)
    text(loop, "否")
    assert report(loop, number).state == "dispatched" and report(loop, number).reopen_count == 1


def test_mms_photo_is_attached_and_downloaded_with_credentials(loop: Loop) -> None:
    """A photo with the text: the report is filed and the image fetched (basic auth) into the instance folder."""
    url = loop.twilio_api.add_recording("ME" + "1" * 32, b"\xff\xd8\xff\xe0fake-jpeg")
    _, reply = text(loop, "井盖坏了，看图", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    [filed] = reports(loop)
    assert str(filed.id) in reply
    loop.work()
    with loop.app.extensions["gridline.sessions"]() as s:
        message = s.scalars(select(Message)).one()
        [item] = message.media
        assert message.report_id == filed.id and item["status"] == "stored"
        assert Path(item["path"]).read_bytes() == b"\xff\xd8\xff\xe0fake-jpeg"


def test_over_long_and_empty_bodies_get_clear_replies(loop: Loop) -> None:
    """An empty text is answered without a report; a 2,000-character one is kept whole, with its number."""
    _, empty = text(loop, "")
    assert empty and reports(loop) == []
    body = "噪音" * 1000
    _, long_reply = text(loop, body)
    [filed] = reports(loop)
    assert filed.transcript_text == body and str(filed.id) in long_reply


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(max_size=400))
def test_any_unicode_body_gets_a_valid_twiml_reply(loop: Loop, body: str) -> None:
    """Whatever is texted (emoji, rare Han characters, control characters), never a 5xx, always TwiML."""
    status, _reply = text(loop, body, phone=UNKNOWN)
    assert status == 200


def test_resident_unreachable_by_phone_answers_the_texted_question(loop: Loop) -> None:
    """Four missed confirmation calls close the report unreachable and text the question; replying "1"
    still closes it satisfied."""
    number = handled(loop)
    for delay in (timedelta(0), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)):
        loop.advance(delay)
        loop.ring_out(only_pending(loop, RESIDENT))
    loop.work()
    assert report(loop, number).state == "closed_unreachable"
    assert any(str(number) in m["Body"] for m in loop.twilio_api.messages if m["To"] == RESIDENT)
    text(loop, "1")
    assert report(loop, number).state == "closed_satisfied"


def test_after_stop_a_staff_question_is_not_rung_but_their_own_report_is_still_checked(loop: Loop) -> None:
    """STOP means no calls either, except about the person's own report."""
    from grid.models import CallBack, Person
    from worker import callbacks
    from worker.queues import job_queue

    number = handled(loop)  # the confirmation call about her own report is now due
    text(loop, "退订")
    with loop.app.extensions["gridline.sessions"]() as s:
        person = s.scalars(select(Person).where(Person.phone == RESIDENT)).first()
        asked = callbacks.request_staff_call(s, loop.worker_ctx.settings, now=loop.now, question="在家吗？",
                                             requested_by="test", person=person)
        s.commit()
        callbacks.enqueue(job_queue(loop.redis), asked, loop.now)
        asked_id = asked.id
    loop.work()
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.get(CallBack, asked_id).status == "canceled"
    assert all(f"callback={asked_id}&" not in c["Url"] for c in loop.twilio_api.calls)
    loop.ring_out(only_pending(loop, RESIDENT))  # the confirmation placed before STOP: no answer
    loop.advance(timedelta(minutes=10))
    retry = only_pending(loop, RESIDENT)  # its retry, after STOP, still rings: it is about her own report
    assert report(loop, number).state == "awaiting_check" and "callback=" in retry["Url"]


@pytest.mark.parametrize(("body", "kept"), [("报告：楼道灯坏了", "楼道灯坏了"), ("REPORT broken light", "broken light"),
                                            ("ｒｅｐｏｒｔ　井盖松了", "井盖松了")])
def test_report_keyword_files_the_text_after_it(loop: Loop, body: str, kept: str) -> None:
    """报告/REPORT (any width or case) files what follows it as the report."""
    _, reply = text(loop, body)
    [filed] = reports(loop)
    assert filed.transcript_text == kept and str(filed.id) in reply


def test_report_keyword_alone_asks_for_the_problem(loop: Loop) -> None:
    """报告 with nothing after it files nothing and says how to report."""
    _, reply = text(loop, "报告")
    assert reply and reports(loop) == []
