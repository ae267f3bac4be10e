"""Local copies of call recordings, so staff hear them through the app and never via a Twilio URL.

The transcription job keeps the WAV it downloaded; the dashboard fetches (with the account's
credentials) and keeps any recording it has no copy of yet. Files live under
instance/recordings/<RecordingSid>.wav; several web hosts would need this folder shared.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

from telephony.config import Settings
from worker.audio import download_recording

log = logging.getLogger(__name__)
_SID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def path_for(instance_dir: Path, recording_sid: str) -> Path:
    """Where a recording's copy lives; ValueError for a sid that is not a plain Twilio id."""
    if not _SID.match(recording_sid):
        raise ValueError(f"not a recording sid: {recording_sid!r}")
    return instance_dir / "recordings" / f"{recording_sid}.wav"


def keep(instance_dir: Path, recording_sid: str, data: bytes) -> Path | None:
    """Write the copy atomically (a reader never sees half a file); None, logged, when the disk refuses."""
    target = path_for(instance_dir, recording_sid)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
        return target
    except OSError as exc:
        log.warning("could not keep a copy of recording %s: %s", recording_sid, exc)
        return None


def local_copy(settings: Settings, recording_sid: str, url: str) -> Path:
    """The recording's local file, downloading it once (RecordingUnavailable when Twilio won't give it)."""
    target = path_for(settings.instance_dir, recording_sid)
    if target.exists():
        return target
    data = download_recording(url, settings.twilio_account_sid, settings.twilio_auth_token, timeout=10, attempts=2)
    kept = keep(settings.instance_dir, recording_sid, data)
    if kept is None:
        raise OSError(f"cannot write {target}")
    return kept
