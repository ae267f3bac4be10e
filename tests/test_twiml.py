"""TwiML rendering, compared exactly: the one place that knows Twilio's XML."""
from __future__ import annotations

from typing import Any

import pytest

from ivr_flows import catalog
from ivr_flows.actions import Dial, Gather, Hangup, Pause, Record, Say
from telephony.config import load_settings
from telephony.twiml import render

SETTINGS = load_settings({}, public_base_url="https://g.example")
XML = '<?xml version="1.0" encoding="UTF-8"?>'


def url(expect: str) -> str:
    return f"https://g.example/twilio/voice/step?step=3&amp;expect={expect}"


def step_url(expect: str) -> str:
    return f"https://g.example/twilio/voice/step?step=3&expect={expect}"


def test_menu_renders_a_gather_with_a_pause_and_the_configured_voice() -> None:
    """A menu waits for one key, posts even on silence, and speaks with the configured voice."""
    out = render([Gather((Pause(1), Say("main_menu")))], "zh-CN", SETTINGS, step_url, "https://g.example/rec")
    expected = (
        f'{XML}<Response><Gather action="{url("digits")}" actionOnEmptyResult="true" finishOnKey="" '
        'input="dtmf" method="POST" numDigits="1" timeout="6"><Pause length="1" />'
        '<Say language="cmn-CN" voice="Polly.Zhiyu">反映问题，请按1。查询上次反映的问题，请按2。找您的网格员，请按0。'
        "For English, press 9。重听，请按星号键。</Say></Gather></Response>"
    )
    assert out == expected


def test_record_carries_status_callback_and_falls_through_to_a_redirect() -> None:
    """<Record> ends on # after at most 120 s, reports by callback, and a silent one redirects."""
    out = render([Record(), Hangup()], "en-US", SETTINGS, step_url, "https://g.example/twilio/voice/recording")
    expected = (
        f'{XML}<Response><Record action="{url("record")}" finishOnKey="#" maxLength="120" method="POST" '
        'playBeep="true" recordingStatusCallback="https://g.example/twilio/voice/recording" '
        'recordingStatusCallbackEvent="completed absent" recordingStatusCallbackMethod="POST" timeout="10" />'
        f'<Redirect method="POST">{url("norecord")}</Redirect><Hangup /></Response>'
    )
    assert out == expected


def test_dial_posts_its_outcome_back() -> None:
    """A <Dial> reports how it ended so an unanswered worker falls back to the duty phone."""
    out = render([Dial("+8613800000001")], "zh-CN", SETTINGS, step_url, "")
    assert out == (
        f'{XML}<Response><Dial action="{url("dial")}" method="POST" timeout="25">+8613800000001</Dial></Response>'
    )


def test_a_catalog_prompt_with_audio_is_played_instead_of_spoken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Communities that record prompts in their dialect get <Play> for those prompts."""
    real = catalog._load("zh-CN")
    dialect: dict[str, Any] = {**real, "goodbye": {"text": "再见", "play": "https://cdn.example/goodbye.mp3"}}
    monkeypatch.setattr(catalog, "_load", lambda language: dialect)
    out = render([Say("goodbye")], "zh-CN", SETTINGS, step_url, "")
    assert out == f"{XML}<Response><Play>https://cdn.example/goodbye.mp3</Play></Response>"


def test_english_prompts_use_the_english_voice() -> None:
    """The English catalog is spoken with the English voice and language."""
    out = render([Say("goodbye")], "en-US", SETTINGS, step_url, "")
    assert out == f'{XML}<Response><Say language="en-US" voice="Polly.Joanna">Thank you. Goodbye.</Say></Response>'
