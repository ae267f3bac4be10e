"""Duplicate reports through the app's signed webhooks: a neighbour in the same micro-grid calling
about a problem already filed may add their voice to it (1) or report it anyway (2).

Both clocks (the web app's and the worker's) are the test's, so the 24-hour window is exact.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grid.models import Recording, Report
from ivr_flows import catalog
from tests.loop_driver import MORNING, Loop
from tests.test_closed_loop import RESIDENT, WORKER, file, only_pending, report
from tests.twilio_driver import Call as Caller
from tests.twilio_driver import said

FIRST_SID = "CA" + "1" * 32  # the call test_closed_loop.file() makes
NEIGHBOUR = "+8613800000005"  # 罗刚, same micro-grid, another building
NEIGHBOUR_SID = "CA" + "5" * 32
OFFER = "这个问题已经有人反映了，正在处理，编号是"
SPEAK = "请在嘀声后说出问题"
BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def loop(loop: Loop) -> Loop:
    """The demo community, both clocks at 09:00 Shanghai, where 林小红 (HG-01-1) just reported an environment problem."""
    file(loop)  # keys 1, 2, speak
    return loop


@pytest.fixture
def first(loop: Loop) -> int:
    """The number of 林小红's report."""
    with loop.app.extensions["gridline.sessions"]() as s:
        return int(s.scalars(select(Report.id).where(Report.reporter_phone == RESIDENT)).one())


def neighbour_calls(loop: Loop, *keys: str) -> tuple[Caller, str]:
    """罗刚 rings the hotline and presses keys; returns the call and what the last key made him hear."""
    call = Caller(loop.post, NEIGHBOUR_SID, NEIGHBOUR)
    call.start()
    heard = ""
    for key in keys:
        heard = said(call.press(key))
    return call, heard


def speaks(loop: Loop, call: Caller) -> str:
    """He speaks and presses #, then Twilio's recording callback comes; returns the read-back."""
    sid = "RE" + call.call_sid[2:]
    url = loop.twilio_api.add_recording(sid, b"")
    readback = said(call.finish_recording(sid, url))
    call.twiml = call.history[-2]
    assert call.recording_status(sid, url) == 204
    loop.work()
    return readback


def neighbours_report(loop: Loop) -> Report:
    """The one report 罗刚 filed himself."""
    with loop.app.extensions["gridline.sessions"]() as s:
        found: Report = s.scalars(select(Report).where(Report.reporter_phone == NEIGHBOUR)).one()
        return found


def files_unlinked(loop: Loop, *keys: str) -> Report:
    """罗刚 presses keys, hears no offer, speaks: his own report, linked to nothing."""
    call, heard = neighbour_calls(loop, *keys)
    assert OFFER not in heard and SPEAK in heard, heard
    speaks(loop, call)
    second = neighbours_report(loop)
    assert second.possible_duplicate_of_id is None
    return second


def reports_count(loop: Loop) -> int:
    with loop.app.extensions["gridline.sessions"]() as s:
        return int(s.scalar(select(func.count(Report.id))) or 0)


def spelled(number: int) -> str:
    return catalog.spell_digits("zh-CN", str(number))


def sms_to(loop: Loop, phone: str) -> list[str]:
    return [m["Body"] for m in loop.twilio_api.messages if m["To"] == phone]


@BOTH
def test_neighbour_hears_the_open_report_number_and_adds_his_voice_to_it(loop: Loop, first: int) -> None:
    """罗刚 hears "already being handled, report <n>", presses 1 and speaks: his voice joins report n, no new report."""
    call, offer = neighbour_calls(loop, "1", "2")
    assert f"{OFFER}{spelled(first)}。" in offer and "请按1" in offer and "请按2" in offer
    assert SPEAK in said(call.press("1"))
    readback = speaks(loop, call)
    assert readback.startswith(f"您的声音已经加到第{spelled(first)}号问题里"), readback
    assert reports_count(loop) == 1
    joined = report(loop, first)
    assert [(r.kind, r.recording_sid) for r in joined.recordings] == [
        ("report", "RE" + FIRST_SID[2:]), ("addition", "RE" + NEIGHBOUR_SID[2:])
    ]
    notes = [(e.actor, e.channel, e.note) for e in joined.events if e.kind == "note"]
    assert notes == [("罗刚", "voice", "another caller added their voice")]
    assert sms_to(loop, NEIGHBOUR) == []  # no "your report is number …" text for a report he did not file
    assert len(loop.calls_to(WORKER)) == 1  # the worker is not rung again about the same problem


@BOTH
def test_neighbour_who_reports_anyway_files_a_report_linked_as_possible_duplicate(loop: Loop, first: int) -> None:
    """罗刚 presses 2 at the offer: a report of his own, linked to the first as a possible duplicate."""
    call, _offer = neighbour_calls(loop, "1", "2")
    assert SPEAK in said(call.press("2"))
    readback = speaks(loop, call)
    assert reports_count(loop) == 2
    second = neighbours_report(loop)
    assert readback.startswith(f"您的问题已经记录。编号是：{spelled(second.id)}"), readback
    assert second.possible_duplicate_of_id == first and second.duplicate_of_id is None
    assert [e.note for e in report(loop, second.id).events if e.kind == "filed"] == [f"possible duplicate of report {first}"]
    assert [r.kind for r in report(loop, first).recordings] == ["report"]


@BOTH
def test_after_the_24_hour_window_there_is_no_offer_and_no_link(loop: Loop) -> None:
    """A day and a minute after the first report, the same problem is filed as a new report, unlinked."""
    loop.at(MORNING + timedelta(hours=24, minutes=1))
    second = files_unlinked(loop, "1", "2")
    assert [e.note for e in report(loop, second.id).events if e.kind == "filed"] == [""]


def test_one_minute_inside_the_window_the_offer_is_still_made(loop: Loop) -> None:
    """23 h 59 min after the first report the neighbour is still offered to add his voice."""
    loop.at(MORNING + timedelta(hours=23, minutes=59))
    _call, heard = neighbour_calls(loop, "1", "2")
    assert OFFER in heard


@BOTH
def test_a_closed_report_is_not_offered_and_not_linked(loop: Loop, first: int) -> None:
    """The worker found nothing on site (closed unfounded): the neighbour's call files an unlinked report."""
    loop.answer(only_pending(loop, WORKER), "1")  # accepted
    loop.advance(timedelta(hours=2))  # the site-check follow-up
    loop.answer(only_pending(loop, WORKER), "2", note="nothing there")
    assert report(loop, first).state == "unfounded"
    files_unlinked(loop, "1", "2")


@BOTH
def test_another_category_in_the_same_micro_grid_is_not_offered(loop: Loop) -> None:
    """A broken facility next to an open environment report: straight to speaking, no link."""
    assert files_unlinked(loop, "1", "3").category == "facility"


@BOTH
def test_hanging_up_while_adding_his_voice_adds_it_and_files_no_report(loop: Loop, first: int) -> None:
    """罗刚 hangs up mid-recording after pressing 1: only the recording callback comes; no report is filed."""
    call, _offer = neighbour_calls(loop, "1", "2", "1")
    sid = "RE" + NEIGHBOUR_SID[2:]
    url = loop.twilio_api.add_recording(sid, b"")
    assert call.recording_status(sid, url) == 204
    loop.work()
    assert reports_count(loop) == 1
    with loop.app.extensions["gridline.sessions"]() as s:
        added = s.scalars(select(Recording).where(Recording.recording_sid == sid)).one()
        assert (added.kind, added.report_id, added.status) == ("addition", first, "completed")
    # Twilio's late <Record> action finds the addition: the read-back names the first report, still one report
    assert said(call.finish_recording(sid, url)).startswith(f"您的声音已经加到第{spelled(first)}号问题里")
    assert reports_count(loop) == 1
    assert [e.note for e in report(loop, first).events if e.kind == "note"] == ["another caller added their voice"]
    assert sms_to(loop, NEIGHBOUR) == []
