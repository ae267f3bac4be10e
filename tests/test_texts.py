"""The one outbound SMS sender (worker.texts): opt-outs, quiet hours, pacing, REST errors, durability.

Real Redis, a real RQ SimpleWorker, the database and the Twilio-compatible sandbox; the clock is the
loop driver's (tests run "tomorrow" in Shanghai, so RQ's real-time retry backoffs are already due).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from grid.models import CallBack, Message, OptOut, Person, as_utc
from tests.loop_driver import Loop, shanghai
from worker import callbacks
from worker.loop import FollowUps
from worker.pacing import interval_us
from worker.queues import job_queue
from worker.sweeper import sweep
from worker.texts import enqueue_text, queue_text

RESIDENT = "+8613800000004"  # 林小红, a resident of the demo community
LEADER = "+8613900000101"  # 张伟, grid leader
OTHER = "+8613800009999"  # nobody in the registry
NIGHT = shanghai(1, 23, 30)
EIGHT = shanghai(2, 8)
BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def texts(loop: Loop) -> Loop:
    """The loop driver with SMS pacing out of the way (the pacing tests set their own rate)."""
    relaxed(loop, sms_mps=1000.0)
    return loop


def relaxed(loop: Loop, **changes: Any) -> None:
    settings = replace(loop.worker_ctx.settings, **changes)
    loop.app.config["SETTINGS"] = settings
    loop.worker_ctx.settings = settings


def text(loop: Loop, to: str, body: str = "第17号问题已经处理好了。", *, urgent: bool = False,
         person_phone: str | None = None) -> Message:
    """Queue a text as a caller would: the row in a transaction, the job after the commit."""
    with loop.app.extensions["gridline.sessions"]() as s:
        person = s.scalars(select(Person).where(Person.phone == person_phone)).first() if person_phone else None
        message = queue_text(s, loop.worker_ctx.settings, to=to, body=body, now=loop.now, kind="status",
                             urgent=urgent, person=person)
        s.commit()
    enqueue_text(loop.redis, message, loop.now)
    return message


def stored(loop: Loop, message_id: int) -> Message:
    with loop.app.extensions["gridline.sessions"]() as s:
        found = s.get(Message, message_id)
        assert found is not None
        return found


def sent_to(loop: Loop) -> list[str]:
    return [m["To"] for m in loop.twilio_api.messages]


@BOTH
def test_a_text_is_sent_once_through_the_sandbox(texts: Loop) -> None:
    """A queued text goes out once from TWILIO_NUMBER; the MessageSid is kept; a repeated job sends nothing."""
    message = text(texts, RESIDENT)
    assert message.status == "queued"
    texts.work()
    [out] = texts.twilio_api.messages
    assert (out["To"], out["From"], out["Body"]) == (RESIDENT, "+8657188880000", "第17号问题已经处理好了。")
    got = stored(texts, message.id)
    assert (got.status, got.message_sid, got.attempts, got.direction) == ("sent", out["Sid"], 1, "outbound")
    from worker.texts import deliver_text

    job_queue(texts.redis).enqueue(deliver_text, message.id, job_id="text-again")
    texts.work()
    assert len(texts.twilio_api.messages) == 1 and Job.fetch("text-again", texts.redis).return_value() != "sent"


def test_an_opted_out_number_is_suppressed_and_nothing_is_sent(texts: Loop) -> None:
    """A number with an opt-out gets a "suppressed" row and no job; the sandbox receives nothing."""
    with texts.app.extensions["gridline.sessions"]() as s:
        s.add(OptOut(phone=RESIDENT, source="keyword"))
        s.commit()
    message = text(texts, RESIDENT)
    assert message.status == "suppressed"
    assert job_queue(texts.redis).count == 0
    texts.work()
    assert texts.twilio_api.messages == [] and stored(texts, message.id).status == "suppressed"


def test_stop_after_queueing_suppresses_the_text_at_send_time(texts: Loop) -> None:
    """A STOP that arrives between queueing and sending still stops the text."""
    message = text(texts, RESIDENT)
    with texts.app.extensions["gridline.sessions"]() as s:
        s.add(OptOut(phone=RESIDENT, source="keyword"))
        s.commit()
    texts.work()
    assert texts.twilio_api.messages == [] and stored(texts, message.id).status == "suppressed"


@BOTH
def test_quiet_hours_hold_a_text_until_eight_in_the_morning(texts: Loop) -> None:
    """A status text at 23:30 Shanghai is held and goes out at 08:00, not before."""
    texts.at(NIGHT)
    message = text(texts, RESIDENT)
    assert message.status == "held" and message.scheduled_for == EIGHT
    texts.work()
    assert texts.twilio_api.messages == []
    scheduled = ScheduledJobRegistry(queue=job_queue(texts.redis))
    assert [scheduled.get_scheduled_time(j).timestamp() for j in scheduled.get_job_ids()] == [EIGHT.timestamp()]
    texts.advance(timedelta(hours=8, minutes=29))  # 07:59: still held, and the sweep leaves it alone
    assert texts.twilio_api.messages == []
    texts.advance(timedelta(minutes=1))
    assert sent_to(texts) == [RESIDENT] and stored(texts, message.id).status == "sent"


def test_an_urgent_text_goes_at_once_at_night(texts: Loop) -> None:
    """Urgent texts ignore quiet hours."""
    texts.at(NIGHT)
    message = text(texts, LEADER, "紧急：第18号问题", urgent=True)
    assert message.status == "queued"
    texts.work()
    assert sent_to(texts) == [LEADER]


def test_a_persons_own_quiet_hours_decide_when_their_text_goes(texts: Loop) -> None:
    """A night-shift resident (quiet 21:00-15:00) gets a 10:00 text at 15:00."""
    with texts.app.extensions["gridline.sessions"]() as s:
        s.add(Person(name="夜班", phone=OTHER, quiet_hours="21:00-15:00"))
        s.commit()
    texts.at(shanghai(1, 10))
    message = text(texts, OTHER, person_phone=OTHER)
    assert message.status == "held" and message.scheduled_for == shanghai(1, 15)


@BOTH
def test_twilio_21610_records_an_opt_out_and_later_texts_are_suppressed(texts: Loop) -> None:
    """Twilio's "unsubscribed recipient" fails the text, records an opt-out, and suppresses the next one."""
    texts.twilio_api.unsubscribed.add(RESIDENT)
    first = text(texts, RESIDENT)
    texts.work()
    got = stored(texts, first.id)
    assert got.status == "failed" and got.error.startswith("Twilio error 21610"), got.error
    with texts.app.extensions["gridline.sessions"]() as s:
        assert s.get(OptOut, RESIDENT).source == "twilio-21610"
    assert text(texts, RESIDENT).status == "suppressed"
    texts.work()
    assert texts.twilio_api.messages == []


def test_another_4xx_fails_the_text_without_retrying(texts: Loop) -> None:
    """An invalid number (HTTP 400, 21211) is final: failed with the code, no opt-out, not tried again."""
    texts.twilio_api.fail_messages.append(400)
    message = text(texts, RESIDENT)
    texts.work()
    texts.advance(timedelta(hours=1))
    got = stored(texts, message.id)
    assert (got.status, got.attempts) == ("failed", 1) and got.error.startswith("Twilio error 21211")
    with texts.app.extensions["gridline.sessions"]() as s:
        assert s.get(OptOut, RESIDENT) is None


@BOTH
def test_429_and_500_are_retried_and_the_text_is_sent_once(texts: Loop) -> None:
    """Throttled, then a server error: back to queued each time, RQ retries, one text reaches Twilio."""
    texts.twilio_api.fail_messages.extend([429, 500])
    message = text(texts, RESIDENT)
    texts.work()
    got = stored(texts, message.id)
    assert (got.status, got.attempts) == ("queued", 1) and got.error.startswith("HTTP 429"), got.error
    for _ in range(2):
        texts.run_scheduler()  # RQ's backoff, due on the test's clock
        texts.work()
    got = stored(texts, message.id)
    assert (got.status, got.attempts, got.error) == ("sent", 3, "")
    assert sent_to(texts) == [RESIDENT]


def test_texts_to_different_numbers_get_pacing_slots_one_interval_apart(loop: Loop) -> None:
    """At SMS_MPS=2 three texts are booked 0.5 s apart on the shared SMS limiter, and all go out."""
    relaxed(loop, sms_mps=2.0)
    numbers = ["+8613800000001", "+8613800000002", "+8613800000003"]
    messages = [text(loop, number) for number in numbers]
    loop.work()
    slots = [Job.fetch(f"text-{m.id}-0", loop.redis).meta["pacing_slot_us"] for m in messages]
    assert [b - a for a, b in zip(slots, slots[1:], strict=False)] == [interval_us(2.0)] * 2
    assert sent_to(loop) == numbers


def test_a_text_whose_slot_is_far_off_waits_on_the_queue(loop: Loop) -> None:
    """At SMS_MPS=0.1 the second text is not slept for: it stays queued with a job 10 s later."""
    relaxed(loop, sms_mps=0.1)
    first, second = text(loop, "+8613800000001"), text(loop, "+8613800000002")
    loop.work()
    assert sent_to(loop) == ["+8613800000001"] and stored(loop, first.id).status == "sent"
    got = stored(loop, second.id)
    assert (got.status, got.attempts) == ("queued", 0)
    assert len(ScheduledJobRegistry(queue=job_queue(loop.redis)).get_job_ids()) == 1


@BOTH
def test_redis_flushed_the_sweep_enqueues_a_queued_text_again_and_it_is_sent_once(texts: Loop) -> None:
    """The row is the truth: after Redis lost the job the sweep puts it back, once; it is sent once."""
    message = text(texts, RESIDENT)
    texts.redis.flushdb()
    assert sweep()["texts"] == 1
    assert sweep()["texts"] == 0  # already on the queue: not twice
    texts.work()
    assert sweep()["texts"] == 0
    assert sent_to(texts) == [RESIDENT] and stored(texts, message.id).status == "sent"


def test_without_twilio_credentials_a_text_waits_for_them(texts: Loop) -> None:
    """No TWILIO_AUTH_TOKEN: the text stays queued; once configured the sweep sends it."""
    configured = texts.worker_ctx.settings
    relaxed(texts, twilio_auth_token="")
    message = text(texts, RESIDENT)
    texts.work()
    assert stored(texts, message.id).status == "queued" and texts.twilio_api.messages == []
    texts.worker_ctx.settings = configured
    texts.advance(timedelta(minutes=1))
    assert sent_to(texts) == [RESIDENT]


@BOTH
def test_follow_up_texts_go_through_the_sender(texts: Loop) -> None:
    """At night a resident's fallback text is held; the escalation text with an urgent call goes with the call."""
    texts.at(NIGHT)
    with texts.app.extensions["gridline.sessions"]() as s:
        leader = s.scalars(select(Person).where(Person.phone == LEADER)).first()
        call = callbacks.schedule(s, texts.worker_ctx.settings, purpose=callbacks.ESCALATION, now=NIGHT,
                                  to_number=LEADER, person=leader, urgent=True)
        s.commit()
    follow = FollowUps(callbacks=[call], messages=[(LEADER, "紧急：第18号问题无人接听"), (RESIDENT, "电话没有打通")])
    callbacks.enqueue_follow_ups(texts.redis, follow, NIGHT)
    texts.work()
    assert sent_to(texts) == [LEADER] and [c["To"] for c in texts.twilio_api.calls] == [LEADER]
    with texts.app.extensions["gridline.sessions"]() as s:
        rows = {m.phone: m for m in s.scalars(select(Message))}
        assert s.get(CallBack, call.id).status == "placed"
    assert (rows[LEADER].kind, rows[LEADER].urgent, rows[LEADER].callback_id) == ("escalation", True, call.id)
    assert (rows[RESIDENT].status, as_utc(rows[RESIDENT].scheduled_for)) == ("held", EIGHT)


def test_the_old_send_sms_job_records_one_text_even_when_run_twice(texts: Loop) -> None:
    """worker.messaging.send_sms (the web's confirmation job) goes through the sender; RQ running it again adds nothing."""
    from worker.messaging import send_sms

    queue = job_queue(texts.redis)
    job = queue.enqueue(send_sms, RESIDENT, "您反映的问题编号是17。")
    texts.work()
    queue.enqueue_job(Job.fetch(job.id, texts.redis))  # the same job again, as a retry would run it
    texts.work()
    with texts.app.extensions["gridline.sessions"]() as s:
        [row] = s.scalars(select(Message)).all()
    assert (row.kind, row.status) == ("confirmation", "sent") and sent_to(texts) == [RESIDENT]


def test_the_same_text_sent_again_on_purpose_is_a_new_text(texts: Loop) -> None:
    """Two follow-ups with the same words are two texts (only a repeated job is folded into one)."""
    for _ in range(2):
        callbacks.enqueue_follow_ups(texts.redis, FollowUps(messages=[(RESIDENT, "社区通知：明天停水")]), texts.now)
        texts.work()
    assert sent_to(texts) == [RESIDENT, RESIDENT]
