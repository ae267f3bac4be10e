"""The hotline's webhooks through the real app: signatures, retries, recording, silence, buildings."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq import Queue
from sqlalchemy import func, select

from grid.demo import load_demo
from grid.models import Call, CallBack, Person, Recording, Report, ReportEvent
from tests.conftest import PUBLIC_BASE_URL, sign
from tests.twilio_driver import Call as TwilioCall
from tests.twilio_driver import flask_poster, said
from worker.queues import all_queues

RECORDING_URL = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1"


@pytest.fixture
def demo(app: Any) -> dict[str, Person]:
    """The demo community, with a known resident and a phone nobody registered."""
    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
        resident = s.scalars(select(Person).where(Person.role == "resident", Person.language == "zh-CN")).first()
        assert resident is not None and resident.household is not None
        return {"resident": resident}


def count(app: Any, model: Any) -> int:
    with app.extensions["gridline.sessions"]() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_unsigned_and_forged_requests_are_refused_and_store_nothing(app: Any) -> None:
    """A webhook without a valid Twilio signature gets 403 and leaves no trace."""
    client = app.test_client()
    form = {"CallSid": "CAforged", "From": "+8613800138000", "To": "+8657188880000"}
    assert client.post("/twilio/voice", data=form).status_code == 403
    forged = sign(PUBLIC_BASE_URL + "/twilio/voice", form, token="not-our-token")
    assert client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": forged}).status_code == 403
    # a signature for other parameters (tampered form) is refused too
    good = sign(PUBLIC_BASE_URL + "/twilio/voice", form)
    tampered = {**form, "From": "+8613900139000"}
    assert client.post("/twilio/voice", data=tampered, headers={"X-Twilio-Signature": good}).status_code == 403
    for path in ("/twilio/voice/step?step=1&expect=digits", "/twilio/voice/recording", "/twilio/voice/status"):
        assert client.post(path, data=form).status_code == 403
    assert count(app, Call) == 0


def test_known_caller_hears_emergency_warning_first_then_their_name(app: Any, demo: dict[str, Person]) -> None:
    """The first words are 'not the emergency line'; a registered caller is greeted by name."""
    call = TwilioCall(flask_poster(app.test_client()), "CA100", demo["resident"].phone)
    heard = said(call.start())
    assert heard.startswith("这里不是紧急求助电话")
    assert "幺幺零" in heard and "幺幺九" in heard and "幺二零" in heard
    assert f"{demo['resident'].name}您好" in heard and "花果社区网格热线" in heard
    assert 'numDigits="1"' in call.twiml and "反映问题，请按1" in call.twiml


def test_one_key_category_and_speaking_files_a_routed_report(app: Any, demo: dict[str, Person], redis_conn: Any) -> None:
    """1, a category key, speak, #: the report is filed with category, grid and assignee, number read back."""
    call = TwilioCall(flask_poster(app.test_client()), "CA101", demo["resident"].phone)
    call.start()
    call.press("1")
    heard = said(call.press("2"))
    assert "嘀声" in heard and "<Record" in call.twiml
    end = said(call.finish_recording("RE101", RECORDING_URL))
    with app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        assert report.category == "environment"
        assert report.grid_id == demo["resident"].household.grid_id
        assert report.assignee is not None and report.assignee.role == "grid_worker"
        number = report.id
    assert "编号是" in end and "网格员会给您回电话" in end and "<Hangup" in call.twiml
    assert "，".join("零幺二三四五六七八九"[int(d)] for d in str(number)) in end
    # an SMS confirmation goes out through the queue when the caller's phone is a mobile
    jobs = Queue("gridline", connection=redis_conn).jobs
    assert [j.func_name for j in jobs] == ["worker.messaging.send_sms"]


def test_twilio_retries_create_nothing_twice(app: Any, demo: dict[str, Person], redis_conn: Any) -> None:
    """The same webhook delivered twice gets the same answer and creates one call, report, recording."""
    call = TwilioCall(flask_poster(app.test_client()), "CA102", demo["resident"].phone)
    first = call.start()
    assert call.start() == first
    call.press("1")
    menu = call.press("3")
    record_action = call._find("Record").attrib["action"]
    call.finish_recording("RE102", RECORDING_URL)
    readback = call.twiml
    # Twilio retries the <Record> action and sends the status callback twice
    from tests.twilio_driver import signed_post

    form = call._form(RecordingSid="RE102", RecordingUrl=RECORDING_URL, RecordingDuration="5", Digits="#")
    assert signed_post(call.post, record_action, form) == (200, readback)
    call.twiml = menu
    assert call.recording_status("RE102", RECORDING_URL) == 204
    assert call.recording_status("RE102", RECORDING_URL) == 204
    assert count(app, Call) == 1 and count(app, Report) == 1 and count(app, Recording) == 1
    names = [j.func_name for q in all_queues(redis_conn) for j in q.jobs]
    assert names.count("worker.transcription.transcribe_recording") == 1
    assert names.count("worker.messaging.send_sms") == 1


def test_hanging_up_during_recording_still_files_the_report(app: Any, demo: dict[str, Person], redis_conn: Any) -> None:
    """Only the recordingStatusCallback arrives (the caller hung up): the report is filed and queued."""
    call = TwilioCall(flask_poster(app.test_client()), "CA103", demo["resident"].phone)
    call.start()
    call.press("1")
    call.press("5")
    assert call.recording_status("RE103", RECORDING_URL) == 204
    with app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        assert report.category == "vulnerable_person" and report.urgent
        assert [r.recording_sid for r in report.recordings] == ["RE103"]
    names = [j.func_name for q in all_queues(redis_conn) for j in q.jobs]
    assert "worker.transcription.transcribe_recording" in names


@pytest.mark.parametrize("status", ["absent", "failed"])
def test_a_recording_twilio_kept_no_audio_of_is_flagged_for_a_person(app: Any, demo: dict[str, Person], redis_conn: Any,
                                                                      status: str) -> None:
    """The caller hung up without speaking: the report is kept, marked unavailable and flagged to listen
    to, and its verification still follows (it used to stay 'pending' for ever)."""
    call = TwilioCall(flask_poster(app.test_client()), f"CA1{status}", demo["resident"].phone)
    call.start()
    call.press("1")
    call.press("3")
    assert call.recording_status(f"RE1{status}", RECORDING_URL, status=status) == 204
    with app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        assert (report.transcript_status, report.needs_listening) == ("unavailable", True)
        assert status in report.transcript_error
    names = [j.func_name for q in all_queues(redis_conn) for j in q.jobs]
    assert "worker.dispatch.report_ready" in names and "worker.transcription.transcribe_recording" not in names


def test_silence_reprompts_twice_then_promises_and_queues_a_call_back(app: Any, demo: dict[str, Person]) -> None:
    """Three silences: two re-prompts, then 'the community will call back' and a call-back is owed."""
    call = TwilioCall(flask_poster(app.test_client()), "CA104", demo["resident"].phone)
    call.start()
    for _ in range(2):
        heard = said(call.silence())
        assert heard.startswith("没有听到您按键") and "<Gather" in call.twiml
    heard = said(call.silence())
    assert "社区会给您回电话" in heard and "<Hangup" in call.twiml
    with app.extensions["gridline.sessions"]() as s:
        callback = s.scalars(select(CallBack)).one()
        assert callback.purpose == "missed_call_return" and callback.to_number == demo["resident"].phone
        assert callback.status == "scheduled"


def test_invalid_key_says_so_and_star_repeats(app: Any, demo: dict[str, Person]) -> None:
    """A key that is no option is named as such; * repeats the menu; 9 switches to English."""
    call = TwilioCall(flask_poster(app.test_client()), "CA105", demo["resident"].phone)
    call.start()
    assert said(call.press("7")).startswith("您按的键不对")
    assert "反映问题，请按1" in said(call.press("*"))
    assert "To report a problem, press 1" in said(call.press("9"))
    assert 'language="en-US"' in call.twiml


def test_unknown_caller_keys_building_and_report_lands_in_its_micro_grid(app: Any, demo: dict[str, Person]) -> None:
    """An unregistered number keys a building number; the report is routed to that micro-grid."""
    call = TwilioCall(flask_poster(app.test_client()), "CA106", "+8613912345678")
    assert "您好，这里是花果社区网格热线" in said(call.start())
    call.press("1")
    assert "楼栋号" in said(call.press("3"))
    assert "楼栋号" in said(call.press("99#"))  # not a building here: asked once more
    assert "嘀声" in said(call.press("5#"))
    call.finish_recording("RE106", RECORDING_URL)
    with app.extensions["gridline.sessions"]() as s:
        from grid.registry import resolve_building

        report = s.scalars(select(Report)).one()
        grid = resolve_building(s, "5")
        assert grid is not None and report.grid_id == grid.id and report.building == "5"
        assert report.reporter_id is None and report.assignee is not None


def test_unresolvable_building_goes_to_grid_leader_on_duty(app: Any, demo: dict[str, Person]) -> None:
    """Twice an unknown building: the caller is told, and the report goes to the grid leader on duty."""
    call = TwilioCall(flask_poster(app.test_client()), "CA107", "+8613912345679")
    call.start()
    call.press("1")
    call.press("6")
    call.press("98#")
    assert "值班网格长" in said(call.press("97#"))
    call.finish_recording("RE107", RECORDING_URL)
    with app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        assert report.grid_id is None
        assert report.assignee is not None and report.assignee.role == "grid_leader" and report.assignee.on_duty


def test_key_zero_dials_the_grid_worker_then_the_duty_phone(app: Any, demo: dict[str, Person]) -> None:
    """0 connects to the caller's grid worker; no answer there falls back to the duty number."""
    call = TwilioCall(flask_poster(app.test_client()), "CA108", demo["resident"].phone)
    call.start()
    call.press("0")
    with app.extensions["gridline.sessions"]() as s:
        from grid.registry import grid_worker_for

        resident = s.get(Person, demo["resident"].id)
        worker = grid_worker_for(s, resident.household.grid)
    assert "<Dial" in call.twiml and worker.phone in call.twiml
    call.dial_ended("no-answer")
    assert app.config["SETTINGS"].duty_phone in call.twiml


def test_two_silent_calls_from_one_phone_owe_one_call_back(app: Any, demo: dict[str, Person]) -> None:
    """A caller who twice says nothing is called back once, not twice, while the first is still owed."""
    for sid in ("CA110", "CA111"):
        call = TwilioCall(flask_poster(app.test_client()), sid, demo["resident"].phone)
        call.start()
        for _ in range(3):
            call.silence()
    assert count(app, CallBack) == 1


# ---- status by voice and the staff menu --------------------------------------------------------
THURSDAY = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def spell(number: int) -> str:
    """A report number as the caller hears it, digit by digit."""
    return "，".join("零幺二三四五六七八九"[int(d)] for d in str(number))


def file_directly(app: Any, reporter_phone: str, assignee_name: str, state: str, age: timedelta, **fields: Any) -> int:
    """A report as the lifecycle would have left it, with its timeline line."""
    with app.extensions["gridline.sessions"]() as s:
        assignee = s.scalars(select(Person).where(Person.name == assignee_name)).one()
        report = Report(reporter_phone=reporter_phone, category="environment", state=state, assignee_id=assignee.id,
                        grid_id=assignee.grid_id, created_at=THURSDAY - age, state_changed_at=THURSDAY - age, **fields)
        s.add(report)
        s.flush()
        s.add(ReportEvent(report_id=report.id, kind="transition", to_state=state, at=THURSDAY - age))
        s.commit()
        return report.id


def test_status_by_voice_says_who_has_the_report_and_since_which_day(app: Any, demo: dict[str, Person]) -> None:
    """Key 2: the latest report's number, category, and 'sent to grid worker 陈静, who accepted it on Tuesday'."""
    app.config["CLOCK"] = lambda: THURSDAY
    number = file_directly(app, demo["resident"].phone, "陈静", "verifying", timedelta(days=2))
    call = TwilioCall(flask_poster(app.test_client()), "CA120", demo["resident"].phone)
    call.start()
    heard = said(call.press("2"))
    assert f"您反映的第{spell(number)}号问题，环境卫生。已经转给网格员陈静，星期二接了单，正在核实。" in heard
    assert "反映问题，请按1" in heard  # back at the main menu


def test_staff_menu_reads_out_the_reports_assigned_to_the_caller(app: Any, demo: dict[str, Person]) -> None:
    """A grid worker presses 3: how many open reports are theirs, then each one, oldest first."""
    app.config["CLOCK"] = lambda: THURSDAY
    first = file_directly(app, demo["resident"].phone, "陈静", "new", timedelta(hours=5),
                          transcript_status="done", transcript_text="三号楼垃圾桶满了")
    second = file_directly(app, demo["resident"].phone, "陈静", "dispatched", timedelta(hours=2))
    with app.extensions["gridline.sessions"]() as s:
        worker_phone = s.scalars(select(Person).where(Person.name == "陈静")).one().phone
    call = TwilioCall(flask_poster(app.test_client()), "CA121", worker_phone)
    assert "查看分配给您的问题，请按3" in said(call.start())
    heard = said(call.press("3"))
    item = f"第{spell(first)}号问题，环境卫生，等待接单。"
    assert heard.startswith(f"分配给您的待办问题有2个。 | {item} | 居民说：三号楼垃圾桶满了")
    assert "您去现场核实，请按1" in heard
    heard = said(call.press("#"))
    assert heard.startswith(f"第{spell(second)}号问题，环境卫生，正在处理。") and "已经处理好，请按1" in heard
    assert "分配给您的问题就是这些" in said(call.press("#"))


def test_staff_accepting_from_the_hotline_moves_the_report_on(app: Any, demo: dict[str, Person]) -> None:
    """A grid worker presses 3 then 1 on a new report: it is theirs to verify, as if they took the call-back."""
    app.config["CLOCK"] = lambda: THURSDAY
    number = file_directly(app, demo["resident"].phone, "陈静", "new", timedelta(hours=1))
    with app.extensions["gridline.sessions"]() as s:
        worker_phone = s.scalars(select(Person).where(Person.name == "陈静")).one().phone
    call = TwilioCall(flask_poster(app.test_client()), "CA122", worker_phone)
    call.start()
    call.press("3")
    assert said(call.press("1")).startswith("已经记下。 | 分配给您的问题就是这些。")
    with app.extensions["gridline.sessions"]() as s:
        assert s.get(Report, number).state == "verifying"
