"""`python -m worker`: an RQ worker with RQ's scheduler (for enqueue_at call-backs).

The Vosk models load here, once, before the worker starts taking jobs.
"""
from __future__ import annotations

import logging
import sys

from rq import Worker

from worker.bootstrap import build_context
from worker.queues import job_queue


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = build_context()
    worker = Worker([job_queue(ctx.redis)], connection=ctx.redis)
    worker.work(with_scheduler=True, burst="--burst" in sys.argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
