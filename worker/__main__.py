"""`python -m worker [transcriber]`: GridLine's RQ workers, each with RQ's scheduler.

- `python -m worker`: SMS, dispatch and the sweep, then call-back placement (its own queue, after
  the others: a paced placement may wait a moment for its slot). Forks a work horse per job
  (crash isolation); loads no speech model.
- `python -m worker transcriber`: speech recognition. Loads the Vosk models once, before taking
  jobs, and runs every job in this same process: a forked work horse would lose the warm
  recognizer and pay its slow first decode on every job (3x slower, see bench/transcription.py).
"""
from __future__ import annotations

import logging
import sys

from rq import SimpleWorker, Worker

from worker.bootstrap import build_context
from worker.queues import DEFAULT_QUEUE, OUTBOUND_QUEUE, TRANSCRIPTION_QUEUE, job_queue


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    transcriber = "transcriber" in argv
    ctx = build_context(load_models=transcriber)
    if transcriber:
        worker: SimpleWorker | Worker = SimpleWorker([job_queue(ctx.redis, TRANSCRIPTION_QUEUE)], connection=ctx.redis)
    else:
        worker = Worker([job_queue(ctx.redis, DEFAULT_QUEUE), job_queue(ctx.redis, OUTBOUND_QUEUE)], connection=ctx.redis)
    worker.work(with_scheduler=True, burst="--burst" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
