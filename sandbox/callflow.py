"""Twilio's side of a live call: the webhooks about it, following the TwiML they answer, and how it ends.

The switchboard (sandbox/switchboard.py) decides what happens (a key, a recording, an answer); this
is what Twilio then does: post the action, read the document (sandbox/phone.py), tell the phone's
line what is heard and awaited, follow redirects, fall through where Twilio would, and send the
status callbacks. An app that fails a webhook ends the call, as Twilio's "application error" does.
"""
from __future__ import annotations

import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.calls import INBOUND, OUTBOUND, LiveCall, item_json, wait_json
from sandbox.lines import Lines
from sandbox.phone import Ended, Fetch, GatherWait, Play, RecordWait, parse, run
from sandbox.twilio_api import TwilioSandbox
from sandbox.webhooks import AppError, Webhooks

log = logging.getLogger(__name__)
MAX_TURNS = 50  # redirects in a row before the sandbox calls the flow broken


def _no_media(url: str) -> str | None:
    return None


@dataclass
class CallFlow:
    lines: Lines
    api: TwilioSandbox
    hooks: Webhooks
    media_src: Callable[[str], str | None] = _no_media  # a <Play> URL -> what the page can fetch
    inbound_status_callback: str = ""  # a number's status callback URL, if one were configured at Twilio

    def _track(self, call: LiveCall) -> None:
        """Keep GET /Calls/{sid}.json in step with the call."""
        self.api.call_states[call.sid] = {
            "to": call.to_number, "from": call.from_number, "direction": call.direction, "status": call.status,
            "answered_by": call.answered_by or None, "duration": str(call.duration()) if call.ended else None,
        }

    def _stop_ringing(self, call: LiveCall) -> None:
        if call.ring_timer is not None:
            call.ring_timer.cancel()
            call.ring_timer = None

    def _emit(self, call: LiveCall, kind: str, **fields: object) -> None:
        self.lines.emit(call.line, kind, call_sid=call.sid, **fields)

    def _post(self, call: LiveCall, url: str, form: dict[str, str]) -> str | None:
        """A webhook about the call; None when the app failed it (the call then ends, as Twilio's would)."""
        try:
            return self.hooks.post(url, form)
        except AppError as exc:
            log.warning("call %s: %s", call.sid, exc)
            self._emit(call, "error", message=str(exc))
            if not call.ended:
                self._end(call, "failed" if call.answered_at is None else "completed", "application error", str(exc))
            return None

    def _notify(self, call: LiveCall, url: str, form: dict[str, str]) -> None:
        """A callback the call does not wait for (status, recording status): a failure is only reported."""
        try:
            self.hooks.post(url, form)
        except AppError as exc:
            log.warning("call %s: %s", call.sid, exc)
            self._emit(call, "error", message=str(exc))

    def _fetch(self, call: LiveCall, url: str, form: dict[str, str]) -> None:
        twiml = self._post(call, url, form)
        if twiml is not None:
            self._load(call, url, twiml)

    def _load(self, call: LiveCall, url: str, twiml: str) -> bool:
        try:
            call.url, call.verbs = url, parse(twiml, url)
        except (ET.ParseError, ValueError) as exc:
            message = f"the app answered {url} with something that is not TwiML ({exc})"
            self._emit(call, "error", message=message)
            self._end(call, "completed", "application error", message)
            return False
        self._go(call, 0)
        return True

    def _go(self, call: LiveCall, start: int) -> None:
        """Play from `start` until the call waits; follow redirects."""
        for _ in range(MAX_TURNS):
            if call.ended:
                return
            turn = run(call.verbs, start)
            for item in turn.items:
                kind, fields = item_json(item)
                if isinstance(item, Play):
                    fields["src"] = self.media_src(item.url)
                self._emit(call, kind, **fields)
            wait = turn.wait
            if isinstance(wait, Fetch):
                twiml = self._post(call, wait.url, call.form())
                if twiml is None:
                    return
                try:
                    call.url, call.verbs, start = wait.url, parse(twiml, wait.url), 0
                except (ET.ParseError, ValueError) as exc:
                    self._end(call, "completed", "application error", f"not TwiML from {wait.url} ({exc})")
                    return
                continue
            if isinstance(wait, Ended):
                detail = f"transfer to {wait.number}: the sandbox cannot connect it" if wait.reason == "dial" else ""
                self._end(call, "completed", wait.reason, detail)
                return
            call.wait, call.resume, call.digits = wait, turn.resume, ""
            fields = wait_json(wait)
            self._emit(call, str(fields.pop("kind")), **fields)
            return
        self._end(call, "completed", "application error", f"more than {MAX_TURNS} redirects in a row")

    def _submit_digits(self, call: LiveCall, wait: GatherWait, by_finish_key: bool) -> None:
        call.wait = None
        extra = {"FinishedOnKey": wait.finish_on_key[:1]} if by_finish_key and wait.finish_on_key else {}
        twiml = self._post(call, wait.action, call.form(Digits=call.digits, **extra))
        if twiml is not None:
            self._load(call, wait.action, twiml)

    def _nothing_recorded(self, call: LiveCall, wait: RecordWait) -> None:
        """Twilio keeps no recording of silence: the callback hears "absent" (if it asked) and the
        call goes on with the verb after <Record>; the action URL is not requested."""
        call.wait = None
        sid = "RE" + secrets.token_hex(16)
        self._recording_status(call, wait, "absent", {"RecordingSid": sid, "RecordingUrl": self.api.recording_url(sid),
                                                      "RecordingDuration": "0"})
        self._go(call, call.resume)

    def _recording_status(self, call: LiveCall, wait: RecordWait, status: str, fields: dict[str, str]) -> None:
        if wait.status_callback and status in wait.status_callback_events:
            form = {"CallSid": call.sid, "RecordingStatus": status, "RecordingSource": "RecordVerb",
                    "RecordingChannels": "1", **fields}
            self._notify(call, wait.status_callback, form)

    def _progress(self, call: LiveCall, event: str) -> None:
        """An intermediate status callback (initiated, ringing, answered) the app asked for."""
        if call.status_callback and event in call.status_events:
            status = {"answered": "in-progress"}.get(event, event)
            self._notify(call, call.status_callback, call.form(CallStatus=status, CallbackSource="call-progress-events"))

    def _end(self, call: LiveCall, status: str, reason: str, detail: str = "") -> None:
        if call.ended:
            return
        self._stop_ringing(call)
        duration = call.duration()
        call.status, call.wait = status, None
        self._track(call)
        url = call.status_callback if call.direction == OUTBOUND else self.inbound_status_callback
        if url and (call.direction == INBOUND or "completed" in call.status_events):
            self._notify(call, url, call.form(CallDuration=str(duration), CallbackSource="call-progress-events"))
        # last: once a phone sees "ended", the app has heard how the call ended
        self._emit(call, "ended", status=status, reason=reason, detail=detail, duration=duration)
