"""Plays Twilio's side of a call: signed form posts that follow the action URLs in the TwiML."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from telephony.cli_simulate import heard
from tests.conftest import PUBLIC_BASE_URL, sign

# post(path_with_query, form, headers) -> (status, body)
Poster = Callable[[str, dict[str, str], dict[str, str]], tuple[int, str]]


def flask_poster(client: Any) -> Poster:
    def post(path: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        resp = client.post(path, data=form, headers=headers)  # closed as a WSGI server would (conftest)
        return resp.status_code, resp.get_data(as_text=True)

    return post


def http_poster(base_url: str) -> Poster:
    """Real HTTP to a running server (the signature still covers the public URL)."""
    import requests

    def post(path: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        resp = requests.post(base_url + path, data=form, headers=headers, timeout=10)
        return resp.status_code, resp.text

    return post


def signed_post(post: Poster, url: str, form: dict[str, str]) -> tuple[int, str]:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return post(path, form, {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form)})


def said(twiml: str) -> str:
    """Everything a caller would hear, as text, in order (Say text and Play URLs)."""
    return " | ".join(heard(twiml))


@dataclass
class Call:
    post: Poster
    call_sid: str
    from_number: str
    to_number: str = "+8657188880000"
    twiml: str = ""
    history: list[str] = field(default_factory=list)

    def _form(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.call_sid, "From": self.from_number, "To": self.to_number,
                "AccountSid": "AC" + "0" * 32, "CallStatus": "in-progress", **extra}

    def _send(self, url: str, **extra: str) -> str:
        status, body = signed_post(self.post, url, self._form(**extra))
        assert status == 200, (status, body)
        self.twiml = body
        self.history.append(body)
        return body

    def start(self, url: str = PUBLIC_BASE_URL + "/twilio/voice") -> str:
        return self._send(url, CallStatus="ringing", Direction="inbound")

    def _find(self, tag: str) -> ET.Element:
        el = ET.fromstring(self.twiml).find(f".//{tag}")
        assert el is not None, f"no <{tag}> in {self.twiml}"
        return el

    def press(self, digits: str) -> str:
        return self._send(self._find("Gather").attrib["action"], Digits=digits)

    def silence(self) -> str:
        """No key before the Gather timed out (actionOnEmptyResult posts an empty Digits)."""
        return self._send(self._find("Gather").attrib["action"], Digits="")

    def finish_recording(self, recording_sid: str, recording_url: str, duration: int = 5) -> str:
        """The caller pressed # after speaking: Twilio requests the <Record> action."""
        return self._send(self._find("Record").attrib["action"], RecordingSid=recording_sid,
                          RecordingUrl=recording_url, RecordingDuration=str(duration), Digits="#")

    def recording_status(self, recording_sid: str, recording_url: str, status: str = "completed",
                         duration: int = 5) -> int:
        """Twilio's recordingStatusCallback (it comes even if the caller hung up)."""
        url = self._find("Record").attrib["recordingStatusCallback"] if "<Record" in self.twiml else \
            PUBLIC_BASE_URL + "/twilio/voice/recording"
        form = {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "RecordingSid": recording_sid,
                "RecordingUrl": recording_url, "RecordingStatus": status, "RecordingDuration": str(duration)}
        code, _ = signed_post(self.post, url, form)
        return code

    def dial_ended(self, status: str) -> str:
        return self._send(self._find("Dial").attrib["action"], DialCallStatus=status)


def file_report(post: Poster, call_sid: str, phone: str, keys: list[str], recording_url: str) -> str:
    """A caller presses keys, speaks, and hangs up; Twilio sends the recording callback. Returns the readback."""
    call = Call(post, call_sid, phone)
    call.start()
    for key in keys:
        call.press(key)
    recording_sid = "RE" + call_sid[2:]
    readback = said(call.finish_recording(recording_sid, recording_url))
    call.twiml = call.history[-2]
    assert call.recording_status(recording_sid, recording_url) == 204
    return readback
