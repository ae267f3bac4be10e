"""Redis connections and RQ queues, built from settings and passed explicitly (RQ has no global)."""
from __future__ import annotations

from redis import Redis
from rq import Queue

DEFAULT_QUEUE = "gridline"  # SMS, dispatch, the sweep: short jobs, forked work horses
OUTBOUND_QUEUE = "outbound"  # call-back placement: paced to OUTBOUND_CPS, so it may wait a moment
TRANSCRIPTION_QUEUE = "transcription"  # speech recognition: one warm process holding the models
QUEUE_NAMES = (DEFAULT_QUEUE, OUTBOUND_QUEUE, TRANSCRIPTION_QUEUE)


def connect(redis_url: str) -> Redis:
    """A Redis connection; REDIS_URL is set by the launcher when the embedded server is used."""
    if not redis_url:
        raise RuntimeError("REDIS_URL is not set (the launcher sets it for the embedded Redis)")
    return Redis.from_url(redis_url)


def job_queue(conn: Redis, name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=conn)


def all_queues(conn: Redis) -> list[Queue]:
    """Every queue, for a worker (or a test) that should run all of GridLine's jobs."""
    return [job_queue(conn, name) for name in QUEUE_NAMES]
