"""The sandbox phone's JSON API: what the page (static/phone.js) and the CLI (sandbox/cli.py) do.

Every POST needs the header `X-Sandbox-Phone: 1`. Numbers in paths may be typed as people type
them ("138 0000 0004", URL-encoded); they are normalised like the registry's. Errors answer
{"error": "..."} with 400 (bad number or input), 404 (no such call), 409 (not now: e.g. answering
a call that stopped ringing), 502 (GridLine failed a webhook).

  GET  /phone/api/config                         hotline, public_base_url, app_url, account_sid, ring_timeout
  GET  /phone/api/people                         {"people": [{id, name, phone, role, role_zh, role_en, grid,
                                                 grid_code, language, on_duty}], "error": ""}
  POST /phone/api/lines          {"number"}      {"number": E.164, "person": {...} | null}
  GET  /phone/api/lines/<n>/events?after=ID&wait=S
                                                 {"number", "events": [...], "last_id", "calls": [call...]}
  GET  /phone/api/lines/<n>/thread               {"number", "messages": [sms events]}
  POST /phone/api/lines/<n>/call                 {"call": call}: the phone calls the hotline
  POST /phone/api/lines/<n>/sms  {"body"}        {"events": [the text, the replies]}
  GET  /phone/api/calls/<sid>                    {"call": call}
  POST /phone/api/calls/<sid>/keys {"keys": "1"} {"call": call}: key presses, in order
  POST /phone/api/calls/<sid>/silence            {"call": call}: the <Gather>/<Record> timed out
  POST /phone/api/calls/<sid>/recording          multipart: audio=<file>, finish ("#", a key, hangup, timeout,
                                                 max-length), seconds (optional) -> {"call": call}
  POST /phone/api/calls/<sid>/hangup | answer | decline | ring-out   {"call": call}

A call is {call_sid, line, direction, from, to, status, digits, waiting: null | {kind: gather|record, ...}};
the events are described in sandbox/lines.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, jsonify, request

from grid.phones import InvalidPhone, normalise
from sandbox.calls import LiveCall
from sandbox.switchboard import RECORDING_FINISHES

if TYPE_CHECKING:
    from sandbox.server import PhoneSandbox

MAX_WAIT_S = 25.0
CSRF_HEADER = "X-Sandbox-Phone"  # required on POSTs: a cross-site form cannot send it without a preflight


def error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


def require_csrf_header() -> None:
    if request.method == "POST" and request.headers.get(CSRF_HEADER) != "1":
        abort(error(403, f"send the header {CSRF_HEADER}: 1 with every POST (the page and the CLI do)"))


def describe(sandbox: PhoneSandbox) -> dict[str, Any]:
    """What the page and the CLI are told about the sandbox (no secrets)."""
    return {"hotline": sandbox.hotline, "public_base_url": sandbox.settings.public_base_url, "app_url": sandbox.app_url,
            "account_sid": sandbox.api.account_sid, "ring_timeout": sandbox.switchboard.ring_timeout}


def register(app: Flask, sandbox: PhoneSandbox) -> None:
    """The routes, on `app`, driving `sandbox`."""
    bp = Blueprint("phone_api", __name__, url_prefix="/phone/api")
    bp.before_request(require_csrf_header)
    board = sandbox.switchboard

    def called(call: LiveCall) -> Response:
        return jsonify({"call": call.snapshot()})

    def line(number: str) -> str:
        return board.line_of(number)

    @bp.get("/config")
    def config() -> Response:
        return jsonify(describe(sandbox))

    @bp.get("/people")
    def people() -> Response:
        found, reason = sandbox.registry.people_or_reason()
        return jsonify({"people": found, "error": reason})

    @bp.post("/lines")
    def choose() -> Response:
        raw = str(_body().get("number", ""))
        try:
            number = normalise(raw, sandbox.settings.default_region)
        except InvalidPhone as exc:
            return error(400, exc.reason)
        found, _ = sandbox.registry.people_or_reason()
        person = next((p for p in found if p["phone"] == number), None)
        return jsonify({"number": number, "person": person})

    @bp.get("/lines/<path:number>/events")
    def events(number: str) -> Response:
        number = line(number)
        after = request.args.get("after", type=int, default=0)  # -1: nothing old, just where the log is now
        wait = min(MAX_WAIT_S, max(0.0, request.args.get("wait", type=float, default=0.0)))
        found = sandbox.lines.after(number, after, wait) if after >= 0 else []
        last_id = found[-1]["id"] if found else (after if after >= 0 else sandbox.lines.last_id(number))
        return jsonify({"number": number, "events": found, "last_id": last_id,
                        "calls": [c.snapshot() for c in board.on_line(number)]})

    @bp.get("/lines/<path:number>/thread")
    def thread(number: str) -> Response:
        number = line(number)
        return jsonify({"number": number, "messages": sandbox.lines.thread(number)})

    @bp.post("/lines/<path:number>/call")
    def call_hotline(number: str) -> Response:
        return called(board.dial_hotline(line(number)))

    @bp.post("/lines/<path:number>/sms")
    def text(number: str) -> Response:
        body = str(_body().get("body", ""))
        return jsonify({"events": sandbox.texting.send(line(number), body)})

    @bp.get("/calls/<sid>")
    def show(sid: str) -> Response:
        return called(board.call(sid))

    @bp.post("/calls/<sid>/keys")
    def keys(sid: str) -> Response:
        pressed = str(_body().get("keys", ""))
        if not pressed or any(k not in "0123456789*#" for k in pressed):
            return error(400, "keys are 0-9, * and #")
        return called(board.press(sid, pressed))

    @bp.post("/calls/<sid>/recording")
    def recording(sid: str) -> Response:
        upload = request.files.get("audio")
        data = upload.read() if upload is not None else request.get_data()
        finish = request.form.get("finish") or request.args.get("finish") or "#"
        if finish not in RECORDING_FINISHES and (len(finish) != 1 or finish not in "0123456789*#"):
            return error(400, f"finish is a key or one of {', '.join(RECORDING_FINISHES)}")
        seconds = request.form.get("seconds", type=float) or request.args.get("seconds", type=float)
        return called(board.record(sid, data, finish, seconds))

    # what the person does that needs no more than the call: silence, hangup, answer, decline, ring-out
    simple = {"silence": board.silence, "hangup": board.hangup, "answer": board.answer, "decline": board.decline,
              "ring-out": board.ring_out}

    @bp.post("/calls/<sid>/<action>")
    def act(sid: str, action: str) -> Response:
        if action not in simple:
            return error(404, f"no such action: {action}")
        return called(simple[action](sid))

    app.register_blueprint(bp)


def _body() -> dict[str, Any]:
    """A JSON object body, or the form fields."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()
