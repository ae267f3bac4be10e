"""What a phone makes of the app's TwiML, one document at a time: the pure half of the sandbox phone.

A live call is a list of verbs and a position in it. `run` walks from the position, collecting what
the caller hears (Say, Play, Pause) until the call has to wait for something: keys (<Gather>), a
recording (<Record>), a fetch of another document (<Redirect>), or nothing ever again (<Hangup>,
<Dial>, the end of the document). The host (sandbox/switchboard.py) does the HTTP and calls `run`
again from `resume` when Twilio would fall through: a <Gather> that timed out with no digits and
no actionOnEmptyResult, or a <Record> that heard nothing. Keeping this free of I/O lets the tests
table-drive Twilio's defaults and edge cases.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urljoin

# Twilio's <Say language> -> the BCP-47 tag browsers' speechSynthesis knows. Mandarin is "cmn-CN"
# for Polly voices and "zh-CN" for Twilio's basic ones; Cantonese "yue-HK"; Taiwanese Mandarin "cmn-TW".
SPEECH_LANGUAGES = {
    "cmn-cn": "zh-CN", "zh-cn": "zh-CN", "cmn-hans-cn": "zh-CN", "zh": "zh-CN", "cmn": "zh-CN",
    "cmn-tw": "zh-TW", "zh-tw": "zh-TW", "yue-hk": "zh-HK", "zh-hk": "zh-HK", "yue-cn": "zh-HK",
    "en": "en-US",
}
TWILIO_SAY_DEFAULT = "en-US"  # <Say> without a language attribute
ALL_KEYS = "1234567890*#"


@dataclass(frozen=True)
class Say:
    text: str
    language: str  # BCP-47 for speech synthesis
    twilio_language: str  # as the TwiML said it
    voice: str = ""
    loop: int = 1


@dataclass(frozen=True)
class Play:
    url: str
    loop: int = 1


@dataclass(frozen=True)
class Pause:
    seconds: int = 1


Item = Say | Play | Pause


@dataclass(frozen=True)
class GatherWait:
    """Keys are wanted: submit them to `action` when num_digits are in, finish_on_key is pressed, or time runs out."""

    action: str
    method: str = "POST"
    num_digits: int | None = None  # None: any number, until finish_on_key or the timeout
    finish_on_key: str = "#"
    timeout: int = 5
    action_on_empty_result: bool = False


@dataclass(frozen=True)
class RecordWait:
    """A recording is wanted; `action` gets it, `status_callback` hears when it is ready (or absent)."""

    action: str
    method: str = "POST"
    max_length: int = 3600
    finish_on_key: str = ALL_KEYS
    timeout: int = 5
    play_beep: bool = True
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)


@dataclass(frozen=True)
class Fetch:
    """<Redirect>: the call continues with the document at `url`."""

    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Ended:
    """The call is over: "hangup" (<Hangup>), "reject" (<Reject>), "dial" (a transfer the sandbox cannot
    connect; `number` says where to), or "end" (no verbs left)."""

    reason: str
    number: str = ""


Wait = GatherWait | RecordWait | Fetch | Ended


@dataclass(frozen=True)
class Waiting:
    """A verb that makes the call wait, with the prompts a <Gather> speaks first."""

    wait: Wait
    prompts: tuple[Item, ...] = ()


Verb = Item | Waiting


@dataclass(frozen=True)
class Turn:
    """What the phone shows and speaks, what it waits for, and where to go on if the wait falls through."""

    items: tuple[Item, ...]
    wait: Wait
    resume: int


def speech_language(twilio_language: str) -> str:
    """The BCP-47 tag for a <Say language> ("cmn-CN" -> "zh-CN"); others pass through as they are."""
    lang = twilio_language.strip() or TWILIO_SAY_DEFAULT
    mapped = SPEECH_LANGUAGES.get(lang.lower())
    if mapped:
        return mapped
    if lang.lower().startswith("cmn-"):
        return "zh-" + lang[4:].upper()
    return lang


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() == "true"


def _item(el: ET.Element) -> Item | None:
    if el.tag == "Say":
        lang = el.get("language", "")
        return Say(" ".join("".join(el.itertext()).split()), speech_language(lang),
                   lang or TWILIO_SAY_DEFAULT, el.get("voice", ""), max(1, _int(el.get("loop"), 1)))
    if el.tag == "Play":
        return Play((el.text or "").strip(), max(1, _int(el.get("loop"), 1)))
    if el.tag == "Pause":
        return Pause(max(0, _int(el.get("length"), 1)))
    return None


def _dial_number(el: ET.Element) -> str:
    text = (el.text or "").strip()
    if text:
        return text
    nested = next((child for child in el if child.tag in ("Number", "Client", "Sip")), None)
    return (nested.text or "").strip() if nested is not None else ""


def _verb(el: ET.Element, url: str) -> Verb | None:
    """One top-level verb; relative URLs resolve against the document's own URL, as Twilio does."""
    method = el.get("method", "POST").upper()
    if el.tag == "Gather":
        prompts = tuple(item for item in (_item(child) for child in el) if item is not None)
        num_digits = _int(el.get("numDigits"), 0) or None
        return Waiting(GatherWait(
            urljoin(url, el.get("action", "")) or url, method, num_digits,
            el.get("finishOnKey", "#"), _int(el.get("timeout"), 5), _flag(el.get("actionOnEmptyResult"), False),
        ), prompts)
    if el.tag == "Record":
        callback = el.get("recordingStatusCallback", "")
        events = tuple(el.get("recordingStatusCallbackEvent", "completed").split()) or ("completed",)
        return Waiting(RecordWait(
            urljoin(url, el.get("action", "")) or url, method, _int(el.get("maxLength"), 3600),
            el.get("finishOnKey", ALL_KEYS), _int(el.get("timeout"), 5), _flag(el.get("playBeep"), True),
            urljoin(url, callback) if callback else "", el.get("recordingStatusCallbackMethod", "POST").upper(), events,
        ))
    if el.tag == "Redirect":
        return Waiting(Fetch(urljoin(url, (el.text or "").strip()) or url, method))
    if el.tag in ("Hangup", "Reject"):
        return Waiting(Ended(el.tag.lower()))
    if el.tag == "Dial":
        return Waiting(Ended("dial", _dial_number(el)))
    return _item(el)  # Say, Play, Pause; anything else (<Sms>, <Enqueue>...) is skipped


def parse(twiml: str, url: str) -> tuple[Verb, ...]:
    """The verbs of one TwiML document fetched from `url`. An empty answer is an empty document."""
    if not twiml.strip():
        return ()
    root = ET.fromstring(twiml)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: the root element is <{root.tag}>, not <Response>")
    return tuple(verb for verb in (_verb(el, url) for el in root) if verb is not None)


def run(verbs: tuple[Verb, ...], start: int = 0) -> Turn:
    """From `start`, what is heard until the call must wait (or ends)."""
    items: list[Item] = []
    for index in range(start, len(verbs)):
        verb = verbs[index]
        if isinstance(verb, Waiting):
            return Turn((*items, *verb.prompts), verb.wait, index + 1)
        items.append(verb)
    return Turn(tuple(items), Ended("end"), len(verbs))


def press(wait: GatherWait, so_far: str, key: str) -> tuple[str, bool]:
    """The digits after one more key, and whether the <Gather> submits now.

    The finishOnKey is left out of Digits, except when it is the only key pressed (Twilio then sends it).
    """
    if wait.finish_on_key and key in wait.finish_on_key:
        return (so_far or key), True
    digits = so_far + key
    return digits, wait.num_digits is not None and len(digits) >= wait.num_digits


def on_timeout(wait: GatherWait, so_far: str) -> str | None:
    """The Digits to submit when nobody pressed on in time, or None: no request, fall through to the next verb."""
    if so_far or wait.action_on_empty_result:
        return so_far
    return None
