"""Charts as inline SVG, drawn on the server: no script, no CDN, nothing fetched by the browser.

Each function takes plain labels and numbers and returns the markup of one `<svg class="chart"
data-chart="<name>">` with a `<title>`, a `<desc>`, axis labels, the values written on the bars and
a `<title>` on every bar (a tooltip, and what a screen reader reads). Every text is escaped; a chart
with nothing to show says so instead of drawing empty axes. The numbers also go in a table under
each chart on the page, so the charts never carry information alone.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

FONT = "'PingFang SC','Hiragino Sans GB','Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',system-ui,sans-serif"
# Okabe–Ito: told apart with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#332288")
OPEN_FILL = "#9aa3b2"  # "still open", set apart from the finished buckets
WIDTH = 720
Series = tuple[str, Sequence[int]]


def text_width(text: str, size: float) -> float:
    """A rough width for layout: CJK characters are about square, Latin ones about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


def clip(text: str, width: float, size: float = 12) -> str:
    """`text` cut with an ellipsis to fit `width` (the whole text stays in the bar's tooltip)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round axis ticks from 0 up to at least `top` (steps of 1, 2 or 5 × 10^k; whole steps for counts)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0) if top >= 1 else step
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:g}"


def _open(name: str, title: str, desc: str, height: float, empty: bool = False) -> str:
    css = "chart empty" if empty else "chart"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" data-chart="{escape(name)}" '
        f'data-testid="chart-{escape(name)}" viewBox="0 0 {WIDTH} {height:g}" width="{WIDTH}" height="{height:g}" '
        f'role="img" aria-labelledby="{escape(name)}-title {escape(name)}-desc" font-family="{FONT}" font-size="12">'
        f'<title id="{escape(name)}-title">{escape(title)}</title><desc id="{escape(name)}-desc">{escape(desc)}</desc>'
    )


def no_data(name: str, title: str, message: str) -> Markup:
    """The chart's place, saying there is nothing to draw (an empty range, a grid without reports)."""
    return Markup(
        _open(name, title, message, 120, empty=True)
        + f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="119" fill="none" stroke="#d9dde5" stroke-dasharray="4 4"/>'
        f'<text x="{WIDTH / 2:g}" y="64" text-anchor="middle" fill="#5d6576" font-size="14">{escape(message)}</text></svg>'
    )


def legend(names: Sequence[str], colours: Sequence[str], top: float = 8) -> tuple[str, float]:
    """Swatches and names in rows across the top; the markup and the height it takes."""
    parts, x, y = [], 48.0, top
    for label, colour in zip(names, colours, strict=True):
        width = 18 + text_width(label, 12) + 16
        if x + width > WIDTH - 8 and x > 48:
            x, y = 48.0, y + 18
        parts.append(f'<g class="legend-item"><rect x="{x:g}" y="{y:g}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 16:g}" y="{y + 10:g}">{escape(label)}</text></g>')
        x += width
    return '<g class="legend">' + "".join(parts) + "</g>", y + 18 - top


def _y_axis(ticks: list[float], scale: Callable[[float], float], left: float, right: float, label: str,
            mid: float) -> str:
    parts = ['<g class="axis y">']
    for tick in ticks:
        y = scale(tick)
        parts.append(f'<line x1="{left:g}" x2="{right:g}" y1="{y:g}" y2="{y:g}" stroke="#e6e9ef"/>'
                     f'<text x="{left - 6:g}" y="{y + 4:g}" text-anchor="end" fill="#5d6576">{_number(tick)}</text>')
    parts.append(f'<text transform="translate(12 {mid:g}) rotate(-90)" text-anchor="middle" fill="#5d6576">'
                 f'{escape(label)}</text></g>')
    return "".join(parts)


def stacked_bars(name: str, title: str, categories: Sequence[str], series: Sequence[Series], *, x_label: str,
                 y_label: str, no_data_text: str) -> Markup:
    """One bar per category (a week), stacked by series (a grid), the total written above the bar."""
    series = [(label, [*values[:len(categories)], *[0] * (len(categories) - len(values))]) for label, values in series]
    totals = [sum(values[i] for _, values in series) for i in range(len(categories))]
    if not categories or not series or not any(totals):
        return no_data(name, title, no_data_text)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    legend_svg, legend_height = legend([label for label, _ in series], colours)
    top, bottom, left, right = 16 + legend_height, 44, 52, WIDTH - 12
    height = top + 220 + bottom
    ticks = nice_ticks(max(totals))
    base = height - bottom

    def scale(value: float) -> float:
        return base - value / ticks[-1] * (base - top)

    slot = (right - left) / len(categories)
    every = max(1, math.ceil(len(categories) / 16))  # at most 16 labels along the axis
    bars, labels = [], []
    for i, category in enumerate(categories):
        x, width = left + i * slot + slot * 0.15, slot * 0.7
        level = 0
        for (label, values), colour in zip(series, colours, strict=True):
            if values[i] > 0:
                y0, y1 = scale(level), scale(level + values[i])
                bars.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{width:.1f}" height="{y0 - y1:.1f}" fill="{colour}">'
                            f'<title>{escape(label)} · {escape(category)}: {values[i]}</title></rect>')
                level += values[i]
        if totals[i]:
            bars.append(f'<text class="value" x="{x + width / 2:.1f}" y="{scale(level) - 4:.1f}" '
                        f'text-anchor="middle">{totals[i]}</text>')
        if i % every == 0:
            labels.append(f'<text x="{x + width / 2:.1f}" y="{base + 16:g}" text-anchor="middle" '
                          f'fill="#5d6576">{escape(category)}</text>')
    return Markup(
        _open(name, title, f"{title}: {', '.join(f'{c} {t}' for c, t in zip(categories, totals, strict=True))}", height)
        + legend_svg + _y_axis(ticks, scale, left, right, y_label, (top + base) / 2)
        + f'<g class="bars">{"".join(bars)}</g><g class="axis x">{"".join(labels)}'
        f'<line x1="{left:g}" x2="{right:g}" y1="{base:g}" y2="{base:g}" stroke="#5d6576"/>'
        f'<text x="{(left + right) / 2:g}" y="{height - 6:g}" text-anchor="middle" fill="#5d6576">{escape(x_label)}</text>'
        "</g></svg>"
    )


def histogram(name: str, title: str, bars: Sequence[tuple[str, int]], *, extra: tuple[str, int] | None = None,
              x_label: str, y_label: str, no_data_text: str) -> Markup:
    """Counts per bucket, with `extra` (the reports still open) drawn apart in grey after a gap."""
    everything = list(bars) + ([extra] if extra else [])
    if not everything or not any(count for _, count in everything):
        return no_data(name, title, no_data_text)
    top, bottom, left, right = 24, 44, 52, WIDTH - 12
    height = top + 200 + bottom
    base = height - bottom
    ticks = nice_ticks(max(count for _, count in everything))

    def scale(value: float) -> float:
        return base - value / ticks[-1] * (base - top)

    slots = len(bars) + (1.5 if extra else 0)
    slot = (right - left) / slots
    parts = []
    for i, (label, count) in enumerate(everything):
        is_extra = extra is not None and i == len(bars)
        x = left + (i + (0.5 if is_extra else 0)) * slot + slot * 0.1
        width, y = slot * 0.8, scale(count)
        fill = OPEN_FILL if is_extra else PALETTE[0]
        parts.append(
            f'<g class="{"bar extra" if is_extra else "bar"}"><rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
            f'height="{base - y:.1f}" fill="{fill}"><title>{escape(label)}: {count}</title></rect>'
            f'<text class="value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{count}</text>'
            f'<text x="{x + width / 2:.1f}" y="{base + 16:g}" text-anchor="middle" fill="#5d6576" font-size="11">'
            f"{escape(label)}</text></g>"
        )
    return Markup(
        _open(name, title, f"{title}: {', '.join(f'{label} {count}' for label, count in everything)}", height)
        + _y_axis(ticks, scale, left, right, y_label, (top + base) / 2)
        + "".join(parts)
        + f'<line x1="{left:g}" x2="{right:g}" y1="{base:g}" y2="{base:g}" stroke="#5d6576"/>'
        f'<text x="{(left + right) / 2:g}" y="{height - 6:g}" text-anchor="middle" fill="#5d6576">{escape(x_label)}</text>'
        "</svg>"
    )


def horizontal_bars(name: str, title: str, rows: Sequence[tuple[str, float | None, str]], *, scale_max: float,
                    axis_label: str, no_data_text: str, tick_format: Callable[[float], str] = _number,
                    ticks: Sequence[float] | None = None) -> Markup:
    """One bar per row (label, value or None for "nothing to measure", the text written after it),
    on a fixed scale (0–100 % or 0–5) so grids compare at a glance."""
    if not rows or all(value is None for _, value, _ in rows):
        return no_data(name, title, no_data_text)
    label_width = min(220.0, max(text_width(label, 12) for label, _, _ in rows) + 16)
    top, row_height, left, right = 12, 28, label_width + 8, WIDTH - 120
    height = top + row_height * len(rows) + 40
    base = top + row_height * len(rows)
    marks = list(ticks) if ticks is not None else nice_ticks(scale_max)

    def scale(value: float) -> float:
        return left + max(0.0, min(value, scale_max)) / scale_max * (right - left)

    parts = []
    for mark in marks:
        x = scale(mark)
        parts.append(f'<line x1="{x:g}" x2="{x:g}" y1="{top:g}" y2="{base:g}" stroke="#e6e9ef"/>'
                     f'<text x="{x:g}" y="{base + 14:g}" text-anchor="middle" fill="#5d6576">{escape(tick_format(mark))}</text>')
    for i, (label, value, text) in enumerate(rows):
        y = top + i * row_height
        bar = ""
        if value is not None:
            bar = (f'<rect x="{left:g}" y="{y + 5:g}" width="{scale(value) - left:.1f}" height="{row_height - 10}" '
                   f'fill="{PALETTE[0]}"><title>{escape(label)}: {escape(text)}</title></rect>')
        end = scale(value) if value is not None else left
        parts.append(
            f'<g class="row"><text x="{left - 8:g}" y="{y + row_height / 2 + 4:g}" text-anchor="end">'
            f'{escape(clip(label, label_width - 8))}</text>'
            f'{bar}<text class="value" x="{end + 6:.1f}" y="{y + row_height / 2 + 4:g}">{escape(text)}</text></g>'
        )
    return Markup(
        _open(name, title, f"{title}: {', '.join(f'{label} {text}' for label, _, text in rows)}", height)
        + "".join(parts)
        + f'<line x1="{left:g}" x2="{left:g}" y1="{top:g}" y2="{base:g}" stroke="#5d6576"/>'
        f'<text x="{(left + right) / 2:g}" y="{height - 4:g}" text-anchor="middle" fill="#5d6576">{escape(axis_label)}</text>'
        "</svg>"
    )
