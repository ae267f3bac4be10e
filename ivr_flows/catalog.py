"""Prompt catalogs: one JSON data file per language beside this module, loaded once.

A catalog value is either a text template ("{name}您好") or an object with "text" and "play"
(a URL of a recording made in the community's own dialect, played instead of speech).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
LANGUAGES: tuple[str, ...] = ("zh-CN", "en-US")
DEFAULT_LANGUAGE = "zh-CN"


@dataclass(frozen=True)
class Prompt:
    text: str
    play_url: str | None = None


def supported(language: str) -> str:
    """The catalog language to use for a person's preferred language."""
    if language in LANGUAGES:
        return language
    return "en-US" if language.lower().startswith("en") else DEFAULT_LANGUAGE


def other_language(language: str) -> str:
    """The language key 9 switches to."""
    return "en-US" if supported(language) == "zh-CN" else "zh-CN"


@cache
def _load(language: str) -> dict[str, object]:
    with open(PROMPTS_DIR / f"{language}.json", encoding="utf-8") as fh:
        return dict(json.load(fh))


def prompt(language: str, key: str, params: Mapping[str, str] | None = None) -> Prompt:
    """Look up and fill one prompt. A missing key is a bug: KeyError names it."""
    entry = _load(supported(language))[key]
    values = dict(params or {})
    if isinstance(entry, dict):
        return Prompt(str(entry["text"]).format(**values), entry.get("play"))
    return Prompt(str(entry).format(**values))


def text(language: str, key: str, params: Mapping[str, str] | None = None) -> str:
    return prompt(language, key, params).text


def spell_digits(language: str, number: str, compact: bool = False) -> str:
    """Read a number digit by digit ("1234" -> "幺，二，三，四"), slowly enough to write down.

    compact=True runs the digits together for short service numbers ("110" -> "幺幺零").
    """
    data = _load(supported(language))
    words = list(data["digit_words"])  # type: ignore[call-overload]
    sep = str(data["digit_compact_separator" if compact else "digit_separator"])
    return sep.join(words[int(d)] for d in number if d.isdigit())


def word_list(language: str, key: str) -> list[str]:
    """A list entry of the catalog (weekday or month names), not a prompt."""
    return [str(word) for word in _load(supported(language))[key]]  # type: ignore[attr-defined]


def join_list(language: str, items: list[str]) -> str:
    return str(_load(supported(language))["list_separator"]).join(items)


def keys(language: str) -> set[str]:
    return {k for k in _load(supported(language)) if not k.startswith("_")}
