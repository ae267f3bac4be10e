"""The MMS job: download a text's photos with the account's credentials and keep them with the report.

Twilio's media URLs need basic auth (like recordings), so staff cannot be sent to them; the files
are kept under the instance folder and the message's media list says where, per item.
"""
from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

from rq import Retry

from grid.models import Message
from worker.audio import RecordingUnavailable, download_recording
from worker.context import current

log = logging.getLogger(__name__)
MAX_MEDIA_BYTES = 10 * 1024 * 1024  # MMS items are far smaller; anything bigger is not a photo from a phone
RETRY = Retry(max=3, interval=[30, 120, 600])


def media_folder(instance_dir: Path, message_sid: str) -> Path:
    return instance_dir / "media" / message_sid


def download_media(message_id: int) -> str:
    """Fetch every media item of an inbound message not yet stored. Safe to run twice."""
    ctx = current()
    settings = ctx.settings
    with ctx.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or not message.media:
            return "nothing to fetch"
        items = [dict(item) for item in message.media]
        folder = media_folder(settings.instance_dir, message.message_sid or str(message.id))
        transient = False
        for index, item in enumerate(items):
            if item.get("status") == "stored":
                continue
            try:
                data = download_recording(
                    item["url"], settings.twilio_account_sid, settings.twilio_auth_token, as_wav=False,
                    max_bytes=MAX_MEDIA_BYTES,
                )
            except RecordingUnavailable as exc:
                item["status"], item["error"] = ("retrying" if exc.transient else "unavailable"), exc.reason
                transient = transient or exc.transient
                continue
            ext = mimetypes.guess_extension(item.get("content_type") or "") or ".bin"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{index}{ext}"
            path.write_bytes(data)
            item["status"], item["path"], item["bytes"] = "stored", str(path), len(data)
        message.media = items
        session.commit()
    if transient:
        raise RuntimeError(f"message {message_id}: some media could not be fetched yet; RQ retries")
    return "stored"
