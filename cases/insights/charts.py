"""Small server-side SVG charts: no JavaScript, no external assets.

Each function returns inline SVG, already escaped and marked safe, with
role="img", a <title> (the accessible name) and a <desc> that says in words
what the chart shows, so the numbers are not only in the picture. Pages put a
table of the same numbers beside each chart.

A line chart of scores may say how sure each point is (`samples`): its n and
95 % margin, drawn as a whisker, and a point from few responses drawn hollow
and muted (class "few"), with "few responses" in its tooltip and the desc.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 400, 200
# Space for the axis labels around the plot area.
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 14, 30
LINE_COLOUR = "#0b5cad"
FEW_COLOUR = "#8a93a3"  # muted: a point from few responses
BAR_COLOUR = "#5b8fd1"
MAX_X_LABELS = 6
MIN_LABEL_GAP = 50  # viewBox units between the centres of two date labels
_HEX = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")
_ids = itertools.count(1)


def line_chart(
    points: Sequence[tuple[object, float | None]],
    *,
    y_min: float,
    y_max: float,
    title: str,
    unit: str = "",
    samples: Sequence[Sample] | None = None,
) -> SafeString:
    """A line over `points` (label, value); a None value leaves a gap in the
    line. Values are clamped to [y_min, y_max]; a dashed line marks zero when
    the range crosses it. `samples`, one per point, add each value's n and
    margin (a whisker of value ± margin) and mute the points from few
    responses."""
    if y_max <= y_min:
        raise ValueError("y_max must be greater than y_min")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y(value: float) -> float:
        value = min(max(value, y_min), y_max)
        return TOP + plot_h * (y_max - value) / (y_max - y_min)

    parts = _y_axis(y_min, y_max, y, unit)
    if y_min < 0 < y_max:
        parts.append(
            f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
            'stroke="#5b6475" stroke-dasharray="4 3"/>'
        )
    parts += _x_labels([label for label, _ in points], x)
    for run in _runs(points):
        if len(run) > 1:
            coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2.5" '
                'stroke-linejoin="round" stroke-linecap="round"/>'
            )
    for i, (label, value) in enumerate(points):
        if value is None:
            continue
        sample = samples[i] if samples else None
        tip = f"{escape(label)}: {_fmt(value)}{escape(unit)}"
        fill, extra = LINE_COLOUR, ""
        if sample is not None:
            tip += escape(_sample_text(sample, unit))
            if sample.margin:
                low, high = y(value - sample.margin), y(value + sample.margin)
                parts.append(
                    f'<line class="margin" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{low:.1f}" y2="{high:.1f}" '
                    f'stroke="{FEW_COLOUR if sample.few else LINE_COLOUR}" stroke-opacity="0.5" stroke-width="1.5"/>'
                )
            if sample.few:
                fill, extra = "#ffffff", f' class="few" stroke="{FEW_COLOUR}" stroke-width="1.5"'
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{fill}"{extra}><title>{tip}</title></circle>'
        )
    return _svg("line-chart", title, _line_desc(points, unit, samples), parts)


def nice_ceiling(value: float) -> float:
    """The top of an axis for values up to `value`: the smallest 1, 2, 4 or 8
    times a power of ten at or above it (so its quarters are round), 1 for
    nothing above 0."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 4, 8, 10) if step * power >= value)


class Sample(NamedTuple):
    """How sure a point of a line chart is: its responses, its 95 % margin
    (None: none) and whether they are few (`feedback.analytics.few_responses`)."""

    n: int
    margin: float | None
    few: bool


def _sample_text(sample: Sample, unit: str) -> str:
    margin = "" if sample.margin is None else f" ± {_fmt(sample.margin)}{unit}"
    return f"{margin} (n = {sample.n}{', few responses' if sample.few else ''})"


def bar_chart(
    bars: Sequence[tuple[object, float]], *, title: str, colours: Sequence[str] | None = None, unit: str = ""
) -> SafeString:
    """Vertical bars for a distribution: one (label, value) per bar, each
    labelled with its value; `colours` (hex, one per bar) are optional."""
    side = 8  # no y axis: the values are written on the bars
    plot_w, plot_h = WIDTH - 2 * side, HEIGHT - TOP - BOTTOM
    top_value = max([v for _, v in bars if v] or [1])
    slot = plot_w / max(len(bars), 1)
    parts = [f'<line x1="{side}" x2="{WIDTH - side}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#b8c0cc"/>']
    for i, (label, value) in enumerate(bars):
        value = value or 0
        colour = colours[i] if colours and i < len(colours) and _HEX.fullmatch(colours[i]) else BAR_COLOUR
        h = plot_h * value / top_value
        bx, cx = side + i * slot + slot * 0.12, side + (i + 0.5) * slot
        parts.append(
            f'<rect x="{bx:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.76:.1f}" height="{h:.1f}" '
            f'fill="{colour}" rx="2"><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text class="value" x="{cx:.1f}" y="{TOP + plot_h - h - 3:.1f}" text-anchor="middle">{_fmt(value)}</text>'
        )
        parts.append(f'<text x="{cx:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>')
    desc = "; ".join(f"{label}: {_fmt(value or 0)}{unit}" for label, value in bars) or "No data."
    return _svg("bar-chart", title, desc, parts)


def _svg(kind: str, title: str, desc: str, parts: list[str]) -> SafeString:
    n = next(_ids)
    return mark_safe(  # noqa: S308 - every text above went through escape()  # nosec B308, B703
        f'<svg class="chart {kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-{n}-t chart-{n}-d" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="13" fill="#1d2430">'
        f'<title id="chart-{n}-t">{escape(title)}</title><desc id="chart-{n}-d">{escape(desc)}</desc>'
        + "".join(parts)
        + "</svg>"
    )


def _y_axis(y_min: float, y_max: float, y, unit: str) -> list[str]:
    parts = []
    for k in range(5):
        value = y_min + (y_max - y_min) * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#e4e8ee"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="#5b6475">'
            f"{_tick(value)}{escape(unit)}</text>"
        )
    return parts


def _tick(value: float) -> str:
    # An axis' quarters of 1, 2, 4 or 8 times a power of ten: 0.25 and 0.75 read as such.
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _x_labels(labels: list, x) -> list[str]:
    last = len(labels) - 1
    step = max(1, -(-last // (MAX_X_LABELS - 1))) if last else 1
    gap = (WIDTH - LEFT - RIGHT) / last if last else 0
    # The first and the latest period always, the others unless they would touch the latest.
    shown = {i for i in range(0, last, step) if i == 0 or (last - i) * gap >= MIN_LABEL_GAP} | {last}
    return [
        f'<text x="{x(i):.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#5b6475">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i in shown
    ]


def _runs(points) -> list[list[tuple[int, float]]]:
    """Consecutive stretches of points that have a value."""
    runs, current = [], []
    for i, (_, value) in enumerate(points):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, value))
    if current:
        runs.append(current)
    return runs


def _line_desc(points, unit: str, samples: Sequence[Sample] | None = None) -> str:
    known = [(i, label, value) for i, (label, value) in enumerate(points) if value is not None]
    if not known:
        return f"No data in the {len(points)} periods shown."
    values = [v for _, _, v in known]
    latest_at, latest_label, latest = known[-1]
    latest_text = f"{_fmt(latest)}{unit}" + (_sample_text(samples[latest_at], unit) if samples else "")
    desc = (
        f"{len(known)} of {len(points)} periods have data, from {points[0][0]} to {points[-1][0]}. "
        f"Latest: {latest_label}, {latest_text}. Lowest {_fmt(min(values))}{unit}, "
        f"highest {_fmt(max(values))}{unit}."
    )
    few = sum(1 for i, _, _ in known if samples and samples[i].few)
    if few:
        desc += f" {few} of them from few responses (muted)."
    return desc


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
