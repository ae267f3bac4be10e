"""Drives the closed loop in tests: a controllable clock, RQ's scheduler as if time passed, and
Twilio's side of outbound calls (answering webhooks, status callbacks) following what the app
asked the Twilio-compatible REST endpoint (sandbox) to do."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry

from tests.twilio_driver import Call, flask_poster, signed_post
from worker.queues import all_queues
from worker.sweeper import sweep

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(days_from_today: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Shanghai, in UTC. Tests run "tomorrow", so the test clock is ahead of the
    real one and RQ's real-time backoffs are already due when the test's scheduler looks."""
    day = datetime.now(SHANGHAI).date() + timedelta(days=days_from_today)
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(UTC)


MORNING = shanghai(1, 9)  # 09:00 tomorrow in Shanghai: no quiet hours


@dataclass
class Loop:
    app: Any
    worker_ctx: Any
    twilio_api: Any
    redis: Any
    now: datetime
    answered: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.at(self.now)

    @property
    def post(self) -> Any:
        return flask_poster(self.app.test_client())

    def at(self, when: datetime) -> None:
        """Set the clock the web app and the worker both read."""
        self.now = when
        self.app.config["CLOCK"] = lambda: self.now
        self.worker_ctx.clock = lambda: self.now

    def advance(self, delta: timedelta) -> None:
        """Let time pass: RQ's scheduler moves what fell due onto the queues, the sweep runs, workers work."""
        self.at(self.now + delta)
        self.run_scheduler()
        sweep()
        self.work()

    def run_scheduler(self) -> int:
        """What RQ's scheduler does each second, with the test's clock: enqueue jobs now due."""
        moved = 0
        for queue in all_queues(self.redis):
            registry = ScheduledJobRegistry(queue=queue)
            for job_id in registry.get_job_ids():
                when = registry.get_scheduled_time(job_id)
                if when is not None and when.timestamp() <= self.now.timestamp():
                    registry.remove(job_id)
                    job = queue.fetch_job(job_id)
                    if job is not None:
                        queue.enqueue_job(job)
                        moved += 1
        return moved

    def work(self) -> None:
        SimpleWorker(all_queues(self.redis), connection=self.redis).work(burst=True)

    # ---- Twilio's side of an outbound call -------------------------------------------------
    def calls_to(self, number: str) -> list[dict[str, str]]:
        return [c for c in self.twilio_api.calls if c["To"] == number]

    def pending_calls(self) -> list[dict[str, str]]:
        """Calls the app placed that the test has not played out yet."""
        return [c for c in self.twilio_api.calls if c["Sid"] not in self.answered]

    def pick_up(self, placed: dict[str, str], answered_by: str = "human") -> Call:
        """The callee answers: Twilio fetches the call's Url (with AnsweredBy from detection)."""
        call = Call(self.post, placed["Sid"], placed["From"], to_number=placed["To"])
        call._send(placed["Url"], Direction="outbound-api", From=placed["From"], To=placed["To"],
                   AnsweredBy=answered_by)
        return call

    def status(self, placed: dict[str, str], status: str, answered_by: str = "", duration: int = 30) -> int:
        """One of Twilio's status callbacks for the call."""
        self.answered.add(placed["Sid"])
        form = {"CallSid": placed["Sid"], "AccountSid": self.twilio_api.account_sid, "CallStatus": status,
                "From": placed["From"], "To": placed["To"], "Direction": "outbound-api",
                "CallDuration": str(duration)}
        if answered_by:
            form["AnsweredBy"] = answered_by
        code, _ = signed_post(self.post, placed["StatusCallback"], form)
        return code

    def answer(self, placed: dict[str, str], *keys: str, note: str | None = None) -> str:
        """Pick up, press keys, optionally leave a voice note, hang up. Returns all that was heard."""
        call = self.pick_up(placed)
        for key in keys:
            call.press(key)
        if note is not None:
            sid = "RE" + placed["Sid"][2:]
            url = self.twilio_api.add_recording(sid, b"")  # no audio: the note is kept, flagged "unavailable"
            call.finish_recording(sid, url, duration=4)
        self.status(placed, "completed", "human")
        return " | ".join(call.history)

    def ring_out(self, placed: dict[str, str], status: str = "no-answer") -> None:
        """Nobody picks up (or busy, failed): only the final status callback comes."""
        self.status(placed, "ringing")
        self.status(placed, status)
