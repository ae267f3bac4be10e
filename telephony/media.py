"""The caller's own voice, played on outbound calls from our server instead of Twilio's
recording URL (which needs the account's credentials and would expose the account).

Twilio fetches <Play> URLs without cookies, so the URL carries an expiry and an HMAC over the
recording sid (key: SECRET_KEY, else the per-install key the dashboard uses). The file is the
local copy kept by the transcription job, fetched from Twilio on first use.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, current_app, request, send_file

from telephony.config import Settings
from worker.audio import RecordingUnavailable
from worker.audio_store import local_copy

log = logging.getLogger(__name__)
bp = Blueprint("media", __name__, url_prefix="/media")
PLAY_URL_TTL_S = 3 * 24 * 3600  # a call-back may be retried for days; a context is rebuilt per call


def signing_key(settings: Settings) -> bytes:
    from telephony.launch import secret_key

    return secret_key(settings).encode()


def _signature(key: bytes, recording_sid: str, expires: int) -> str:
    return hmac.new(key, f"{recording_sid}:{expires}".encode(), hashlib.sha256).hexdigest()


def play_url(settings: Settings, recording_sid: str, now: float | None = None) -> str:
    """A public URL Twilio can <Play> for PLAY_URL_TTL_S, and nobody can guess for another recording."""
    expires = int((now if now is not None else time.time()) + PLAY_URL_TTL_S)
    query = urlencode({"expires": expires, "sig": _signature(signing_key(settings), recording_sid, expires)})
    return f"{settings.public_base_url.rstrip('/')}/media/recordings/{recording_sid}.wav?{query}"


def valid(settings: Settings, recording_sid: str, expires: str, sig: str, now: float | None = None) -> bool:
    if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_signature(signing_key(settings), recording_sid, int(expires)), sig)


@bp.get("/recordings/<recording_sid>.wav")
def recording(recording_sid: str) -> Any:
    from grid.models import Recording
    from telephony import database

    settings: Settings = current_app.config["SETTINGS"]
    if not valid(settings, recording_sid, request.args.get("expires", ""), request.args.get("sig", "")):
        abort(403)
    row = database.session().query(Recording).filter_by(recording_sid=recording_sid).one_or_none()
    if row is None:
        abort(404)
    try:
        path = local_copy(settings, row.recording_sid, row.url)
    except (RecordingUnavailable, ValueError, OSError) as exc:
        log.warning("recording %s cannot be played on a call: %s", row.id, exc)
        abort(404)
    return send_file(path, mimetype="audio/wav", max_age=0)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
