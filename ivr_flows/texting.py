"""Texting: what an inbound SMS asks for, and how many segments a text costs.

Pure. The host stores every body exactly as it arrived; `normalise` is only for reading it.

How a text is read (`classify`), in this order:
- nothing but whitespace is Empty; nothing but "?" is Help; only punctuation, symbols or emoji ("👍", "。。")
  is Ack, like "谢谢" / "好的" / "OK" / "thanks": no reply is owed, and nothing is filed as a report.
- Stop, Start, Help and the answers count only as the WHOLE message, read case- and width-insensitively
  with every space and punctuation mark ignored ("ＳＴＯＰ", "stop.", "【退订】", "T D", "opt-out"), with at
  most one courtesy word before or after ("请退订", "回复TD", "STOP please", "退订，谢谢"). "please stop the
  noise upstairs" stays Text: a noise complaint must never unsubscribe anybody. This is also how Twilio
  and carriers match opt-out keywords (exact single word), so our opt-out list agrees with theirs.
- Report (报告/REPORT) and Status (查询/STATUS) take an argument, so they count as the first word: a Latin
  keyword must not run into more letters ("reporting" is Text); a Chinese one may run into the rest
  ("报告：楼上漏水", "查询1234"), since Chinese has no spaces between words.
- An answer may carry a note after a punctuation mark: "2，还在漏水" / "No, still leaking" is Answer("2", note);
  after a mere space ("no noise after 10pm") it is Text, and a note may not start with a digit ("No. 1234").
- Everything else is Text: free text, most likely a report.
Twilio treats YES as an opt-in keyword: an Answer("yes") from an opted-out number may be taken as Start.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

MAX_BODY = 1600  # Twilio's limit for one (concatenated) message; longer texts arrive split


# ---- commands -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Empty:
    """Nothing but whitespace (an MMS may still carry a photo)."""


@dataclass(frozen=True)
class Help:
    """帮助 / HELP / INFO / ?"""


@dataclass(frozen=True)
class Stop:
    """退订 / TD / STOP and the other opt-out keywords."""


@dataclass(frozen=True)
class Start:
    """订阅 / START / UNSTOP: texts may be sent again."""


@dataclass(frozen=True)
class Ack:
    """谢谢 / 好的 / OK / 👍: a pleasantry that needs no reply and is no report."""


@dataclass(frozen=True)
class Status:
    """查询 / STATUS, with the report number when one was given."""

    number: int | None = None


@dataclass(frozen=True)
class Report:
    """An explicit 报告 / REPORT; text is what followed it (may be "")."""

    text: str = ""


@dataclass(frozen=True)
class Answer:
    """A reply to a question we sent: value is "1".."5", "yes" or "no"; note is what followed it."""

    value: str
    note: str = ""


@dataclass(frozen=True)
class Text:
    """Anything else: free text, most likely a report (normalised; the host keeps the original)."""

    text: str


Command: TypeAlias = Empty | Help | Stop | Start | Ack | Status | Report | Answer | Text


# ---- reading a text -------------------------------------------------------------------------
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff"))  # zero-width space, word joiner, BOM
_POLITE_BEFORE = ("", "请", "我要", "回复", "回", "please", "pls", "reply")
_POLITE_AFTER = ("", "谢谢", "please", "pls", "thanks", "thankyou")


def _with_courtesy(words: set[str]) -> frozenset[str]:
    return frozenset(before + word + after for word in words for before in _POLITE_BEFORE for after in _POLITE_AFTER)


_STOP = _with_courtesy({
    "退订", "td", "退订td", "td退订", "取消订阅", "退订短信",
    "stop", "stopall", "unsubscribe", "end", "quit", "cancel", "revoke", "optout",  # Twilio's opt-out list
})
_START = _with_courtesy({"订阅", "重新订阅", "恢复订阅", "start", "unstop", "subscribe"})
_HELP = _with_courtesy({"帮助", "help", "info"})
_YES = {"是", "是的", "对", "对的", "解决了", "已解决", "已经解决了", "yes", "y", "yeah", "yep"}
_NO = {"否", "不", "不是", "不对", "没有", "没", "还没有", "没解决", "没有解决", "未解决", "还没解决", "no", "n", "nope"}
_RATING_WORDS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5"}
_ANSWERS = {
    **dict.fromkeys(_with_courtesy(_YES), "yes"),
    **dict.fromkeys(_with_courtesy(_NO), "no"),
    **{word: digit for digit in "12345" for word in _with_courtesy({digit})},
    **{digit + unit: digit for digit in "12345" for unit in ("分", "星", "颗星", "star", "stars")},
    **{word + unit: digit for word, digit in _RATING_WORDS.items() for unit in ("分", "星", "颗星")},
}
_ACK_PIECES = (
    "谢谢", "多谢", "感谢", "好的", "好", "收到", "知道了", "嗯", "行", "啦", "了", "哈", "哦", "你", "您", "非常",
    "thankyou", "thanks", "thx", "ok", "okay", "got", "it", "very", "much", "so", "alot",
)
_LATIN_PREFIX = ("report", "status")
_HAN_PREFIX = {"报告": "report", "查询": "status"}
_CLAUSE_MARKS = set("，,、。.：:；;！!？?")
_REPORT_NUMBER = re.compile(r"[0-9]+")
_NOT_A_REPORT_NUMBER = re.compile(r"\s*号?\s*(?:楼|栋|幢|单元|室|层)")  # "3号楼" is a building
_MAX_DIGITS = 9


def normalise(body: str) -> str:
    """NFKC (full-width "ＳＴＯＰ１２３" is common on Chinese phones), invisible marks dropped, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", body).translate(_INVISIBLE).split())


def _key(text: str) -> str:
    """Letters and digits only, case-folded: "【退 订！】" -> "退订", "Opt-Out" -> "optout"."""
    return "".join(ch for ch in text.casefold() if unicodedata.category(ch)[0] in "LN")


def _is_mark(ch: str) -> bool:
    """Spaces, punctuation and invisible characters, stripped from the front of an argument or a note."""
    return ch.isspace() or unicodedata.category(ch)[0] in "PZC"


def _strip_marks(text: str) -> str:
    start = 0
    while start < len(text) and _is_mark(text[start]):
        start += 1
    return text[start:]


def _only_acks(key: str) -> bool:
    """"好的谢谢" and "okthanksalot" are pleasantries made of pleasantries (any split of the key will do)."""
    reached = {0}
    for start in range(len(key)):
        if start in reached:
            reached.update(start + len(piece) for piece in _ACK_PIECES if key.startswith(piece, start))
    return len(key) in reached


def _report_number(rest: str) -> int | None:
    """The report number in "#1234" / "No.1234" / "第1234号问题"; not a building ("3号楼")."""
    for match in _REPORT_NUMBER.finditer(rest):
        if len(match.group()) <= _MAX_DIGITS and not _NOT_A_REPORT_NUMBER.match(rest, match.end()):
            return int(match.group())
    return None


def _prefixed(text: str) -> Command | None:
    """Report or Status when the message starts with its keyword."""
    head = _strip_marks(text)
    folded = head.casefold()
    for han, name in _HAN_PREFIX.items():
        if head.startswith(han):
            return _argument(name, head[len(han):])
    for latin in _LATIN_PREFIX:
        if folded.startswith(latin) and not folded[len(latin):len(latin) + 1].isalpha():
            return _argument(latin, head[len(latin):])
    return None


def _argument(name: str, rest: str) -> Command:
    if name == "status":
        return Status(_report_number(rest))
    return Report(_strip_marks(rest))


def _answer_with_note(text: str) -> Answer | None:
    """"2，还在漏水" -> Answer("2", "还在漏水"): the answer, a punctuation mark, then words."""
    head = _strip_marks(text)
    cut = next((i for i, ch in enumerate(head) if ch in _CLAUSE_MARKS), None)
    if cut is None:
        return None
    value = _ANSWERS.get(_key(head[:cut]))
    note = _strip_marks(head[cut:])
    if value is None or not note or note[0].isdigit():
        return None
    return Answer(value, note)


def classify(body: str) -> Command:
    """What an inbound text asks for. Never raises: anything unrecognised is Text."""
    text = normalise(body)
    if not text:
        return Empty()
    key = _key(text)
    if not key:
        return Help() if set(text) <= {"?", " "} else Ack()
    if key in _STOP:
        return Stop()
    if key in _START:
        return Start()
    if key in _HELP:
        return Help()
    if key in _ANSWERS:
        return Answer(_ANSWERS[key])
    if _only_acks(key):
        return Ack()
    return _prefixed(text) or _answer_with_note(text) or Text(text)


def is_long(body: str) -> bool:
    """Over Twilio's 1,600 characters: kept in full, but it arrived as several messages."""
    return len(body) > MAX_BODY


# ---- segments ---------------------------------------------------------------------------------
GSM_7 = "GSM-7"
UCS_2 = "UCS-2"
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")  # sent as escape + character: two septets
_LIMITS = {GSM_7: (160, 153), UCS_2: (70, 67)}  # one segment alone, each part of a longer text
_WORD_BACKOFF = 15  # how far back a cut looks for a space


def encoding(text: str) -> str:
    """GSM-7 when every character is in the GSM alphabet; one Chinese character makes it UCS-2."""
    return GSM_7 if all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text) else UCS_2


def _costs(text: str, enc: str) -> list[int]:
    """Septets per character (GSM-7) or UTF-16 code units per character (UCS-2)."""
    if enc == GSM_7:
        return [2 if ch in _GSM_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def segments(text: str) -> int:
    """How many SMS segments `text` is sent as (at least 1).

    A character is never split across parts: an escaped GSM character or a surrogate pair that
    does not fit in what is left of a part moves whole into the next one.
    """
    enc = encoding(text)
    single, part = _LIMITS[enc]
    costs = _costs(text, enc)
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > part:
            count, used = count + 1, 0
        used += cost
    return count


def ellipsis(text: str) -> str:
    """"…" is not in the GSM alphabet: adding it to an English text would halve what fits, so "..."."""
    return "..." if encoding(text) == GSM_7 else "…"


def _latin_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _trimmed(text: str, length: int) -> str:
    """The first `length` characters with an ellipsis: code points, so never half a surrogate pair, and
    back to the last space when that cuts an English word in two (Chinese has no spaces to go back to)."""
    if length >= len(text):
        return text
    head = text[:length]
    if _latin_word(text[length]) and _latin_word(head[-1:]):
        space = head.rfind(" ", max(0, length - _WORD_BACKOFF))
        head = head[:space] if space > 0 else head
    head = head.rstrip().rstrip("\u200d")  # no dangling zero-width joiner of an emoji sequence
    return head + ellipsis(head)


def longest(build: Callable[[str], str], value: str, max_segments: int) -> str:
    """The longest cut of `value` (ellipsis included) for which build(cut) still fits in max_segments.

    Replies squeeze their free-text part this way, so the fixed words after it ("reply 1 yes / 2 no") stay.
    """
    low, high = 0, len(value)
    while low < high:
        mid = (low + high + 1) // 2
        if segments(build(_trimmed(value, mid))) <= max_segments:
            low = mid
        else:
            high = mid - 1
    return _trimmed(value, low)


def fit(text: str, max_segments: int = 2) -> str:
    """`text` itself when it fits in max_segments, else its longest beginning that fits with an ellipsis."""
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    if segments(text) <= max_segments:
        return text
    return longest(lambda cut: cut, text, max_segments)
