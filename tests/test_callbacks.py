"""The verification call-back: who is called, when (quiet hours, urgency), REST errors, durability."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from grid.demo import load_demo
from grid.models import CallBack, Person, Report
from tests.conftest import PUBLIC_BASE_URL
from tests.twilio_driver import Call, file_report, flask_poster, said
from worker.queues import all_queues, job_queue
from worker.sweeper import sweep

DAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
NIGHT = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 23:30 Shanghai
NEXT_MORNING = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 Shanghai


@pytest.fixture
def resident(app: Any) -> Person:
    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
        person = s.scalars(select(Person).where(Person.role == "resident", Person.language == "zh-CN")).first()
        assert person is not None
        return person


def report_and_work(app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, phone: str, keys: list[str],
                    now: datetime, sid: str = "CA" + "2" * 32) -> Report:
    """File a report by phone, then let a real worker transcribe (no model: unavailable) and dispatch."""
    worker_ctx.clock = lambda: now
    app.config["CLOCK"] = lambda: now  # the web process schedules call-backs too (e.g. "not my area")
    url = twilio_api.add_recording("RE" + sid[2:], b"")  # 0 bytes: transcript unavailable, still routed
    file_report(flask_poster(app.test_client()), sid, phone, keys, url)
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    with app.extensions["gridline.sessions"]() as s:
        return s.scalars(select(Report).where(Report.call_id.is_not(None)).order_by(Report.id.desc())).first()


def test_call_back_due_in_quiet_hours_waits_for_eight_in_the_morning(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """A non-urgent report filed at 23:30 gets its verification call at 08:00 Shanghai, not before."""
    report = report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "2"], NIGHT)
    assert report.transcript_status == "unavailable" and report.needs_listening
    with app.extensions["gridline.sessions"]() as s:
        callback = s.scalars(select(CallBack)).one()
        assert callback.scheduled_for.replace(tzinfo=UTC) == NEXT_MORNING and callback.status == "scheduled"
    assert twilio_api.calls == []
    scheduled = ScheduledJobRegistry(queue=Queue("outbound", connection=redis_conn))
    assert [scheduled.get_scheduled_time(j).replace(tzinfo=UTC) for j in scheduled.get_job_ids()] == [NEXT_MORNING]


def test_urgent_report_at_night_rings_the_grid_leader_on_duty_at_once(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """'An elderly person needs help' at 23:30 goes straight to the on-duty grid leader."""
    report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "5"], NIGHT)
    with app.extensions["gridline.sessions"]() as s:
        leader = s.scalars(select(Person).where(Person.role == "grid_leader", Person.on_duty.is_(True))).first()
    assert [c["To"] for c in twilio_api.calls] == [leader.phone]


def test_urgent_report_with_nobody_on_duty_rings_the_duty_phone(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """No grid leader on duty: the community's DUTY_PHONE gets the urgent call."""
    with app.extensions["gridline.sessions"]() as s:
        for p in s.scalars(select(Person).where(Person.on_duty.is_(True))):
            p.on_duty = False
        s.commit()
    report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "1"], NIGHT)
    assert [c["To"] for c in twilio_api.calls] == [app.config["SETTINGS"].duty_phone]


def test_not_my_area_reassigns_upward_and_calls_the_next_person(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """Pressing 2 on the verification call hands the report to the grid leader, who is called next."""
    report = report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "2"], DAY)
    first = twilio_api.calls[0]
    post = flask_poster(app.test_client())
    call = Call(post, first["Sid"], first["From"], to_number=first["To"])
    call._send(first["Url"], Direction="outbound-api", From=first["From"], To=first["To"])
    assert "录音没有转成文字" in said(call.twiml)
    call.press("2")
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    with app.extensions["gridline.sessions"]() as s:
        moved = s.get(Report, report.id)
        assert moved.assignee.role == "grid_leader" and moved.verification_answer == "not_my_area"
        leader_phone = moved.assignee.phone
    assert [c["To"] for c in twilio_api.calls][1:] == [leader_phone]


def test_invalid_number_is_recorded_as_a_failed_attempt_and_the_grid_leader_is_rung(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """A 400 from Twilio (invalid number) fails the call-back with Twilio's code, no retry storm; the
    report is not stuck: the next rung up (the grid leader) is called instead."""
    twilio_api.fail_calls = [400]
    report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "2"], DAY)
    with app.extensions["gridline.sessions"]() as s:
        failed, escalation = s.scalars(select(CallBack).order_by(CallBack.id)).all()
        assert failed.status == "failed" and "Twilio error 21211" in failed.last_error and failed.attempts == 1
        assert escalation.purpose == "escalation" and escalation.person.role == "grid_leader"
        leader_phone = escalation.to_number
    assert [c["To"] for c in twilio_api.calls] == [leader_phone]


def test_server_error_is_retried_by_rq_and_then_placed_once(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """A 500 from Twilio leaves the call-back scheduled for RQ's retry; the retry places it once."""
    twilio_api.fail_calls = [500]
    report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "2"], DAY)
    with app.extensions["gridline.sessions"]() as s:
        callback = s.scalars(select(CallBack)).one()
        assert callback.status == "scheduled" and "HTTP 500" in callback.last_error
    # RQ scheduled the retry; run it now as its scheduler would
    queue = job_queue(redis_conn, "outbound")
    registry = ScheduledJobRegistry(queue=queue)
    assert len(registry.get_job_ids()) == 1
    for job_id in registry.get_job_ids():
        registry.remove(job_id)
        queue.enqueue_job(queue.fetch_job(job_id))
    SimpleWorker([queue], connection=redis_conn).work(burst=True)
    assert len(twilio_api.calls) == 1
    with app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(CallBack)).one().status == "placed"


def test_redis_flushed_before_the_call_back_ran_the_sweeper_restores_it_once(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """Redis loses the queued call-back; the sweeper re-enqueues it from the database; one call only."""
    report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "2"], NIGHT)
    redis_conn.flushdb()
    worker_ctx.clock = lambda: NEXT_MORNING
    assert sweep() == {"transcriptions": 0, "reports": 0, "callbacks": 1, "escalations": 0, "settled": 0, "texts": 0}
    assert sweep()["callbacks"] == 0  # already on the queue: not twice
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    sweep()
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    assert len(twilio_api.calls) == 1


def test_webhooks_keep_working_when_redis_is_down_and_nothing_is_lost(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """Redis unreachable: the caller still files the report; the sweeper later transcribes and routes it."""
    from redis import Redis

    app.extensions["gridline.redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    worker_ctx.clock = lambda: DAY
    app.config["CLOCK"] = lambda: DAY
    url = twilio_api.add_recording("RE" + "3" * 32, b"")
    readback = file_report(flask_poster(app.test_client()), "CA" + "3" * 32, resident.phone, ["1", "2"], url)
    assert "编号是" in readback
    assert job_queue(redis_conn).count == 0
    assert sweep()["transcriptions"] == 1
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    assert len(twilio_api.calls) == 1 and twilio_api.calls[0]["Url"].startswith(PUBLIC_BASE_URL)


def test_without_twilio_credentials_call_backs_wait_and_nothing_is_lost(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """No account SID yet: the call-back stays scheduled (no call, no SMS); once configured it rings."""
    from dataclasses import replace

    configured = worker_ctx.settings
    worker_ctx.settings = replace(configured, twilio_account_sid="")
    report_and_work(app, worker_ctx, twilio_api, redis_conn, resident.phone, ["1", "2"], DAY)
    with app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(CallBack)).one().status == "scheduled"
    assert twilio_api.calls == [] and twilio_api.messages == []
    worker_ctx.settings = configured
    assert sweep()["callbacks"] == 1
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    assert len(twilio_api.calls) == 1


def test_report_transcribed_but_never_routed_is_routed_by_the_sweeper(
    app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Any, resident: Person
) -> None:
    """A worker died between storing a transcript and scheduling the call: the sweep schedules it."""
    worker_ctx.clock = lambda: DAY
    app.config["CLOCK"] = lambda: DAY
    file_report(flask_poster(app.test_client()), "CA" + "4" * 32, resident.phone, ["1", "2"], "https://x/RE4")
    redis_conn.flushdb()  # the transcription job is gone with the worker
    with app.extensions["gridline.sessions"]() as s:
        report = s.scalars(select(Report)).one()
        report.transcript_status, report.transcript_error = "unavailable", "worker died"
        s.commit()
    assert sweep() == {"transcriptions": 0, "reports": 1, "callbacks": 1, "escalations": 0, "settled": 0, "texts": 0}
    assert sweep() == {"transcriptions": 0, "reports": 0, "callbacks": 0, "escalations": 0, "settled": 0, "texts": 0}
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)
    assert len(twilio_api.calls) == 1
