"""`flask calls ...`: staff ask for a verification call from the command line, and follow it.

Same rules as POST /api/v1/verification-calls (telephony.api); who asked is "cli:<OS user>".
"""
from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from grid.models import CallBack, as_utc
from grid.phones import mask
from telephony import effects
from telephony.api import LANGUAGES, RequestError, StaffCallRequest, describe, enqueue_safely, schedule_staff_call
from telephony.config import Settings

# The API's field names as this command spells them, for error messages.
_OPTIONS = {"person_id": "--person-id", "phone": "--phone", "question": "--question", "report_id": "--report",
            "language": "--language"}


def init_app(app: Flask) -> None:
    @app.cli.group("calls")
    def calls_group() -> None:
        """Verification calls staff ask for: a question read out, a yes/no and a voice note back."""

    @calls_group.command("request")
    @click.option("--person-id", type=int, help="Who to call, by registry id.")
    @click.option("--phone", default="", help="Or a phone number (a registered number calls that person).")
    @click.option("--question", required=True, help="Read out on the call (at most 500 characters).")
    @click.option("--report", "report_id", type=int, help="The report the question is about.")
    @click.option("--language", type=click.Choice(LANGUAGES), help="For a number the registry does not know.")
    def request_command(person_id: int | None, phone: str, question: str, report_id: int | None,
                        language: str | None) -> None:
        """Schedule a verification call; quiet hours apply. Prints its id, the number and when it rings."""
        settings: Settings = current_app.config["SETTINGS"]
        req = StaffCallRequest(question=question, person_id=person_id, phone=phone, report_id=report_id,
                               language=language or "")
        now = effects.now()
        with _sessions()() as session:
            try:
                callback = schedule_staff_call(session, settings, req, now=now, requested_by=f"cli:{_os_user()}",
                                               channel="cli")
            except RequestError as exc:
                option = _OPTIONS.get(exc.field, "")
                raise click.ClickException(f"{option}: {exc.message}" if option else exc.message) from exc
            session.commit()
            queued = enqueue_safely(callback)
            line = f"call-back {callback.id} to {mask(callback.to_number)}: {_rings(callback, settings, now)}"
        click.echo(line)
        if not queued:
            click.echo("note: Redis is unreachable; the call-back is saved and the sweeper will place it", err=True)

    @calls_group.command("show")
    @click.argument("callback_id", type=int)
    def show_command(callback_id: int) -> None:
        """Print a call-back's status, attempts, answer and voice note."""
        settings: Settings = current_app.config["SETTINGS"]
        with _sessions()() as session:
            callback = session.get(CallBack, callback_id)
            if callback is None:
                raise click.ClickException(f"call-back {callback_id} not found")
            info = describe(session, callback)
        for line in _show_lines(info, settings):
            click.echo(line)


def _sessions() -> sessionmaker[Session]:
    return current_app.extensions["gridline.sessions"]  # type: ignore[no-any-return]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "unknown"


def _local(value: datetime | str, settings: Settings) -> str:
    """A time (or its ISO text) as staff read it: the community's wall clock, with the zone named."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value).astimezone(ZoneInfo(settings.timezone)).strftime(f"%Y-%m-%d %H:%M {settings.timezone}")


def _rings(callback: CallBack, settings: Settings, now: datetime) -> str:
    if as_utc(callback.scheduled_for) <= now:
        return "rings now"
    return f"rings at {_local(callback.scheduled_for, settings)} (quiet hours)"


def _show_lines(info: dict[str, Any], settings: Settings) -> list[str]:
    scheduled = _local(info["scheduled_for"], settings)
    lines = [
        f"call-back {info['id']} ({info['purpose']}) to {info['to']}: {info['status']}, scheduled for {scheduled}",
        f"question: {info['question']}" if info["question"] else "",
        f"requested by: {info['requested_by']}" if info["requested_by"] else "",
        f"report: {info['report_id']}" if info["report_id"] else "",
    ]
    for attempt in info["attempts"]:
        ended = f", ended {_local(attempt['ended_at'], settings)}" if attempt["ended_at"] else ""
        outcome = attempt["outcome"] or attempt["status"]
        error = f" ({attempt['error']})" if attempt["error"] else ""
        lines.append(f"attempt {attempt['number']}: {outcome}, placed {_local(attempt['placed_at'], settings)}{ended}{error}")
    if info["last_error"]:
        lines.append(f"last error: {info['last_error']}")
    if info["answer"]:
        answered = f" at {_local(info['answered_at'], settings)}" if info["answered_at"] else ""
        lines.append(f"answer: {info['answer']}{answered}")
    else:
        lines.append("answer: none yet")
    for note in info["voice_notes"]:
        text = f": {note['transcript_text']}" if note["transcript_text"] else ""
        lines.append(f"voice note ({note['kind']}, transcript {note['transcript_status']}){text}")
    return [line for line in lines if line]
