"""Recordings played in the dashboard: served through the app, after the same access check as the
report, from the local copy (fetched from Twilio with the account's credentials the first time)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, g, send_file

from grid import access
from grid.models import CallBack, Recording, Report
from telephony import database
from telephony.dashboard import csrf
from worker.audio import RecordingUnavailable
from worker.audio_store import local_copy

log = logging.getLogger(__name__)
bp = Blueprint("audio", __name__, url_prefix="/dashboard/recordings")
csrf.protect(bp)


def recording_report(recording: Recording) -> Report | None:
    """The report a recording belongs to: its own, or that of the call-back it answered."""
    if recording.report is not None:
        return recording.report
    if recording.callback_id is not None:
        callback = database.session().get(CallBack, recording.callback_id)
        return callback.report if callback is not None else None
    return None


@bp.get("/<int:recording_id>.wav")
def play(recording_id: int) -> Any:
    session = database.session()
    recording = session.get(Recording, recording_id)
    if recording is None:
        abort(404)
    report = recording_report(recording)
    # a voice note with no report (a staff question about nothing in particular): staff only
    allowed = access.can_see(session, g.user, report) if report is not None else g.user.role == "staff"
    if not allowed:
        abort(403)
    try:
        path = local_copy(current_app.config["SETTINGS"], recording.recording_sid, recording.url)
    except (RecordingUnavailable, ValueError, OSError) as exc:
        log.warning("recording %s cannot be played: %s", recording_id, exc)
        abort(404, description="recording unavailable")
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
