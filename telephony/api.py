"""The staff JSON API: verification calls staff ask for, authenticated by a bearer token.

Not a Twilio webhook: no signature, JSON in and out, no CSRF (no cookies: a token in a header).
Tokens come from API_TOKENS ("name:token,..."); with none configured every request is refused.
When the call may ring (quiet hours, time zone) is worker.callbacks.request_staff_call's business;
the request rules live here once, so `flask calls request` (telephony.cli_callbacks) obeys the same.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid import registry, timeline
from grid.models import CallBack, Person, Recording, Report, as_utc
from grid.phones import InvalidPhone, mask, normalise
from grid.timeline import Actor
from telephony import database, effects
from telephony.config import Settings
from worker import callbacks

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
LANGUAGES = ("zh-CN", "en-US")
MAX_QUESTION = 500
_FIELDS = ("person_id", "phone", "report_id", "question", "language")
_MAX_ID = 2**31 - 1  # an INTEGER column: larger ids cannot exist


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


class RequestError(Exception):
    """A refused request: the HTTP status, a reason staff can act on, and the field at fault."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass(frozen=True)
class StaffCallRequest:
    """Who to call (a registry person or a phone number), what to ask, about which report."""

    question: str
    person_id: int | None = None
    phone: str = ""
    report_id: int | None = None
    language: str = ""  # only for a number the registry does not know


def parse_body(body: object) -> StaffCallRequest:
    """The JSON body as a request; wrong types and unknown fields (typos) are refused by name."""
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise RequestError(400, f"unknown field {unknown[0]!r}; expected one of {', '.join(_FIELDS)}", unknown[0])
    return StaffCallRequest(
        question=_text(body, "question"),
        person_id=_id(body, "person_id"),
        phone=_text(body, "phone"),
        report_id=_id(body, "report_id"),
        language=_text(body, "language"),
    )


def _id(body: dict[str, Any], field: str) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_ID:
        raise RequestError(400, f"{field} must be a positive whole number", field)
    return value


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RequestError(400, f"{field} must be a string", field)
    return value


def schedule_staff_call(
    session: Session, settings: Settings, req: StaffCallRequest, *, now: datetime, requested_by: str, channel: str
) -> CallBack:
    """Validate the request and create its call-back (the caller commits, then enqueues).

    A phone number that belongs to somebody in the registry calls that person: their language
    and quiet hours apply. A call about a report also goes on the report's timeline.
    """
    question = req.question.strip()
    if not question:
        raise RequestError(400, "question is required: it is read out on the call", "question")
    if len(question) > MAX_QUESTION:
        raise RequestError(400, f"question is {len(question)} characters; at most {MAX_QUESTION}", "question")
    if req.language and req.language not in LANGUAGES:
        raise RequestError(400, f"language must be one of {', '.join(LANGUAGES)}", "language")
    person, phone = _target(session, settings, req)
    report = None
    if req.report_id is not None:
        report = session.get(Report, req.report_id)
        if report is None:
            raise RequestError(404, f"report {req.report_id} not found", "report_id")
    callback = callbacks.request_staff_call(
        session, settings, now=now, question=question, requested_by=requested_by, person=person, phone=phone,
        report=report,
    )
    if person is None and req.language:
        callback.language = req.language
    if report is not None:
        timeline.record(session, report, "call", now, Actor(label=requested_by, channel=channel), f"staff question: {question}")
    session.flush()
    log.info("%s asked call-back %s to %s (report %s)", requested_by, callback.id, mask(callback.to_number), callback.report_id)
    return callback


def _target(session: Session, settings: Settings, req: StaffCallRequest) -> tuple[Person | None, str]:
    if req.person_id is not None and req.phone:
        raise RequestError(400, "give person_id or phone, not both", "phone")
    if req.person_id is not None:
        person = session.get(Person, req.person_id)
        if person is None:
            raise RequestError(404, f"person {req.person_id} not found", "person_id")
        return person, person.phone
    if not req.phone:
        raise RequestError(400, "person_id or phone is required: who is to be called", "person_id")
    try:
        phone = normalise(req.phone, settings.default_region)
    except InvalidPhone as exc:
        raise RequestError(400, exc.reason, "phone") from exc
    people = registry.people_by_phone(session, phone)
    return (people[0] if people else None), phone


def enqueue_safely(callback: CallBack) -> bool:
    """Queue the committed call-back; False when Redis failed (the row stays, the sweeper places it)."""
    try:
        effects.enqueue_call_back(callback)()
    except Exception:  # noqa: BLE001 - the database has it; the sweeper re-enqueues when it is due
        log.exception("call-back %s is saved but not queued; the sweeper will place it", callback.id)
        return False
    return True


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def summary(callback: CallBack) -> dict[str, Any]:
    """What a new call-back's creator needs: its id, state and when it will ring (UTC)."""
    return {
        "id": callback.id,
        "status": callback.status,
        "purpose": callback.purpose,
        "scheduled_for": _iso(callback.scheduled_for),
        "to": mask(callback.to_number),
        "person_id": callback.person_id,
        "report_id": callback.report_id,
    }


def describe(session: Session, callback: CallBack) -> dict[str, Any]:
    """The call-back as staff follow it: the question, each attempt, the answer and the voice note."""
    notes = session.scalars(select(Recording).where(Recording.callback_id == callback.id).order_by(Recording.id))
    return {
        **summary(callback),
        "question": callback.question,
        "requested_by": callback.requested_by,
        "language": callback.language,
        "attempts": [
            {
                "number": a.number,
                "status": a.status,
                "outcome": a.outcome,
                "placed_at": _iso(a.placed_at),
                "ended_at": _iso(a.ended_at),
                "error": a.error,
            }
            for a in callback.attempt_rows
        ],
        "last_error": callback.last_error,
        "answer": callback.answer,
        "answered_at": _iso(callback.answered_at),
        "voice_notes": [
            {"kind": r.kind, "transcript_status": r.transcript_status, "transcript_text": r.transcript_text} for r in notes
        ],
    }


def _error(status: int, message: str, field: str = "") -> Response:
    body = {"error": message, "field": field} if field else {"error": message}
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(RequestError)
def _refused(exc: RequestError) -> Response:
    return _error(exc.status, exc.message, exc.field)


def token_name(settings: Settings, authorization: str) -> str | None:
    """The name of the API token in an `Authorization: Bearer ...` header, or None.

    Every configured token is compared in constant time; no tokens configured means no access.
    """
    scheme, _, token = authorization.partition(" ")
    given = token.strip().encode()
    if scheme.lower() != "bearer" or not given:
        return None
    found = None
    for known, name in settings.api_token_names().items():
        if hmac.compare_digest(known.encode(), given):
            found = name
    return found


@bp.before_request
def _authenticate() -> Response | None:
    settings: Settings = current_app.config["SETTINGS"]
    header = request.headers.get("Authorization", "")
    name = token_name(settings, header)
    if name is not None:
        g.api_client = name
        return None
    if not settings.api_tokens:
        log.warning("API request refused: API_TOKENS is not set, so the API is closed")
    if not header:
        response = _error(401, "an Authorization: Bearer <token> header is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridline"'
    else:
        log.warning("API request refused: invalid token from %s", request.remote_addr)
        response = _error(401, "invalid token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="gridline", error="invalid_token"'
    return response


@bp.post("/verification-calls")
def create_verification_call() -> Response:
    """Schedule a staff question to a person or number; 201 with where to follow it."""
    body = request.get_json(silent=True)
    if body is None:
        return _error(400, "the body must be JSON, sent with Content-Type: application/json")
    session = database.session()
    req = parse_body(body)
    callback = schedule_staff_call(
        session, current_app.config["SETTINGS"], req, now=effects.now(), requested_by=f"api:{g.api_client}",
        channel="api",
    )
    session.commit()
    response = jsonify(summary(callback))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_verification_call", callback_id=callback.id)
    # Queue it once the answer is sent, as the webhooks do: a slow Redis never holds the request.
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def enqueue_after_answer() -> None:
        with app.app_context():
            enqueue_safely(callback)

    response.call_on_close(enqueue_after_answer)
    return response


@bp.get("/verification-calls/<int:callback_id>")
def get_verification_call(callback_id: int) -> Response:
    """A call-back's state: attempts, the yes/no answer and the recorded voice note."""
    session = database.session()
    callback = session.get(CallBack, callback_id)
    if callback is None:
        return _error(404, f"call-back {callback_id} not found")
    return jsonify(describe(session, callback))
