"""Complete loops through the app's webhooks, a real RQ worker on real Redis and a Twilio-compatible
REST endpoint answering the outbound calls, with a controllable clock."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from grid.models import CallAttempt, CallBack, Report
from tests.loop_driver import Loop, shanghai
from tests.twilio_driver import file_report

RESIDENT = "+8613800000004"  # 林小红, micro-grid HG-01-1 (no worker of its own)
WORKER = "+8613900000201"  # 陈静, grid worker of HG-01: the assignee
LEADER = "+8613900000101"  # 张伟, grid leader of HG-01
STAFF_ON_DUTY = "+8615000000001"  # 王建国
MIN = timedelta(minutes=1)


def file(loop: Loop, sid: str = "CA" + "1" * 32, phone: str = RESIDENT, keys: tuple[str, ...] = ("1", "2")) -> int:
    """A resident reports an environment problem by phone; the worker routes it (no speech model here)."""
    url = loop.twilio_api.add_recording("RE" + sid[2:], b"")
    file_report(loop.post, sid, phone, list(keys), url)
    loop.work()
    with loop.app.extensions["gridline.sessions"]() as s:
        return s.scalars(select(Report).order_by(Report.id.desc())).first().id


def report(loop: Loop, number: int) -> Report:
    with loop.app.extensions["gridline.sessions"]() as s:
        found = s.get(Report, number)
        assert found is not None
        _ = [e.event for e in found.events], [r.kind for r in found.recordings], found.assignee
        return found


def transitions(loop: Loop, number: int) -> list[str]:
    return [e.event for e in report(loop, number).events if e.kind == "transition"]


def only_pending(loop: Loop, to: str) -> dict[str, str]:
    pending = loop.pending_calls()
    assert [c["To"] for c in pending] == [to], pending
    return pending[0]


def handled(loop: Loop) -> int:
    """A voice report accepted, confirmed on site and handled; the resident's confirmation call placed."""
    number = file(loop)
    loop.answer(only_pending(loop, WORKER), "1")
    loop.advance(timedelta(hours=2))
    loop.answer(only_pending(loop, WORKER), "1", note="site")
    loop.advance(timedelta(hours=24))
    loop.answer(only_pending(loop, WORKER), "1", note="done")
    loop.work()
    return number


def relaxed(loop: Loop, **changes: Any) -> None:
    """Change settings for the web app and the worker alike."""
    settings = replace(loop.app.config["SETTINGS"], **changes)
    loop.app.config["SETTINGS"] = settings
    loop.worker_ctx.settings = settings


def call_backs(loop: Loop) -> list[CallBack]:
    with loop.app.extensions["gridline.sessions"]() as s:
        return list(s.scalars(select(CallBack).order_by(CallBack.id)))


def test_happy_path_to_closed_satisfied_with_a_rating(loop: Loop) -> None:
    """Filed → accepted → confirmed on site → handled → the resident says solved and rates 5 → closed."""
    number = file(loop)
    verify = only_pending(loop, WORKER)
    heard = loop.answer(verify, "1")
    assert "我们不会向您要钱" in heard  # trust words open every call
    assert report(loop, number).state == "verifying"

    loop.advance(timedelta(hours=2))  # the site-check follow-up
    loop.answer(only_pending(loop, WORKER), "1", note="site")
    assert report(loop, number).state == "dispatched"
    assert report(loop, number).handler == "陈静"
    loop.work()
    told = [m["Body"] for m in loop.twilio_api.messages if m["To"] == RESIDENT and str(number) in m["Body"]]
    assert any("陈静" in body for body in told), told  # the resident hears it is confirmed and with whom

    loop.advance(timedelta(hours=24))  # the handling check
    loop.answer(only_pending(loop, WORKER), "1", note="done")
    assert report(loop, number).state == "awaiting_check"

    loop.work()  # the resident's confirmation rings at once (09:00 is not quiet)
    loop.answer(only_pending(loop, RESIDENT), "1", "5")
    done = report(loop, number)
    assert done.state == "closed_satisfied" and done.rating == 5 and done.closed_at is not None
    assert transitions(loop, number) == ["accept", "confirm", "dispatch", "handle", "request_check", "satisfied"]
    assert loop.pending_calls() == []
    assert {cb.status for cb in call_backs(loop)} == {"done"}


def test_not_fixed_reopens_then_handled_again_and_closed(loop: Loop) -> None:
    """The resident says it is not fixed: reopened with a reason, handled again, confirmed, closed."""
    number = handled(loop)
    loop.answer(only_pending(loop, RESIDENT), "2", note="still smells")
    reopened = report(loop, number)
    assert reopened.state == "dispatched" and reopened.reopen_count == 1
    assert any(r.kind == "reopen_reason" for r in reopened.recordings)

    loop.advance(timedelta(minutes=10))  # the worker hears it was reopened
    loop.answer(only_pending(loop, WORKER), "1", note="fixed properly")
    loop.work()
    loop.answer(only_pending(loop, RESIDENT), "1", "4")
    closed = report(loop, number)
    assert closed.state == "closed_satisfied" and closed.rating == 4
    assert transitions(loop, number) == [
        "accept", "confirm", "dispatch", "handle", "request_check", "reopen", "handle", "request_check", "satisfied",
    ]


def test_worker_never_answers_three_retries_then_the_grid_leader(loop: Loop) -> None:
    """No answer: retries 10 min, 30 min and 2 h after each miss; then an SMS and the grid leader is rung."""
    relaxed(loop, deadline_accept_minutes=24 * 60)  # the 30-minute deadline would ring the leader too
    file(loop)
    rang_at = []
    for delay in (None, timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)):
        if delay is not None:
            loop.advance(delay - MIN)
            assert loop.pending_calls() == []  # not a minute early
            loop.advance(MIN)
        rang_at.append(loop.now)
        loop.ring_out(only_pending(loop, WORKER))
    assert [t - rang_at[0] for t in rang_at] == [timedelta(0), 10 * MIN, 40 * MIN, 160 * MIN]
    loop.work()
    escalation = only_pending(loop, LEADER)
    assert escalation["To"] == LEADER
    texts = {m["To"]: m["Body"] for m in loop.twilio_api.messages}
    assert "回复1" in texts[WORKER] and LEADER in texts  # the question by text: answerable by reply
    worker_cb = call_backs(loop)[0]
    assert worker_cb.status == "unreached" and worker_cb.attempts == 4 and worker_cb.misses == 4


def test_quiet_hours_push_a_retry_to_eight_in_the_morning(loop: Loop) -> None:
    """A retry that would ring at 21:05 Shanghai waits for 08:00 the next morning."""
    relaxed(loop, deadline_accept_minutes=24 * 60)
    loop.at(shanghai(1, 20, 55))
    file(loop)
    loop.ring_out(only_pending(loop, WORKER), "busy")
    cb = call_backs(loop)[0]
    assert cb.status == "scheduled"
    assert cb.scheduled_for.replace(tzinfo=UTC) == shanghai(2, 8)
    loop.advance(timedelta(hours=11))  # 07:55 local
    assert loop.pending_calls() == []
    loop.advance(timedelta(minutes=5))
    assert [c["To"] for c in loop.pending_calls()] == [WORKER]


def test_answering_machine_gets_the_duty_number_and_counts_as_not_reached(loop: Loop) -> None:
    """A machine answers: a short message with the duty number is left, and the call is retried."""
    file(loop)
    placed = only_pending(loop, WORKER)
    assert placed["MachineDetection"] == "DetectMessageEnd"
    call = loop.pick_up(placed, answered_by="machine_end_beep")
    assert "<Hangup" in call.twiml and "幺" in call.twiml  # the duty phone, digit by digit
    assert "<Gather" not in call.twiml
    loop.status(placed, "completed", "machine_end_beep")
    cb = call_backs(loop)[0]
    assert cb.status == "scheduled" and cb.misses == 1
    with loop.app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(CallAttempt)).one().outcome == "machine"


def test_duplicate_and_out_of_order_status_callbacks_change_nothing_twice(loop: Loop) -> None:
    """'no-answer' delivered twice, then a late 'ringing': one miss, one retry, one outcome."""
    file(loop)
    placed = only_pending(loop, WORKER)
    loop.status(placed, "no-answer")
    first = call_backs(loop)[0]
    loop.status(placed, "no-answer")
    loop.status(placed, "ringing")
    again = call_backs(loop)[0]
    assert (again.misses, again.scheduled_for, again.status) == (1, first.scheduled_for, "scheduled")
    with loop.app.extensions["gridline.sessions"]() as s:
        attempt = s.scalars(select(CallAttempt)).one()
        assert (attempt.outcome, attempt.status) == ("no-answer", "no-answer")


def test_a_repeated_answered_status_does_not_move_the_report_twice(loop: Loop) -> None:
    """The worker accepts; Twilio repeats 'completed': the report is accepted once, nothing rings again."""
    number = file(loop)
    placed = only_pending(loop, WORKER)
    loop.answer(placed, "1")
    loop.status(placed, "completed", "human")
    assert transitions(loop, number) == ["accept"]
    assert call_backs(loop)[0].status == "done"


@pytest.mark.parametrize("status", [429, 500])
def test_twilio_rest_429_and_500_are_retried_and_placed_once(loop: Loop, status: int) -> None:
    """Twilio answers 429 or 500: RQ retries the placement with backoff and the call is placed once."""
    loop.twilio_api.fail_calls = [status]
    file(loop)
    assert loop.pending_calls() == []
    assert call_backs(loop)[0].status == "scheduled" and f"HTTP {status}" in call_backs(loop)[0].last_error
    loop.advance(timedelta(seconds=30))  # RQ's retry (5 s backoff) falls due; the scheduler enqueues it
    assert [c["To"] for c in loop.pending_calls()] == [WORKER]
    with loop.app.extensions["gridline.sessions"]() as s:
        outcomes = [a.outcome for a in s.scalars(select(CallAttempt).order_by(CallAttempt.number))]
    assert outcomes == ["rest-error", ""]
    loop.advance(timedelta(minutes=5))
    assert len(loop.calls_to(WORKER)) == 1


def test_redis_flushed_mid_schedule_the_sweeper_restores_retries_nobody_called_twice(loop: Loop) -> None:
    """A retry waiting in RQ's scheduler is lost with Redis; the sweep re-enqueues it once, at its time."""
    file(loop)
    loop.ring_out(only_pending(loop, WORKER))
    loop.redis.flushdb()
    loop.advance(timedelta(minutes=9))
    assert loop.pending_calls() == []
    loop.advance(timedelta(minutes=1))
    assert [c["To"] for c in loop.pending_calls()] == [WORKER]
    loop.advance(timedelta(minutes=1))
    loop.advance(timedelta(minutes=1))
    assert len(loop.calls_to(WORKER)) == 2


def test_overdue_report_escalates_to_the_leader_then_to_staff(loop: Loop) -> None:
    """Not accepted in 30 minutes: overdue, the grid leader is rung and texted; 30 more: community staff."""
    number = file(loop)
    loop.status(only_pending(loop, WORKER), "ringing")  # the verification call is still out: no outcome
    loop.advance(timedelta(minutes=29))
    assert not report(loop, number).overdue
    loop.advance(MIN)
    overdue = report(loop, number)
    assert overdue.overdue and overdue.escalation_level == 1
    assert LEADER in [c["To"] for c in loop.pending_calls()]
    assert LEADER in [m["To"] for m in loop.twilio_api.messages]
    loop.advance(timedelta(minutes=30))
    assert report(loop, number).escalation_level == 2
    assert STAFF_ON_DUTY in [c["To"] for c in loop.pending_calls()]


def test_urgent_report_at_night_rings_staff_every_five_minutes_then_escalates(loop: Loop) -> None:
    """'An elderly person needs help' at 23:00: the leader on duty is rung at once and again 5 minutes
    later; after two misses community staff on duty are rung, all in the night."""
    relaxed(loop, deadline_accept_minutes=24 * 60)
    loop.at(shanghai(1, 23))
    file(loop, keys=("1", "5"))
    loop.ring_out(only_pending(loop, LEADER))
    loop.advance(timedelta(minutes=4))
    assert loop.pending_calls() == []
    loop.advance(MIN)
    loop.ring_out(only_pending(loop, LEADER))
    loop.work()
    assert [c["To"] for c in loop.pending_calls()] == [STAFF_ON_DUTY]
    assert loop.now < shanghai(2, 0)  # still the same night


def test_resident_never_reached_gets_a_text_and_the_report_closes_unreachable(loop: Loop) -> None:
    """The resident misses the confirmation call four times: an SMS, then closed as unreachable."""
    number = handled(loop)
    for delay in (timedelta(0), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)):
        loop.advance(delay)
        loop.ring_out(only_pending(loop, RESIDENT))
    loop.work()
    closed = report(loop, number)
    assert closed.state == "closed_unreachable" and closed.rating is None
    [question] = [m["Body"] for m in loop.twilio_api.messages if m["To"] == RESIDENT and "解决了请回复1" in m["Body"]]
    assert str(number) in question
    assert loop.pending_calls() == []
