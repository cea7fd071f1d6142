"""Geometry of the statistics page's bar charts; ``templates/charts.html`` draws them as inline SVG.

Server-side and static: no script, no CDN, and the same SVG prints and pastes into a report. Text is left
to the template (escaped there); here only numbers and labels are computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

ROW_WIDTH = 480          # viewBox width of a chart of labelled rows
ROW_HEIGHT = 36          # label line plus bar
COLUMN_WIDTH = 800       # viewBox width of a chart over time
COLUMN_HEIGHT = 240
_LEFT, _BOTTOM, _TOP = 40, 28, 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str            # the value as shown, e.g. "12" or "87%"
    x: float
    y: float
    width: float
    height: float
    tick: bool = True    # whether the label is drawn under a column (some are skipped when crowded)


@dataclass(frozen=True)
class Chart:
    """One chart: ``kind`` is ``rows`` (horizontal bars, labels above) or ``columns`` (over time)."""

    id: str
    title: str
    kind: str
    width: int
    height: int
    bars: list[Bar]
    grid: list[tuple[float, str]] = field(default_factory=list)  # (y, label) of horizontal grid lines
    empty: bool = False


def rows_chart(id: str, title: str, items: list[tuple[str, float]], *, maximum: float | None = None,
               as_percent: bool = False, limit: int = 12) -> Chart:
    """Horizontal bars, largest first as given, at most ``limit`` (the rest summed as "Lainnya")."""
    if len(items) > limit:
        rest = sum(v for _, v in items[limit - 1:])
        items = items[: limit - 1] + [("Lainnya", rest)]
    top = maximum if maximum is not None else max((v for _, v in items), default=0) or 1
    span = ROW_WIDTH - 56
    bars = [Bar(label=label, value=value, text=_format(value, as_percent), x=0, y=i * ROW_HEIGHT + 18,
                width=round(span * value / top, 1) if top else 0, height=12)
            for i, (label, value) in enumerate(items)]
    return Chart(id=id, title=title, kind="rows", width=ROW_WIDTH, height=max(1, len(bars)) * ROW_HEIGHT + 4,
                 bars=bars, empty=not items)


def columns_chart(id: str, title: str, items: list[tuple[str, float]]) -> Chart:
    """Vertical bars in the given (time) order, with a y axis of round steps."""
    top = max((v for _, v in items), default=0)
    step = _nice_step(top)
    ceiling = max(step * math.ceil(top / step), step)
    plot_w, plot_h = COLUMN_WIDTH - _LEFT - 8, COLUMN_HEIGHT - _BOTTOM - _TOP
    slot = plot_w / max(1, len(items))
    every = max(1, math.ceil(len(items) / 10))  # at most about ten labels under the axis
    bars = []
    for i, (label, value) in enumerate(items):
        h = plot_h * value / ceiling
        bars.append(Bar(label=label, value=value, text=_format(value, False),
                        x=round(_LEFT + i * slot + slot * 0.12, 1), y=round(_TOP + plot_h - h, 1),
                        width=round(slot * 0.76, 1), height=round(h, 1), tick=i % every == 0))
    grid = [(round(_TOP + plot_h - plot_h * k * step / ceiling, 1), _format(k * step, False))
            for k in range(int(ceiling / step) + 1)]
    return Chart(id=id, title=title, kind="columns", width=COLUMN_WIDTH, height=COLUMN_HEIGHT, bars=bars,
                 grid=grid, empty=not any(v for _, v in items))


def _nice_step(top: float) -> float:
    """A round grid step (1, 2 or 5 times a power of ten) giving about four lines up to ``top``."""
    if top <= 4:
        return 1
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _format(value: float, as_percent: bool) -> str:
    if as_percent:
        return f"{value * 100:.0f}%"
    return f"{value:,.0f}".replace(",", ".")
