"""A Twilio-compatible REST endpoint (the part GridLine uses), served on a local port.

It speaks Twilio's documented protocol: form-encoded POSTs to
/2010-04-01/Accounts/{AccountSid}/Calls.json and /Messages.json with HTTP basic auth,
JSON answers carrying a Sid, and recordings under /Recordings/{Sid}(.wav). The app's real
`twilio` client talks to it through TWILIO_API_BASE_URL. Tests use it; so can a demo.
"""
from __future__ import annotations

import itertools
import threading
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
    # Recording downloads without credentials: the simulator's case, where the worker may run
    # before any TWILIO_ACCOUNT_SID is configured. REST calls always need them.
    open_recordings: bool = False
    recording_fetched: threading.Event = field(default_factory=threading.Event)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the sandbox first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def recording_url(self, recording_sid: str) -> str:
        """The RecordingUrl Twilio would post in webhooks (no extension)."""
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{recording_sid}"

    def add_recording(self, recording_sid: str, wav: bytes) -> str:
        self.recordings[recording_sid] = wav
        return self.recording_url(recording_sid)

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

    def _error(self, status: int) -> Response:
        code = {400: 21211, 404: 20404, 429: 20429}.get(status, 20500)  # 21211: invalid 'To' number
        body = {"code": code, "message": f"sandbox answered {status}", "status": status}
        return Response(jsonify(body).get_data(), status=status, mimetype="application/json")

    def _app(self) -> Flask:
        app = Flask("twilio-sandbox")

        @app.post(f"{API_PREFIX}/Calls.json")
        def create_call(account_sid: str) -> Any:
            return self._create(account_sid, "CA", self.calls, self.fail_calls)

        @app.post(f"{API_PREFIX}/Messages.json")
        def create_message(account_sid: str) -> Any:
            return self._create(account_sid, "SM", self.messages, self.fail_messages)

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

        return app

    def _create(self, account_sid: str, prefix: str, store: list[dict[str, str]], failures: list[int]) -> Any:
        if not self._authorised() or account_sid != self.account_sid:
            return Response(status=401)
        if failures:
            return self._error(failures.pop(0))
        sid = f"{prefix}{next(self._ids):032x}"
        record = {"Sid": sid, **request.form.to_dict()}
        store.append(record)
        return jsonify({"sid": sid, "account_sid": account_sid, "status": "queued", "to": record.get("To")}), 201
