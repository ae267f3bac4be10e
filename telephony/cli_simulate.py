"""`flask --app telephony simulate-call`: play Twilio's side of an inbound call against a running server.

For newcomers and demos without a Twilio account. Real signed HTTP requests follow the TwiML the
server answers: each <Gather> gets the next key, <Redirect> is followed, a <Record> gets a WAV that
the Twilio stand-in in sandbox/twilio_api.py serves at Twilio's recording path, so the worker can download it. Every
prompt is printed as the caller would hear it.
"""
from __future__ import annotations

import logging
import secrets
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import click
import requests
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from grid.models import Recording
from grid.phones import InvalidPhone, normalise
from sandbox.twilio_api import TwilioSandbox
from telephony.config import Settings
from telephony.launch import DEFAULT_HOTLINE, LOCAL_ACCOUNT_SID, local_auth_token

DEFAULT_FROM = "13800000004"  # 林小红, a resident of the demo community (grid HG-01-1)
MAX_TURNS = 50  # a flow that never ends is a bug the simulator should not loop on
CONTROL_VERBS = ("Gather", "Record", "Redirect", "Hangup", "Dial")
Echo = Callable[[str], None]


class SimulationError(Exception):
    """The walk cannot go on; str(exc) tells the developer what to fix."""


def auth_token(settings: Settings) -> tuple[str, str]:
    """The token Twilio would sign with and where it came from (for the 403 message)."""
    if settings.twilio_auth_token:
        return settings.twilio_auth_token, "the token in TWILIO_AUTH_TOKEN"
    path = settings.instance_dir / "local-twilio-token"
    return local_auth_token(settings.instance_dir), f"the local token in {path}"


def heard(twiml: str) -> list[str]:
    """What the caller hears, in order: Say text, and Play as `<play URL>`."""
    root = ET.fromstring(twiml)
    return [(el.text or "") if el.tag == "Say" else f"<play {el.text}>" for el in root.iter() if el.tag in ("Say", "Play")]


@dataclass
class Caller:
    """One call's signed webhooks: form posts to the listening server, signed for the public URL."""

    http: requests.Session
    listen_url: str
    public_base_url: str
    token: str
    call_sid: str
    from_number: str
    to_number: str
    account_sid: str = LOCAL_ACCOUNT_SID
    token_source: str = "the token in TWILIO_AUTH_TOKEN"
    timings: list[float] = field(default_factory=list)

    def call_form(self, **extra: str) -> dict[str, str]:
        return {"CallSid": self.call_sid, "AccountSid": self.account_sid, "From": self.from_number,
                "To": self.to_number, "CallStatus": "in-progress", "Direction": "inbound",
                "ApiVersion": "2010-04-01", **extra}

    def post(self, public_url: str, form: dict[str, str]) -> requests.Response:
        """POST like Twilio: the signature covers the public URL; the request goes to listen_url."""
        parts = urlsplit(public_url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = RequestValidator(self.token).compute_signature(public_url, form)
        started = time.perf_counter()
        try:
            resp = self.http.post(self.listen_url.rstrip("/") + path, data=form,
                                  headers={"X-Twilio-Signature": str(signature)}, timeout=30)
        except requests.RequestException as exc:
            raise SimulationError(
                f"cannot reach GridLine at {self.listen_url} ({exc.__class__.__name__}): is the server running "
                "(`python -m telephony.launch`) and is --url where it listens?"
            ) from exc
        self.timings.append(time.perf_counter() - started)
        if resp.status_code == 403:
            raise SimulationError(
                f"GridLine refused the signature (HTTP 403 on {parts.path}). The simulator signed for "
                f"{public_url} with {self.token_source}: either that token is not the server's TWILIO_AUTH_TOKEN, "
                f"or the server's PUBLIC_BASE_URL is not {self.public_base_url} (both sides must use the same)."
            )
        if resp.status_code >= 400:
            raise SimulationError(f"GridLine answered HTTP {resp.status_code} on {parts.path}: {resp.text[:300]}")
        return resp

    def turn(self, public_url: str, **extra: str) -> str:
        """One call webhook (start, gather, record, redirect): the TwiML answered."""
        return self.post(public_url, self.call_form(**extra)).text


@dataclass(frozen=True)
class Utterance:
    """What the caller says at a <Record>: the recording Twilio would announce in its webhooks."""

    sid: str
    url: str
    seconds: int


def wav_seconds(path: Path) -> int:
    """The recording's length, for RecordingDuration; a file that is no WAV is refused here."""
    try:
        with wave.open(str(path), "rb") as wav:
            return max(1, round(wav.getnframes() / wav.getframerate()))
    except (wave.Error, EOFError) as exc:
        raise click.BadParameter(f"{path} is not a PCM WAV file like Twilio's recordings ({exc})", param_hint="--say") from exc


def _digits(key: str, gather: ET.Element) -> str:
    """Twilio leaves the finishOnKey out of Digits."""
    finish = gather.get("finishOnKey", "#")
    return key[: -len(finish)] if finish and key.endswith(finish) and len(key) > 1 else key


def walk(caller: Caller, keys: list[str], recording: Utterance | None, hangup_during_recording: bool,
         echo: Echo) -> bool:
    """Start the call and follow its TwiML to the end; whether a recording was handed over."""
    url = f"{caller.public_base_url.rstrip('/')}/twilio/voice"
    twiml = caller.turn(url, CallStatus="ringing")
    pending, recorded = list(keys), False
    for _ in range(MAX_TURNS):
        for line in heard(twiml):
            echo(f"  {line}")
        verb = next((el for el in ET.fromstring(twiml) if el.tag in CONTROL_VERBS), None)
        if verb is None or verb.tag == "Hangup":
            echo("<hangup>")
            return recorded
        if verb.tag == "Dial":
            echo(f"<dial {(verb.text or '').strip() or verb.findtext('.//Number')}>: the simulator stops at a transfer")
            return recorded
        if verb.tag == "Redirect":
            url = urljoin(url, (verb.text or "").strip())
            twiml = caller.turn(url)
            continue
        url = urljoin(url, verb.get("action", ""))
        if verb.tag == "Gather":
            if not pending:
                echo("(no keys left: the caller hangs up; e.g. --keys 1,2 --say FILE.wav files a report)")
                return recorded
            key = pending.pop(0)
            echo(f"> press {key}" if key else "> (silence)")
            twiml = caller.turn(url, Digits=_digits(key, verb))
            continue
        if recording is None:
            raise SimulationError("the flow asks for a recording: pass --say PATH.wav")
        recorded = True
        fields = {"RecordingSid": recording.sid, "RecordingUrl": recording.url, "RecordingDuration": str(recording.seconds)}
        echo(f"> speaks for {recording.seconds} s (recording served at {recording.url})")
        if hangup_during_recording:
            echo("> hangs up while recording: only the recordingStatusCallback follows")
        else:
            twiml = caller.turn(url, Digits="#", **fields)
        status_url = urljoin(url, verb.get("recordingStatusCallback", "/twilio/voice/recording"))
        caller.post(status_url, {"CallSid": caller.call_sid, "AccountSid": caller.account_sid,
                                 "RecordingStatus": "completed", "RecordingSource": "RecordVerb", **fields})
        if hangup_during_recording:
            return recorded
    raise SimulationError(f"the call did not end after {MAX_TURNS} turns: stopping")


def worker_outcome(recording_sid: str) -> str | None:
    """The report's transcript result once the worker gave one, when this command shares the server's database."""
    try:
        with current_app.extensions["gridline.sessions"]() as session:
            recording = session.scalar(select(Recording).where(Recording.recording_sid == recording_sid))
            if recording is None or recording.report.transcript_status == "pending":
                return None
            report = recording.report
            reason = f" ({report.transcript_error})" if report.transcript_error else ""
            return f"report {report.id}: transcript {report.transcript_status}{reason}"
    except SQLAlchemyError:  # another server's database, or none here: just wait for the download
        return None


def await_fetch(api: TwilioSandbox, wait: float, echo: Echo, outcome: Callable[[], str | None]) -> None:
    """Keep the recording URL answering until the worker downloaded it (or finished without it), and say which."""
    deadline = time.monotonic() + wait
    if wait > 0 and not api.recording_fetched.is_set():
        echo(f"serving the recording until the worker fetches it (up to {wait:g} s)...")
    while not api.recording_fetched.wait(max(0.0, min(0.5, deadline - time.monotonic()))):
        finished = outcome()
        if finished:
            echo(f"the worker finished without downloading the recording: {finished}")
            return
        if time.monotonic() >= deadline:
            echo(f"no one fetched the recording within {wait:g} s: is the worker running (`python -m worker`)? "
                 "The recording URL stops answering now.")
            return
    echo("the worker fetched the recording")


def init_app(app: Flask) -> None:
    @app.cli.command("simulate-call")
    @click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="Where the GridLine server listens.")
    @click.option("--from", "from_number", default=DEFAULT_FROM, show_default=True,
                  help="Caller's number, E.164 or national (default: a demo resident).")
    @click.option("--keys", default="", help='Key presses, one item per menu: "1,2" or "1,3,5#"; an empty item is silence.')
    @click.option("--say", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="WAV the caller speaks when the flow asks for a recording.")
    @click.option("--hangup-during-recording", is_flag=True, help="Hang up while recording: only the status callback is sent.")
    @click.option("--call-sid", default="", help="CallSid to use (default: a random CA...).")
    @click.option("--wait", default=120.0, show_default=True, help="Seconds to keep serving the recording for the worker.")
    def simulate_call(url: str, from_number: str, keys: str, say: Path | None, hangup_during_recording: bool,
                      call_sid: str, wait: float) -> None:
        """Play Twilio's side of an inbound call against a running GridLine server, with signed requests."""
        settings: Settings = current_app.config["SETTINGS"]
        try:
            caller_number = normalise(from_number, settings.default_region)
        except InvalidPhone as exc:
            raise click.BadParameter(exc.reason, param_hint="--from") from exc
        token, token_source = auth_token(settings)
        caller = Caller(
            http=requests.Session(), listen_url=url, public_base_url=settings.public_base_url, token=token,
            call_sid=call_sid or f"CA{secrets.token_hex(16)}", from_number=caller_number,
            to_number=settings.twilio_number or DEFAULT_HOTLINE,
            account_sid=settings.twilio_account_sid or LOCAL_ACCOUNT_SID, token_source=token_source,
        )
        click.echo(f"call {caller.call_sid} from {caller_number} to {url} (signed for {settings.public_base_url})")
        # the recording is served where Twilio serves it, by the same stand-in the tests use;
        # its request log would drown the prompts the walk prints
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        with TwilioSandbox(caller.account_sid, token, open_recordings=True) as api:
            utterance = None
            if say is not None:
                sid = "RE" + secrets.token_hex(16)
                utterance = Utterance(sid, api.add_recording(sid, say.read_bytes()), wav_seconds(say))
            try:
                recorded = walk(caller, [k.strip() for k in keys.split(",")] if keys else [],
                                utterance, hangup_during_recording, click.echo)
            except SimulationError as exc:
                raise click.ClickException(str(exc)) from exc
            if recorded and utterance is not None:
                sid = utterance.sid
                await_fetch(api, wait, click.echo, lambda: worker_outcome(sid))
        click.echo(f"call ended after {len(caller.timings)} webhooks")
