"""The dashboard's report list and report page: login, scope, CSRF, actions, audio."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from grid.models import CallBack, Grid, Person, Recording, Report, ReportEvent
from grid.timeline import record
from tests.dashboard_support import csrf_token, demo_with_logins, log_in
from worker.queues import OUTBOUND_QUEUE, job_queue

WAV_HEADER = b"RIFF"


@pytest.fixture
def logins(sessions: Any) -> dict[str, int]:
    return demo_with_logins(sessions)


def _report(sessions: Any, grid_code: str, text: str = "三楼楼道灯坏了", **fields: Any) -> int:
    """A filed report in the grid with that code, assigned to the grid's worker."""
    with sessions() as s:
        grid = s.scalar(select(Grid).where(Grid.code == grid_code))
        parent = grid.parent_id or grid.id
        worker = s.scalar(select(Person).where(Person.role == "grid_worker", Person.grid_id == parent))
        reporter = s.scalar(select(Person).where(Person.role == "resident", Person.grid_id == grid.id))
        values = {"category": "facility", "grid_id": grid.id, "assignee_id": worker.id, "reporter_id": reporter.id,
                  "reporter_phone": reporter.phone, "transcript_status": "done", "transcript_text": text,
                  "building": "1", "created_at": datetime.now(UTC) - timedelta(hours=2)} | fields
        report = Report(**values)
        s.add(report)
        s.flush()
        record(s, report, "filed", report.created_at, note="filed by phone", to_state="new")
        s.commit()
        return report.id


def _form(client: Any, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf_token(client), **fields}


def _timeline(client: Any, report_id: int) -> str:
    page = client.get(f"/dashboard/reports/{report_id}").get_data(as_text=True)
    return page[page.index('data-testid="timeline"'):]


def test_every_page_but_login_needs_a_login(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """Without a login the list, a report and a recording send you to the login page; posts are refused."""
    report_id = _report(sessions, "HG-01-1")
    client = app.test_client()
    for path in ("/", "/dashboard/reports/", f"/dashboard/reports/{report_id}", "/dashboard/recordings/1.wav"):
        response = client.get(path, follow_redirects=True)
        assert response.request.path == "/login", path
        assert "工作人员登录" in response.get_data(as_text=True)
    assert client.post(f"/dashboard/reports/{report_id}/note", data=_form(client, note="x")).status_code == 401


def test_wrong_password_is_refused_and_right_one_logs_in(app: Any, logins: dict[str, int]) -> None:
    """A wrong password shows an error (401); the right one opens the report list under that name."""
    client = app.test_client()
    assert log_in(client, "wang", "wrong password").status_code == 401
    assert log_in(client, "nobody", "whatever1").status_code == 401
    response = log_in(client, "wang")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/reports/")
    page = client.get("/dashboard/reports/").get_data(as_text=True)
    assert 'data-testid="current-user">wang' in page


def test_login_never_redirects_to_another_site(app: Any, logins: dict[str, int]) -> None:
    """?next= pointing at another host is ignored after login (no open redirect)."""
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/x", data={"username": "wang", "password": "correct horse 42",
                                                                 "csrf_token": token})
    assert response.headers["Location"].endswith("/dashboard/reports/")


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """Logged in, a note posted without (or with a wrong) CSRF token gets 400 and no timeline line."""
    report_id = _report(sessions, "HG-01-1")
    client = app.test_client()
    log_in(client, "wang")
    assert client.post(f"/dashboard/reports/{report_id}/note", data={"note": "forged"}).status_code == 400
    assert client.post(f"/dashboard/reports/{report_id}/note", data={"note": "forged", "csrf_token": "x"}).status_code == 400
    assert client.post("/login", data={"username": "wang", "password": "correct horse 42"}).status_code == 400
    with sessions() as s:
        assert s.scalar(select(ReportEvent).where(ReportEvent.note == "forged")) is None


def test_each_role_sees_only_its_reports(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """Staff see both grids; HG-01's leader and worker see HG-01 only; HG-02's worker cannot open HG-01's report."""
    first, second = _report(sessions, "HG-01-1", "一号楼垃圾没人清"), _report(sessions, "HG-02-1", "七号楼路灯不亮")
    seen: dict[str, set[int]] = {}
    for username in ("wang", "zhangwei", "chenjing", "yangfan"):
        client = app.test_client()
        log_in(client, username)
        page = client.get("/dashboard/reports/").get_data(as_text=True)
        seen[username] = {int(n) for n in re.findall(r'data-report-id="(\d+)"', page)}
    assert seen == {"wang": {first, second}, "zhangwei": {first}, "chenjing": {first}, "yangfan": {second}}
    client = app.test_client()
    log_in(client, "yangfan")
    assert client.get(f"/dashboard/reports/{first}").status_code == 403
    assert client.post(f"/dashboard/reports/{first}/note", data=_form(client, note="x")).status_code == 403


def test_filters_and_transcript_search(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """The list filters by grid, state, category, channel and overdue, and finds words in transcripts."""
    lamp = _report(sessions, "HG-01-1", "三楼楼道灯坏了")
    smell = _report(sessions, "HG-01-2", "下水道有臭味", category="environment", overdue=True)
    texted = _report(sessions, "HG-02-1", "电梯停了", channel="sms", state="verifying")
    client = app.test_client()
    log_in(client, "wang")

    def ids(query: str) -> set[int]:
        page = client.get(f"/dashboard/reports/?{query}").get_data(as_text=True)
        return {int(n) for n in re.findall(r'data-report-id="(\d+)"', page)}

    with sessions() as s:
        hg01 = s.scalar(select(Grid.id).where(Grid.code == "HG-01"))
    assert ids(f"grid={hg01}") == {lamp, smell}
    assert ids("state=verifying") == {texted}
    assert ids("state=open") == {lamp, smell, texted}
    assert ids("category=environment") == {smell}
    assert ids("channel=sms") == {texted}
    assert ids("overdue=1") == {smell}
    assert ids("q=下水道") == {smell}
    assert ids(f"q=%23{lamp}") == {lamp}
    assert ids("q=100%25") == set()  # a literal % is no wildcard


def test_low_confidence_words_are_marked(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """Words Vosk was unsure of are marked on the report page; sure ones are plain."""
    words = [{"word": "下水道", "conf": 0.95}, {"word": "臭味", "conf": 0.41}]
    report_id = _report(sessions, "HG-01-1", "下水道臭味", transcript_words=words, transcript_confidence=0.68)
    client = app.test_client()
    log_in(client, "chenjing")
    page = client.get(f"/dashboard/reports/{report_id}").get_data(as_text=True)
    assert re.search(r'<span class="low"[^>]*>臭味</span>', page)
    assert "<p>下水道<span" in page  # the sure word is plain text


def test_state_change_follows_the_lifecycle_and_names_the_login(app: Any, logins: dict[str, int], sessions: Any,
                                                                 redis_conn: Redis) -> None:
    """Accepting from the dashboard moves the report to verifying, says who on the timeline and
    schedules the site follow-up call; an event the state does not allow changes nothing."""
    report_id = _report(sessions, "HG-01-1")
    client = app.test_client()
    log_in(client, "chenjing")
    client.post(f"/dashboard/reports/{report_id}/move", data=_form(client, event="accept", note="马上去看"))
    with sessions() as s:
        report = s.get(Report, report_id)
        assert report.state == "verifying"
        follow = s.scalar(select(CallBack).where(CallBack.report_id == report_id))
        assert follow is not None and follow.purpose == "worker_follow_up" and follow.person.name == "陈静"
    timeline = _timeline(client, report_id)
    assert "核实中" in timeline and "chenjing" in timeline and "马上去看" in timeline
    response = client.post(f"/dashboard/reports/{report_id}/move", data=_form(client, event="handle"), follow_redirects=True)
    assert "当前状态下不能这样操作" in response.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Report, report_id).state == "verifying"


def test_dispatch_to_a_department_then_handled_asks_the_resident(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """Confirm, dispatch to a named department, mark handled: the resident's check call is scheduled."""
    report_id = _report(sessions, "HG-01-1", state="verifying")
    client = app.test_client()
    log_in(client, "zhangwei")
    for event, extra in (("confirm", {}), ("dispatch", {"handler": "物业维修部"}), ("handle", {})):
        client.post(f"/dashboard/reports/{report_id}/move", data=_form(client, event=event, **extra))
    with sessions() as s:
        report = s.get(Report, report_id)
        assert report.state == "awaiting_check" and report.handler == "物业维修部"
        purposes = {cb.purpose for cb in s.scalars(select(CallBack).where(CallBack.report_id == report_id))}
        assert "resident_confirmation" in purposes


def test_reassign_rings_the_new_assignee_and_workers_may_not(app: Any, logins: dict[str, int], sessions: Any,
                                                             redis_conn: Redis) -> None:
    """A leader reassigns a new report to another worker, who gets the verification call; a worker cannot reassign."""
    report_id = _report(sessions, "HG-01-1")
    with sessions() as s:
        other = s.scalar(select(Person).where(Person.name == "赵磊"))
    client = app.test_client()
    log_in(client, "chenjing")
    assert client.post(f"/dashboard/reports/{report_id}/reassign", data=_form(client, person_id=str(other.id))).status_code == 403
    client = app.test_client()
    log_in(client, "zhangwei")
    client.post(f"/dashboard/reports/{report_id}/reassign", data=_form(client, person_id=str(other.id)))
    with sessions() as s:
        report = s.get(Report, report_id)
        assert report.assignee_id == other.id
        call = s.scalar(select(CallBack).where(CallBack.report_id == report_id, CallBack.person_id == other.id))
        assert call is not None and call.purpose == "worker_verification"
    assert "reassigned from 陈静 to 赵磊" in _timeline(client, report_id)
    assert any(f"callback-{call.id}" in job_id for job_id in _queued(redis_conn))


def _queued(conn: Redis) -> list[str]:
    """Placement jobs on the outbound queue, due now or scheduled."""
    from rq.registry import ScheduledJobRegistry

    outbound = job_queue(conn, OUTBOUND_QUEUE)
    return outbound.job_ids + list(ScheduledJobRegistry(queue=outbound).get_job_ids())


def test_mark_duplicate_links_the_original(app: Any, logins: dict[str, int], sessions: Any) -> None:
    """A report marked duplicate closes as such, points at the original, and the original says so."""
    original, copy = _report(sessions, "HG-01-1"), _report(sessions, "HG-01-1")
    client = app.test_client()
    log_in(client, "zhangwei")
    client.post(f"/dashboard/reports/{copy}/duplicate", data=_form(client, original_id=str(copy)))
    with sessions() as s:
        assert s.get(Report, copy).state == "new"  # itself: refused
    client.post(f"/dashboard/reports/{copy}/duplicate", data=_form(client, original_id=f"#{original}"))
    with sessions() as s:
        report = s.get(Report, copy)
        assert (report.state, report.duplicate_of_id) == ("duplicate", original)
    assert f"report {copy} was marked a duplicate" in _timeline(client, original)


def test_call_to_verify_uses_the_outbound_engine(app: Any, logins: dict[str, int], sessions: Any, redis_conn: Redis) -> None:
    """"Call to verify" creates a staff-question call-back to the chosen person, queued, on the timeline."""
    report_id = _report(sessions, "HG-01-1")
    with sessions() as s:
        reporter_id = s.get(Report, report_id).reporter_id
    client = app.test_client()
    log_in(client, "wang")
    response = client.post(f"/dashboard/reports/{report_id}/call",
                           data=_form(client, person_id=str(reporter_id), question="楼道灯修好了吗？"), follow_redirects=True)
    assert "已安排核实电话" in response.get_data(as_text=True)
    with sessions() as s:
        callback = s.scalar(select(CallBack).where(CallBack.report_id == report_id))
        assert (callback.purpose, callback.person_id, callback.question, callback.requested_by) == (
            "staff_question", reporter_id, "楼道灯修好了吗？", "wang")
    assert "staff question: 楼道灯修好了吗？" in _timeline(client, report_id)
    assert any(f"callback-{callback.id}" in j for j in _queued(redis_conn))
    response = client.post(f"/dashboard/reports/{report_id}/call", data=_form(client, person_id="", phone="12", question="?"),
                           follow_redirects=True)
    assert response.status_code == 200 and "flash error" in response.get_data(as_text=True)


def test_recordings_play_through_the_app_for_those_who_may_see_them(app: Any, logins: dict[str, int], sessions: Any,
                                                                     twilio_api: Any) -> None:
    """The recording is fetched from Twilio with the account's credentials once, then served from the
    local copy; another grid's worker gets 403."""
    report_id = _report(sessions, "HG-01-1")
    wav = (__import__("pathlib").Path(__file__).parent / "audio" / "sewer_smell.tel.wav").read_bytes()
    url = twilio_api.add_recording("RE" + "1" * 32, wav)
    with sessions() as s:
        rec = Recording(recording_sid="RE" + "1" * 32, report_id=report_id, url=url, duration=3, status="completed")
        s.add(rec)
        s.commit()
        rec_id = rec.id
    client = app.test_client()
    log_in(client, "chenjing")
    page = client.get(f"/dashboard/reports/{report_id}").get_data(as_text=True)
    assert f'src="/dashboard/recordings/{rec_id}.wav"' in page and twilio_api.base_url not in page
    first = client.get(f"/dashboard/recordings/{rec_id}.wav")
    assert first.status_code == 200 and first.data == wav and first.mimetype == "audio/wav"
    assert client.get(f"/dashboard/recordings/{rec_id}.wav").data == wav
    assert twilio_api.recording_fetches == ["RE" + "1" * 32]  # the second came from the local copy
    other = app.test_client()
    log_in(other, "yangfan")
    assert other.get(f"/dashboard/recordings/{rec_id}.wav").status_code == 403


def test_language_switch(app: Any, logins: dict[str, int]) -> None:
    """Chinese by default; ?lang=en switches the pages to English and it sticks."""
    client = app.test_client()
    log_in(client, "wang")
    assert "搜索录音文字" in client.get("/dashboard/reports/").get_data(as_text=True)
    assert "Search transcripts" in client.get("/dashboard/reports/?lang=en").get_data(as_text=True)
    assert "Search transcripts" in client.get("/dashboard/reports/").get_data(as_text=True)
