"""The browser phone page in headless Chromium (fake microphone playing a WAV), against the real app.

Skipped where /usr/bin/chromium or the playwright package is missing.
"""
from __future__ import annotations

import wave
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from grid.models import Report
from sandbox.server import PhoneSandbox
from tests.loop_driver import Loop
from worker.queues import all_queues

CHROMIUM = Path("/usr/bin/chromium")
AUDIO = Path(__file__).resolve().parent / "audio"
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture
def twilio_api(phone: PhoneSandbox) -> Any:
    """This module's app and worker talk to the sandbox phone's Twilio stand-in (tests/phone_fixtures.py)."""
    return phone.api


@pytest.fixture
def page(phone: PhoneSandbox) -> Iterator[Any]:
    """A Chromium page whose microphone 'says' the sewer complaint."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={AUDIO / 'sewer_smell.wav'}",
        ])
        context = browser.new_context(permissions=["microphone"], base_url=phone.base_url)
        yield context.new_page()
        browser.close()


def open_phone(page: Any, number: str, lang: str = "") -> None:
    page.goto(f"/phone?number={number}&fast=1&timeouts=0" + (f"&lang={lang}" if lang else ""))
    page.wait_for_selector("body[data-ready='1']")


def test_a_resident_reports_by_voice_from_the_page(page: Any, live: str, loop: Loop, phone: PhoneSandbox) -> None:
    """Call, 1, 2, speak into the microphone, stop: the report is filed with an 8 kHz WAV; a text gets a reply."""
    open_phone(page, "13800000004")
    assert "林小红" in page.text_content("[data-testid=my-number]")
    page.click("[data-testid=call-button]")
    page.wait_for_selector("[data-testid=waiting][data-kind=gather]")
    assert page.text_content("[data-testid=prompt] >> nth=0").startswith("这里不是紧急求助电话")
    page.click("[data-testid=key-1]")
    page.wait_for_selector("[data-testid=prompt]:has-text('请选择问题类型')")
    page.click("[data-testid=key-2]")
    page.wait_for_selector("[data-testid=recording]", state="visible", timeout=20000)
    page.wait_for_timeout(2500)
    page.click("[data-testid=stop-recording]")
    page.wait_for_selector("[data-testid=call-status][data-state=ended]", timeout=20000)
    assert page.locator("[data-testid=prompt]:has-text('编号是')").count() == 1
    with loop.app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        sid = report.recordings[0].recording_sid
    with wave.open(BytesIO(phone.api.recordings[sid])) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2) and wav.getnframes() > 8000
    page.fill("[data-testid=sms-input]", "查询")
    page.click("[data-testid=sms-send]")
    page.wait_for_selector("[data-testid=sms][data-direction=to-phone]:has-text('环境卫生')")


def test_a_call_back_rings_the_page_and_is_answered_with_a_key(page: Any, live: str, loop: Loop, phone: PhoneSandbox) -> None:
    """The worker's page shows the incoming call; Answer, hear the report, press 1: the report is accepted."""
    open_phone(page, "13900000201", lang="en")
    assert page.text_content("[data-testid=call-button]") == "Call the hotline"
    api, headers = f"{phone.base_url}/phone/api", {"X-Sandbox-Phone": "1"}
    sid = requests.post(f"{api}/lines/13800000004/call", headers=headers, timeout=10).json()["call"]["call_sid"]
    for key in "12":
        requests.post(f"{api}/calls/{sid}/keys", json={"keys": key}, headers=headers, timeout=10)
    requests.post(f"{api}/calls/{sid}/recording", headers=headers, timeout=10,
                  files={"audio": ("s.wav", (AUDIO / "yes.tel.wav").read_bytes())})
    for _ in range(100):
        if any(q.count for q in all_queues(loop.redis)):
            break
        page.wait_for_timeout(50)
    loop.work()
    page.wait_for_selector("[data-testid=incoming]", state="visible", timeout=10000)
    assert page.get_attribute("[data-testid=call-status]", "data-state") == "ringing"
    page.click("[data-testid=answer]")
    page.wait_for_selector("[data-testid=waiting][data-kind=gather]")
    assert page.locator("[data-testid=prompt][data-kind=play]").count() == 1
    page.click("[data-testid=key-1]")
    page.wait_for_selector("[data-testid=call-status][data-state=ended]", timeout=10000)
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(Report)).one().verification_answer == "accepted"
