"""Twilio's part of every call on the sandbox phone: the webhooks, in the order and shape Twilio sends them.

The phone (page or CLI) says what the person does: calls the hotline, presses keys, stays silent,
speaks, hangs up, answers or declines a call-back. The switchboard turns that into signed webhooks,
reads the TwiML that comes back (sandbox/callflow.py) and tells the phone, as events on its line
(sandbox/lines.py), what it hears and what it is waiting for. Calls the app places through the REST
stand-in ring the line of their `To` number, with the status callbacks the app asked for.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from grid.phones import InvalidPhone, normalise
from sandbox import audio
from sandbox.callflow import CallFlow
from sandbox.calls import INBOUND, OUTBOUND, CallConflict, LiveCall, UnknownCall
from sandbox.phone import GatherWait, RecordWait, on_timeout, press

RECORDING_FINISHES = ("hangup", "timeout", "max-length")  # besides a key: how a recording can end


@dataclass
class Switchboard(CallFlow):
    hotline: str = "+8657188880000"  # TWILIO_NUMBER: what the phone dials, and the caller id of call-backs
    region: str = "CN"
    ring_timeout: float = 30.0  # seconds a call-back rings before it is no-answer
    calls: dict[str, LiveCall] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def line_of(self, raw: str) -> str:
        """The line a number belongs to: E.164 where it normalises, else as written."""
        try:
            return normalise(raw, self.region)
        except InvalidPhone:
            return raw.strip()

    def call(self, sid: str) -> LiveCall:
        with self._lock:
            found = self.calls.get(sid)
        if found is None:
            raise UnknownCall(sid)
        return found

    def on_line(self, number: str) -> list[LiveCall]:
        with self._lock:
            return [c for c in self.calls.values() if c.line == number and not c.ended]

    def _register(self, call: LiveCall) -> None:
        with self._lock:
            if any(c.line == call.line and c.status == "in-progress" for c in self.calls.values()):
                raise CallConflict(f"{call.line} is already on a call: hang up first")
            self.calls[call.sid] = call
        self._track(call)

    # ---- the phone calls the hotline ------------------------------------------------------------
    def dial_hotline(self, number: str) -> LiveCall:
        call = LiveCall("CA" + secrets.token_hex(16), number, INBOUND, number, self.hotline, status="in-progress",
                        answered_at=time.monotonic())
        with call.lock:  # a key pressed before the first answer waits for it
            self._register(call)
            self.lines.emit(number, "call", call_sid=call.sid, direction=INBOUND, **{"from": number, "to": self.hotline})
            url = self.hooks.public_base_url.rstrip("/") + "/twilio/voice"
            self._fetch(call, url, call.form(CallStatus="ringing"))
        return call

    # ---- what the person does on a live call ----------------------------------------------------
    def press(self, sid: str, keys: str) -> LiveCall:
        call = self.call(sid)
        with call.lock:
            for key in keys:
                if call.status != "in-progress":
                    break
                wait = call.wait
                if isinstance(wait, GatherWait):
                    call.digits, submit = press(wait, call.digits, key)
                    self._emit(call, "key", key=key, digits=call.digits, submitted=submit)
                    if submit:
                        self._submit_digits(call, wait, key in wait.finish_on_key)
                elif isinstance(wait, RecordWait) and key in wait.finish_on_key:
                    self._emit(call, "key", key=key, digits="", submitted=True)
                    self._nothing_recorded(call, wait)  # the phone sends audio with the key when it has some
                else:
                    self._emit(call, "key", key=key, digits="", submitted=False)  # nobody listens for keys now
        return call

    def silence(self, sid: str) -> LiveCall:
        """The <Gather> or <Record> timed out without input."""
        call = self.call(sid)
        with call.lock:
            wait = call.wait
            if isinstance(wait, GatherWait):
                digits = on_timeout(wait, call.digits)
                if digits is None:
                    call.wait = None
                    self._go(call, call.resume)
                else:
                    call.digits = digits
                    self._submit_digits(call, wait, False)
            elif isinstance(wait, RecordWait):
                self._nothing_recorded(call, wait)
            elif not call.ended:
                raise CallConflict("the call is not waiting for input")
        return call

    def record(self, sid: str, data: bytes, finish: str = "#", seconds: float | None = None) -> LiveCall:
        """The phone's recording for the <Record> the call waits at; `finish` is the key that ended it,
        or one of RECORDING_FINISHES."""
        call = self.call(sid)
        with call.lock:
            wait = call.wait
            if not isinstance(wait, RecordWait) or call.status != "in-progress":
                raise CallConflict("the call is not recording")
            if not data:
                if finish == "hangup":
                    return self.hangup(sid)
                self._nothing_recorded(call, wait)
                return call
            kept = audio.keep(data, seconds)
            recording_sid = "RE" + secrets.token_hex(16)
            fields = {"RecordingSid": recording_sid, "RecordingUrl": self.api.add_recording(recording_sid, kept.data),
                      "RecordingDuration": str(kept.seconds)}
            self._emit(call, "recorded", recording_sid=recording_sid, url=fields["RecordingUrl"],
                       duration=kept.seconds, note=kept.note)
            call.wait = None
            if finish == "hangup":  # Twilio keeps what was said and tells the recording callback only
                self._recording_status(call, wait, "completed", fields)
                self._end(call, "completed", "hangup")
                return call
            digits = {} if finish in RECORDING_FINISHES else {"Digits": finish}
            twiml = self._post(call, wait.action, call.form(**fields, **digits))
            self._recording_status(call, wait, "completed", fields)
            if twiml is not None:
                self._load(call, wait.action, twiml)
        return call

    def hangup(self, sid: str) -> LiveCall:
        call = self.call(sid)
        with call.lock:
            if call.status in ("queued", "ringing"):
                self._end(call, "busy", "declined")
            elif not call.ended:
                self._end(call, "completed", "hangup")  # an open <Gather> gets no request, as on Twilio
        return call

    # ---- the hotline calls the phone ------------------------------------------------------------
    def placed(self, record: dict[str, str], form: dict[str, list[str]]) -> None:
        """The REST stand-in accepted a call: ring the `To` line (on a thread, like Twilio's dialling)."""
        events = tuple(e for value in form.get("StatusCallbackEvent", []) for e in value.split())
        timeout = float(record.get("Timeout") or self.ring_timeout)
        call = LiveCall(record["Sid"], self.line_of(record.get("To", "")), OUTBOUND, record.get("From", ""),
                        record.get("To", ""), answer_url=record.get("Url", ""),
                        status_callback=record.get("StatusCallback", ""),
                        status_events=events or ("completed",), machine_detection=bool(record.get("MachineDetection")),
                        ring_timeout=timeout)
        with self._lock:
            self.calls[call.sid] = call
        threading.Thread(target=self._ring, args=(call,), daemon=True, name=f"ring-{call.sid}").start()

    def _ring(self, call: LiveCall) -> None:
        with call.lock:
            if call.status != "queued":
                return
            self._progress(call, "initiated")
            call.status = "ringing"
            self._track(call)
            self._progress(call, "ringing")
            self._emit(call, "incoming", **{"from": call.from_number}, ring_timeout=call.ring_timeout)
            call.ring_timer = threading.Timer(call.ring_timeout, self._rang_out, args=(call.sid,))
            call.ring_timer.daemon = True
            call.ring_timer.start()

    def answer(self, sid: str) -> LiveCall:
        call = self.call(sid)
        with call.lock:
            if call.status != "ringing":
                raise CallConflict(f"the call is {call.status}, not ringing")
            if any(c.status == "in-progress" for c in self.on_line(call.line)):
                raise CallConflict(f"{call.line} is already on a call: hang up first")
            self._stop_ringing(call)
            call.status, call.answered_at = "in-progress", time.monotonic()
            self._track(call)
            self._emit(call, "call", direction=OUTBOUND, **{"from": call.from_number, "to": call.to_number})
            self._progress(call, "answered")
            self._fetch(call, call.answer_url, call.form())
        return call

    def decline(self, sid: str) -> LiveCall:
        return self._unanswered(sid, "busy", "declined")

    def ring_out(self, sid: str) -> LiveCall:
        return self._unanswered(sid, "no-answer", "nobody answered")

    def _unanswered(self, sid: str, status: str, reason: str) -> LiveCall:
        call = self.call(sid)
        with call.lock:
            if call.status not in ("queued", "ringing"):
                raise CallConflict(f"the call is {call.status}, not ringing")
            self._end(call, status, reason)
        return call

    def _rang_out(self, sid: str) -> None:
        try:
            self.ring_out(sid)
        except (CallConflict, UnknownCall):
            pass  # answered or declined meanwhile

    def stop(self) -> None:
        with self._lock:
            for call in self.calls.values():
                self._stop_ringing(call)
