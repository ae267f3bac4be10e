"""Redis connections and RQ queues, built from settings and passed explicitly (RQ has no global)."""
from __future__ import annotations

from redis import Redis
from rq import Queue

DEFAULT_QUEUE = "gridline"


def connect(redis_url: str) -> Redis:
    """A Redis connection; REDIS_URL is set by the launcher when the embedded server is used."""
    if not redis_url:
        raise RuntimeError("REDIS_URL is not set (the launcher sets it for the embedded Redis)")
    return Redis.from_url(redis_url)


def job_queue(conn: Redis, name: str = DEFAULT_QUEUE) -> Queue:
    return Queue(name, connection=conn)
