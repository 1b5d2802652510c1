"""Chart data for the HTML reports: series reduced for drawing, encoded as JSON for the inline charts.

The page's script (report_assets.html) draws every chart from one JSON payload with uPlot (vendored
in `tradewright/web/vendor/uplot`, inlined into the page). uPlot draws series that share one x array,
so a time chart's series and markers are put on the union of their times here: a line takes, at a
time it has no row of its own, its last value before (equity rows are last-value samples; a real gap
stays a gap), and a marker series is empty except at its own times. Long series are reduced before
they are embedded: a series longer than `max_points` keeps, per bucket of consecutive rows, the
lowest and the highest point (in time order), so spikes and drawdowns stay visible at any zoom.
Fills are never reduced: every fill is a marker in the data (fills at the same time are spread a
microsecond apart, so each keeps its marker). Times are seconds since the page's `t0_ns`, rounded to
the microsecond; values are floats (display only — exact money is in the tables and the CSV files).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_MAX_POINTS",
    "BarChart",
    "Markers",
    "Series",
    "TimeChart",
    "WaterfallChart",
    "downsample_minmax",
    "encode_payload",
    "histogram",
    "seconds_since",
]

FloatArray = npt.NDArray[np.float64]

#: Points kept per series for drawing (about two per pixel column of a wide screen, times a zoom of 4).
DEFAULT_MAX_POINTS = 8_000


def seconds_since(t0_ns: int, ts_ns: npt.ArrayLike) -> FloatArray:
    """Return timestamps as float seconds after `t0_ns`, rounded to the microsecond."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    # Subtract in integers first: float64 cannot hold an epoch in ns exactly.
    return np.round((ts - np.int64(t0_ns)) / 1e9, 6)


def downsample_minmax(x: FloatArray, y: FloatArray, max_points: int) -> tuple[FloatArray, FloatArray]:
    """Reduce a series to at most `max_points` points, keeping each bucket's minimum and maximum.

    Buckets are runs of consecutive rows. NaN marks a gap (no value); a bucket that is all gap keeps
    one NaN point so the line still breaks there. Series of `max_points` or fewer come back as given.
    """
    if x.shape != y.shape:
        raise ValueError(f"x {x.shape} and y {y.shape} differ in shape")
    n = int(x.size)
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2, got {max_points}")
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    size = math.ceil(n / buckets)
    buckets = math.ceil(n / size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = y
    matrix = padded.reshape(buckets, size)
    gap = np.isnan(matrix)
    all_gap = gap.all(axis=1)
    low = np.argmin(np.where(gap, np.inf, matrix), axis=1)
    high = np.argmax(np.where(gap, -np.inf, matrix), axis=1)
    first = np.minimum(low, high)
    second = np.maximum(low, high)
    base = np.arange(buckets) * size
    # Every bucket contributes its first index; a bucket with values whose min and max differ adds the second.
    take_first = base + np.where(all_gap, 0, first)
    extra = ~all_gap & (second != first)
    idx = np.concatenate([take_first, (base + second)[extra]])
    idx.sort(kind="stable")
    return x[idx], y[idx]


def histogram(values: Sequence[float] | FloatArray, *, max_bins: int = 40) -> tuple[FloatArray, FloatArray]:
    """Return (bin edges, counts) of finite `values`: numpy's 'auto' rule, capped at `max_bins` bins."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return np.empty(0), np.empty(0)
    if data.min() == data.max():
        centre = float(data[0])
        half = max(abs(centre) * 0.05, 0.5)
        return np.array([centre - half, centre + half]), np.array([float(data.size)])
    edges = np.histogram_bin_edges(data, bins="auto")
    if edges.size - 1 > max_bins:
        edges = np.histogram_bin_edges(data, bins=max_bins)
    counts, edges = np.histogram(data, bins=edges)
    return edges.astype(np.float64), counts.astype(np.float64)


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a time chart. `y` NaN = no value there (the line breaks)."""

    name: str
    x: FloatArray
    y: FloatArray
    color: str
    step: bool = False
    area: bool = False
    width: float = 1.3
    dash: str = ""


@dataclass(frozen=True, slots=True)
class Markers:
    """Points drawn as triangles (up for buys, down for sells) or dots; `size` rides along for the tooltip."""

    name: str
    x: FloatArray
    y: FloatArray
    color: str
    shape: str = "dot"  # "up", "down" or "dot"
    size: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class TimeChart:
    """Lines and markers against time; time charts on one page zoom and pan together."""

    id: str
    title: str
    unit: str
    series: tuple[Series, ...]
    markers: tuple[Markers, ...] = ()
    vlines: tuple[float, ...] = ()
    height: int = 240
    note: str = ""
    y_format: str = "num"  # "num" or "pct" (values are fractions)


@dataclass(frozen=True, slots=True)
class BarChart:
    """A histogram (`edges` has one more entry than `counts`) or labelled bars (`labels`)."""

    id: str
    title: str
    x_label: str
    y_label: str
    counts: FloatArray
    edges: FloatArray | None = None
    labels: tuple[str, ...] = ()
    color: str = "#4c6ef5"
    height: int = 220
    note: str = ""
    series: tuple[tuple[str, FloatArray, str], ...] = ()  # extra overlaid histograms (name, counts, colour)


@dataclass(frozen=True, slots=True)
class WaterfallChart:
    """Steps that add up to a total, e.g. PnL attribution: spread captured − fees + inventory + other."""

    id: str
    title: str
    unit: str
    steps: tuple[tuple[str, float], ...]
    total_label: str = "total"
    height: int = 220
    note: str = ""


Chart = TimeChart | BarChart | WaterfallChart


@dataclass(slots=True)
class _Encoder:
    max_points: int
    points: dict[str, int] = field(default_factory=dict)

    def chart(self, chart: Chart) -> dict[str, Any]:
        if isinstance(chart, TimeChart):
            x, lines, marks = self.align(chart)
            self.points[chart.id] = int(x.size)
            return {
                "kind": "time",
                "id": chart.id,
                "title": chart.title,
                "unit": chart.unit,
                "height": chart.height,
                "note": chart.note,
                "yFormat": chart.y_format,
                "vlines": [_num(v) for v in chart.vlines],
                "x": _list(x),
                "series": [
                    {
                        "name": s.name,
                        "color": s.color,
                        "step": s.step,
                        "area": s.area,
                        "width": s.width,
                        "dash": s.dash,
                        "y": _list(y),
                    }
                    for s, y in zip(chart.series, lines, strict=True)
                ],
                "markers": [
                    {
                        "name": m.name,
                        "color": m.color,
                        "shape": m.shape,
                        "count": int(m.x.size),
                        "y": _list(y),
                        "size": None if size is None else _list(size),
                    }
                    for m, (y, size) in zip(chart.markers, marks, strict=True)
                ],
            }
        if isinstance(chart, BarChart):
            return {
                "kind": "bars",
                "id": chart.id,
                "title": chart.title,
                "xLabel": chart.x_label,
                "yLabel": chart.y_label,
                "height": chart.height,
                "note": chart.note,
                "color": chart.color,
                "counts": _list(chart.counts),
                "edges": None if chart.edges is None else _list(chart.edges),
                "labels": list(chart.labels),
                "series": [{"name": n, "counts": _list(c), "color": col} for n, c, col in chart.series],
            }
        return {
            "kind": "waterfall",
            "id": chart.id,
            "title": chart.title,
            "unit": chart.unit,
            "height": chart.height,
            "note": chart.note,
            "steps": [[label, _num(value)] for label, value in chart.steps],
            "totalLabel": chart.total_label,
        }

    def align(
        self, chart: TimeChart
    ) -> tuple[FloatArray, list[FloatArray], list[tuple[FloatArray, FloatArray | None]]]:
        """Put every series and marker of `chart` on one x array (see the module docstring)."""
        reduced = [downsample_minmax(s.x, s.y, self.max_points) for s in chart.series]
        marker_x = [_spread(m.x) for m in chart.markers]
        parts = [x for x, _ in reduced] + marker_x
        x = np.unique(np.concatenate(parts)) if parts else np.empty(0)
        lines = [_carry(x, sx, sy) for sx, sy in reduced]
        marks: list[tuple[FloatArray, FloatArray | None]] = []
        for m, mx in zip(chart.markers, marker_x, strict=True):
            at = np.searchsorted(x, mx)
            y = np.full(x.size, np.nan)
            y[at] = m.y
            size = None
            if m.size is not None:
                size = np.full(x.size, np.nan)
                size[at] = m.size
            marks.append((y, size))
        return x, lines, marks


def _spread(x: FloatArray) -> FloatArray:
    """Times with repeats moved a microsecond apart (in order), so that each point keeps its place."""
    if x.size < 2:
        return x
    out = x.copy()
    for i in range(1, out.size):
        if out[i] <= out[i - 1]:
            out[i] = round(out[i - 1] + 1e-6, 6)
    return out


def _carry(x: FloatArray, sx: FloatArray, sy: FloatArray) -> FloatArray:
    """`sy` (at times `sx`) on the grid `x`: its own value at its own times, else its last value before
    (a gap, NaN, is carried too, so a line that breaks stays broken); NaN outside its own time span."""
    if sx.size == 0:
        return np.full(x.size, np.nan)
    last = np.searchsorted(sx, x, side="right") - 1
    y = np.where((last >= 0) & (x <= sx[-1]), sy[np.clip(last, 0, None)], np.nan)
    return y.astype(np.float64)


def encode_payload(
    charts: Sequence[Chart],
    *,
    t0_ns: int,
    max_points: int = DEFAULT_MAX_POINTS,
    extra: dict[str, Any] | None = None,
) -> str:
    """Encode the charts as the JSON the page script reads, safe to embed in a <script> element."""
    encoder = _Encoder(max_points)
    payload = {
        "t0Ms": t0_ns // 1_000_000,
        "t0SubMs": (t0_ns % 1_000_000) / 1e6,
        "charts": [encoder.chart(c) for c in charts],
        **(extra or {}),
    }
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    # "<" occurs only inside JSON strings; escaped, no "</script>" or "<!--" can end the element early.
    return text.replace("<", "\\u003c")


def _num(value: float | Decimal) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _list(values: FloatArray) -> list[float | None]:
    # NaN and inf become null (a gap): JSON has no NaN.
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    as_list: list[float | None] = array.tolist()
    if not finite.all():
        for i in np.flatnonzero(~finite).tolist():
            as_list[i] = None
    return as_list
