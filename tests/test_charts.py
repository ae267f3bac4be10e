"""Inline SVG charts (telephony.dashboard.charts): well-formed, escaped, findable, and empty without errors."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from telephony.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & \'quoted\''


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def week_chart(series: list[tuple[str, list[int]]], weeks: list[str] | None = None) -> str:
    return charts.stacked_bars("reports-per-week", "每周报告数", ["W10", "W11", "W12"] if weeks is None else weeks, series,
                               x_label="ISO 周", y_label="报告数", no_data_text="没有数据")


def test_stacked_bars_are_well_formed_and_labelled() -> None:
    """One rect per non-zero segment, totals written above the bars, a legend entry per series."""
    root = parse(week_chart([("第一网格", [2, 0, 1]), ("第二网格", [1, 0, 4])]))
    assert root.get("class") == "chart" and root.get("data-chart") == "reports-per-week"
    assert root.get("data-testid") == "chart-reports-per-week"
    assert root.get("role") == "img" and "PingFang SC" in (root.get("font-family") or "")
    assert root.find(f"{SVG}title").text == "每周报告数"  # type: ignore[union-attr]
    bars = root.findall(f".//{SVG}g[@class='bars']/{SVG}rect")
    assert [bar.find(f"{SVG}title").text for bar in bars] == [  # type: ignore[union-attr]
        "第一网格 · W10: 2", "第二网格 · W10: 1", "第一网格 · W12: 1", "第二网格 · W12: 4"]
    values = [node.text for node in root.iter(f"{SVG}text") if node.get("class") == "value"]
    assert values == ["3", "5"]
    legend = [text for text in texts(root.find(f".//{SVG}g[@class='legend']"))]  # type: ignore[arg-type]
    assert legend == ["第一网格", "第二网格"]
    assert "ISO 周" in texts(root) and "报告数" in texts(root)


def test_segment_heights_are_proportional() -> None:
    """A segment of 4 is four times as tall as a segment of 1."""
    root = parse(week_chart([("a", [1, 0, 0]), ("b", [4, 0, 0])]))
    heights = [float(bar.get("height", 0)) for bar in root.findall(f".//{SVG}g[@class='bars']/{SVG}rect")]
    assert heights[1] == pytest.approx(4 * heights[0], rel=0.01)


@pytest.mark.parametrize("chart", [
    lambda: week_chart([(EVIL, [1, 2, 3])], weeks=[EVIL, "W2", "W3"]),
    lambda: charts.histogram("time-to-verify", EVIL, [(EVIL, 3), ("1–3 h", 0)], extra=(EVIL, 1),
                             x_label=EVIL, y_label=EVIL, no_data_text=EVIL),
    lambda: charts.horizontal_bars("satisfaction", EVIL, [(EVIL, 4.5, EVIL)], scale_max=5, axis_label=EVIL,
                                   no_data_text=EVIL),
    lambda: charts.no_data(EVIL, EVIL, EVIL),
])
def test_names_are_escaped(chart: object) -> None:
    """A grid called <script> stays text: the markup parses and the name comes back verbatim."""
    markup = chart()  # type: ignore[operator]
    assert "<script" not in markup
    root = parse(markup)
    assert root.find(f".//{SVG}script") is None
    assert any(EVIL in text for text in texts(root) + [root.findtext(f"{SVG}title") or ""])


@pytest.mark.parametrize(("chart", "name"), [
    (lambda: week_chart([]), "reports-per-week"),
    (lambda: week_chart([("第一网格", [0, 0, 0])]), "reports-per-week"),
    (lambda: week_chart([("第一网格", [])], weeks=[]), "reports-per-week"),
    (lambda: week_chart([("第一网格", [])]), "reports-per-week"),  # a series shorter than the axis reads as zeros
    (lambda: charts.histogram("time-to-handle", "处理用时", [("≤4小时", 0), (">7天", 0)], extra=("仍未完成", 0),
                              x_label="", y_label="", no_data_text="没有数据"), "time-to-handle"),
    (lambda: charts.histogram("time-to-handle", "处理用时", [], x_label="", y_label="", no_data_text="没有数据"),
     "time-to-handle"),
    (lambda: charts.horizontal_bars("reach-rate", "接通率", [("全部", None, "—")], scale_max=1, axis_label="",
                                    no_data_text="没有数据"), "reach-rate"),
    (lambda: charts.horizontal_bars("reach-rate", "接通率", [], scale_max=1, axis_label="", no_data_text="没有数据"),
     "reach-rate"),
])
def test_empty_data_says_so(chart: object, name: str) -> None:
    """Nothing to draw: a chart saying "no data", still findable by its name."""
    root = parse(chart())  # type: ignore[operator]
    assert root.get("data-chart") == name and root.get("class") == "chart empty"
    assert "没有数据" in texts(root)
    assert root.find(f".//{SVG}rect[@fill='#0072B2']") is None


def test_histogram_sets_still_open_apart() -> None:
    """Buckets in blue, the still-open bar in grey and last, every count written."""
    root = parse(charts.histogram("time-to-verify", "核实用时", [("≤30分钟", 4), ("30分钟–1小时", 0), ("1–3小时", 2)],
                                  extra=("仍未完成", 3), x_label="自登记起", y_label="报告数", no_data_text="-"))
    groups = root.findall(f"{SVG}g")
    bars = [g for g in groups if (g.get("class") or "").startswith("bar")]
    assert [g.get("class") for g in bars] == ["bar", "bar", "bar", "bar extra"]
    assert [g.find(f"{SVG}rect").get("fill") for g in bars] == [  # type: ignore[union-attr]
        charts.PALETTE[0]] * 3 + [charts.OPEN_FILL]
    assert [g.find(f"{SVG}text[@class='value']").text for g in bars] == ["4", "0", "2", "3"]  # type: ignore[union-attr]


def test_horizontal_bars_on_a_fixed_scale() -> None:
    """Bars are as long as their share of the scale; a row with nothing to measure has no bar, just its text."""
    root = parse(charts.horizontal_bars(
        "verify-standard", "3小时达标", [("第一网格", 1.0, "100% (3/3)"), ("第二网格", 0.5, "50% (1/2)"),
                                        ("专属网格", None, "—")],
        scale_max=1.0, ticks=(0, 0.5, 1), tick_format=lambda v: f"{v * 100:.0f}%", axis_label="达标比例",
        no_data_text="-"))
    rows = root.findall(f"{SVG}g[@class='row']")
    widths = [float(rect.get("width", 0)) for row in rows for rect in row.findall(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == pytest.approx(2 * widths[1], rel=0.01)
    assert [row.find(f"{SVG}text[@class='value']").text for row in rows] == [  # type: ignore[union-attr]
        "100% (3/3)", "50% (1/2)", "—"]
    assert {"0%", "50%", "100%", "达标比例"} <= set(texts(root))


def test_long_week_axes_thin_their_labels() -> None:
    """A hundred weeks get at most 16 labels along the axis, but every bar."""
    weeks = [f"W{i}" for i in range(100)]
    root = parse(week_chart([("a", [1] * 100)], weeks=weeks))
    axis = root.find(f".//{SVG}g[@class='axis x']")
    assert axis is not None and len(axis.findall(f"{SVG}text")) <= 17  # the labels and the axis title
    assert len(root.findall(f".//{SVG}g[@class='bars']/{SVG}rect")) == 100


@pytest.mark.parametrize(("top", "ticks"), [
    (0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (47, [0, 10, 20, 30, 40, 50]),
    (100, [0, 20, 40, 60, 80, 100]), (0.5, [0, 0.1, 0.2, 0.3, 0.4, 0.5]),
])
def test_nice_ticks(top: float, ticks: list[float]) -> None:
    """Round steps from zero to at least the top value."""
    assert charts.nice_ticks(top) == pytest.approx(ticks)


def test_legend_wraps_long_lists() -> None:
    """Grids that do not fit on one line go on the next, and the chart grows to hold them."""
    names = [f"花果社区第{i}网格（很长的名字）" for i in range(8)]
    markup, height = charts.legend(names, list(charts.PALETTE))
    assert height > 18
    ys = {item.find(f"{SVG}rect").get("y") for item in parse(  # type: ignore[union-attr]
        f'<svg xmlns="http://www.w3.org/2000/svg">{markup}</svg>').iter(f"{SVG}g") if item.get("class") == "legend-item"}
    assert len(ys) > 1


def test_long_row_labels_are_clipped_but_kept_in_the_tooltip() -> None:
    """A grid name too long for the label column ends in an ellipsis; the bar's title has it whole."""
    name = "花果社区第一网格第一微网格（含幼儿园、菜市场和地下车库）"
    root = parse(charts.horizontal_bars("satisfaction", "评价", [(name, 4.0, "4.0")], scale_max=5, axis_label="",
                                        no_data_text="-"))
    row = root.find(f"{SVG}g[@class='row']")
    assert row is not None
    shown = row.find(f"{SVG}text")
    assert shown is not None and shown.text is not None and shown.text.endswith("…") and len(shown.text) < len(name)
    assert row.findtext(f"{SVG}rect/{SVG}title") == f"{name}: 4.0"


@pytest.mark.parametrize(("text", "width", "expected"), [
    ("HG-01", 100, "HG-01"), ("第一网格", 48, "第一网格"), ("第一网格", 47, "第一网…"), ("第一网格", 40, "第一…"), ("", 10, ""),
])
def test_clip(text: str, width: float, expected: str) -> None:
    """Text that fits is kept; longer text is cut to fit with its ellipsis."""
    assert charts.clip(text, width) == expected
