"""The report list and the report page, with the actions staff take on a report.

Every query goes through grid.access.report_scope (what the login may see); every action is a
CSRF-checked POST that moves the report through telephony.dashboard.steering in one transaction,
then queues the call-backs and texts it owes once the answer is sent.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from grid import access, lifecycle, registry
from grid.models import CallAttempt, CallBack, Grid, Message, Person, Recording, Report
from ivr_flows.categories import CATEGORIES
from telephony import database, effects
from telephony.api import RequestError, StaffCallRequest, enqueue_safely, schedule_staff_call
from telephony.commit import run_after
from telephony.dashboard import csrf, report_view, steering
from telephony.dashboard.i18n import tr

bp = Blueprint("reports", __name__, url_prefix="/dashboard/reports")
csrf.protect(bp)
PAGE_SIZE = 50
CHANNELS = ("voice", "sms")


def _visible_grids(session: Session) -> list[Grid]:
    grids = access.user_grids(session, g.user)
    query = select(Grid).order_by(Grid.code)
    if grids is not None:
        query = query.where(Grid.id.in_(sorted(grids)))
    return list(session.scalars(query))


def _int(name: str) -> int | None:
    value = request.args.get(name, "").strip()
    return int(value) if value.isdigit() else None


def filtered(session: Session, args: dict[str, str]) -> Select[Report]:
    """The list's query: the login's scope, then the filters in the query string."""
    query = select(Report).where(access.report_scope(session, g.user))
    grid_id = int(args["grid"]) if args.get("grid", "").isdigit() else None
    if grid_id is not None:
        query = query.where(Report.grid_id.in_(sorted(access.subtree(grid_id, access.grid_parents(session)))))
    state = args.get("state", "")
    if state == "open":
        query = query.where(Report.state.in_(sorted(lifecycle.OPEN)))
    elif state == "closed":
        query = query.where(Report.state.in_(sorted(lifecycle.CLOSED)))
    elif state in lifecycle.STATES:
        query = query.where(Report.state == state)
    if args.get("category") in CATEGORIES:
        query = query.where(Report.category == args["category"])
    if args.get("channel") in CHANNELS:
        query = query.where(Report.channel == args["channel"])
    if args.get("overdue") == "1":
        query = query.where(Report.overdue.is_(True))
    if args.get("listen") == "1":
        query = query.where(Report.needs_listening.is_(True))
    text = args.get("q", "").strip()
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions = [Report.transcript_text.ilike(like, escape="\\"), Report.building == text]
        if text.lstrip("#").isdigit():
            conditions.append(Report.id == int(text.lstrip("#")))
        query = query.where(or_(*conditions))
    return query


@bp.get("/")
def index() -> Any:
    session = database.session()
    args = {k: v for k, v in request.args.items() if k != "page"}
    page = max(1, _int("page") or 1)
    query = filtered(session, args)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    reports = list(session.scalars(
        query.order_by(Report.overdue.desc(), Report.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ))
    return render_template(
        "dashboard/reports.html", reports=reports, total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        args=args, grids=_visible_grids(session), states=lifecycle.STATES, categories=CATEGORIES, channels=CHANNELS,
        now=effects.now(), age=report_view.age, closed=lifecycle.CLOSED,
    )


def _report(report_id: int) -> Report:
    """The report, if this login may see it: 404 when there is none, 403 when it is another grid's."""
    session = database.session()
    report = session.get(Report, report_id)
    if report is None:
        abort(404)
    if not access.can_see(session, g.user, report):
        abort(403)
    return report


@bp.get("/<int:report_id>")
def show(report_id: int) -> Any:
    session = database.session()
    report = _report(report_id)
    callbacks = list(session.scalars(select(CallBack).where(CallBack.report_id == report.id).order_by(CallBack.id)))
    attempts = list(session.scalars(
        select(CallAttempt).join(CallBack).where(CallBack.report_id == report.id).order_by(CallAttempt.id)
    ))
    messages = list(session.scalars(select(Message).where(Message.report_id == report.id).order_by(Message.id)))
    notes = list(session.scalars(report_recordings(report.id)))
    responders = registry.responders(session)
    people = _callable_people(session, report, responders)
    return render_template(
        "dashboard/report.html", report=report, words=report_view.marked_words(report.transcript_words),
        timeline=report_view.timeline(list(report.events), attempts, messages), callbacks=callbacks,
        recordings=notes, events=[e for e in lifecycle.allowed_events(report.state) if e != "mark_duplicate"],
        may=lambda action: access.may(g.user, action), responders=responders, people=people,
        low_confidence=report_view.LOW_CONFIDENCE,
    )


def report_recordings(report_id: int) -> Select[Recording]:
    """The report's own recordings and the voice notes left on its call-backs."""
    on_callbacks = select(CallBack.id).where(CallBack.report_id == report_id)
    return select(Recording).where(or_(Recording.report_id == report_id, Recording.callback_id.in_(on_callbacks))) \
        .order_by(Recording.id)


def _callable_people(session: Session, report: Report, responders: list[Person]) -> list[Person]:
    """Whom "call to verify" offers: the reporter, the assignee, and the people of the report's grid."""
    chosen: dict[int, Person] = {}
    for person in (report.reporter, report.assignee):
        if person is not None:
            chosen[person.id] = person
    if report.grid_id is not None:
        grid_ids = {report.grid_id} | ({report.grid.parent_id} if report.grid and report.grid.parent_id else set())
        for person in session.scalars(select(Person).where(Person.grid_id.in_(grid_ids)).order_by(Person.name).limit(200)):
            chosen.setdefault(person.id, person)
    for person in responders:
        chosen.setdefault(person.id, person)
    return list(chosen.values())


def _done(report: Report, follow: Any = None, after: list[Any] | None = None) -> Response:
    """Commit, queue what the move owes once the answer is sent, and go back to the report."""
    session = database.session()
    session.commit()
    jobs = list(after or []) + (effects.follow_ups(follow) if follow is not None else [])
    response = redirect(url_for("reports.show", report_id=report.id))
    if jobs:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.call_on_close(lambda: run_after(app, jobs))
    return response


def _refused(report: Report, exc: Exception) -> Response:
    database.session().rollback()
    flash(str(exc), "error")
    return redirect(url_for("reports.show", report_id=report.id))


def _allow(action: str) -> None:
    if not access.may(g.user, action):
        abort(403)


@bp.post("/<int:report_id>/move")
def move(report_id: int) -> Any:
    _allow("change_state")
    report = _report(report_id)
    settings = current_app.config["SETTINGS"]
    try:
        follow = steering.move(database.session(), settings, report, request.form.get("event", ""), effects.now(),
                               steering.Who(g.user), request.form.get("note", ""), request.form.get("handler", ""))
    except steering.Refused as exc:
        return _refused(report, exc)
    flash(tr("状态已更新。", "State updated."), "ok")
    return _done(report, follow)


@bp.post("/<int:report_id>/reassign")
def reassign(report_id: int) -> Any:
    _allow("reassign")
    report = _report(report_id)
    session = database.session()
    person_id = request.form.get("person_id", "")
    person = session.get(Person, int(person_id)) if person_id.isdigit() else None
    try:
        follow = steering.reassign(session, current_app.config["SETTINGS"], report, person, effects.now(),
                                   steering.Who(g.user))
    except steering.Refused as exc:
        return _refused(report, exc)
    flash(tr("已改派。", "Reassigned."), "ok")
    return _done(report, follow)


@bp.post("/<int:report_id>/duplicate")
def duplicate(report_id: int) -> Any:
    _allow("mark_duplicate")
    report = _report(report_id)
    session = database.session()
    raw = request.form.get("original_id", "").strip().lstrip("#")
    original = session.get(Report, int(raw)) if raw.isdigit() else None
    if original is not None and not access.can_see(session, g.user, original):
        original = None  # another grid's report is "no such report" to this login
    try:
        steering.mark_duplicate(session, report, original, effects.now(), steering.Who(g.user))
    except steering.Refused as exc:
        return _refused(report, exc)
    flash(tr("已标记为重复。", "Marked as a duplicate."), "ok")
    return _done(report)


@bp.post("/<int:report_id>/note")
def note(report_id: int) -> Any:
    _allow("note")
    report = _report(report_id)
    try:
        steering.add_note(database.session(), report, request.form.get("note", ""), effects.now(), steering.Who(g.user))
    except steering.Refused as exc:
        return _refused(report, exc)
    return _done(report)


@bp.post("/<int:report_id>/call")
def call(report_id: int) -> Any:
    """"Call to verify": a staff question through the same outbound engine as the API."""
    _allow("call")
    report = _report(report_id)
    person_id = request.form.get("person_id", "")
    req = StaffCallRequest(
        question=request.form.get("question", ""),
        person_id=int(person_id) if person_id.isdigit() else None,
        phone=request.form.get("phone", "").strip() if not person_id.isdigit() else "",
        report_id=report.id,
    )
    try:
        callback = schedule_staff_call(database.session(), current_app.config["SETTINGS"], req, now=effects.now(),
                                       requested_by=g.user.username, channel="dashboard")
    except RequestError as exc:
        return _refused(report, exc)
    flash(tr(f"已安排核实电话（第 {callback.id} 号）。", f"Verification call {callback.id} scheduled."), "ok")
    return _done(report, after=[lambda: enqueue_safely(callback)])
