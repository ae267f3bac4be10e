"""A Twilio-compatible REST endpoint (the part GridLine uses), served on a local port.

It speaks Twilio's documented protocol: form-encoded POSTs to
/2010-04-01/Accounts/{AccountSid}/Calls.json and /Messages.json with HTTP basic auth,
JSON answers carrying a Sid, a call's state at /Calls/{CallSid}.json, and recordings under
/Recordings/{Sid}(.wav). The app's real `twilio` client talks to it through TWILIO_API_BASE_URL.
Tests use it; so can a demo or a benchmark (`call_times`, `max_cps`, `throttled`).
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

API_PREFIX = "/2010-04-01/Accounts/<account_sid>"


@dataclass
class TwilioSandbox:
    account_sid: str
    auth_token: str
    calls: list[dict[str, str]] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    recordings: dict[str, bytes] = field(default_factory=dict)
    recording_fetches: list[str] = field(default_factory=list)
    # Status codes to answer the next call / message requests with before succeeding ([429, 500]).
    fail_calls: list[int] = field(default_factory=list)
    fail_messages: list[int] = field(default_factory=list)
    # Numbers that unsubscribed at Twilio (texted STOP to it): a message to one is refused with HTTP 400,
    # error 21610 "Attempt to send to unsubscribed recipient", as Twilio does.
    unsubscribed: set[str] = field(default_factory=set)
    # Recording downloads without credentials: the simulator's case, where the worker may run
    # before any TWILIO_ACCOUNT_SID is configured. REST calls always need them.
    open_recordings: bool = False
    recording_fetched: threading.Event = field(default_factory=threading.Event)
    # time.monotonic() when each call in `calls` was accepted, same order: placement pacing, measured.
    call_times: list[float] = field(default_factory=list)
    # Each call's state as GET /Calls/{CallSid}.json reports it; tests move it with set_call_status().
    call_states: dict[str, dict[str, str | None]] = field(default_factory=dict)
    # Calls per second to accept: a call POSTed less than 1/max_cps (minus max_cps_slack seconds)
    # after the last accepted one gets 429 / 20429. Twilio queues such calls instead; here a 429
    # marks a pacing fault, which a test or benchmark counts in `throttled` (monotonic times).
    # Calls paced to exact slots still arrive a few ms early or late (HTTP, threads: up to 2.5 ms
    # measured at 10 cps, idle), so a benchmark that expects no 429 should allow ~10-20 ms of slack.
    max_cps: float | None = None
    max_cps_slack: float = 0.0
    throttled: list[float] = field(default_factory=list)
    # Served inside another app (sandbox/server.py mounts these routes with register()): its base URL.
    served_at: str = ""
    # Told of each accepted call (the record, and the form with repeated fields such as
    # StatusCallbackEvent as lists) and each accepted message: the sandbox phone rings and shows texts.
    on_call: Callable[[dict[str, str], dict[str, list[str]]], None] | None = None
    on_message: Callable[[dict[str, str]], None] | None = None
    _calls_lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self.served_at:
            return self.served_at
        assert self._server is not None, "start() the sandbox first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def recording_url(self, recording_sid: str) -> str:
        """The RecordingUrl Twilio would post in webhooks (no extension)."""
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}"

    def add_recording(self, recording_sid: str, wav: bytes) -> str:
        self.recordings[recording_sid] = wav
        return self.recording_url(recording_sid)

    def set_call_status(self, call_sid: str, status: str, answered_by: str = "", duration: int | None = None) -> None:
        """Move a call on, as Twilio would as it rings and ends ("ringing", "completed", "no-answer"...),
        for a later GET of the call (e.g. reconciling a call whose status callback never came)."""
        state = self.call_states[call_sid]  # KeyError: no such call was placed
        state.update(status=status, answered_by=answered_by or None, duration=None if duration is None else str(duration))

    def start(self) -> TwilioSandbox:
        self._server = make_server("127.0.0.1", 0, self._app(), threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TwilioSandbox:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _authorised(self) -> bool:
        auth = request.authorization
        return bool(auth and auth.username == self.account_sid and auth.password == self.auth_token)

    def _error(self, status: int, message: str = "", code: int | None = None) -> Response:
        code = code or {400: 21211, 404: 20404, 429: 20429}.get(status, 20500)  # 21211: invalid 'To' number
        body = {"code": code, "message": message or f"sandbox answered {status}", "status": status}
        return Response(jsonify(body).get_data(), status=status, mimetype="application/json")

    def _app(self) -> Flask:
        app = Flask("twilio-sandbox")
        self.register(app)
        return app

    def register(self, app: Flask) -> None:
        """Add the REST routes to `app` (this sandbox's own server, or a larger one)."""

        @app.post(f"{API_PREFIX}/Calls.json")
        def create_call(account_sid: str) -> Any:
            with self._calls_lock:  # the server is threaded: the pacing check and the record are one step
                now = time.monotonic()
                refusal = self._refusal(account_sid, self.fail_calls)
                if refusal is None and self._too_soon(now):
                    self.throttled.append(now)
                    refusal = self._error(429, "Too Many Requests: calls per second exceeded")
                if refusal is not None:
                    return refusal
                record, answer = self._accept(account_sid, "CA", self.calls)
                self.call_times.append(now)
                self.call_states[record["Sid"]] = {
                    "to": record.get("To"), "from": record.get("From"), "status": "queued", "answered_by": None,
                    "duration": None,
                }
            if self.on_call is not None:
                self.on_call(record, request.form.to_dict(flat=False))
            return answer

        @app.get(f"{API_PREFIX}/Calls/<call_sid>.json")
        def fetch_call(account_sid: str, call_sid: str) -> Any:
            if not self._authorised() or account_sid != self.account_sid:
                return Response(status=401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
            if call_sid not in self.call_states:
                return self._error(404, f"The requested resource /Calls/{call_sid}.json was not found")
            return jsonify(self._call_json(account_sid, call_sid))

        @app.post(f"{API_PREFIX}/Messages.json")
        def create_message(account_sid: str) -> Any:
            if self._authorised() and request.form.get("To") in self.unsubscribed:
                return self._error(400, "Attempt to send to unsubscribed recipient", code=21610)
            refusal = self._refusal(account_sid, self.fail_messages)
            if refusal is not None:
                return refusal
            record, answer = self._accept(account_sid, "SM", self.messages)
            if self.on_message is not None:
                self.on_message(record)
            return answer

        @app.get(f"{API_PREFIX}/Recordings/<recording_sid>")
        def recording(account_sid: str, recording_sid: str) -> Any:
            if not (self.open_recordings or self._authorised()):
                return Response(status=401, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
            sid = recording_sid.removesuffix(".wav")
            self.recording_fetches.append(sid)
            if sid not in self.recordings:
                return self._error(404)
            self.recording_fetched.set()
            return Response(self.recordings[sid], mimetype="audio/x-wav")

    def _too_soon(self, now: float) -> bool:
        if not self.max_cps or not self.call_times:
            return False
        return now - self.call_times[-1] < 1 / self.max_cps - self.max_cps_slack

    def _call_json(self, account_sid: str, call_sid: str) -> dict[str, Any]:
        """The fields of Twilio's Call resource that GridLine reads (the others are left out: null)."""
        return {
            "sid": call_sid,
            "account_sid": account_sid,
            "direction": "outbound-api",
            **self.call_states[call_sid],
            "uri": f"/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json",
        }

    def _refusal(self, account_sid: str, failures: list[int]) -> Response | None:
        """The answer to a create request that must fail: bad credentials, or a failure queued by a test."""
        if not self._authorised() or account_sid != self.account_sid:
            return Response(status=401)
        if failures:
            return self._error(failures.pop(0))
        return None

    def _accept(self, account_sid: str, prefix: str, store: list[dict[str, str]]) -> tuple[dict[str, str], Any]:
        """Record the request under a new Sid and answer 201 as Twilio does."""
        sid = f"{prefix}{next(self._ids):032x}"
        record = {"Sid": sid, **request.form.to_dict()}
        store.append(record)
        return record, (jsonify({"sid": sid, "account_sid": account_sid, "status": "queued", "to": record.get("To")}), 201)
