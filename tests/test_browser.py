"""The dashboard and the sandbox phone in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download). The microphone is Chromium's fake capture device playing a WAV.

One walk-through: a resident calls the hotline on the phone page (keypad + microphone), the report
appears in the dashboard with its transcript and a playable recording, staff ask a verification
question, the resident answers it on the phone page, and the answer lands on the timeline. Beside it:
the metrics page draws its charts, a worker cannot open another grid's report, and a form posted
without its CSRF token is refused. Screenshots of each page go to docs/images/ (linked in the README).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from grid.models import CallBack, Report, ReportEvent
from sandbox.server import PhoneSandbox
from tests.dashboard_support import PASSWORD, create_logins
from tests.loop_driver import Loop

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "docs" / "images"
MIC = Path(__file__).resolve().parent / "audio" / "grandma_alone.wav"
RESIDENT = "+8613800000004"  # 林小红, micro-grid HG-01-1



@pytest.fixture
def twilio_api(phone: PhoneSandbox) -> Any:
    """This module's app and worker talk to the sandbox phone's Twilio stand-in (tests/phone_fixtures.py)."""
    return phone.api


@pytest.fixture
def site(live: str, loop: Loop, korean_transcriber: Any) -> str:
    """The live app (tests/phone_fixtures.py) with dashboard logins on the demo community; the worker
    transcribes with the real (Korean) Vosk model."""
    create_logins(loop.app.extensions["gridline.sessions"])  # the loop fixture loaded the demo community
    loop.worker_ctx.transcribers = {"zh-CN": korean_transcriber}
    return live


@pytest.fixture
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={MIC}", "--autoplay-policy=no-user-gesture-required",
        ])
        yield chromium
        chromium.close()


def _log_in(browser: Any, base: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(base + "/")
    assert page.url.startswith(base + "/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/dashboard/reports/")
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _wait_for(page: Any, test_id: str, **attrs: str) -> Any:
    selector = f'[data-testid="{test_id}"]' + "".join(f'[data-{k}="{v}"]' for k, v in attrs.items())
    return page.wait_for_selector(selector, timeout=20_000)


def _speak(phone_page: Any, seconds: float) -> None:
    """Wait for the flow to ask for a recording, let the fake microphone talk, then press stop."""
    _wait_for(phone_page, "waiting", kind="record")
    _wait_for(phone_page, "recording")
    time.sleep(seconds)
    phone_page.get_by_test_id("stop-recording").click()


def test_a_call_on_the_phone_page_reaches_the_dashboard_and_is_verified(browser: Any, site: str, loop: Loop,
                                                                         phone: PhoneSandbox) -> None:
    """Call with keypad and microphone → transcribed report with a playable recording in the dashboard →
    "call to verify" rings the phone page → answered with 1 → the answer is on the report's timeline."""
    sessions = loop.app.extensions["gridline.sessions"]
    dashboard = _log_in(browser, site, "wang")

    phone_page = browser.new_page(viewport={"width": 900, "height": 1000})
    phone_page.goto(f"{phone.base_url}/phone?number={RESIDENT.replace('+', '%2B')}&speech=0&timeouts=0")
    _wait_for(phone_page, "my-number")
    assert RESIDENT in phone_page.get_by_test_id("my-number").inner_text()
    phone_page.get_by_test_id("call-button").click()
    _wait_for(phone_page, "waiting", kind="gather")
    assert "林小红您好" in phone_page.get_by_test_id("prompts").inner_text()
    phone_page.get_by_test_id("key-1").click()  # report a problem
    phone_page.wait_for_function("document.querySelector('[data-testid=prompts]').innerText.includes('公共设施')")
    _wait_for(phone_page, "waiting", kind="gather")
    phone_page.get_by_test_id("key-3").click()  # public facility repair
    _speak(phone_page, 4)
    _wait_for(phone_page, "call-status", state="ended")
    _shot(phone_page, "phone")
    with sessions() as s:
        report = s.scalars(select(Report)).one()
        report_id, reporter_id = report.id, report.reporter_id
    assert f"{report_id}" in phone_page.get_by_test_id("prompts").inner_text()  # the number, read back

    loop.work()  # the transcription worker downloads the recording from the phone and transcribes it
    with sessions() as s:
        report = s.get(Report, report_id)
        assert report.transcript_status == "done" and report.transcript_text, report.transcript_error
        transcript = report.transcript_text

    dashboard.goto(site + "/dashboard/reports/")
    row = dashboard.locator(f'[data-testid="report-row"][data-report-id="{report_id}"]')
    assert "公共设施报修" in row.inner_text() and "林小红" not in row.inner_text()
    _shot(dashboard, "dashboard-reports")
    row.get_by_role("link").click()
    dashboard.wait_for_url(f"{site}/dashboard/reports/{report_id}")
    words = transcript.split()[0]
    assert words in dashboard.get_by_test_id("transcript").inner_text()
    duration = dashboard.evaluate("""async () => {
        const audio = document.querySelector('[data-testid=recording-audio]');
        audio.preload = 'auto'; audio.load();
        await new Promise((ok, fail) => {
            audio.onloadedmetadata = ok; audio.onerror = () => fail(audio.error && audio.error.code); });
        return audio.duration; }""")
    assert duration > 2  # the caller's own voice, served by the app behind the login

    # staff ask the resident; the outbound engine rings the phone page
    chosen = dashboard.get_by_test_id("call-person").select_option(value=str(reporter_id))
    assert chosen == [str(reporter_id)] and "林小红" in dashboard.get_by_test_id("call-person").inner_text()
    dashboard.get_by_test_id("call-question").fill("三楼的灯现在修好了吗？")
    dashboard.get_by_test_id("call-submit").click()
    dashboard.wait_for_url(f"{site}/dashboard/reports/{report_id}")
    loop.work()  # places the call through the phone's REST stand-in
    _wait_for(phone_page, "incoming")
    phone_page.get_by_test_id("answer").click()
    _wait_for(phone_page, "waiting", kind="gather")
    assert "三楼的灯现在修好了吗" in phone_page.get_by_test_id("prompts").inner_text()
    phone_page.get_by_test_id("key-1").click()  # yes
    _speak(phone_page, 2)  # and a word about it
    _wait_for(phone_page, "call-status", state="ended")

    def answered() -> bool:
        with sessions() as s:
            callback = s.scalar(select(CallBack).where(CallBack.purpose == "staff_question"))
            return callback is not None and callback.answer == "yes"

    _eventually(answered)
    dashboard.reload()
    timeline = dashboard.get_by_test_id("timeline").inner_text()
    assert "staff question: 三楼的灯现在修好了吗？" in timeline and "answered yes" in timeline
    _shot(dashboard, "report")


def _eventually(check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("did not happen in time")


def test_metrics_scope_and_csrf_in_the_browser(browser: Any, site: str, loop: Loop) -> None:
    """The metrics page draws its charts without any network beyond the app; a grid worker gets 403 on
    another grid's report; a note posted without its CSRF token is refused and not saved."""
    sessions = loop.app.extensions["gridline.sessions"]
    from tests.test_dashboard_reports import _report

    first, second = _report(sessions, "HG-01-1", "一号楼垃圾没人清"), _report(sessions, "HG-02-1", "七号楼路灯不亮")
    staff = _log_in(browser, site, "wang")
    outside: list[str] = []
    staff.on("request", lambda r: outside.append(r.url) if not r.url.startswith(site) else None)
    staff.goto(site + "/dashboard/metrics/")
    charts = staff.locator("svg.chart")
    assert charts.count() >= 5
    for i in range(charts.count()):
        assert charts.nth(i).bounding_box()["height"] > 50  # drawn, not an empty element
    assert outside == []  # no CDN, no fonts, nothing from the internet
    _shot(staff, "metrics")

    worker = _log_in(browser, site, "yangfan")
    assert worker.goto(f"{site}/dashboard/reports/{first}").status == 403
    assert worker.goto(f"{site}/dashboard/reports/{second}").status == 200

    staff.goto(f"{site}/dashboard/reports/{first}")
    staff.evaluate("document.querySelector('[data-testid=note-form] input[name=csrf_token]').remove()")
    staff.get_by_test_id("note-text").fill("没有令牌的备注")
    with staff.expect_navigation() as navigation:
        staff.get_by_test_id("note-submit").click()
    assert navigation.value.status == 400
    with sessions() as s:
        assert s.scalar(select(ReportEvent).where(ReportEvent.note == "没有令牌的备注")) is None


def test_screenshots_are_linked_from_the_readme() -> None:
    """Every screenshot the browser tests save is linked from the README as a docs image."""
    readme = (ROOT / "README.md").read_text()
    for name in ("dashboard-reports", "report", "metrics", "phone"):
        assert f"docs/images/{name}.png" in readme
