"""Fetching a Twilio recording and turning it into the PCM Vosk wants, with clear reasons when we can't.

Twilio serves `<RecordingUrl>.wav` as 8 kHz mono 16-bit PCM; mu-law and A-law WAVs are accepted too.
pydub decodes; ffmpeg comes from imageio-ffmpeg and is only run for non-PCM WAVs, always with an
explicit codec, because pydub would otherwise call ffprobe (which is not installed) to guess it.
"""
from __future__ import annotations

import io
import logging
import math
import struct
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import requests

with warnings.catch_warnings():  # pydub warns at import: no ffmpeg on PATH (set below), audioop deprecated
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

log = logging.getLogger(__name__)

MAX_AUDIO_SECONDS = 600
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # 10 min of 48 kHz stereo 32-bit fits; anything bigger is not a phone call
# Speech detection. ITU-T P.56 puts nominal active speech on telephone networks at -26 dBov, and quiet
# talkers sit 10-15 dB lower; idle PSTN lines are below -60 dBm0 and a mu-law zero decodes to about
# -72 dBFS. A 30 ms frame louder than -45 dBFS is therefore speech (or something a human should hear),
# 19 dB under nominal speech and 15 dB above line hiss; 0.2 s of such frames (one short "yes") is enough.
SPEECH_FRAME_DBFS = -45.0
SPEECH_FRAME_MS = 30
MIN_SPEECH_SECONDS = 0.2

_WAVE_PCM, _WAVE_FLOAT, _WAVE_ALAW, _WAVE_MULAW, _WAVE_EXTENSIBLE = 0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE


class RecordingUnavailable(Exception):
    """The recording could not be downloaded. `transient` says whether trying later may help."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class BadAudio(Exception):
    """The recording downloaded but holds nothing we can transcribe; `reason` is for a human."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedAudio:
    pcm: bytes  # mono, 16-bit signed little-endian
    sample_rate: int
    duration_s: float


@dataclass(frozen=True)
class WavInfo:
    format_tag: int
    channels: int
    sample_rate: int
    bits: int
    data_bytes: int

    @property
    def duration_s(self) -> float:
        return self.data_bytes / (self.sample_rate * self.channels * max(1, self.bits // 8))


# ---------------------------------------------------------------- download
def recording_wav_url(url: str) -> str:
    """Twilio's RecordingUrl has no extension; `.wav` asks for the 8 kHz PCM rendition."""
    return url if url.lower().endswith(".wav") else url + ".wav"


def download_recording(
    url: str,
    account_sid: str,
    auth_token: str,
    *,
    timeout: float = 10.0,
    attempts: int = 4,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    as_wav: bool = True,
) -> bytes:
    """GET the recording (or, as_wav=False, any Twilio media URL as it is) with HTTP basic auth,
    retrying what may heal (5xx, 404, timeouts, resets).

    Twilio can answer 404 for a few seconds after the recording callback, so 404 is retried too.
    Waits backoff, 2*backoff, 4*backoff... between attempts. Raises RecordingUnavailable (transient
    for retryable failures, so the job can be retried later; not for 401/403/other 4xx).
    """
    target = recording_wav_url(url) if as_wav else url
    auth = (account_sid, auth_token) if account_sid and auth_token else None
    last = ""
    for attempt in range(attempts):
        if attempt:
            sleep(backoff * 2 ** (attempt - 1))
        try:
            with requests.get(target, auth=auth, timeout=timeout, stream=True) as response:
                status = response.status_code
                if status == 200:
                    return _read_body(response, max_bytes)
        except requests.Timeout:
            last = f"no answer within {timeout:g} s"
            continue
        except requests.ConnectionError as exc:
            last = f"connection failed ({type(exc).__name__})"
            continue
        if status in (401, 403):
            raise RecordingUnavailable(
                f"recording download refused (HTTP {status}): check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
            )
        if status == 404 or status >= 500:
            last = f"HTTP {status}" + (" (Twilio may not have finished the recording)" if status == 404 else "")
            continue
        raise RecordingUnavailable(f"recording download failed (HTTP {status})")
    raise RecordingUnavailable(f"recording not available after {attempts} attempts: {last}", transient=True)


def _read_body(response: requests.Response, max_bytes: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_content(chunk_size=256 * 1024):
        body.extend(chunk)
        if len(body) > max_bytes:
            raise RecordingUnavailable(f"recording larger than {max_bytes // (1024 * 1024)} MB")
    return bytes(body)


# ---------------------------------------------------------------- decode
def read_wav_info(data: bytes) -> WavInfo:
    """Parse the RIFF/WAVE header without decoding, so size limits apply before any work is done."""
    if len(data) == 0:
        raise BadAudio("empty recording: 0 bytes")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise BadAudio(f"not a WAV file: it starts with {data[:16]!r}")
    pos, fmt, data_bytes = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise BadAudio("corrupt audio: truncated fmt chunk")
            fmt = struct.unpack_from("<HHIIHH", data, body)
            if fmt[0] == _WAVE_EXTENSIBLE and size >= 40 and body + 26 <= len(data):
                fmt = (struct.unpack_from("<H", data, body + 24)[0], *fmt[1:])
        elif chunk_id == b"data":
            data_bytes = min(size, len(data) - body)  # streamed WAVs declare 0 or 0xFFFFFFFF
            if size in (0, 0xFFFFFFFF):
                data_bytes = len(data) - body
            break
        pos = body + size + (size & 1)
    if fmt is None:
        raise BadAudio("corrupt audio: no fmt chunk in the WAV header")
    if data_bytes is None:
        raise BadAudio("corrupt audio: no data chunk in the WAV file")
    format_tag, channels, rate, _byte_rate, _align, bits = fmt
    if channels < 1 or rate < 1000 or bits not in (8, 16, 24, 32, 64):
        raise BadAudio(f"corrupt audio: impossible format ({channels} channels, {rate} Hz, {bits} bits)")
    return WavInfo(format_tag, channels, rate, bits, data_bytes)


def _codec(info: WavInfo) -> str:
    """The ffmpeg decoder for the WAV's encoding (given explicitly so pydub never needs ffprobe)."""
    if info.format_tag == _WAVE_PCM:
        return "pcm_u8" if info.bits == 8 else f"pcm_s{info.bits}le"
    if info.format_tag == _WAVE_FLOAT and info.bits in (32, 64):
        return f"pcm_f{info.bits}le"
    if info.format_tag == _WAVE_MULAW and info.bits == 8:
        return "pcm_mulaw"
    if info.format_tag == _WAVE_ALAW and info.bits == 8:
        return "pcm_alaw"
    raise BadAudio(f"corrupt audio: unsupported WAV encoding (format 0x{info.format_tag:04x}, {info.bits} bits)")


def decode_to_pcm(data: bytes, target_rate: int | None = None) -> DecodedAudio:
    """Mono 16-bit PCM at target_rate (None: the recording's own rate), or BadAudio saying why not.

    The transcription job passes None: feeding 8 kHz phone audio to Vosk natively recognised as well
    or better than resampling first (see worker/asr.py), and pydub's resampler is the weakest option.
    """
    info = read_wav_info(data)
    if info.duration_s > MAX_AUDIO_SECONDS:
        raise BadAudio(f"too long: {_minutes(info.duration_s)} (the limit is {_minutes(MAX_AUDIO_SECONDS)})")
    codec = _codec(info)
    if info.data_bytes < info.channels * max(1, info.bits // 8):
        raise BadAudio("corrupt audio: the WAV holds no samples")
    AudioSegment.converter = _ffmpeg()
    try:
        segment = AudioSegment.from_file(io.BytesIO(data), format="wav", codec=codec)
        segment = segment.set_channels(1).set_sample_width(2)
        if target_rate and segment.frame_rate != target_rate:
            segment = segment.set_frame_rate(target_rate)
    except (CouldntDecodeError, ValueError, struct.error, OSError) as exc:
        raise BadAudio(f"corrupt audio: {_first_line(exc)}") from exc
    duration = len(segment.raw_data) / (2 * segment.frame_rate)
    if duration > MAX_AUDIO_SECONDS:
        raise BadAudio(f"too long: {_minutes(duration)} (the limit is {_minutes(MAX_AUDIO_SECONDS)})")
    if duration == 0:
        raise BadAudio("corrupt audio: the WAV holds no samples")
    speech, loudest = speech_seconds(segment)
    if speech < MIN_SPEECH_SECONDS:
        loud = "digital silence" if loudest == -math.inf else f"loudest moment {loudest:.0f} dBFS"
        raise BadAudio(f"silence: no speech in the recording ({loud})")
    return DecodedAudio(segment.raw_data, segment.frame_rate, round(duration, 3))


def speech_seconds(segment: AudioSegment) -> tuple[float, float]:
    """Seconds of frames louder than SPEECH_FRAME_DBFS, and the loudest frame's dBFS."""
    loud_frames, loudest = 0, -math.inf
    for start in range(0, len(segment), SPEECH_FRAME_MS):
        level = segment[start : start + SPEECH_FRAME_MS].dBFS
        loudest = max(loudest, level)
        if level > SPEECH_FRAME_DBFS:
            loud_frames += 1
    return loud_frames * SPEECH_FRAME_MS / 1000, loudest


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _minutes(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60} min {whole % 60} s" if whole % 60 else f"{whole // 60} min"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip() and "ffmpeg" not in line.lower()[:30]]
    return (lines[-1] if lines else type(exc).__name__)[:200]
