"""`python -m worker.cron`: enqueues the sweep every minute (RQ's CronScheduler)."""
from __future__ import annotations

import logging

from rq.cron import CronScheduler

from telephony.config import load_settings
from worker.queues import DEFAULT_QUEUE, connect
from worker.sweeper import sweep

SWEEP_INTERVAL_SECONDS = 60


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    scheduler = CronScheduler(connection=connect(settings.redis_url), name="gridline-sweeper")
    scheduler.register(sweep, DEFAULT_QUEUE, interval=SWEEP_INTERVAL_SECONDS, job_timeout=120)
    scheduler.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
