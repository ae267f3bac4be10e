"""Building the flows' contexts (and a call-back's first state) from the database."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid.demo import load_demo
from grid.models import Call, CallBack, Person, Recording, Report, ReportEvent
from ivr_flows.hotline_context import AssignedReport, ReportSummary
from ivr_flows.outbound import ReportBrief
from telephony import contexts, flow_host
from telephony.config import Settings
from worker import callbacks

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
LATE_TUESDAY = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # already Wednesday 01:00 in Shanghai


@dataclass
class Demo:
    session: Session
    resident: Person
    worker: Person
    grid_id: int


@pytest.fixture
def demo(sessions: Any) -> Iterator[Demo]:
    """The demo community: a resident of micro-grid HG-01-1 and the grid worker of HG-01."""
    with sessions() as s:
        load_demo(s)
        s.flush()
        resident = s.scalars(select(Person).where(Person.name == "朱明")).one()
        worker = s.scalars(select(Person).where(Person.name == "陈静")).one()
        assert resident.household is not None
        yield Demo(s, resident, worker, resident.household.grid_id)


def add_report(demo: Demo, state: str, *, category: str = "environment", age: timedelta = timedelta(hours=1),
               assignee: Person | None = None, reporter: Person | None = None, grid_id: int | None = None,
               **fields: Any) -> Report:
    reporter = reporter or demo.resident
    report = Report(
        reporter_id=reporter.id, reporter_phone=reporter.phone, category=category, state=state,
        grid_id=grid_id or demo.grid_id, assignee_id=assignee.id if assignee else None,
        created_at=NOW - age, state_changed_at=NOW - age, **fields,
    )
    demo.session.add(report)
    demo.session.flush()
    return report


def inbound(person: Person) -> Call:
    return Call(call_sid="CA1", direction="inbound", from_number=person.phone, person_id=person.id)


def test_status_summaries_name_the_assignee_and_the_local_day(demo: Demo, settings: Settings) -> None:
    """The latest three reports, newest first; the day comes from the timeline in the community's time zone."""
    s = demo.session
    add_report(demo, "new", age=timedelta(days=30))  # the fourth newest: not read out
    closed = add_report(demo, "closed_satisfied", age=timedelta(days=20), rating=5)
    handled = add_report(demo, "awaiting_check", age=timedelta(days=3), assignee=demo.worker)
    s.add(ReportEvent(report_id=handled.id, kind="transition", to_state="handled", at=LATE_TUESDAY))
    s.add(ReportEvent(report_id=handled.id, kind="transition", to_state="awaiting_check", at=NOW))
    latest = add_report(demo, "dispatched", age=timedelta(days=1), assignee=demo.worker, reopen_count=1)
    s.flush()
    ctx = contexts.hotline_context(s, settings, inbound(demo.resident), now=NOW)
    assert ctx.today == "2026-11-26"
    assert ctx.latest_report == ReportSummary(
        latest.id, "environment", "dispatched", "陈静", "grid_worker", "2026-11-25", None, True, None
    )
    assert ctx.earlier_reports == (
        ReportSummary(handled.id, "environment", "awaiting_check", "陈静", "grid_worker", "2026-11-25"),
        ReportSummary(closed.id, "environment", "closed_satisfied", None, None, "2026-11-06", 5),
    )


def test_staff_callers_get_their_open_reports_oldest_first(demo: Demo, settings: Settings) -> None:
    """A grid worker's context lists open reports assigned to them, oldest first; closed ones are left out."""
    newer = add_report(demo, "dispatched", category="facility", age=timedelta(hours=2), assignee=demo.worker,
                       transcript_status="done", transcript_text="路灯坏了")
    older = add_report(demo, "new", category="safety", age=timedelta(hours=5), assignee=demo.worker, urgent=True)
    add_report(demo, "closed_satisfied", age=timedelta(hours=9), assignee=demo.worker)
    add_report(demo, "new", age=timedelta(hours=9))  # nobody's
    staff = contexts.hotline_context(demo.session, settings, inbound(demo.worker), now=NOW)
    assert staff.caller_is_staff
    assert staff.assigned_reports == (
        AssignedReport(older.id, "safety", True, "new", None),
        AssignedReport(newer.id, "facility", False, "dispatched", "路灯坏了"),
    )
    resident = contexts.hotline_context(demo.session, settings, inbound(demo.resident), now=NOW)
    assert not resident.caller_is_staff and resident.assigned_reports == ()


def test_open_reports_nearby_are_offered_per_category_within_the_window(demo: Demo, settings: Settings) -> None:
    """Open reports in the caller's micro-grid filed within the duplicate window, the oldest per category."""
    other_grid = demo.worker.grid_id
    first = add_report(demo, "verifying", category="environment", age=timedelta(hours=20))
    add_report(demo, "new", category="environment", age=timedelta(hours=2))
    add_report(demo, "new", category="facility", age=timedelta(hours=30))  # outside the 24 h window
    add_report(demo, "unfounded", category="safety", age=timedelta(hours=1))  # closed
    add_report(demo, "new", category="dispute", age=timedelta(hours=1), grid_id=other_grid)  # another grid
    ctx = contexts.hotline_context(demo.session, settings, inbound(demo.resident), now=NOW)
    assert ctx.open_by_category == {"environment": first.id}


def callback(demo: Demo, purpose: str, person: Person, report: Report | None, question: str = "") -> CallBack:
    row = CallBack(purpose=purpose, person_id=person.id, report_id=report.id if report else None,
                   to_number=person.phone, language=person.language, scheduled_for=NOW, question=question)
    demo.session.add(row)
    demo.session.flush()
    return row


def note(demo: Demo, report: Report, kind: str, text: str, status: str = "done") -> None:
    demo.session.add(Recording(recording_sid=f"RE{kind}{text}", report_id=report.id, kind=kind, url=f"https://x/{text}",
                               transcript_status=status, transcript_text=text))
    demo.session.flush()


def test_resident_confirmation_context_has_the_worker_calling_and_the_newest_note(demo: Demo, settings: Settings) -> None:
    """The resident hears the assignee calling; the handling note is the newest transcribed one."""
    report = add_report(demo, "awaiting_check", assignee=demo.worker, transcript_status="done", transcript_text="灯坏了")
    note(demo, report, "report", "original")
    note(demo, report, "handling_note", "换了灯泡")
    note(demo, report, "handling_note", "换了灯泡和开关")
    note(demo, report, "handling_note", "还在转写", status="pending")
    demo.session.refresh(report)
    ctx = contexts.outbound_context(demo.session, settings, callback(demo, callbacks.RESIDENT_CONFIRMATION,
                                                                    demo.resident, report))
    assert (ctx.callee_name, ctx.caller_name, ctx.caller_role) == ("朱明", "陈静", "grid_worker")
    assert ctx.duty_phone == "057188881234" and ctx.language == "zh-CN" and ctx.question is None
    assert ctx.report is not None and ctx.report.recording_url is not None
    # the caller's voice is played from our server with a signed URL, never the stored Twilio URL
    assert ctx.report.recording_url.startswith(f"{settings.public_base_url}/media/recordings/REreportoriginal.wav?expires=")
    assert ctx.report == ReportBrief(report.id, "environment", False, "awaiting_check", "灯坏了", ctx.report.recording_url,
                                     "换了灯泡和开关", None)


@pytest.mark.parametrize(
    ("purpose", "overdue"),
    [(callbacks.WORKER_FOLLOW_UP, False), (callbacks.ESCALATION, True)],
)
def test_calls_to_workers_come_from_the_hotline(demo: Demo, settings: Settings, purpose: str, overdue: bool) -> None:
    """A worker hears the community's hotline calling; an escalation call treats the report as overdue."""
    report = add_report(demo, "dispatched", assignee=demo.worker)
    note(demo, report, "reopen_reason", "还是很臭")
    demo.session.refresh(report)
    ctx = contexts.outbound_context(demo.session, settings, callback(demo, purpose, demo.worker, report, "今天能去吗"))
    assert (ctx.caller_name, ctx.caller_role, ctx.question) == (settings.community_name, None, "今天能去吗")
    assert ctx.report is not None and ctx.report.reopen_reason == "还是很臭" and ctx.report.overdue is overdue


@pytest.mark.parametrize(
    ("purpose", "flow", "returning"),
    [
        (callbacks.WORKER_VERIFICATION, "verification", None),
        (callbacks.ESCALATION, "verification", None),
        (callbacks.WORKER_FOLLOW_UP, "follow_up", None),
        (callbacks.RESIDENT_CONFIRMATION, "confirmation", None),
        (callbacks.STAFF_QUESTION, "staff_question", None),
        (callbacks.MISSED_CALL_RETURN, "hotline", True),
    ],
)
def test_each_purpose_starts_its_own_flow(demo: Demo, purpose: str, flow: str, returning: bool | None) -> None:
    """A call-back's first state names the flow for its purpose, the callee's language and the call-back."""
    row = callback(demo, purpose, demo.resident, None)
    state = flow_host.new_outbound_state(row)
    assert (state["flow"], state["callback_id"], state["lang"], state.get("returning")) == (flow, row.id, "zh-CN", returning)


def test_answering_machine_twiml_says_who_called_and_hangs_up(demo: Demo, settings: Settings) -> None:
    """A machine hears the community, the report number, 'we will call again' and the duty phone; no menu."""
    report = add_report(demo, "new", assignee=demo.worker)
    row = callback(demo, callbacks.WORKER_VERIFICATION, demo.worker, report)
    root = ET.fromstring(flow_host.machine_twiml(demo.session, settings, row))
    assert [el.tag for el in root] == ["Say", "Say", "Say", "Say", "Hangup"]
    said = [el.text or "" for el in root if el.tag == "Say"]
    assert said[0].startswith("陈静您好，这里是花果社区网格热线，关于第") and said[1] == "我们会再给您打电话。"
    assert said[2] == "如需核实这个电话，请拨打零，五，七，幺，八，八，八，八，幺，二，三，四。"
