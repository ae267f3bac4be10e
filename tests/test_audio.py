"""Downloading recordings over real HTTP, and decoding/rejecting audio (worker/audio.py)."""
from __future__ import annotations

import base64
import io
import math
import random
import re
import struct
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from worker.audio import (
    MAX_AUDIO_SECONDS,
    BadAudio,
    RecordingUnavailable,
    decode_to_pcm,
    download_recording,
)

AUDIO = Path(__file__).parent / "audio"


def fixture_bytes(name: str) -> bytes:
    return (AUDIO / name).read_bytes()


def make_wav(rate: int, frames: bytes, width: int = 2, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(frames)
    return buf.getvalue()


def hiss_wav(seconds: float, amplitude: int, rate: int = 8000) -> bytes:
    """White noise at a fixed amplitude: a line with nobody speaking on it."""
    rng = random.Random(7)
    count = int(seconds * rate)
    return make_wav(rate, struct.pack(f"<{count}h", *(rng.randint(-amplitude, amplitude) for _ in range(count))))


def bad_audio_cases() -> dict[str, tuple[bytes, str]]:
    """Each kind of unusable recording, with the start of the reason a human will read."""
    tel = fixture_bytes("parking.tel.wav")
    return {
        "empty": (b"", "empty recording"),
        "text": (b"<?xml version='1.0'?><Response><Error>Not found</Error></Response>", "not a WAV file"),
        "corrupt": (tel[:30], "corrupt audio"),
        "corrupt_chunks": (b"RIFF\x24\x00\x00\x00WAVE" + bytes(random.Random(3).randbytes(64)), "corrupt audio"),
        "silence": (make_wav(8000, b"\x00\x00" * 8000 * 3), "silence: no speech"),
        "line_hiss": (hiss_wav(3.0, 30), "silence: no speech"),
        "too_long": (make_wav(8000, b"\x00\x00" * 8000 * (MAX_AUDIO_SECONDS + 1)), "too long"),
    }


@dataclass
class RecordingServer:
    """A real local HTTP server standing in for Twilio's media URLs, with scripted failures.

    `script[path]` lists what to answer, in order: a status code, "slow" (answer after `slow_s`),
    or "ok" (the WAV); the last entry repeats. Basic auth is checked on every request.
    """

    account_sid: str = TEST_ACCOUNT_SID
    auth_token: str = TEST_AUTH_TOKEN
    bodies: dict[str, bytes] = field(default_factory=dict)
    script: dict[str, list[int | str]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, outcome)
    slow_s: float = 1.0
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def add(self, path: str, body: bytes, *script: int | str) -> str:
        """Serve body at path + ".wav"; returns the extension-less URL, as Twilio posts it."""
        self.bodies[path + ".wav"] = body
        self.script[path + ".wav"] = list(script) or ["ok"]
        return self.url(path)

    def start(self) -> RecordingServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner._answer(self)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            self.requests.append((handler.path, "401"))
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="Twilio API"')
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        steps = self.script.get(handler.path, [404])
        step = steps.pop(0) if len(steps) > 1 else steps[0]
        self.requests.append((handler.path, str(step)))
        if step == "slow":
            time.sleep(self.slow_s)
            step = "ok"
        body = self.bodies[handler.path] if step == "ok" else b""
        handler.send_response(200 if step == "ok" else int(step))
        handler.send_header("Content-Type", "audio/x-wav")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


@pytest.fixture
def recording_server() -> Iterator[RecordingServer]:
    server = RecordingServer().start()
    yield server
    server.stop()


def download(url: str, sleeps: list[float] | None = None, **kwargs: Any) -> bytes:
    """download_recording with the test credentials; waits are recorded in `sleeps`, not slept."""
    waits = sleeps if sleeps is not None else []
    return download_recording(url, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, sleep=waits.append, **kwargs)


# ---------------------------------------------------------------- download
def test_download_fetches_the_wav_rendition_with_basic_auth(recording_server: RecordingServer) -> None:
    """The recording is fetched as <RecordingUrl>.wav with the account's credentials."""
    wav = fixture_bytes("parking.tel.wav")
    url = recording_server.add("/Recordings/RE1", wav)
    assert download(url) == wav
    assert recording_server.requests == [("/Recordings/RE1.wav", "ok")]


def test_download_does_not_add_a_second_wav_extension(recording_server: RecordingServer) -> None:
    """A URL that already ends in .wav is fetched as it is."""
    url = recording_server.add("/Recordings/RE2", b"RIFF")
    assert download(url + ".wav") == b"RIFF"


def test_wrong_credentials_are_refused_at_once_with_a_hint(recording_server: RecordingServer) -> None:
    """Bad credentials are not retried: the reason points at TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN."""
    url = recording_server.add("/Recordings/RE3", b"RIFF")
    with pytest.raises(RecordingUnavailable) as caught:
        download_recording(url, TEST_ACCOUNT_SID, "wrong-token", sleep=lambda _s: None)
    assert "HTTP 401" in caught.value.reason and "TWILIO_AUTH_TOKEN" in caught.value.reason
    assert not caught.value.transient
    assert len(recording_server.requests) == 1


def test_server_errors_are_retried_with_exponential_backoff(recording_server: RecordingServer) -> None:
    """503 then 500 then the file: the download succeeds, waiting 1 s then 2 s in between."""
    wav = fixture_bytes("yes.tel.wav")
    url = recording_server.add("/Recordings/RE4", wav, 503, 500, "ok")
    sleeps: list[float] = []
    assert download(url, sleeps) == wav
    assert sleeps == [1.0, 2.0]
    assert [outcome for _, outcome in recording_server.requests] == ["503", "500", "ok"]


def test_a_recording_still_missing_after_the_last_attempt_is_unavailable(recording_server: RecordingServer) -> None:
    """404 on every attempt (Twilio not done yet): four tries, then RecordingUnavailable, retryable later."""
    url = recording_server.url("/Recordings/RE404")
    sleeps: list[float] = []
    with pytest.raises(RecordingUnavailable) as caught:
        download(url, sleeps, backoff=0.5)
    assert "after 4 attempts" in caught.value.reason and "HTTP 404" in caught.value.reason
    assert caught.value.transient
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(recording_server.requests) == 4


def test_a_404_that_heals_is_retried(recording_server: RecordingServer) -> None:
    """A recording that appears on the second attempt is downloaded."""
    url = recording_server.add("/Recordings/RE5", b"RIFF-late", 404, "ok")
    assert download(url) == b"RIFF-late"


def test_other_client_errors_are_final(recording_server: RecordingServer) -> None:
    """410 Gone is not retried and not marked transient."""
    url = recording_server.add("/Recordings/RE6", b"", 410)
    with pytest.raises(RecordingUnavailable) as caught:
        download(url)
    assert "HTTP 410" in caught.value.reason and not caught.value.transient
    assert len(recording_server.requests) == 1


def test_a_slow_server_times_out_and_is_retried(recording_server: RecordingServer) -> None:
    """An answer slower than the timeout counts as a failed attempt; the next attempt gets the file."""
    recording_server.slow_s = 1.0
    url = recording_server.add("/Recordings/RE7", b"RIFF-slow", "slow", "ok")
    assert download(url, timeout=0.2) == b"RIFF-slow"
    assert [outcome for _, outcome in recording_server.requests] == ["slow", "ok"]


def test_a_refused_connection_is_retried_then_unavailable() -> None:
    """Nothing listening: each attempt fails fast and the reason says the connection failed."""
    with pytest.raises(RecordingUnavailable) as caught:
        download("http://127.0.0.1:9/Recordings/RE8", attempts=2)
    assert "connection failed" in caught.value.reason and caught.value.transient


# ---------------------------------------------------------------- decode
def test_twilio_telephone_wav_is_decoded_at_its_own_rate() -> None:
    """8 kHz mono 16-bit PCM stays 8 kHz (Vosk resamples internally), with its duration."""
    audio = decode_to_pcm(fixture_bytes("parking.tel.wav"))
    with wave.open(str(AUDIO / "parking.tel.wav")) as src:
        assert audio.pcm == src.readframes(src.getnframes())
        assert audio.sample_rate == 8000
        assert audio.duration_s == pytest.approx(src.getnframes() / 8000, abs=0.001)


def test_mulaw_wav_is_decoded_to_16_bit_pcm() -> None:
    """A mu-law WAV decodes (through ffmpeg, without ffprobe) to the same sound as its PCM twin."""
    audio = decode_to_pcm(fixture_bytes("sewer_smell.ulaw.wav"))
    twin = decode_to_pcm(fixture_bytes("sewer_smell.tel.wav"))
    assert audio.sample_rate == 8000
    assert audio.duration_s == pytest.approx(twin.duration_s, abs=0.01)
    a = struct.unpack(f"<{len(audio.pcm) // 2}h", audio.pcm)
    b = struct.unpack(f"<{len(twin.pcm) // 2}h", twin.pcm)
    assert max(abs(x - y) for x, y in zip(a, b, strict=False)) <= 1  # the PCM twin is the mu-law round trip


def test_decode_resamples_when_a_rate_is_asked_for() -> None:
    """Asking for 16 kHz doubles the samples and keeps the duration."""
    audio = decode_to_pcm(fixture_bytes("parking.tel.wav"), 16000)
    assert audio.sample_rate == 16000
    assert len(audio.pcm) == pytest.approx(2 * len(fixture_bytes("parking.tel.wav")), rel=0.01)


def test_stereo_8_bit_audio_becomes_mono_16_bit() -> None:
    """Other PCM layouts are converted to what Vosk takes."""
    loud = bytes([200, 200, 56, 56]) * 4000  # unsigned 8-bit, two channels in step, a loud square wave
    audio = decode_to_pcm(make_wav(8000, loud, width=1, channels=2))
    assert audio.sample_rate == 8000 and len(audio.pcm) == 2 * 8000


def test_a_quiet_talker_is_still_speech() -> None:
    """Speech 20 dB below the fixture's level (about -40 dBFS in words) is not taken for silence."""
    with wave.open(str(AUDIO / "parking.tel.wav")) as src:
        frames = struct.unpack(f"<{src.getnframes()}h", src.readframes(src.getnframes()))
    quiet = struct.pack(f"<{len(frames)}h", *(round(x / 10) for x in frames))
    assert decode_to_pcm(make_wav(8000, quiet)).duration_s > 2


@pytest.mark.parametrize("kind", list(bad_audio_cases()))
def test_unusable_audio_is_rejected_with_a_readable_reason(kind: str) -> None:
    """Empty, text, corrupt, silent and over-long recordings raise BadAudio saying which."""
    data, reason = bad_audio_cases()[kind]
    with pytest.raises(BadAudio) as caught:
        decode_to_pcm(data)
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_an_over_long_recording_says_how_long_it_was() -> None:
    """A 15-minute recording is refused (from its header, before decoding) with its length."""
    data = make_wav(8000, b"\x00\x00" * 8000 * 900)
    with pytest.raises(BadAudio) as caught:
        decode_to_pcm(data)
    assert caught.value.reason == "too long: 15 min (the limit is 10 min)"


def test_silence_reason_says_how_loud_the_line_was() -> None:
    """Line hiss at about -60 dBFS is silence; the reason gives the loudest moment."""
    with pytest.raises(BadAudio) as caught:
        decode_to_pcm(hiss_wav(2.0, 60))
    average = 20 * math.log10(60 / math.sqrt(3) / 32768)  # -59.5 dBFS; the loudest 30 ms frame is a bit above
    match = re.search(r"loudest moment (-\d+) dBFS", caught.value.reason)
    assert match and average - 1 <= int(match.group(1)) <= average + 3
