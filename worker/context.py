"""The per-process context jobs run in: settings, database sessions, Redis, speech models.

Jobs take ids only and fetch everything else from here. The worker entry point builds the
context once, before work starts (so a Vosk model loads once per process, never per job);
tests build one around their own database and Redis and install it with `install()`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from telephony.config import Settings

if TYPE_CHECKING:
    from worker.asr import Transcriber


@dataclass
class WorkerContext:
    settings: Settings
    sessions: sessionmaker[Session]
    redis: Redis
    transcribers: dict[str, Transcriber | None] = field(default_factory=dict)
    # Where "now" comes from; tests may install a controllable clock.
    clock: Callable[[], datetime] | None = None
    _twilio: tuple[tuple[str, str, str], Any] | None = None

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)

    def twilio(self) -> Any:
        """The twilio REST client, built once per process (and again if the credentials change).

        Building it, and twilio's first use of `.calls`, costs tens of milliseconds: paid inside a
        paced placement, that delay lands between the pacing slot and the request and bunches calls.
        """
        from telephony.rest import make_client

        key = (self.settings.twilio_account_sid, self.settings.twilio_auth_token, self.settings.twilio_api_base_url)
        if self._twilio is None or self._twilio[0] != key:
            client = make_client(self.settings)
            _ = client.calls, client.messages  # load the resource modules now, not on the first call
            self._twilio = (key, client)
        return self._twilio[1]


_current: WorkerContext | None = None


def install(ctx: WorkerContext | None) -> None:
    """Make ctx the context for jobs run in this process (None removes it)."""
    global _current
    _current = ctx


def current() -> WorkerContext:
    if _current is None:
        raise RuntimeError("no worker context: start workers with `python -m worker`")
    return _current
