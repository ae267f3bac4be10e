"""The web side of the job queue: the app's Redis connection and queue, used after commits."""
from __future__ import annotations

from flask import Flask, current_app
from rq import Queue

from worker.queues import DEFAULT_QUEUE, connect, job_queue


def init_app(app: Flask) -> None:
    app.extensions["gridline.redis"] = None


def queue(name: str = DEFAULT_QUEUE) -> Queue:
    """An RQ queue on the app's Redis, connected on first use (the app starts even if Redis is down)."""
    conn = current_app.extensions.get("gridline.redis")
    if conn is None:
        conn = connect(current_app.config["SETTINGS"].redis_url)
        current_app.extensions["gridline.redis"] = conn
    return job_queue(conn, name)
