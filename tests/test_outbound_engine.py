"""The outbound engine's edges: lines busy, a process dying mid-placement, a lost final status,
and call-backs whose question was answered elsewhere."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from grid.models import CallAttempt, CallBack, Person, Report
from tests.loop_driver import Loop
from tests.test_closed_loop import RESIDENT, WORKER, call_backs, file, relaxed, report
from worker import callbacks
from worker.queues import job_queue
from worker.sweeper import PLACED_TIMEOUT, PLACING_TIMEOUT


def staff_questions(loop: Loop, phones: list[str]) -> list[int]:
    """Staff ask three people a question at once (three due call-backs)."""
    ids = []
    with loop.app.extensions["gridline.sessions"]() as s:
        for phone in phones:
            person = s.scalars(select(Person).where(Person.phone == phone)).first()
            cb = callbacks.request_staff_call(s, loop.worker_ctx.settings, now=loop.now, question="路灯亮了吗？",
                                              requested_by="test", person=person)
            s.flush()
            ids.append(cb.id)
        s.commit()
        for cb in s.scalars(select(CallBack)):
            callbacks.enqueue(job_queue(loop.redis), cb, loop.now)
    return ids


def test_never_more_calls_in_flight_than_max_concurrent_calls(loop: Loop) -> None:
    """With one line, the second and third calls wait until the first has ended, then ring in turn."""
    relaxed(loop, max_concurrent_calls=1)
    staff_questions(loop, [RESIDENT, "+8613800000005", "+8613800000006"])
    loop.work()
    assert len(loop.twilio_api.calls) == 1
    loop.ring_out(loop.twilio_api.calls[0])
    loop.advance(timedelta(seconds=20))  # the deferred placements come back
    assert len(loop.twilio_api.calls) == 2
    loop.ring_out(loop.twilio_api.calls[1])
    loop.advance(timedelta(seconds=20))
    assert len(loop.twilio_api.calls) == 3
    assert len({c["To"] for c in loop.twilio_api.calls}) == 3  # nobody twice, nobody lost


def test_placement_that_died_before_twilio_answered_is_placed_again(loop: Loop) -> None:
    """A worker died between claiming and Twilio's reply: after a grace period the call-back rings again, once."""
    [cb_id] = staff_questions(loop, [RESIDENT])
    with loop.app.extensions["gridline.sessions"]() as s:  # what a dead worker leaves behind
        cb = s.get(CallBack, cb_id)
        cb.status, cb.attempts = "placing", 1
        s.add(CallAttempt(callback_id=cb_id, number=1, placed_at=loop.now, status="placing"))
        s.commit()
    loop.redis.flushdb()
    loop.advance(PLACING_TIMEOUT - timedelta(minutes=1))
    assert loop.twilio_api.calls == []
    loop.advance(timedelta(minutes=2))
    loop.advance(timedelta(seconds=1))
    assert [c["To"] for c in loop.twilio_api.calls] == [RESIDENT]
    with loop.app.extensions["gridline.sessions"]() as s:
        attempts = s.scalars(select(CallAttempt).order_by(CallAttempt.number)).all()
        assert [(a.number, a.outcome) for a in attempts] == [(1, "lost"), (2, "")]


def test_placement_that_died_after_twilio_took_the_call_is_not_placed_again(loop: Loop) -> None:
    """Twilio took the call (its status callback named the CallSid) but our commit never happened: no second call."""
    [cb_id] = staff_questions(loop, [RESIDENT])
    loop.work()
    placed = loop.twilio_api.calls[0]
    with loop.app.extensions["gridline.sessions"]() as s:  # as if the "placed" commit was lost
        cb = s.get(CallBack, cb_id)
        cb.status, cb.call_sid = "placing", None
        s.get(CallAttempt, 1).call_sid = None
        s.commit()
    loop.status(placed, "ringing")  # the status callback teaches the attempt its CallSid
    loop.advance(PLACING_TIMEOUT + timedelta(minutes=1))
    assert len(loop.twilio_api.calls) == 1
    assert call_backs(loop)[0].status == "placed"
    loop.status(placed, "no-answer")
    assert call_backs(loop)[0].status == "scheduled"  # the normal retry path from here


def test_a_lost_final_status_is_fetched_from_twilio(loop: Loop) -> None:
    """No final status callback ever came: after an hour the engine asks Twilio, and retries a no-answer."""
    staff_questions(loop, [RESIDENT])
    loop.work()
    placed = loop.twilio_api.calls[0]
    loop.twilio_api.set_call_status(placed["Sid"], "no-answer")
    loop.advance(PLACED_TIMEOUT + timedelta(minutes=1))
    cb = call_backs(loop)[0]
    assert cb.misses == 1 and cb.status == "scheduled"
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(CallAttempt).order_by(CallAttempt.number)).first().outcome == "no-answer"


def test_call_back_whose_report_moved_on_is_canceled_not_rung(loop: Loop) -> None:
    """The worker accepted from the hotline's staff menu before the retry: the retry never rings."""
    relaxed(loop, deadline_accept_minutes=24 * 60)
    number = file(loop)
    loop.ring_out(loop.twilio_api.calls[0])  # the verification call: no answer, retry in 10 minutes
    with loop.app.extensions["gridline.sessions"]() as s:
        s.get(Report, number).state = "verifying"  # accepted elsewhere meanwhile
        s.commit()
    loop.advance(timedelta(minutes=10))
    assert len(loop.calls_to(WORKER)) == 1
    assert call_backs(loop)[0].status == "canceled"
    assert report(loop, number).state == "verifying"
