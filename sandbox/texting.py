"""Texts on the sandbox phone: what the phone sends goes to the app's messaging webhook, what the app
sends (its <Message> reply, or a REST message) lands in the recipient's thread."""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.lines import Lines
from sandbox.webhooks import AppError, Webhooks

TO_PHONE, FROM_PHONE = "to-phone", "from-phone"


def replies(twiml: str) -> list[tuple[str, str]]:
    """(to, body) of each <Message> in a messaging answer; to is "" for the sender."""
    if not twiml.strip():
        return []
    root = ET.fromstring(twiml)
    found = []
    for message in root.iter("Message"):
        body = message.findtext("Body")
        found.append((message.get("to", ""), body if body is not None else (message.text or "")))
    return found


@dataclass
class Texting:
    lines: Lines
    hooks: Webhooks
    hotline: str
    line_of: Callable[[str], str]

    def send(self, number: str, body: str) -> list[dict[str, Any]]:
        """The phone texts the hotline; the events of the text and of the app's replies."""
        sid = "SM" + secrets.token_hex(16)
        sent = [self.lines.emit(number, "sms", direction=FROM_PHONE, body=body, sid=sid, **{"from": number, "to": self.hotline})]
        form = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "From": number, "To": self.hotline,
                "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received"}
        try:
            answer = self.hooks.post(self.hooks.public_base_url.rstrip("/") + "/twilio/sms", form)
            answered = replies(answer)
        except AppError as exc:
            self.lines.emit(number, "error", message=str(exc))
            raise
        except ET.ParseError as exc:
            sent.append(self.lines.emit(number, "error", message=f"the app's reply is not TwiML ({exc})"))
            return sent
        for to, text in answered:
            line = self.line_of(to) if to else number
            sent.append(self.lines.emit(line, "sms", direction=TO_PHONE, body=text, sid="SM" + secrets.token_hex(16),
                                        **{"from": self.hotline, "to": line}))
        return sent

    def delivered(self, record: dict[str, str]) -> None:
        """A message the app sent through the REST stand-in (Messages.json)."""
        to = record.get("To", "")
        media = [v for k, v in sorted(record.items()) if k.startswith("MediaUrl")]
        self.lines.emit(self.line_of(to), "sms", direction=TO_PHONE, body=record.get("Body", ""), sid=record.get("Sid", ""),
                        media=media, **{"from": record.get("From", ""), "to": to})
