"""`flask simulate-call` against the real app served over real HTTP on a local port."""
from __future__ import annotations

import math
import struct
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from grid.demo import load_demo
from grid.models import Call, Person, Recording, Report
from grid.phones import normalise
from telephony import create_app
from telephony.cli_simulate import DEFAULT_FROM
from tests.conftest import TEST_AUTH_TOKEN

AUDIO_DIR = Path(__file__).resolve().parent / "audio"


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    """The app with the demo community, served by a threaded werkzeug server on 127.0.0.1."""
    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    """The committed phone-quality sewer complaint, else one second of a 440 Hz tone (8 kHz, 16-bit mono)."""
    committed = AUDIO_DIR / "sewer_smell.tel.wav"
    if committed.exists():
        return committed
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 8000))) for n in range(8000)))
    return path


def simulate(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["simulate-call", *args])


def fetch_recording_like_the_worker(app: Any, seen: dict[str, Any], deadline: float = 20.0) -> None:
    """Wait for the recording row, then download its URL (+ .wav) as the worker would."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        with app.extensions["gridline.sessions"]() as s:
            url = s.scalar(select(Recording.url))
        if url:
            seen["url"] = url
            seen["body"] = requests.get(url + ".wav", auth=("AC", "token"), timeout=5).content
            return
        time.sleep(0.05)


def test_a_simulated_call_files_a_routed_report_and_serves_its_recording(app: Any, server: str, wav: Path) -> None:
    """1, 2, speak: the report is filed in the caller's grid, the prompts are printed, the worker gets the WAV."""
    seen: dict[str, Any] = {}
    fetcher = threading.Thread(target=fetch_recording_like_the_worker, args=(app, seen))
    fetcher.start()
    result = simulate(app, "--url", server, "--keys", "1,2", "--say", str(wav), "--wait", "20")
    fetcher.join()
    assert result.exit_code == 0, result.output
    with app.extensions["gridline.sessions"]() as s:
        caller = s.scalars(select(Person).where(Person.phone == normalise(DEFAULT_FROM))).first()
        report = s.scalars(select(Report)).one()
        assert caller is not None and caller.household is not None
        assert report.category == "environment" and report.grid_id == caller.household.grid_id
        recording = s.scalars(select(Recording)).one()
        assert recording.url.startswith("http://127.0.0.1:") and f"/Recordings/{recording.recording_sid}" in recording.url
        number = report.id
    assert seen["url"] == recording.url and seen["body"] == wav.read_bytes()
    assert "这里不是紧急求助电话" in result.output
    assert "编号是" in result.output and "，".join("零幺二三四五六七八九"[int(d)] for d in str(number)) in result.output
    assert "the worker fetched the recording" in result.output


def test_waiting_ends_when_the_worker_finishes_the_report_without_the_audio(app: Any, server: str, wav: Path,
                                                                           worker_ctx: Any) -> None:
    """With no speech model the real job never downloads: the tool stops waiting and says why."""
    from worker.transcription import transcribe_recording

    errors: list[BaseException] = []

    def run_job_when_filed() -> None:
        try:
            until = time.monotonic() + 20
            while time.monotonic() < until:
                with app.extensions["gridline.sessions"]() as s:
                    recording_id = s.scalar(select(Recording.id))
                if recording_id:
                    transcribe_recording(recording_id)
                    return
                time.sleep(0.05)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    job = threading.Thread(target=run_job_when_filed)
    job.start()
    started = time.monotonic()
    result = simulate(app, "--url", server, "--keys", "1,2", "--say", str(wav), "--wait", "60")
    job.join()
    assert not errors and result.exit_code == 0, (errors, result.output)
    assert "the worker finished without downloading the recording" in result.output
    assert "transcript unavailable (no speech model installed for zh-CN)" in result.output
    assert time.monotonic() - started < 30


def test_hanging_up_during_recording_files_the_report_from_the_status_callback(app: Any, server: str, wav: Path) -> None:
    """--hangup-during-recording sends only the status callback; the urgent report is still filed."""
    result = simulate(app, "--url", server, "--from", "138 0000 0005", "--keys", "1,5", "--say", str(wav),
                      "--hangup-during-recording", "--call-sid", "CA" + "ab" * 16, "--wait", "0")
    assert result.exit_code == 0, result.output
    with app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        assert report.category == "vulnerable_person" and report.urgent
        assert s.scalars(select(Call.call_sid)).one() == "CA" + "ab" * 16
    assert "编号是" not in result.output and "no one fetched the recording within 0 s" in result.output


def test_a_wrong_token_is_refused_with_a_message_naming_the_signature_and_public_base_url(app: Any, server: str) -> None:
    """Signed with another token, the call gets 403 and the tool says token or PUBLIC_BASE_URL differ."""
    other = create_app({"SETTINGS": replace(app.config["SETTINGS"], twilio_auth_token="not-the-servers-token")})
    result = simulate(other, "--url", server, "--keys", "1")
    assert result.exit_code != 0
    assert "refused the signature (HTTP 403" in result.output
    assert "TWILIO_AUTH_TOKEN" in result.output and "PUBLIC_BASE_URL" in result.output
    with app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(Call)).first() is None


def test_without_twilio_auth_token_it_signs_with_the_launchers_local_token(app: Any, server: str, tmp_path: Path) -> None:
    """With TWILIO_AUTH_TOKEN unset, the token file in the instance folder signs the requests."""
    instance = tmp_path / "simulator-instance"
    instance.mkdir()
    (instance / "local-twilio-token").write_text(TEST_AUTH_TOKEN)
    local = create_app({"SETTINGS": replace(app.config["SETTINGS"], twilio_auth_token="", instance_dir=instance)})
    result = simulate(local, "--url", server)
    assert result.exit_code == 0, result.output
    assert "这里不是紧急求助电话" in result.output and "no keys left" in result.output


def test_an_unreachable_server_is_named_in_the_error(app: Any) -> None:
    """Nothing listening at --url: a non-zero exit that says the server cannot be reached."""
    result = simulate(app, "--url", "http://127.0.0.1:9")
    assert result.exit_code != 0 and "cannot reach GridLine at http://127.0.0.1:9" in result.output
