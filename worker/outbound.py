"""The job that places a call-back through the twilio REST client.

Claimed with a conditional UPDATE so two workers (or a job run twice) never ring twice.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from twilio.base.exceptions import TwilioRestException

from grid.models import CallBack
from grid.phones import mask
from telephony.config import Settings
from telephony.rest import make_client
from worker.context import current

log = logging.getLogger(__name__)


def callback_urls(settings: Settings, callback_id: int) -> tuple[str, str]:
    base = settings.public_base_url.rstrip("/")
    return (
        f"{base}/twilio/voice/outbound?callback={callback_id}",
        f"{base}/twilio/voice/status?callback={callback_id}",
    )


def place_call_back(callback_id: int) -> str:
    """Place the call. Returns what happened, for the job's result."""
    ctx = current()
    settings = ctx.settings
    if not settings.twilio_configured:  # stays scheduled; the sweeper offers it again each minute
        log.warning("call-back %s waits: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set", callback_id)
        return "waiting for Twilio credentials"
    with ctx.sessions() as session:
        claim = update(CallBack).where(CallBack.id == callback_id, CallBack.status == "scheduled")
        result = cast(CursorResult[Any], session.execute(claim.values(status="placing", attempts=CallBack.attempts + 1)))
        claimed = result.rowcount
        session.commit()
        if not claimed:
            return "already placed or not scheduled"
        callback = session.get(CallBack, callback_id)
        assert callback is not None
        url, status_url = callback_urls(settings, callback_id)
        try:
            call = make_client(settings).calls.create(
                to=callback.to_number,
                from_=settings.twilio_number,
                url=url,
                method="POST",
                status_callback=status_url,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                callback.status = "scheduled"  # let RQ's Retry try again with backoff
                callback.last_error = f"HTTP {exc.status}: {exc.msg}"
                session.commit()
                raise
            callback.status = "failed"
            callback.last_error = f"Twilio error {exc.code}: {exc.msg}"
            session.commit()
            log.warning("call-back %s to %s failed: %s", callback_id, mask(callback.to_number), callback.last_error)
            return "failed"
        except Exception as exc:  # network down, not configured: keep it scheduled, RQ retries
            callback.status = "scheduled"
            callback.last_error = str(exc)
            session.commit()
            raise
        callback.status = "placed"
        callback.call_sid = call.sid
        callback.last_error = ""
        session.commit()
        log.info(
            "call-back %s placed to %s (%s) at %s",
            callback_id, mask(callback.to_number), call.sid, datetime.now(UTC).isoformat(),
        )
        return "placed"
