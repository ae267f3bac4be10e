"""The per-process context jobs run in: settings, database sessions, Redis, speech models.

Jobs take ids only and fetch everything else from here. The worker entry point builds the
context once, before work starts (so a Vosk model loads once per process, never per job);
tests build one around their own database and Redis and install it with `install()`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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

    def now(self) -> datetime:
        return self.clock() if self.clock else datetime.now(UTC)


_current: WorkerContext | None = None


def install(ctx: WorkerContext | None) -> None:
    """Make ctx the context for jobs run in this process (None removes it)."""
    global _current
    _current = ctx


def current() -> WorkerContext:
    if _current is None:
        raise RuntimeError("no worker context: start workers with `python -m worker`")
    return _current
