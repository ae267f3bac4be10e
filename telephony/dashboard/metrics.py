"""The metrics page (charts and their numbers) and the CSV export of reports for a date range.

Both read only what the login may see (grid.access.report_scope): a grid leader's figures are their
grids', a grid worker's their own reports'. The date range is local calendar days (TIMEZONE) and
applies to everything except "overdue now". The arithmetic lives in grid.metrics.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, g, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from grid import access, metrics
from grid.metrics import DateRange
from grid.models import Report, User, as_utc
from telephony import database, effects
from telephony.config import Settings
from telephony.dashboard import charts, csrf
from telephony.dashboard.i18n import label, tr

bp = Blueprint("metrics", __name__, url_prefix="/dashboard/metrics")
csrf.protect(bp)
DEFAULT_WEEKS = 12
MAX_PAGE_DAYS = 731  # two years: beyond that a week axis is unreadable (the export has no limit)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RangeError(ValueError):
    """A from/to the page cannot use; carries the message in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


def _day(value: str, zh: str, en: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise RangeError(f"{zh}日期“{value}”无效，请用 YYYY-MM-DD 格式。",
                         f"The {en} date “{value}” is not valid: use YYYY-MM-DD.") from None


def parse_range(args: Mapping[str, str], today: date, max_days: int | None = None) -> DateRange:
    """from/to (YYYY-MM-DD, local, both included) from the query string. A missing `to` is today; a
    missing `from` starts the week DEFAULT_WEEKS - 1 weeks before `to`'s, so the default range is
    twelve whole ISO weeks, the current one included."""
    raw_from, raw_to = args.get("from", "").strip(), args.get("to", "").strip()
    end = _day(raw_to, "结束", "end") if raw_to else today
    start = (_day(raw_from, "开始", "start") if raw_from
             else end - timedelta(days=end.weekday(), weeks=DEFAULT_WEEKS - 1))
    if start > end:
        raise RangeError("开始日期晚于结束日期。", "The start date is after the end date.")
    if max_days is not None and (end - start).days + 1 > max_days:
        raise RangeError(f"时间范围最长 {max_days} 天。", f"The range may be at most {max_days} days.")
    return DateRange(start, end)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].timezone)


def _today() -> date:
    return effects.now().astimezone(_zone()).date()


@bp.get("/")
def index() -> Any:
    """The charts for the range in the query string (default: the last twelve weeks)."""
    try:
        span = parse_range(request.args, _today(), MAX_PAGE_DAYS)
    except RangeError as exc:
        fallback = parse_range({}, _today())
        return render_template("dashboard/metrics.html", error=tr(exc.zh, exc.en), span=fallback,
                               raw=request.args, m=None, may_export=access.may(g.user, "export")), 400
    model = page_model(database.session(), g.user, current_app.config["SETTINGS"], span, effects.now())
    return render_template("dashboard/metrics.html", error=None, span=span, raw=request.args, m=model,
                           may_export=access.may(g.user, "export"))


# ---- the page's figures -----------------------------------------------------------------------
PURPOSES = {  # worker.callbacks.PURPOSES
    "worker_verification": ("网格员接单", "worker verification"), "worker_follow_up": ("网格员跟进", "worker follow-up"),
    "resident_confirmation": ("居民回访", "resident confirmation"), "staff_question": ("工作人员询问", "staff question"),
    "missed_call_return": ("未接来电回拨", "missed-call return"), "escalation": ("督办", "escalation"),
}
PERCENT_TICKS = (0, 0.25, 0.5, 0.75, 1.0)


def _amount(minutes: int) -> tuple[str, str]:
    """A bucket bound as (number, unit): 30 min, 3 h, 2 d."""
    if minutes < 60:
        return f"{minutes}", tr("分钟", " min")
    if minutes < 1440:
        return f"{minutes / 60:g}", tr("小时", " h")
    return f"{minutes / 1440:g}", tr("天", " d")


def bucket_labels(uppers: tuple[int, ...]) -> list[str]:
    """"≤30 min", "30 min–1 h", "1–3 h", …, ">1 d" (each bucket includes its upper bound)."""
    def both(lo: int, hi: int) -> str:
        (a, unit_a), (b, unit_b) = _amount(lo), _amount(hi)
        return f"{a}–{b}{unit_b}" if unit_a == unit_b else f"{a}{unit_a}–{b}{unit_b}"
    first, last = _amount(uppers[0]), _amount(uppers[-1])
    middle = [both(lo, hi) for lo, hi in zip(uppers, uppers[1:], strict=False)]
    return [f"≤{first[0]}{first[1]}", *middle, f">{last[0]}{last[1]}"]


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f}%"


def page_model(session: Session, user: User, settings: Settings, span: DateRange, now: datetime) -> dict[str, Any]:
    """Everything the page shows: the figures for the template's tables and the charts drawn from them."""
    zone = ZoneInfo(settings.timezone)
    start, end = span.bounds(zone)
    scope, grids = access.report_scope(session, user), metrics.grid_info(session)
    facts = metrics.load_facts(session, scope, start, end, settings.timezone, settings.quiet_window, grids)
    weeks, counts = metrics.weeks_between(span.start, span.end), metrics.per_week(facts, zone)
    shares = metrics.standard_shares(facts, now, settings.deadline_verify_minutes)
    happy = metrics.satisfaction(facts)
    reach = metrics.reach(metrics.load_attempts(session, scope, start, end))
    overdue = metrics.overdue_now(session, scope, grids)
    keys = sorted(set(counts) | set(shares) | set(happy) | {o.grid for o in overdue}, key=lambda k: (k is None, k or ""))

    def name(code: str | None) -> str:
        return grids.names.get(code, code) if code is not None else tr("未分网格", "no grid")

    def full(code: str | None) -> str:
        return f"{code} {name(code)}" if code is not None else name(code)

    hours = f"{settings.deadline_verify_minutes / 60:g}"
    empty, all_grids = tr("所选时间内没有数据", "No data in this range"), tr("全部", "all")
    dists = []
    for key, milestone, zh, en, uppers in (
        ("accept", "accepted", "接单用时", "Time to accept", metrics.ACCEPT_UPPERS),
        ("verify", "verified", "到场核实用时", "Time to verify on site", metrics.VERIFY_UPPERS),
        ("handle", "handled", "处理用时", "Time to handle", metrics.HANDLE_UPPERS),
    ):
        dist = metrics.distribution(facts, milestone, uppers)
        labels, title = bucket_labels(uppers), tr(zh, en)
        dists.append({"key": key, "title": title, "rows": list(zip(labels, dist.counts, strict=True)), "dist": dist,
                      "chart": charts.histogram(f"time-to-{key}", title, list(zip(labels, dist.counts, strict=True)),
                                                extra=(tr("仍未完成", "still open"), dist.still_open),
                                                x_label=tr("自登记起", "since filing"), y_label=tr("报告数", "reports"),
                                                no_data_text=empty)})
    share_total = metrics.total(shares.values(), metrics.Share())
    happy_total = metrics.total(happy.values(), metrics.Satisfaction())
    share_rows = [(full(k), shares[k]) for k in keys if k in shares] + [(all_grids, share_total)]
    happy_rows = [(full(k), happy[k]) for k in keys if k in happy] + [(all_grids, happy_total)]
    reach_rows = [(tr(*PURPOSES.get(p, (p, p))), reach[p]) for p in PURPOSES if p in reach]
    reach_rows += [(tr(*PURPOSES.get(p, (p, p))), r) for p, r in reach.items() if p and p not in PURPOSES]
    reach_rows.append((all_grids, reach.get("", metrics.Reach())))
    return {
        "weeks": weeks, "grids": [(k, full(k)) for k in keys if k in counts], "counts": counts, "total": len(facts),
        "per_week_chart": charts.stacked_bars(
            "reports-per-week", tr("每周报告数（按网格）", "Reports per week, by grid"), [w[5:] for w in weeks],
            [(full(k), [counts[k][w] for w in weeks]) for k in keys if k in counts],
            x_label=tr("ISO 周", "ISO week"), y_label=tr("报告数", "reports"), no_data_text=empty),
        "dists": dists, "share_rows": share_rows, "hours": hours,
        "share_chart": charts.horizontal_bars(
            "verify-standard", tr(f"{hours}小时内到场核实的比例", f"Share verified on site within {hours} h"),
            [(n, s.rate, f"{percent(s.rate)} ({s.met}/{s.counted})") for n, s in share_rows],
            scale_max=1.0, ticks=PERCENT_TICKS, tick_format=percent, axis_label=tr("达标比例", "share meeting the standard"),
            no_data_text=empty),
        "happy_rows": happy_rows,
        "happy_chart": charts.horizontal_bars(
            "satisfaction", tr("居民评价（1–5分）", "Residents' rating (1–5)"),
            [(n, s.mean, "—" if s.mean is None else f"{s.mean:.1f} (n={s.rated})") for n, s in happy_rows],
            scale_max=5.0, ticks=(0, 1, 2, 3, 4, 5), axis_label=tr("平均分", "mean rating"), no_data_text=empty),
        "reach_rows": reach_rows,
        "reach_chart": charts.horizontal_bars(
            "reach-rate", tr("回访电话接通率", "Call-back reach rate"),
            [(n, r.rate, f"{percent(r.rate)} ({r.reached}/{r.rang})") for n, r in reach_rows],
            scale_max=1.0, ticks=PERCENT_TICKS, tick_format=percent, axis_label=tr("接通并作答的比例", "share reached"),
            no_data_text=empty),
        "overdue": overdue, "overdue_by_grid": [(name(k), sum(o.grid == k for o in overdue))
                                                for k in keys if any(o.grid == k for o in overdue)],
        "grid_name": name,
    }


# ---- CSV export ------------------------------------------------------------------------------
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    ("编号", "id"), ("登记时间", "filed at"), ("渠道", "channel"), ("类别", "category"), ("紧急", "urgent"),
    ("状态", "state"), ("网格", "grid"), ("微网格", "micro-grid"), ("楼栋", "building"), ("报告人", "reporter"),
    ("报告人电话", "reporter phone"), ("责任人", "assignee"), ("处理人", "handler"), ("超时", "overdue"),
    ("接单用时（分钟）", "minutes to accept"), ("核实用时（分钟）", "minutes to verify"),
    ("处理用时（分钟）", "minutes to handle"), ("评价", "rating"), ("重新办理次数", "reopen count"),
    ("办结时间", "closed at"), ("报告内容", "transcript"),
)


def cell(value: object) -> str | int:
    """One CSV cell, safe to open in Excel: text that a spreadsheet would run as a formula (= + - @,
    tab, CR first) gets a leading apostrophe, which Excel shows as text — a phone number "+86…" too,
    which also keeps Excel from turning it into a number. Numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return tr("是", "yes") if value else tr("否", "no")
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@bp.get("/export.csv")
def export() -> Any:
    """The visible reports filed in the range, one row each, UTF-8 with a BOM (Excel on Chinese
    Windows reads the file as GBK without it).

    The reporter's name and full phone number are in it: only community staff and grid leaders may
    export, and they are the ones who ring a resident back when the system could not (a closed-
    unreachable report, an escalation) — a masked number would send them to the report page for
    every row. The file is personal data; `Cache-Control: no-store` keeps it out of shared caches.
    """
    if not access.may(g.user, "export"):
        abort(403)
    try:
        span = parse_range(request.args, _today())
    except RangeError as exc:
        return Response(tr(exc.zh, exc.en) + "\n", status=400, mimetype="text/plain")
    session, zone = database.session(), _zone()
    start, end = span.bounds(zone)
    ids = metrics.filed_in(access.report_scope(session, g.user), start, end)
    times = metrics.milestones(session, ids)
    grids = metrics.grid_info(session)
    reports = session.scalars(
        select(Report).where(Report.id.in_(ids)).order_by(Report.id)
        .options(joinedload(Report.reporter), joinedload(Report.assignee))
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([tr(zh, en) for zh, en in COLUMNS])

    def local(moment: Any) -> str:
        return as_utc(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment is not None else ""

    for report in reports:
        filed, done = as_utc(report.created_at), times.get(report.id, {})
        took = [round(metrics.minutes(filed, done[k])) if k in done else None for k in ("accepted", "verified", "handled")]
        top = grids.top.get(report.grid_id) if report.grid_id is not None else None
        own = grids.codes.get(report.grid_id) if report.grid_id is not None else None
        row = [
            report.id, local(report.created_at), label("channel", report.channel), label("category", report.category),
            report.urgent, label("state", report.state), top, own if own != top else None, report.building,
            report.reporter.name if report.reporter else None, report.reporter_phone,
            report.assignee.name if report.assignee else None, report.handler, report.overdue, *took,
            report.rating, report.reopen_count or 0, local(report.closed_at), report.transcript_text,
        ]
        writer.writerow([cell(value) for value in row])
    name = f"gridline-reports-{span.start.isoformat()}-{span.end.isoformat()}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
