"""The metrics page and the CSV export, through the app: numbers from timeline rows at known times,
each login's scope, the export's format and who may have it, and bad dates."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, g
from sqlalchemy import select

from grid import metrics
from grid.metrics import DateRange
from grid.models import CallAttempt, CallBack, Grid, Person, Report
from grid.timeline import record, transition
from telephony.dashboard.metrics import RangeError, bucket_labels, cell, parse_range
from tests.dashboard_support import demo_with_logins, log_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 3, 20, 10, 0, tzinfo=SHANGHAI)  # a Wednesday, ISO week 12
RANGE = "from=2024-03-04&to=2024-03-17"  # ISO weeks 10 and 11
BOTH = pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)


def local(text: str) -> datetime:
    """A Shanghai wall-clock time, in UTC as the app stores it."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def file_report(s: Any, code: str, filed: str, events: list[tuple[str, float]] = (), **fields: Any) -> Report:  # type: ignore[assignment]
    """A report filed at local time `filed` in grid `code`, moved through `events` (minutes after filing)."""
    grid = s.scalar(select(Grid).where(Grid.code == code))
    reporter = s.scalar(select(Person).where(Person.role == "resident", Person.grid_id == grid.id))
    worker = s.scalar(select(Person).where(Person.role == "grid_worker", Person.grid_id == (grid.parent_id or grid.id)))
    at = local(filed)
    report = Report(category="facility", grid_id=grid.id, created_at=at, state_changed_at=at, building="1", reopen_count=0,
                    reporter_id=reporter.id if reporter else None, reporter_phone=reporter.phone if reporter else "",
                    assignee_id=worker.id if worker else None, transcript_text="三楼楼道灯坏了", **fields)
    s.add(report)
    s.flush()
    record(s, report, "filed", at, to_state="new")
    for event, minutes in events:
        assert transition(s, report, event, at + timedelta(minutes=minutes))
    report.overdue = fields.get("overdue", False)
    return report


def attempt(s: Any, purpose: str, report: Report | None, outcome: str, placed: str, number: int = 1) -> None:
    callback = CallBack(purpose=purpose, report_id=report.id if report else None, to_number="+8613900000201",
                        scheduled_for=local(placed))
    s.add(callback)
    s.flush()
    s.add(CallAttempt(callback_id=callback.id, number=number, placed_at=local(placed), outcome=outcome,
                      status="completed"))


@pytest.fixture
def community(app: Any, sessions: Any) -> dict[str, int]:
    """The demo community with logins, seven reports at known times, call attempts, and the clock at NOW."""
    demo_with_logins(sessions)
    app.config["CLOCK"] = lambda: NOW
    to_check = [("request_check", 0)]
    with sessions() as s:
        ids = {
            # HG-01 (micro-grid 1): taken on in 20 min, verified in 2.5 h, handled in 26 h, satisfied, rated 5
            "r1": file_report(s, "HG-01-1", "2024-03-04 09:00", [
                ("accept", 20), ("confirm", 150), ("dispatch", 180), ("handle", 26 * 60),
                ("request_check", 27 * 60), ("satisfied", 30 * 60)], rating=5),
            # HG-01 itself: verified in 4 h (missed), handled in 10 h, reopened, then satisfied; rated 3
            "r2": file_report(s, "HG-01", "2024-03-05 14:00", [
                ("accept", 5), ("confirm", 240), ("dispatch", 300), ("handle", 600), *to_check, ("reopen", 720),
                ("handle", 900), *to_check, ("satisfied", 1000)], rating=3),
            # HG-02: found unfounded in 50 min
            "r3": file_report(s, "HG-02-1", "2024-03-11 10:00", [("accept", 40), ("unfounded", 50)]),
            # HG-02: never touched, overdue
            "r4": file_report(s, "HG-02-2", "2024-03-12 11:00", overdue=True, escalation_level=1),
            # HG-01: filed at 23:00 in quiet hours, confirmed 09:30: 10.5 h from filing, 1.5 h from 08:00
            "r5": file_report(s, "HG-01-2", "2024-03-13 23:00", [("confirm", 630)]),
            # HG-01: filed before the range, overdue now
            "r6": file_report(s, "HG-01-1", "2024-02-20 09:00", [("accept", 10), ("confirm", 60), ("dispatch", 70)],
                              overdue=True),
            # HG-02: a duplicate, nothing to verify
            "r7": file_report(s, "HG-02-3", "2024-03-06 08:00", [("mark_duplicate", 30)]),
        }
        attempt(s, "worker_verification", ids["r1"], "no-answer", "2024-03-04 09:05")
        attempt(s, "worker_verification", ids["r1"], "reached", "2024-03-04 09:15", number=2)
        attempt(s, "resident_confirmation", ids["r1"], "machine", "2024-03-05 12:00")
        attempt(s, "resident_confirmation", ids["r1"], "reached", "2024-03-05 14:00", number=2)
        attempt(s, "resident_confirmation", ids["r3"], "busy", "2024-03-11 11:00")
        attempt(s, "staff_question", None, "reached", "2024-03-12 15:00")
        attempt(s, "escalation", ids["r4"], "rest-error", "2024-03-12 14:01")
        attempt(s, "escalation", ids["r6"], "reached", "2024-02-20 12:00")  # before the range
        attempt(s, "worker_follow_up", ids["r5"], "", "2024-03-14 09:00")  # still ringing
        s.commit()
        return {name: report.id for name, report in ids.items()}


class Tables(HTMLParser):
    """The cell texts of every table on a page, by its data-testid."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("data-testid") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_of(app: Any, username: str, query: str = RANGE) -> tuple[Any, str]:
    client = app.test_client()
    log_in(client, username)
    response = client.get(f"/dashboard/metrics/?{query}")
    return response, response.get_data(as_text=True)


def rows(page: str, testid: str) -> dict[str, list[str]]:
    """A table's body rows by their first cell."""
    return {row[0]: row[1:] for row in Tables(page).tables[testid][1:]}


def export(app: Any, username: str, query: str = RANGE) -> Any:
    client = app.test_client()
    log_in(client, username)
    return client.get(f"/dashboard/metrics/export.csv?{query}")


@BOTH
def test_staff_see_the_whole_community(app: Any, community: dict[str, int]) -> None:
    """Weeks, times, the 3-hour share, satisfaction, reach and overdue, as defined, for everything."""
    response, page = page_of(app, "wang")
    assert response.status_code == 200
    assert 'data-testid="metrics-total">所选时间内登记的报告：<strong>6</strong>' in page
    weekly = Tables(page).tables["table-reports-per-week"]
    assert weekly[0] == ["网格", "2024-W10", "2024-W11", "合计"]
    assert {row[0]: row[1:] for row in weekly[1:]} == {
        "HG-01 花果社区第一网格": ["2", "1", "3"], "HG-02 花果社区第二网格": ["1", "2", "3"]}
    assert rows(page, "table-time-to-accept") == {
        "≤10分钟": ["1"], "10–30分钟": ["1"], "30分钟–1小时": ["1"], "1–3小时": ["0"], ">3小时": ["1"], "仍未完成": ["1"]}
    assert rows(page, "table-time-to-verify") == {
        "≤30分钟": ["0"], "30分钟–1小时": ["1"], "1–3小时": ["1"], "3–6小时": ["1"], "6小时–1天": ["1"], ">1天": ["0"],
        "仍未完成": ["1"]}
    assert rows(page, "table-time-to-handle") == {
        "≤4小时": ["0"], "4–12小时": ["1"], "12小时–1天": ["0"], "1–2天": ["1"], "2–7天": ["0"], ">7天": ["0"],
        "仍未完成": ["2"]}
    assert rows(page, "table-verify-standard") == {
        "HG-01 花果社区第一网格": ["2", "1", "0", "67%"], "HG-02 花果社区第二网格": ["1", "1", "0", "50%"],
        "全部": ["3", "2", "0", "60%"]}
    assert rows(page, "table-satisfaction") == {
        "HG-01 花果社区第一网格": ["2", "4.0", "2", "1 (50%)", "1 (50%)"],
        "HG-02 花果社区第二网格": ["0", "—", "0", "0", "0"], "全部": ["2", "4.0", "2", "1 (50%)", "1 (50%)"]}
    assert rows(page, "table-reach-rate") == {
        "网格员接单": ["1", "2", "50%", "0"], "居民回访": ["1", "3", "33%", "0"],  # the follow-up is still ringing
        "工作人员询问": ["1", "1", "100%", "0"], "督办": ["0", "0", "—", "1"], "全部": ["3", "6", "50%", "1"]}
    overdue = Tables(page).tables["table-overdue"][1:]  # oldest first, whenever filed
    assert [row[:2] + row[-2:] for row in overdue] == [
        [str(community["r6"]), "花果社区第一网格 · HG-01-1", "0", "陈静"],
        [str(community["r4"]), "花果社区第二网格 · HG-02-2", "1", "杨帆"]]
    assert 'data-testid="overdue-count">2<' in page


def test_charts_are_inline_svg_that_parses(app: Any, community: dict[str, int]) -> None:
    """Every chart is inline SVG (nothing fetched from elsewhere) and well-formed on the page."""
    _, page = page_of(app, "wang")
    names = ["reports-per-week", "time-to-accept", "time-to-verify", "time-to-handle", "verify-standard",
             "satisfaction", "reach-rate"]
    for name in names:
        start = page.index(f'data-chart="{name}"')
        start, end = page.rindex("<svg", 0, start), page.index("</svg>", start) + len("</svg>")
        ET.fromstring(page[start:end])
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
    assert "<script" not in page


def test_a_leader_sees_only_their_grids(app: Any, community: dict[str, int]) -> None:
    """A grid leader's figures and overdue list cover their grid and its micro-grids only."""
    _, page = page_of(app, "zhangwei")
    assert "<strong>3</strong>" in page and "花果社区第二网格" not in page
    assert rows(page, "table-reports-per-week") == {"HG-01 花果社区第一网格": ["2", "1", "3"]}
    assert rows(page, "table-verify-standard")["全部"] == ["2", "1", "0", "67%"]
    assert rows(page, "table-reach-rate") == {
        "网格员接单": ["1", "2", "50%", "0"], "居民回访": ["1", "2", "50%", "0"], "全部": ["2", "4", "50%", "0"]}
    assert [row[0] for row in Tables(page).tables["table-overdue"][1:]] == [str(community["r6"])]


def test_a_worker_sees_their_grid_without_an_export(app: Any, community: dict[str, int]) -> None:
    """A grid worker gets the page for their own grid, no export button, and 403 for the export itself."""
    response, page = page_of(app, "yangfan")
    assert response.status_code == 200 and "<strong>3</strong>" in page
    assert rows(page, "table-verify-standard")["全部"] == ["1", "1", "0", "50%"]
    assert 'data-testid="export-csv"' not in page
    assert export(app, "yangfan").status_code == 403


def test_the_3_hour_clock_waits_for_quiet_hours_to_end(app: Any, sessions: Any) -> None:
    """A report filed at 23:00 and verified at 09:30 is 10.5 h in the histogram but meets the standard;
    an urgent one filed then does not, and a young unverified one is not counted yet."""
    demo_with_logins(sessions)
    app.config["CLOCK"] = lambda: local("2024-03-14 11:00")
    with sessions() as s:
        file_report(s, "HG-01-2", "2024-03-13 23:00", [("confirm", 630)])
        file_report(s, "HG-01-2", "2024-03-13 23:00", [("confirm", 630)], urgent=True)
        file_report(s, "HG-01-2", "2024-03-14 09:00")
        s.commit()
    _, page = page_of(app, "wang", "from=2024-03-13&to=2024-03-14")
    assert rows(page, "table-verify-standard")["全部"] == ["1", "1", "1", "50%"]
    assert rows(page, "table-time-to-verify")["6小时–1天"] == ["2"]


@BOTH
def test_the_range_ends_at_local_midnight(app: Any, sessions: Any) -> None:
    """Days are Shanghai days on both databases: 07:00 on the first day is in, 23:30 the evening before is out."""
    demo_with_logins(sessions)
    app.config["CLOCK"] = lambda: NOW
    with sessions() as s:
        inside = [file_report(s, "HG-01-1", "2024-03-04 07:00"), file_report(s, "HG-01-1", "2024-03-10 23:59")]
        file_report(s, "HG-01-1", "2024-03-03 23:30")
        file_report(s, "HG-01-1", "2024-03-11 00:00")
        attempt(s, "staff_question", None, "reached", "2024-03-04 07:00")
        attempt(s, "staff_question", None, "no-answer", "2024-03-03 23:30")
        s.commit()
        expected = [report.id for report in inside]
    _, page = page_of(app, "wang", "from=2024-03-04&to=2024-03-10")
    assert rows(page, "table-reports-per-week") == {"HG-01 花果社区第一网格": ["2", "2"]}
    assert rows(page, "table-reach-rate")["全部"] == ["1", "1", "100%", "0"]
    table = list(csv.reader(io.StringIO(export(app, "wang", "from=2024-03-04&to=2024-03-10").get_data().decode("utf-8-sig"))))
    assert [int(row[0]) for row in table[1:]] == expected


def test_an_empty_community_gets_no_data_charts(app: Any, sessions: Any) -> None:
    """No reports and no calls: every chart says there is no data, the tables show zeros, nothing fails."""
    demo_with_logins(sessions)
    response, page = page_of(app, "zhangwei")
    assert response.status_code == 200
    assert page.count('class="chart empty"') == 7 and page.count("所选时间内没有数据") >= 7
    assert rows(page, "table-verify-standard") == {"全部": ["0", "0", "0", "—"]}
    assert "目前没有超时的报告" in page


def test_the_default_range_is_twelve_weeks_to_today(app: Any, community: dict[str, int]) -> None:
    """Without dates the page covers the twelve ISO weeks up to today (local), this week included."""
    response, page = page_of(app, "wang", "")
    assert response.status_code == 200
    assert 'name="from" value="2024-01-01"' in page and 'name="to" value="2024-03-20"' in page
    assert Tables(page).tables["table-reports-per-week"][0][1:] == [f"2024-W{w:02d}" for w in range(1, 13)] + ["合计"]


@pytest.mark.parametrize(("query", "message"), [
    ("from=2024-02-30&to=2024-03-01", "开始日期“2024-02-30”无效"),
    ("from=2024-03-01&to=tomorrow", "结束日期“tomorrow”无效"),
    ("from=20240301", "开始日期“20240301”无效"),
    ("from=2024-03-10&to=2024-03-01", "开始日期晚于结束日期"),
    ("from=2020-01-01&to=2024-03-01", "时间范围最长 731 天"),
])
def test_bad_dates_get_a_clear_400(app: Any, community: dict[str, int], query: str, message: str) -> None:
    """A date that is not YYYY-MM-DD, or a backwards or too long range, is refused with the reason and the form."""
    response, page = page_of(app, "wang", query)
    assert response.status_code == 400
    assert message in page and 'data-testid="metrics-range"' in page and 'data-chart=' not in page


def test_bad_dates_in_the_export(app: Any, community: dict[str, int]) -> None:
    """The export refuses bad dates with a plain message; it has no upper limit on the range."""
    response = export(app, "wang", "from=2024-3-1&to=2024-03-17&lang=en")
    assert response.status_code == 400 and "The start date “2024-3-1” is not valid" in response.get_data(as_text=True)
    assert export(app, "wang", "from=2000-01-01&to=2024-03-17").status_code == 200


@BOTH
def test_export_rows(app: Any, sessions: Any, community: dict[str, int]) -> None:
    """One row per visible report filed in the range, UTF-8 with a BOM, times in minutes, local times."""
    with sessions() as s:
        s.get(Report, community["r3"]).transcript_text = '=HYPERLINK("http://evil.example","点我")'
        s.get(Report, community["r3"]).handler = "@物业"
        s.commit()
    response = export(app, "wang")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="gridline-reports-2024-03-04-2024-03-17.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, data = table[0], {int(row[0]): dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert header[:3] == ["编号", "登记时间", "渠道"] and header[-1] == "报告内容"
    assert sorted(data) == sorted(community[k] for k in ("r1", "r2", "r3", "r4", "r5", "r7"))
    r1 = data[community["r1"]]
    assert (r1["登记时间"], r1["网格"], r1["微网格"], r1["状态"], r1["类别"], r1["紧急"]) == (
        "2024-03-04 09:00", "HG-01", "HG-01-1", "已办结", "公共设施报修", "否")
    assert (r1["接单用时（分钟）"], r1["核实用时（分钟）"], r1["处理用时（分钟）"]) == ("20", "150", "1560")
    assert (r1["评价"], r1["重新办理次数"], r1["办结时间"]) == ("5", "0", "2024-03-05 15:00")
    assert r1["报告人电话"].startswith("'+86") and r1["报告人"] and r1["责任人"] == "陈静"
    r2, r4 = data[community["r2"]], data[community["r4"]]
    assert (r2["微网格"], r2["处理用时（分钟）"], r2["重新办理次数"]) == ("", "600", "1")
    assert (r4["超时"], r4["接单用时（分钟）"], r4["状态"]) == ("是", "", "新报告")
    r3 = data[community["r3"]]
    assert r3["报告内容"] == "'=HYPERLINK(\"http://evil.example\",\"点我\")" and r3["处理人"] == "'@物业"


def test_a_leaders_export_holds_their_grids_only(app: Any, community: dict[str, int]) -> None:
    """A grid leader's export has the reports of their grid, in English when the page is."""
    response = export(app, "zhangwei", RANGE + "&lang=en")
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0][:2] == ["id", "filed at"]
    assert [int(row[0]) for row in table[1:]] == [community["r1"], community["r2"], community["r5"]]
    assert {row[6] for row in table[1:]} == {"HG-01"}


def test_the_page_needs_a_login_and_links_the_export(app: Any, community: dict[str, int]) -> None:
    """Logged out, the page sends you to the login; staff get the export button and the nav link."""
    response = app.test_client().get("/dashboard/metrics/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert app.test_client().get("/dashboard/metrics/export.csv").status_code == 302
    _, page = page_of(app, "wang")
    assert 'data-testid="export-csv"' in page and 'formaction="/dashboard/metrics/export.csv"' in page
    assert 'data-testid="nav-metrics"' in page


def test_escaped_grid_names_on_the_page(app: Any, sessions: Any, community: dict[str, int]) -> None:
    """A grid named like markup shows as text in the tables and the charts."""
    with sessions() as s:
        s.scalar(select(Grid).where(Grid.code == "HG-02")).name = "<script>alert(1)</script>"
        s.commit()
    _, page = page_of(app, "wang")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


TODAY = date(2024, 3, 20)


@pytest.mark.parametrize(("args", "expected"), [
    ({}, DateRange(date(2024, 1, 1), TODAY)),  # twelve ISO weeks, this one included
    ({"to": "2024-03-10"}, DateRange(date(2023, 12, 18), date(2024, 3, 10))),
    ({"from": "2024-03-01"}, DateRange(date(2024, 3, 1), TODAY)),
    ({"from": " 2024-03-01 ", "to": "2024-03-01"}, DateRange(date(2024, 3, 1), date(2024, 3, 1))),
    ({"from": "2022-03-21", "to": "2024-03-20"}, DateRange(date(2022, 3, 21), TODAY)),  # 731 days
])
def test_parse_range(args: dict[str, str], expected: DateRange) -> None:
    """from/to are local days, both included; missing ends default to today and twelve weeks back."""
    assert parse_range(args, TODAY, 731) == expected


@pytest.mark.parametrize(("args", "english"), [
    ({"from": "2024-3-1"}, "The start date “2024-3-1” is not valid: use YYYY-MM-DD."),
    ({"to": "2024-02-30"}, "The end date “2024-02-30” is not valid: use YYYY-MM-DD."),
    ({"from": "２０２４-03-01"}, "The start date “２０２４-03-01” is not valid: use YYYY-MM-DD."),
    ({"from": "2024-03-02", "to": "2024-03-01"}, "The start date is after the end date."),
    ({"from": "2022-03-20", "to": "2024-03-20"}, "The range may be at most 731 days."),
])
def test_parse_range_refuses(args: dict[str, str], english: str) -> None:
    """Anything but a real YYYY-MM-DD, a backwards range or one too long is refused in both languages."""
    with pytest.raises(RangeError) as caught:
        parse_range(args, TODAY, 731)
    assert caught.value.en == english and caught.value.zh


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+8613900000201", "'+8613900000201"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\r=x", "'\r=x"), ("a=b", "a=b"), ("三楼楼道灯坏了", "三楼楼道灯坏了"), ("", ""),
    (5, 5), (-3, -3), (None, ""), (True, "是"), (False, "否"),
])
def test_csv_cells_are_safe_for_excel(value: object, expected: object) -> None:
    """Text a spreadsheet would run as a formula starts with an apostrophe; numbers stay numbers."""
    with Flask(__name__).test_request_context():
        assert cell(value) == expected


@pytest.mark.parametrize(("lang", "uppers", "labels"), [
    ("zh-CN", metrics.VERIFY_UPPERS, ["≤30分钟", "30分钟–1小时", "1–3小时", "3–6小时", "6小时–1天", ">1天"]),
    ("en-US", metrics.VERIFY_UPPERS, ["≤30 min", "30 min–1 h", "1–3 h", "3–6 h", "6 h–1 d", ">1 d"]),
    ("en-US", metrics.HANDLE_UPPERS, ["≤4 h", "4–12 h", "12 h–1 d", "1–2 d", "2–7 d", ">7 d"]),
    ("en-US", metrics.ACCEPT_UPPERS, ["≤10 min", "10–30 min", "30 min–1 h", "1–3 h", ">3 h"]),
])
def test_bucket_labels(lang: str, uppers: tuple[int, ...], labels: list[str]) -> None:
    """One label per bucket, the unit written once when both ends share it."""
    with Flask(__name__).test_request_context():
        g.lang = lang
        assert bucket_labels(uppers) == labels
