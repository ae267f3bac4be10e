"""One transaction per Twilio webhook, and work queued only after the answer is sent.

Shared by the voice and SMS webhooks: both may be delivered twice at once by Twilio's retries.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from telephony import database
from telephony.flow_host import AfterCommit, StepResult

log = logging.getLogger(__name__)


def committed(work: Callable[[Session], StepResult]) -> Response:
    """Run one webhook's work in one transaction and answer it.

    Twilio may deliver the same webhook twice at once (a retry, or a <Record> action racing its
    status callback). The loser of such a race hits a unique key at commit; it runs again and
    now finds the winner's rows, answering as a retry does. Queue work runs once the answer is
    sent (Response.call_on_close): the committed rows hold it if Redis is down or the process dies,
    and the sweeper re-enqueues it.
    """
    for attempt in range(3):
        session = database.session()
        try:
            result = work(session)
            session.commit()
            break
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
            log.info("webhook raced a duplicate delivery; answering again from the stored rows")
    response = Response(result.twiml, mimetype="text/xml") if result.twiml else Response(status=204)
    if result.after_commit:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: run_after(app, result.after_commit))
    return response


def run_after(app: Flask, after: list[AfterCommit]) -> None:
    with app.app_context():
        for job in after:
            try:
                job()
            except Exception:  # noqa: BLE001 - the database has it; the sweeper re-enqueues
                log.exception("could not enqueue after commit; the sweeper will pick it up")
