"""The sandbox phone: one local process that is Twilio for GridLine and a phone for people.

It serves, on 127.0.0.1:SANDBOX_PORT (5001):
  /2010-04-01/...   the Twilio REST subset the app uses (sandbox/twilio_api.py): point the app's
                    TWILIO_API_BASE_URL here and its own twilio client places calls and texts through it
  /phone            the browser phone (templates/phone.html, static/phone.js)
  /phone/api/...    the phone's JSON API, which the page and `python -m sandbox.cli` both use
  /phone/media      <Play> audio for the page: the sandbox's own recordings and the app's public URLs only
and plays Twilio's part of every call with signed webhooks to GridLine at GRIDLINE_URL.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from urllib.parse import quote

import requests
from flask import Flask, Response, render_template, request
from werkzeug.serving import BaseWSGIServer, make_server

from sandbox.api import error, register
from sandbox.calls import CallConflict, UnknownCall
from sandbox.lines import Lines
from sandbox.people import Registry
from sandbox.switchboard import Switchboard
from sandbox.texting import Texting
from sandbox.twilio_api import TwilioSandbox
from sandbox.webhooks import AppError, Webhooks
from telephony.config import Settings, load_settings
from telephony.launch import DEFAULT_HOTLINE, LOCAL_ACCOUNT_SID

HERE = Path(__file__).resolve().parent
DEFAULT_PORT = 5001
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def app_url_from_env(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return env.get("GRIDLINE_URL") or f"http://127.0.0.1:{env.get('PORT') or 5000}"


def credentials(settings: Settings) -> tuple[str, str]:
    """The account and token Twilio would have: the configured ones, else the local token the launcher
    writes (the one the app checks signatures with when TWILIO_AUTH_TOKEN is not set)."""
    from telephony.cli_simulate import auth_token

    return settings.twilio_account_sid or LOCAL_ACCOUNT_SID, auth_token(settings)[0]


class PhoneSandbox:
    """The whole sandbox in one object: start() it on a port (0: any free one), stop() it when done."""

    def __init__(self, settings: Settings, app_url: str, *, port: int = 0, host: str = "127.0.0.1",
                 ring_timeout: float = 30.0, inbound_status_callback: str = "") -> None:
        account_sid, token = credentials(settings)
        self.settings, self.host, self.port = settings, host, port
        # Without TWILIO_ACCOUNT_SID the app's worker downloads recordings without credentials (as with
        # the simulator): serve them openly then; REST calls always need them.
        self.api = TwilioSandbox(account_sid, token, open_recordings=not settings.twilio_account_sid)
        self.lines = Lines()
        self.hooks = Webhooks(app_url, settings.public_base_url, token, account_sid)
        self.hotline = settings.twilio_number or DEFAULT_HOTLINE
        self.switchboard = Switchboard(self.lines, self.api, self.hooks, media_src=self.media_src,
                                       inbound_status_callback=inbound_status_callback, hotline=self.hotline,
                                       region=settings.default_region, ring_timeout=ring_timeout)
        self.texting = Texting(self.lines, self.hooks, self.hotline, self.switchboard.line_of)
        self.api.on_call = self.switchboard.placed
        self.api.on_message = self.texting.delivered
        self.registry = Registry(settings.effective_database_url)
        self.app = self._app()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def app_url(self) -> str:
        return self.hooks.app_url

    @app_url.setter
    def app_url(self, url: str) -> None:
        self.hooks.app_url = url

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the sandbox first"
        return f"http://{self.host}:{self._server.server_port}"

    def bind(self) -> PhoneSandbox:
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.api.served_at = self.base_url
        return self

    def start(self) -> PhoneSandbox:
        """Serve on a thread (tests, demos inside another process)."""
        self.bind()
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="phone-sandbox")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        if self._server is None:
            self.bind()
        assert self._server is not None
        try:
            self._server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        self.switchboard.stop()
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.registry.close()

    def __enter__(self) -> PhoneSandbox:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ---- <Play> for the page ---------------------------------------------------------------------
    def _recordings_prefix(self) -> str:
        return self.api.recording_url("")

    def media_src(self, url: str) -> str | None:
        """The page's URL for a <Play> URL, or None when the sandbox will not fetch it (not an open proxy)."""
        public = self.settings.public_base_url.rstrip("/") + "/"
        own_recording = self._server is not None and url.startswith(self._recordings_prefix())
        if own_recording or url.startswith(public):
            return "/phone/media?url=" + quote(url, safe="")
        return None

    def _media(self) -> Response:
        url = request.args.get("url", "")
        if self.media_src(url) is None:
            return error(403, "only the sandbox's recordings and the app's public URLs are played")
        if url.startswith(self._recordings_prefix()):
            sid = url[len(self._recordings_prefix()):].split(".")[0]
            data = self.api.recordings.get(sid)
            if data is None:
                return error(404, f"no recording {sid}")
            return Response(data, mimetype="audio/wav" if data[:4] == b"RIFF" else "application/octet-stream")
        try:
            upstream = self.hooks.get(url)
        except requests.RequestException as exc:
            return error(502, f"cannot fetch {url}: {exc.__class__.__name__}")
        return Response(upstream.iter_content(64 * 1024), status=upstream.status_code,
                        mimetype=upstream.headers.get("Content-Type", "application/octet-stream"))

    # ---- the app ---------------------------------------------------------------------------------
    def _app(self) -> Flask:
        app = Flask("sandbox", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
                    static_url_path="/phone/static")
        app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
        app.json.ensure_ascii = False  # type: ignore[attr-defined]
        self.api.register(app)
        register(app, self)

        @app.get("/")
        @app.get("/phone")
        def page() -> str:
            lang = "en" if request.args.get("lang", "").lower().startswith("en") else "zh"
            return render_template("phone.html", lang=lang, hotline=self.hotline)

        app.add_url_rule("/phone/media", "media", self._media)

        @app.errorhandler(UnknownCall)
        def no_such_call(exc: UnknownCall) -> Response:
            return error(404, f"no such call: {exc.args[0] if exc.args else ''}")

        @app.errorhandler(CallConflict)
        def conflict(exc: CallConflict) -> Response:
            return error(409, str(exc))

        @app.errorhandler(AppError)
        def app_failed(exc: AppError) -> Response:
            return error(502, str(exc))

        return app


def main(argv: list[str] | None = None) -> int:
    """`python -m sandbox`: serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the page polls twice a second
    settings = load_settings()
    port = int(os.environ.get("SANDBOX_PORT") or DEFAULT_PORT)
    ring = float(os.environ.get("SANDBOX_RING_SECONDS") or 30)
    sandbox = PhoneSandbox(settings, app_url_from_env(), port=port, ring_timeout=ring,
                           inbound_status_callback=os.environ.get("SANDBOX_INBOUND_STATUS_CALLBACK", "")).bind()
    print(f"GridLine sandbox phone: {sandbox.base_url}/phone  (Twilio REST at {sandbox.base_url}; "
          f"webhooks to {sandbox.app_url}, signed for {settings.public_base_url})")
    print(f"For the app: TWILIO_API_BASE_URL={sandbox.base_url} TWILIO_ACCOUNT_SID={sandbox.api.account_sid}")
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
