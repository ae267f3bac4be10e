"""The phone's recordings as Twilio keeps them: WAV, 8 kHz mono 16-bit PCM.

Browsers record what they like (webm/opus in Chromium, ogg or mp4 elsewhere); ffmpeg from
imageio-ffmpeg turns it into what the worker downloads from Twilio. A WAV upload (the CLI's) is
kept as it is, like the simulator does. Audio ffmpeg cannot read is kept as it came: the call must
go on and the app must get its recording callback, so the worker can flag the report for a human.
"""
from __future__ import annotations

import io
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

FFMPEG_TIMEOUT_S = 60


@dataclass(frozen=True)
class Kept:
    """What the sandbox serves as the recording, how long it is, and why it may not play ("" when fine)."""

    data: bytes
    seconds: int
    note: str = ""


def is_wav(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def wav_seconds(data: bytes) -> float | None:
    """A PCM WAV's length, or None when the header is not one the wave module reads (mu-law, broken)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        return None


def to_telephone_wav(data: bytes) -> bytes:
    """Any audio ffmpeg can read, as 8 kHz mono 16-bit PCM WAV; ValueError saying why not."""
    with tempfile.TemporaryDirectory(prefix="sandbox-rec-") as tmp:
        source, target = Path(tmp) / "upload", Path(tmp) / "recording.wav"
        source.write_bytes(data)
        try:
            done = subprocess.run(
                [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                 "-i", str(source), "-vn", "-ac", "1", "-ar", "8000", "-acodec", "pcm_s16le", "-f", "wav", str(target)],
                capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ValueError(f"ffmpeg took longer than {FFMPEG_TIMEOUT_S} s") from exc
        if done.returncode != 0 or not target.exists() or target.stat().st_size <= 44:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ValueError(f"ffmpeg could not read it: {reason[-1] if reason else 'no audio stream'}")
        return target.read_bytes()


def keep(data: bytes, seconds_hint: float | None = None) -> Kept:
    """The recording to serve for an upload. Never raises: undecodable audio is kept with a note."""
    hint = max(1, round(seconds_hint)) if seconds_hint else 1
    if is_wav(data):
        seconds = wav_seconds(data)
        return Kept(data, max(1, round(seconds)) if seconds is not None else hint)
    try:
        wav = to_telephone_wav(data)
    except ValueError as exc:
        return Kept(data, hint, note=f"kept as uploaded, not audio the worker can read ({exc})")
    seconds = wav_seconds(wav)
    return Kept(wav, max(1, round(seconds)) if seconds is not None else hint)
