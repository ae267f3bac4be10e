"""The only module that reads Twilio's form fields: webhook parameters in, typed values out."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr_flows.actions import DialEnded, Digits, Input, NoInput, RecordingDone, Start


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def flow_input(expect: str, form: Mapping[str, str]) -> Input:
    """Map the next webhook to the input the flow said it was waiting for."""
    if expect == "digits":
        digits = (form.get("Digits") or "").strip()
        return Digits(digits) if digits else NoInput()
    if expect == "record":
        if form.get("RecordingSid") and form.get("RecordingUrl"):
            return RecordingDone(form["RecordingSid"], form["RecordingUrl"], _int(form.get("RecordingDuration")))
        return NoInput()
    if expect == "norecord":
        return NoInput()
    if expect == "dial":
        return DialEnded(form.get("DialCallStatus") or "failed")
    return Start()


@dataclass(frozen=True)
class CallInfo:
    call_sid: str
    from_number: str
    to_number: str
    status: str
    answered_by: str = ""  # answering-machine detection: human, machine_start, machine_end_beep, fax, unknown


def call_info(form: Mapping[str, str]) -> CallInfo:
    return CallInfo(
        call_sid=form.get("CallSid", ""),
        from_number=form.get("From", ""),
        to_number=form.get("To", ""),
        status=form.get("CallStatus", ""),
        answered_by=form.get("AnsweredBy", ""),
    )


@dataclass(frozen=True)
class RecordingEvent:
    """A recordingStatusCallback: fires even when the caller hangs up mid-recording."""

    call_sid: str
    recording_sid: str
    recording_url: str
    status: str  # completed | absent | failed
    duration: int


def recording_event(form: Mapping[str, str]) -> RecordingEvent:
    return RecordingEvent(
        call_sid=form.get("CallSid", ""),
        recording_sid=form.get("RecordingSid", ""),
        recording_url=form.get("RecordingUrl", ""),
        status=form.get("RecordingStatus", ""),
        duration=_int(form.get("RecordingDuration")),
    )


@dataclass(frozen=True)
class CallStatusEvent:
    call_sid: str
    status: str  # queued, initiated, ringing, in-progress, completed, busy, no-answer, failed, canceled
    answered_by: str
    duration: int


def call_status_event(form: Mapping[str, str]) -> CallStatusEvent:
    return CallStatusEvent(
        call_sid=form.get("CallSid", ""),
        status=form.get("CallStatus", ""),
        answered_by=form.get("AnsweredBy", ""),
        duration=_int(form.get("CallDuration")),
    )


@dataclass(frozen=True)
class MediaItem:
    url: str
    content_type: str


@dataclass(frozen=True)
class SmsEvent:
    """An incoming SMS/MMS (Twilio's messaging webhook)."""

    message_sid: str
    from_number: str
    to_number: str
    body: str  # exactly as sent: emoji and rare Han characters intact
    segments: int
    media: tuple[MediaItem, ...]


def sms_event(form: Mapping[str, str]) -> SmsEvent:
    count = min(_int(form.get("NumMedia")), 10)  # Twilio sends at most 10 media items
    media = tuple(
        MediaItem(form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}", ""))
        for i in range(count)
        if form.get(f"MediaUrl{i}")
    )
    return SmsEvent(
        message_sid=form.get("MessageSid") or form.get("SmsMessageSid", ""),
        from_number=form.get("From", ""),
        to_number=form.get("To", ""),
        body=form.get("Body", ""),
        segments=max(_int(form.get("NumSegments")), 1),
        media=media,
    )
