"""Builds a process's WorkerContext from the environment; expensive set-up happens here, once."""
from __future__ import annotations

import logging

from grid.db import make_engine, make_session_factory
from telephony.config import Settings, load_settings
from worker.context import WorkerContext, install
from worker.queues import connect

log = logging.getLogger(__name__)


def build_context(settings: Settings | None = None, load_models: bool = True) -> WorkerContext:
    """Settings, DB, Redis and (for workers) the Vosk models, loaded before any job runs."""
    from worker import asr
    from worker.model_folders import model_status_lines

    settings = settings or load_settings()
    sessions = make_session_factory(make_engine(settings.effective_database_url))
    transcribers = {}
    if load_models:
        for line in model_status_lines(settings):
            log.warning("%s", line)
        transcribers = asr.load_transcribers(settings)
    ctx = WorkerContext(settings=settings, sessions=sessions, redis=connect(settings.redis_url), transcribers=transcribers)
    install(ctx)
    _warm(ctx)
    return ctx


def _warm(ctx: WorkerContext) -> None:
    """Import the job modules and build the Twilio client before any fork: a forked work horse then
    starts with them loaded instead of importing them for every job (measured: 256 ms against 73 ms
    per placement, bench/outbound_pacing.py --fork)."""
    import worker.messaging  # noqa: F401
    import worker.outbound  # noqa: F401
    import worker.sweeper  # noqa: F401

    if ctx.settings.twilio_configured:
        ctx.twilio()
