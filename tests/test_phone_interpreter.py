"""The sandbox phone's TwiML interpreter (sandbox/phone.py): pure, table-driven, including the app's own TwiML."""
from __future__ import annotations

import pytest

from ivr_flows.actions import Dial, Gather, Hangup, Pause, Record
from sandbox.phone import (
    Ended,
    Fetch,
    GatherWait,
    Play,
    RecordWait,
    Say,
    on_timeout,
    parse,
    press,
    run,
    speech_language,
)
from sandbox.phone import Pause as PausePrompt
from telephony import twiml
from telephony.config import Settings

DOC = "https://gridline.example.org/twilio/voice/step?step=1&expect=digits"
BASE = "https://gridline.example.org"


def doc(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


@pytest.mark.parametrize(("twilio", "bcp47"), [
    ("cmn-CN", "zh-CN"), ("zh-CN", "zh-CN"), ("CMN-CN", "zh-CN"), ("cmn-TW", "zh-TW"), ("yue-HK", "zh-HK"),
    ("en-US", "en-US"), ("en-GB", "en-GB"), ("", "en-US"), ("en", "en-US"), ("fr-FR", "fr-FR"),
])
def test_say_languages_map_to_speech_synthesis_tags(twilio: str, bcp47: str) -> None:
    """Twilio's <Say language> becomes the BCP-47 tag a browser's speechSynthesis knows."""
    assert speech_language(twilio) == bcp47


ZH = Say("你好", "zh-CN", "cmn-CN", "Polly.Zhiyu")


@pytest.mark.parametrize(("body", "items", "wait"), [
    # prompts then a <Gather> with nested prompts: everything is heard, then keys are wanted
    ('<Say language="cmn-CN" voice="Polly.Zhiyu">你好</Say><Gather action="/twilio/voice/step?step=2" numDigits="1" '
     'finishOnKey="" timeout="6" actionOnEmptyResult="true"><Say language="en-US">Press 1</Say><Pause length="2"/></Gather>',
     (ZH, Say("Press 1", "en-US", "en-US"), PausePrompt(2)),
     GatherWait(f"{BASE}/twilio/voice/step?step=2", "POST", 1, "", 6, True)),
    # Twilio's defaults: the document's own URL, any number of digits, #, 5 s, no request when empty
    ("<Gather/>", (), GatherWait(DOC, "POST", None, "#", 5, False)),
    # a relative action resolves against the document URL
    ('<Gather action="next" method="get"/>', (), GatherWait(f"{BASE}/twilio/voice/next", "GET", None, "#", 5, False)),
    ('<Record action="/r" maxLength="120" finishOnKey="#" timeout="10" playBeep="true" '
     'recordingStatusCallback="/twilio/voice/recording" recordingStatusCallbackEvent="completed absent"/>', (),
     RecordWait(f"{BASE}/r", "POST", 120, "#", 10, True, f"{BASE}/twilio/voice/recording", "POST", ("completed", "absent"))),
    ("<Record/>", (), RecordWait(DOC)),
    ('<Record playBeep="false"/>', (), RecordWait(DOC, play_beep=False)),
    ('<Play loop="2">https://cdn.example.org/p.mp3</Play><Redirect method="POST">/twilio/voice/step?step=3</Redirect>',
     (Play("https://cdn.example.org/p.mp3", 2),), Fetch(f"{BASE}/twilio/voice/step?step=3")),
    ("<Redirect/>", (), Fetch(DOC)),
    ('<Say>Bye</Say><Hangup/><Say>never heard</Say>', (Say("Bye", "en-US", "en-US"),), Ended("hangup")),
    ("<Reject/>", (), Ended("reject")),
    ('<Dial action="/d" timeout="25">+8613900000201</Dial>', (), Ended("dial", "+8613900000201")),
    ("<Dial><Number>+8657188881234</Number></Dial>", (), Ended("dial", "+8657188881234")),
    ('<Say>all said</Say>', (Say("all said", "en-US", "en-US"),), Ended("end")),
    ("", (), Ended("end")),
    ("<Sms>not a phone verb here</Sms><Pause/>", (PausePrompt(1),), Ended("end")),
])
def test_a_document_is_heard_up_to_what_the_call_waits_for(body: str, items: tuple[object, ...], wait: object) -> None:
    """What the phone shows and speaks, then what it waits for (or why the call ends)."""
    turn = run(parse(doc(body) if body else "", DOC))
    assert (turn.items, turn.wait) == (items, wait)


def test_a_gather_that_times_out_without_digits_falls_through_to_the_next_verbs() -> None:
    """No actionOnEmptyResult and no keys: the call goes on after the <Gather>, as on Twilio."""
    verbs = parse(doc('<Gather numDigits="1"><Say>Menu</Say></Gather><Say>Nothing pressed</Say><Hangup/>'), DOC)
    first = run(verbs)
    assert isinstance(first.wait, GatherWait) and on_timeout(first.wait, "") is None
    after = run(verbs, first.resume)
    assert (after.items, after.wait) == ((Say("Nothing pressed", "en-US", "en-US"),), Ended("hangup"))


def test_a_recording_that_hears_nothing_goes_on_to_the_redirect_after_it() -> None:
    """The app puts a <Redirect> after each <Record>: resuming after the record reaches it."""
    verbs = parse(doc('<Record action="/r"/><Redirect>/twilio/voice/step?step=4&amp;expect=norecord</Redirect>'), DOC)
    first = run(verbs)
    assert isinstance(first.wait, RecordWait)
    assert run(verbs, first.resume).wait == Fetch(f"{BASE}/twilio/voice/step?step=4&expect=norecord")


def test_not_twiml_is_refused() -> None:
    """A document whose root is not <Response> is an application error, not silence."""
    with pytest.raises(ValueError, match="not TwiML"):
        parse("<html><body>Internal Server Error</body></html>", DOC)


@pytest.mark.parametrize(("num_digits", "finish", "so_far", "key", "expected"), [
    (1, "", "", "1", ("1", True)),  # the app's menus: one key, no finish key
    (1, "", "", "#", ("#", True)),  # without a finishOnKey, # is a digit like any other
    (None, "#", "12", "3", ("123", False)),
    (None, "#", "123", "#", ("123", True)),  # the finish key submits and is left out of Digits
    (None, "#", "", "#", ("#", True)),  # ...unless it is the only key pressed
    (4, "#", "12", "3", ("123", False)),
    (4, "#", "123", "4", ("1234", True)),
    (None, "*#", "5", "*", ("5", True)),
])
def test_keys_collect_until_num_digits_or_the_finish_key(
    num_digits: int | None, finish: str, so_far: str, key: str, expected: tuple[str, bool]
) -> None:
    """Each key press: the Digits so far and whether the <Gather> submits."""
    assert press(GatherWait(DOC, num_digits=num_digits, finish_on_key=finish), so_far, key) == expected


@pytest.mark.parametrize(("on_empty", "so_far", "expected"), [
    (True, "", ""), (False, "", None), (False, "12", "12"), (True, "12", "12"),
])
def test_a_timeout_submits_what_was_pressed_or_falls_through(on_empty: bool, so_far: str, expected: str | None) -> None:
    """Partial digits are submitted; nothing is submitted empty only with actionOnEmptyResult."""
    assert on_timeout(GatherWait(DOC, action_on_empty_result=on_empty), so_far) == expected


def step_url(expect: str) -> str:
    return f"{BASE}/twilio/voice/step?step=7&expect={expect}"


def test_the_apps_own_twiml_for_every_wait_is_understood() -> None:
    """telephony.twiml.render's Gather, Record (+ its Redirect), Dial and Hangup, read back by the phone."""
    settings = Settings()
    render = lambda actions: twiml.render(actions, "zh-CN", settings, step_url, f"{BASE}/twilio/voice/recording")  # noqa: E731
    gather = run(parse(render([Gather((Pause(1),), num_digits=1, timeout=6)]), DOC))
    assert gather.items == (PausePrompt(1),)
    assert gather.wait == GatherWait(step_url("digits"), "POST", 1, "", 6, True)
    verbs = parse(render([Record()]), DOC)
    record = run(verbs)
    assert record.wait == RecordWait(step_url("record"), "POST", 120, "#", 10, True, f"{BASE}/twilio/voice/recording",
                                     "POST", ("completed", "absent"))
    assert run(verbs, record.resume).wait == Fetch(step_url("norecord"))
    assert run(parse(render([Dial("+8613900000201")]), DOC)).wait == Ended("dial", "+8613900000201")
    assert run(parse(render([Hangup()]), DOC)).wait == Ended("hangup")
