"""The sandbox phone (sandbox/server.py) against the real app over real HTTP: calls both ways, recordings,
texts, the CLI. The app's twilio client talks to the sandbox; the sandbox posts signed webhooks to the app;
a real RQ worker downloads recordings from the sandbox and places call-backs through it."""
from __future__ import annotations

import subprocess
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import replace
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import imageio_ffmpeg
import pytest
import requests
from sqlalchemy import select

from grid.models import Call, CallAttempt, CallBack, Report
from sandbox.cli import main as cli_main
from sandbox.server import PhoneSandbox
from telephony.rest import make_client
from tests.loop_driver import Loop
from worker.queues import all_queues

AUDIO = Path(__file__).resolve().parent / "audio"
RESIDENT = "+8613800000004"  # 林小红, micro-grid HG-01-1
WORKER = "+8613900000201"  # 陈静, grid worker of HG-01: the assignee of her reports


@pytest.fixture
def twilio_api(phone: PhoneSandbox) -> Any:
    """This module's app and worker talk to the sandbox phone's Twilio stand-in (tests/phone_fixtures.py)."""
    return phone.api


class Client:
    """The phone's JSON API, as the page uses it."""

    def __init__(self, phone: PhoneSandbox) -> None:
        self.base = phone.base_url

    def post(self, path: str, expect: int = 200, **kw: Any) -> dict[str, Any]:
        resp = requests.post(self.base + "/phone/api" + path, headers={"X-Sandbox-Phone": "1"}, timeout=30, **kw)
        assert resp.status_code == expect, resp.text
        return dict(resp.json())

    def events(self, number: str, after: int = 0, wait: float = 0) -> dict[str, Any]:
        resp = requests.get(f"{self.base}/phone/api/lines/{quote(number)}/events", params={"after": after, "wait": wait},
                            timeout=30)
        return dict(resp.json())

    def heard(self, number: str, call_sid: str) -> list[str]:
        """What the line heard on a call, and how it ended: say text, <play>, [kind] for the rest."""
        out = []
        for e in self.events(number)["events"]:
            if e.get("call_sid") == call_sid:
                out.append(e["text"] if e["kind"] == "say" else f"<play {e['url']}>" if e["kind"] == "play" else f"[{e['kind']}]")
        return out

    def call(self, number: str, *keys: str) -> str:
        sid = str(self.post(f"/lines/{quote(number)}/call")["call"]["call_sid"])
        for key in keys:
            self.post(f"/calls/{sid}/keys", json={"keys": key})
        return sid

    def speak(self, sid: str, data: bytes, name: str = "speech.wav", finish: str = "#") -> dict[str, Any]:
        return self.post(f"/calls/{sid}/recording", files={"audio": (name, data)}, data={"finish": finish})["call"]

    def ringing(self, number: str, timeout: float = 10) -> str:
        """The call-back that rang the number (waiting for it to start ringing)."""
        deadline, after = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            body = self.events(number, after, wait=1)
            after = body["last_id"]
            rang = [e for e in body["events"] if e["kind"] == "incoming"]
            if rang:
                return str(rang[0]["call_sid"])
        raise AssertionError(f"nothing rang {number}")

    def errors(self, number: str) -> list[str]:
        return [e["message"] for e in self.events(number)["events"] if e["kind"] == "error"]

    def ended(self, number: str, call_sid: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [e for e in self.events(number)["events"] if e["kind"] == "ended" and e.get("call_sid") == call_sid]
            if done:
                return dict(done[0])
            time.sleep(0.05)
        raise AssertionError(f"call {call_sid} did not end")


def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    """The first truthy result of check(), polled (the app queues its work after each answer is sent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("gave up waiting")


def work_when_queued(loop: Loop) -> None:
    eventually(lambda: any(q.count for q in all_queues(loop.redis)))
    loop.work()


def latest_report(loop: Loop) -> Report:
    with loop.app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report).order_by(Report.id.desc())).first()
        assert report is not None
        _ = report.recordings
        return report


def report_by_phone(client: Client, loop: Loop, audio: bytes = b"", name: str = "speech.wav") -> tuple[str, int]:
    """The resident reports an environment problem (1, 2, speaks); the worker routes it and rings the assignee."""
    sid = client.call(RESIDENT, "1", "2")
    assert client.speak(sid, audio or (AUDIO / "sewer_smell.tel.wav").read_bytes(), name)["status"] == "completed"
    work_when_queued(loop)
    return sid, latest_report(loop).id


def test_an_inbound_call_files_a_report_the_worker_downloads_and_transcribes(
    loop: Loop, live: str, phone: PhoneSandbox, korean_transcriber: Any
) -> None:
    """Keys 1, 2 and a WAV through the JSON API: a report in the caller's grid whose recording the worker
    fetches from the sandbox; the caller's confirmation text and the worker's call-back reach the phone."""
    loop.worker_ctx.transcribers = {"zh-CN": korean_transcriber}
    client = Client(phone)
    sid, number = report_by_phone(client, loop)
    heard = client.heard(RESIDENT, sid)
    assert heard[0] == "[call]" and heard[1].startswith("这里不是紧急求助电话") and "[record]" in heard
    assert any("编号是" in line for line in heard) and heard[-1] == "[ended]"
    recorded = next(e for e in client.events(RESIDENT)["events"] if e["kind"] == "recorded")
    report = latest_report(loop)
    assert (report.id, report.category, report.transcript_status) == (number, "environment", "done")
    assert [(r.recording_sid, r.url) for r in report.recordings] == [(recorded["recording_sid"], recorded["url"])]
    assert recorded["url"] == phone.api.recording_url(recorded["recording_sid"])
    assert phone.api.recording_fetches == [recorded["recording_sid"]]
    texts = client.events(RESIDENT)["events"]
    assert [e["direction"] for e in texts if e["kind"] == "sms"] == ["to-phone"]
    assert str(number) in next(e["body"] for e in texts if e["kind"] == "sms")
    assert client.ringing(WORKER)


def test_a_call_back_rings_the_phone_and_a_key_press_is_the_workers_answer(loop: Loop, live: str, phone: PhoneSandbox) -> None:
    """The verification call rings the worker's line; answered, it plays the report and '1' accepts it.
    Twilio's status callbacks (ringing, answered, completed with AnsweredBy=human) reach the app."""
    client = Client(phone)
    _sid, number = report_by_phone(client, loop)
    call_sid = client.ringing(WORKER)
    rest = make_client(replace(loop.app.config["SETTINGS"], twilio_api_base_url=phone.base_url))
    assert rest.calls(call_sid).fetch().status == "ringing"
    call = client.post(f"/calls/{call_sid}/answer")["call"]
    assert call["waiting"]["kind"] == "gather" and call["direction"] == "outbound-api"
    heard = client.heard(WORKER, call_sid)
    assert heard[:2] == ["[incoming]", "[call]"] and heard[2].startswith("陈静您好")
    assert any(line.startswith("<play ") for line in heard)
    play = next(e for e in client.events(WORKER)["events"] if e["kind"] == "play")
    assert play["src"] and requests.get(phone.base_url + play["src"], timeout=5).status_code == 200
    client.post(f"/calls/{call_sid}/keys", json={"keys": "1"})
    assert client.ended(WORKER, call_sid)["status"] == "completed"
    fetched = rest.calls(call_sid).fetch()
    assert (fetched.status, fetched.answered_by) == ("completed", "human")
    with loop.app.extensions["gridline.sessions"]() as s:
        report = s.get(Report, number)
        assert report is not None and report.verification_answer == "accepted" and report.state == "verifying"
        attempt = s.scalars(select(CallAttempt)).one()
        assert (attempt.call_sid, attempt.outcome, attempt.answered_by) == (call_sid, "reached", "human")
        assert s.get(CallBack, attempt.callback_id).status == "done"


@pytest.mark.parametrize(("action", "status"), [("decline", "busy"), ("ring-out", "no-answer"), ("timeout", "no-answer")])
def test_a_call_back_declined_or_left_ringing_reaches_the_app_as_busy_or_no_answer(
    loop: Loop, live: str, phone: PhoneSandbox, action: str, status: str
) -> None:
    """Decline: busy. Let it ring out (or nobody acts within the ring timeout): no-answer. The app counts a miss."""
    if action == "timeout":
        phone.switchboard.ring_timeout = 0.5
    client = Client(phone)
    report_by_phone(client, loop)
    call_sid = client.ringing(WORKER)
    if action != "timeout":
        client.post(f"/calls/{call_sid}/{action}")
    assert client.ended(WORKER, call_sid)["status"] == status
    assert phone.api.call_states[call_sid]["status"] == status and client.errors(WORKER) == []
    with loop.app.extensions["gridline.sessions"]() as s:
        attempt = s.scalars(select(CallAttempt)).one()
        assert (attempt.outcome, attempt.status) == (status, status)
        callback = s.scalars(select(CallBack)).one()
        assert (callback.status, callback.misses) == ("scheduled", 1)
    client.post(f"/calls/{call_sid}/answer", expect=409)  # too late


def test_texts_go_both_ways(loop: Loop, live: str, phone: PhoneSandbox) -> None:
    """A text from the phone reaches /twilio/sms and the <Message> reply lands in its thread; a message the
    app sends through the REST API lands in the recipient's thread."""
    client = Client(phone)
    sent = client.post(f"/lines/{quote('138 0000 0004')}/sms", json={"body": "3号楼楼道灯坏了，晚上很黑"})["events"]
    assert [(e["direction"], e["to"]) for e in sent] == [("from-phone", "+8657188880000"), ("to-phone", RESIDENT)]
    with loop.app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        assert report.channel == "sms" and str(report.id) in sent[1]["body"]
    rest = make_client(replace(loop.app.config["SETTINGS"], twilio_api_base_url=phone.base_url))
    rest.messages.create(to=WORKER, from_="+8657188880000", body="请核实第1号问题")
    thread = requests.get(f"{phone.base_url}/phone/api/lines/{quote(WORKER)}/thread", timeout=5).json()["messages"]
    assert [(m["direction"], m["body"]) for m in thread] == [("to-phone", "请核实第1号问题")]


def test_browser_audio_is_kept_as_a_telephone_wav(loop: Loop, live: str, phone: PhoneSandbox, tmp_path: Path) -> None:
    """A webm/opus upload (what Chromium's MediaRecorder gives) is served as 8 kHz mono 16-bit WAV, like Twilio's."""
    webm = tmp_path / "speech.webm"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(AUDIO / "sewer_smell.wav"),
                    "-c:a", "libopus", str(webm)], check=True)
    client = Client(phone)
    sid = client.call(RESIDENT, "1", "2")
    client.speak(sid, webm.read_bytes(), "speech.webm")
    recorded = next(e for e in client.events(RESIDENT)["events"] if e["kind"] == "recorded")
    with wave.open(BytesIO(phone.api.recordings[recorded["recording_sid"]])) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        with wave.open(str(AUDIO / "sewer_smell.wav")) as source:
            assert wav.getnframes() / 8000 == pytest.approx(source.getnframes() / source.getframerate(), abs=0.1)
    assert recorded["note"] == ""


def test_undecodable_audio_still_gives_the_app_its_recording_and_a_human_listens(
    loop: Loop, live: str, phone: PhoneSandbox, korean_transcriber: Any
) -> None:
    """Bytes ffmpeg cannot read: the call goes on, the recording callbacks come, the worker flags the report."""
    loop.worker_ctx.transcribers = {"zh-CN": korean_transcriber}
    client = Client(phone)
    sid, number = report_by_phone(client, loop, b"\x1aE\xdf\xa3 not really webm", "speech.webm")
    recorded = next(e for e in client.events(RESIDENT)["events"] if e["kind"] == "recorded")
    assert "ffmpeg" in recorded["note"] and any("编号是" in line for line in client.heard(RESIDENT, sid))
    report = latest_report(loop)
    assert report.id == number and [r.status for r in report.recordings] == ["completed"]
    assert (report.transcript_status, report.needs_listening) == ("unavailable", True)
    assert phone.api.recording_fetches == [recorded["recording_sid"]]


def test_hanging_up_while_recording_files_the_report_from_the_recording_callback(
    loop: Loop, live: str, phone: PhoneSandbox
) -> None:
    """finish=hangup: no <Record> action, only the recording status callback, and the report is filed."""
    client = Client(phone)
    sid = client.call(RESIDENT, "1", "2")
    call = client.speak(sid, (AUDIO / "yes.tel.wav").read_bytes(), finish="hangup")
    assert call["status"] == "completed"
    assert not any("编号是" in line for line in client.heard(RESIDENT, sid))
    report = latest_report(loop)
    assert report.category == "environment" and [r.status for r in report.recordings] == ["completed"]
    fetched = requests.get(f"{phone.base_url}/2010-04-01/Accounts/{phone.api.account_sid}/Calls/{sid}.json",
                           auth=(phone.api.account_sid, phone.api.auth_token), timeout=5).json()
    assert (fetched["direction"], fetched["status"]) == ("inbound", "completed")


def test_silence_at_a_menu_is_reprompted_and_hanging_up_ends_the_call(loop: Loop, live: str, phone: PhoneSandbox) -> None:
    """No key: the <Gather> posts empty Digits (actionOnEmptyResult) and the menu comes again; hang-up ends it."""
    client = Client(phone)
    sid = client.call(RESIDENT)
    call = client.post(f"/calls/{sid}/silence")["call"]
    assert call["waiting"]["kind"] == "gather"
    assert "没有听到您按键。" in client.heard(RESIDENT, sid)
    assert client.post(f"/calls/{sid}/hangup")["call"]["status"] == "completed"
    client.post(f"/calls/{sid}/keys", json={"keys": "1"})  # keys after the end change nothing
    assert client.heard(RESIDENT, sid).count("[ended]") == 1


def test_inbound_calls_post_a_final_status_only_where_a_status_callback_is_configured(
    loop: Loop, live: str, phone: PhoneSandbox
) -> None:
    """Like a number with only a voice webhook, an inbound call's end is not posted (the app's Call row stays
    in-progress); with SANDBOX_INBOUND_STATUS_CALLBACK it is, with CallStatus=completed."""
    client = Client(phone)
    quiet = client.call(RESIDENT)
    client.post(f"/calls/{quiet}/hangup")
    phone.switchboard.inbound_status_callback = loop.app.config["SETTINGS"].public_base_url + "/twilio/voice/status"
    told = client.call(RESIDENT)
    client.post(f"/calls/{told}/hangup")
    with loop.app.extensions["gridline.sessions"]() as s:
        status = {sid: state for sid, state in s.execute(select(Call.call_sid, Call.status))}
    assert (status[quiet], status[told]) == ("in-progress", "completed")


def test_the_phone_page_api_guards_and_errors(loop: Loop, live: str, phone: PhoneSandbox) -> None:
    """POSTs need the sandbox's header; <Play> is proxied only for the sandbox's recordings and the app's
    public URLs; a bad number is refused with the reason; a dead app ends the call with a readable error."""
    base = phone.base_url
    assert requests.post(f"{base}/phone/api/lines/{quote(RESIDENT)}/call", timeout=5).status_code == 403
    assert requests.get(f"{base}/phone/media", params={"url": "http://example.com/x.mp3"}, timeout=5).status_code == 403
    # a public URL goes to the app (which answers GET on a POST-only webhook with 405)
    public = loop.app.config["SETTINGS"].public_base_url + "/twilio/voice"
    assert requests.get(f"{base}/phone/media", params={"url": public}, timeout=5).status_code == 405
    client = Client(phone)
    assert "digits" in client.post("/lines", expect=400, json={"number": "138 0000"})["error"]
    assert client.post("/lines", json={"number": "１３８-0000-0004"})["person"]["name"] == "林小红"
    assert "no such call" in client.post("/calls/CA0/hangup", expect=404)["error"]
    assert "finish" in client.post("/calls/CA0/recording", expect=400, data={"finish": "later"})["error"]
    people = requests.get(f"{base}/phone/api/people", timeout=5).json()["people"]
    worker = next(p for p in people if p["phone"] == WORKER)
    assert (worker["name"], worker["role"], worker["grid_code"]) == ("陈静", "grid_worker", "HG-01")
    page = requests.get(f"{base}/phone?lang=en", timeout=5).text
    assert 'data-testid="call-button"' in page and '<html lang="en">' in page
    phone.app_url = "http://127.0.0.1:9"
    call = client.post(f"/lines/{quote(RESIDENT)}/call")["call"]
    assert call["status"] in ("completed", "failed")
    error = next(e for e in client.events(RESIDENT)["events"] if e["kind"] == "error")
    assert "did not answer" in error["message"]


def test_the_cli_calls_answers_and_texts_through_the_same_api(
    loop: Loop, live: str, phone: PhoneSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """`call` files a report, `answer` takes the call-back with a key, `text`/`thread` show the texts."""
    url = ["--url", phone.base_url]
    assert cli_main([*url, "call", "--from", "13800000004", "--keys", "1,2", "--say", str(AUDIO / "sewer_smell.tel.wav")]) == 0
    out = capsys.readouterr().out
    assert "这里不是紧急求助电话" in out and "> press 2" in out and "编号是" in out and "call ended: completed" in out
    work_when_queued(loop)
    assert cli_main([*url, "answer", "--number", "13900000201", "--keys", "1", "--wait", "10"]) == 0
    out = capsys.readouterr().out
    assert "陈静您好" in out and "> press 1" in out and "call ended: completed" in out
    assert latest_report(loop).verification_answer == "accepted"
    assert cli_main([*url, "text", "--from", "13800000004", "查询"]) == 0
    assert "< SMS" in capsys.readouterr().out
    assert cli_main([*url, "thread", "13800000004"]) == 0
    assert "查询" in capsys.readouterr().out
    assert cli_main(["--url", "http://127.0.0.1:9", "thread", "13800000004"]) == 1
    assert "not running at http://127.0.0.1:9" in capsys.readouterr().err


def test_python_dash_m_sandbox_runs_the_cli(phone: PhoneSandbox) -> None:
    """`python -m sandbox <command>` is the CLI; it reads the sandbox's URL from SANDBOX_URL."""
    done = subprocess.run([sys.executable, "-m", "sandbox", "thread", "13800000004"], capture_output=True, text=True,
                          env={"SANDBOX_URL": phone.base_url, "PATH": ""}, timeout=60, cwd=Path(__file__).parent.parent)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
