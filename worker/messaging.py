"""The SMS job: one text through the twilio REST client (confirmations for now)."""
from __future__ import annotations

import logging

from rq import get_current_job
from twilio.base.exceptions import TwilioRestException

from grid.phones import mask
from worker.context import current

log = logging.getLogger(__name__)


def send_sms(to: str, body: str) -> str:
    """Send one SMS. 429/5xx raise (RQ retries); other 4xx are logged as final failures."""
    ctx = current()
    settings = ctx.settings
    if not settings.twilio_configured:
        log.warning("SMS to %s not sent: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set", mask(to))
        return "not sent: Twilio not configured"
    try:
        message = ctx.twilio().messages.create(to=to, from_=settings.twilio_number, body=body)
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise
        job = get_current_job()
        log.warning("SMS to %s refused (job %s): Twilio error %s %s", mask(to), job.id if job else "-", exc.code, exc.msg)
        return f"failed: {exc.code}"
    log.info("SMS %s sent to %s", message.sid, mask(to))
    return str(message.sid)
