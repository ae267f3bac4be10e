"""POST/GET /api/v1/verification-calls: token auth, validation, scheduling, placement by a real worker."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from grid.demo import load_demo
from grid.models import CallAttempt, CallBack, Person, Recording, Report, ReportEvent
from worker.queues import all_queues
from worker.sweeper import sweep

DAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
NIGHT = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # 23:30 Shanghai
NEXT_MORNING = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
TOKEN = "secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL = "/api/v1/verification-calls"


@pytest.fixture
def api_app(app: Any, worker_ctx: Any) -> Any:
    """The app with two API tokens, the demo community loaded, and both clocks at 10:00 Shanghai."""
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], api_tokens=(f"desk:{TOKEN}", "ops:other-token"))
    set_clock(app, worker_ctx, DAY)
    with app.extensions["gridline.sessions"]() as s:
        load_demo(s)
        s.commit()
    return app


def set_clock(app: Any, worker_ctx: Any, now: datetime) -> None:
    app.config["CLOCK"] = lambda: now
    worker_ctx.clock = lambda: now


def person(app: Any, name: str) -> Person:
    with app.extensions["gridline.sessions"]() as s:
        found = s.scalars(select(Person).where(Person.name == name)).one()
        s.expunge(found)
        return found


def callbacks_in(app: Any) -> list[CallBack]:
    with app.extensions["gridline.sessions"]() as s:
        return list(s.scalars(select(CallBack).order_by(CallBack.id)))


def work(redis_conn: Redis) -> None:
    SimpleWorker(all_queues(redis_conn), connection=redis_conn).work(burst=True)


def queued(redis_conn: Redis) -> int:
    """Jobs waiting on any of GridLine's queues, now or at a later time."""
    return sum(q.count + len(ScheduledJobRegistry(queue=q)) for q in all_queues(redis_conn))


def scheduled_times(redis_conn: Redis) -> list[datetime]:
    """When RQ's scheduler will release each job held for later, on any queue."""
    registries = [ScheduledJobRegistry(queue=q) for q in all_queues(redis_conn)]
    return [r.get_scheduled_time(j).replace(tzinfo=UTC) for r in registries for j in r.get_job_ids()]


def answered(app: Any, callback_id: int) -> None:
    """Leave what an answered call and its status callbacks leave behind: an attempt, a "yes", a voice note."""
    with app.extensions["gridline.sessions"]() as s:
        callback = s.get(CallBack, callback_id)
        callback.status, callback.answer, callback.answered_at = "completed", "yes", datetime(2026, 11, 23, 2, 3, tzinfo=UTC)
        s.add(CallAttempt(callback_id=callback_id, number=1, call_sid=f"CA{callback_id:032d}", placed_at=DAY,
                          status="completed", outcome="reached", ended_at=datetime(2026, 11, 23, 2, 4, tzinfo=UTC)))
        s.add(Recording(recording_sid=f"RE{callback_id:032d}", callback_id=callback_id, kind="answer",
                        transcript_status="done", transcript_text="已经修好了", url=f"https://api.twilio.com/RE{callback_id}"))
        s.commit()


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_valid_token_schedules_the_question_and_a_worker_places_one_call(
    api_app: Any, twilio_api: Any, redis_conn: Redis
) -> None:
    """201 with the call-back; the row holds question and requester; a burst run rings the person once."""
    resident = person(api_app, "林小红")
    resp = api_app.test_client().post(URL, json={"person_id": resident.id, "question": "楼道灯修好了吗？"}, headers=AUTH)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body == {
        "id": body["id"], "status": "scheduled", "purpose": "staff_question", "scheduled_for": DAY.isoformat(),
        "to": "+86138****0004", "person_id": resident.id, "report_id": None,
    }
    assert resp.headers["Location"] == f"{URL}/{body['id']}"
    [row] = callbacks_in(api_app)
    assert (row.id, row.question, row.requested_by, row.to_number) == (body["id"], "楼道灯修好了吗？", "api:desk", resident.phone)
    work(redis_conn)
    assert len(twilio_api.calls) == 1
    assert twilio_api.calls[0]["To"] == resident.phone and f"callback={body['id']}" in twilio_api.calls[0]["Url"]
    assert callbacks_in(api_app)[0].status == "placed"


def test_missing_token_is_refused_and_nothing_is_scheduled(api_app: Any, redis_conn: Redis) -> None:
    """No Authorization header: 401 JSON with a Bearer challenge, no row, no job."""
    resp = api_app.test_client().post(URL, json={"person_id": 1, "question": "在家吗？"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in resp.get_json()["error"]
    assert callbacks_in(api_app) == [] and queued(redis_conn) == 0


@pytest.mark.parametrize("header", ["Bearer wrong-token", f"Basic {TOKEN}", "Bearer ", f"Bearer {TOKEN}x", "Bearer desk"])
def test_wrong_token_is_refused(api_app: Any, header: str) -> None:
    """A token that is not configured (or not sent as Bearer) gets 401 invalid_token and schedules nothing."""
    resp = api_app.test_client().post(URL, json={"person_id": 1, "question": "在家吗？"}, headers={"Authorization": header})
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert resp.get_json() == {"error": "invalid token"}
    assert callbacks_in(api_app) == []


@pytest.mark.parametrize("tokens", [(), ("desk:",), ("no-colon",)])
def test_without_configured_tokens_every_request_is_refused(api_app: Any, tokens: tuple[str, ...]) -> None:
    """No usable API_TOKENS: POST and GET answer 401 whatever token is sent (never open by default)."""
    api_app.config["SETTINGS"] = replace(api_app.config["SETTINGS"], api_tokens=tokens)
    client = api_app.test_client()
    for header in (AUTH, {"Authorization": "Bearer "}, {"Authorization": "Bearer no-colon"}):
        assert client.post(URL, json={"person_id": 1, "question": "在家吗？"}, headers=header).status_code == 401
        assert client.get(f"{URL}/1", headers=header).status_code == 401
    assert callbacks_in(api_app) == []


def test_second_token_is_recorded_under_its_own_name(api_app: Any) -> None:
    """Each token's name is stored as who asked ("api:<name>")."""
    headers = {"Authorization": "Bearer other-token"}
    resp = api_app.test_client().post(URL, json={"phone": "13800000004", "question": "在家吗？"}, headers=headers)
    assert resp.status_code == 201
    assert callbacks_in(api_app)[0].requested_by == "api:ops"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question": "在家吗？"}, "person_id"),
        ({"person_id": 1, "phone": "13800000004", "question": "在家吗？"}, "phone"),
        ({"person_id": "1", "question": "在家吗？"}, "person_id"),
        ({"person_id": True, "question": "在家吗？"}, "person_id"),
        ({"person_id": 2**40, "question": "在家吗？"}, "person_id"),
        ({"phone": "12345", "question": "在家吗？"}, "phone"),
        ({"phone": 13800000004, "question": "在家吗？"}, "phone"),
        ({"person_id": 1}, "question"),
        ({"person_id": 1, "question": "   "}, "question"),
        ({"person_id": 1, "question": "问" * 501}, "question"),
        ({"person_id": 1, "question": ["在家吗？"]}, "question"),
        ({"phone": "13900009999", "question": "在家吗？", "language": "fr-FR"}, "language"),
        ({"person_id": 1, "question": "在家吗？", "report_id": 0}, "report_id"),
        ({"person_id": 1, "question": "在家吗？", "report": 3}, "report"),
    ],
)
def test_bad_bodies_are_refused_with_the_field_named(api_app: Any, body: dict[str, Any], field: str) -> None:
    """Each invalid body gets 400 naming the field at fault, and nothing is scheduled."""
    resp = api_app.test_client().post(URL, json=body, headers=AUTH)
    assert resp.status_code == 400 and resp.get_json()["field"] == field, resp.get_json()
    assert callbacks_in(api_app) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"data": "person_id=1&question=x", "content_type": "application/x-www-form-urlencoded"},
     {"data": "{not json", "content_type": "application/json"},
     {"json": ["person_id", 1]}],
)
def test_a_body_that_is_not_a_json_object_is_refused(api_app: Any, kwargs: dict[str, Any]) -> None:
    """Form posts, broken JSON and JSON that is not an object get 400 JSON errors."""
    resp = api_app.test_client().post(URL, headers=AUTH, **kwargs)
    assert resp.status_code == 400 and "JSON" in resp.get_json()["error"]
    assert callbacks_in(api_app) == []


@pytest.mark.parametrize(
    ("body", "field"), [({"person_id": 99999}, "person_id"), ({"phone": "13800000004", "report_id": 4242}, "report_id")]
)
def test_unknown_person_or_report_is_404(api_app: Any, body: dict[str, Any], field: str) -> None:
    """A person or report id that does not exist gets 404 naming it, and nothing is scheduled."""
    resp = api_app.test_client().post(URL, json={**body, "question": "在家吗？"}, headers=AUTH)
    assert resp.status_code == 404 and resp.get_json()["field"] == field
    assert callbacks_in(api_app) == []


def test_resident_asked_at_night_is_rung_at_eight_next_morning(
    api_app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Redis
) -> None:
    """At 23:30 Shanghai the call is scheduled for 08:00; the burst run places nothing, RQ holds it till then."""
    set_clock(api_app, worker_ctx, NIGHT)
    resident = person(api_app, "林小红")
    resp = api_app.test_client().post(URL, json={"person_id": resident.id, "question": "噪音还有吗？"}, headers=AUTH)
    assert resp.get_json()["scheduled_for"] == NEXT_MORNING.isoformat()
    work(redis_conn)
    assert twilio_api.calls == []
    assert scheduled_times(redis_conn) == [NEXT_MORNING]


def test_a_registered_phone_calls_that_person_with_their_language_and_quiet_hours(api_app: Any) -> None:
    """A number in the registry resolves to the person: their language, their own quiet hours (21:00-15:00)."""
    client = api_app.test_client()
    english = client.post(URL, json={"phone": "138 0000 0033", "question": "Is the lift fixed?"}, headers=AUTH).get_json()
    assert english["person_id"] == person(api_app, "Mark Thompson").id
    late_riser = client.post(URL, json={"phone": "+86 138-0000-0027", "question": "在家吗？"}, headers=AUTH).get_json()
    assert late_riser["person_id"] == person(api_app, "余亮").id
    assert late_riser["scheduled_for"] == datetime(2026, 11, 23, 7, 0, tzinfo=UTC).isoformat()  # 15:00 Shanghai
    assert [c.language for c in callbacks_in(api_app)] == ["en-US", "zh-CN"]


def test_an_unregistered_number_is_called_in_the_language_asked(api_app: Any) -> None:
    """A number nobody in the registry has: no person, the language given, the number masked."""
    resp = api_app.test_client().post(
        URL, json={"phone": "13900009999", "question": "Did you call 12345?", "language": "en-US"}, headers=AUTH
    )
    assert resp.status_code == 201
    assert (resp.get_json()["person_id"], resp.get_json()["to"]) == (None, "+86139****9999")
    [row] = callbacks_in(api_app)
    assert (row.to_number, row.language, row.person_id) == ("+8613900009999", "en-US", None)


def test_report_id_attaches_the_call_to_the_report_and_its_timeline(api_app: Any) -> None:
    """With report_id the call-back belongs to the report, and the report's timeline says who asked what."""
    with api_app.extensions["gridline.sessions"]() as s:
        report = Report(category="environment", reporter_phone="+8613800000004")
        s.add(report)
        s.commit()
        report_id = report.id
    volunteer = person(api_app, "黄丽")
    body = {"person_id": volunteer.id, "report_id": report_id, "question": "请去看一下2号楼垃圾是否清理"}
    resp = api_app.test_client().post(URL, json=body, headers=AUTH)
    assert resp.status_code == 201 and resp.get_json()["report_id"] == report_id
    with api_app.extensions["gridline.sessions"]() as s:
        assert s.scalars(select(CallBack)).one().report_id == report_id
        event = s.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id)).one()
        assert (event.kind, event.actor, event.channel) == ("call", "api:desk", "api")
        assert event.note == "staff question: 请去看一下2号楼垃圾是否清理"


def test_get_returns_status_attempts_answer_and_voice_note(api_app: Any) -> None:
    """GET shows the call-back with each attempt, the yes/no answer and the voice note's transcript."""
    client = api_app.test_client()
    resident = person(api_app, "林小红")
    location = client.post(URL, json={"person_id": resident.id, "question": "修好了吗？"}, headers=AUTH).headers["Location"]
    callback_id = int(location.rsplit("/", 1)[1])
    answered(api_app, callback_id)
    resp = client.get(location, headers=AUTH)
    assert resp.status_code == 200
    assert resp.get_json() == {
        "id": callback_id, "status": "completed", "purpose": "staff_question", "scheduled_for": DAY.isoformat(),
        "to": "+86138****0004", "person_id": resident.id, "report_id": None, "question": "修好了吗？",
        "requested_by": "api:desk", "language": "zh-CN", "last_error": "",
        "attempts": [{"number": 1, "status": "completed", "outcome": "reached", "placed_at": DAY.isoformat(),
                      "ended_at": "2026-11-23T02:04:00+00:00", "error": ""}],
        "answer": "yes", "answered_at": "2026-11-23T02:03:00+00:00",
        "voice_notes": [{"kind": "answer", "transcript_status": "done", "transcript_text": "已经修好了"}],
    }


def test_get_needs_a_token_and_a_known_id(api_app: Any) -> None:
    """GET without a token is 401; an unknown id is a 404 JSON error."""
    client = api_app.test_client()
    assert client.get(f"{URL}/1").status_code == 401
    resp = client.get(f"{URL}/424242", headers=AUTH)
    assert resp.status_code == 404 and resp.get_json() == {"error": "call-back 424242 not found"}


def test_redis_down_still_answers_201_and_the_sweeper_places_the_call(
    api_app: Any, worker_ctx: Any, twilio_api: Any, redis_conn: Redis
) -> None:
    """Redis unreachable after the commit: 201 all the same; the row is the truth and the sweeper queues it."""
    api_app.extensions["gridline.redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    resident = person(api_app, "林小红")
    resp = api_app.test_client().post(URL, json={"person_id": resident.id, "question": "在家吗？"}, headers=AUTH)
    assert resp.status_code == 201
    assert queued(redis_conn) == 0
    assert sweep()["callbacks"] == 1
    work(redis_conn)
    assert [c["To"] for c in twilio_api.calls] == [resident.phone]


def test_each_request_is_its_own_call_back(api_app: Any) -> None:
    """Two questions to the same person are two call-backs, never merged."""
    client = api_app.test_client()
    for question in ("第一个问题", "第二个问题"):
        assert client.post(URL, json={"phone": "13800000004", "question": question}, headers=AUTH).status_code == 201
    with api_app.extensions["gridline.sessions"]() as s:
        assert s.scalar(select(func.count(CallBack.id))) == 2
