"""A self-contained HTML report for one run: headline table and inline SVG charts (no scripts, no CDN).

Charts: price (mid) with our own bid/ask quotes and fills; equity; inventory. Series longer than
`max_points` are reduced to min/max per bucket so spikes stay visible.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Series", "render_report", "svg_chart"]

Series = tuple[str, Sequence[float | None], Sequence[float | None], str]  # name, xs, ys, colour

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d2330;background:#fafbfc}
h1{font-size:22px;margin:0 0 4px} .sub{color:#5b6475;margin-bottom:18px}
table{border-collapse:collapse;margin:8px 0 24px;background:#fff} td,th{padding:6px 12px;border:1px solid #e1e5ec;text-align:left}
th{background:#f1f3f7;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{background:#fff;border:1px solid #e1e5ec;margin:0 0 20px;padding:8px}
.chart h2{font-size:15px;margin:4px 8px 6px} .legend span{margin-right:14px;font-size:12px}
pre{background:#fff;border:1px solid #e1e5ec;padding:10px;overflow:auto;font-size:12px}
"""


def _reduce(
    xs: Sequence[float | None], ys: Sequence[float | None], max_points: int
) -> list[tuple[float, float]]:
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if x is not None and y is not None]
    if len(pts) <= max_points:
        return pts
    bucket = len(pts) / (max_points / 2)
    out: list[tuple[float, float]] = []
    i = 0.0
    while int(i) < len(pts):
        chunk = pts[int(i) : int(i + bucket)] or pts[int(i) : int(i) + 1]
        lo = min(chunk, key=lambda p: p[1])
        hi = max(chunk, key=lambda p: p[1])
        out.extend(sorted({lo, hi}))
        i += bucket
    return out


def svg_chart(
    title: str,
    lines: Sequence[Series],
    *,
    markers: Sequence[Series] = (),
    width: int = 1100,
    height: int = 260,
    max_points: int = 2000,
    x_labels: tuple[str, str] = ("", ""),
    step: bool = False,
) -> str:
    """Render line series (and optional point markers) as one inline SVG figure with axes."""
    reduced = [(name, _reduce(xs, ys, max_points), colour) for name, xs, ys, colour in lines]
    marks = [(name, _reduce(xs, ys, 10 * max_points), colour) for name, xs, ys, colour in markers]
    all_pts = [p for _, pts, _ in reduced + marks for p in pts]
    legend = "".join(
        f'<span style="color:{c}">&#9632; {html.escape(n)}</span>' for n, _, c in reduced + marks
    )
    if not all_pts:
        body = f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="#8a93a6">no data</text>'
        return _figure(title, legend, width, height, body)
    x0 = min(p[0] for p in all_pts)
    x1 = max(p[0] for p in all_pts)
    y0 = min(p[1] for p in all_pts)
    y1 = max(p[1] for p in all_pts)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    left, right, top, bottom = 70, 10, 10, 24
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    parts = [f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#d5dae3"/>']
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        yv = y0 + frac * (y1 - y0)
        yy = sy(yv)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eef1f5"/>')
        parts.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" font-size="11" fill="#5b6475">{yv:,.6g}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 6}" font-size="11" fill="#5b6475">{html.escape(x_labels[0])}</text>'
    )
    parts.append(
        f'<text x="{left + pw}" y="{height - 6}" text-anchor="end" font-size="11" fill="#5b6475">{html.escape(x_labels[1])}</text>'
    )
    for name, pts, colour in reduced:
        if not pts:
            continue
        coords: list[str] = []
        prev_y: float | None = None
        for x, y in pts:
            if step and prev_y is not None:
                coords.append(f"{sx(x):.1f},{sy(prev_y):.1f}")
            coords.append(f"{sx(x):.1f},{sy(y):.1f}")
            prev_y = y
        parts.append(
            f'<polyline class="series" data-name="{html.escape(name)}" fill="none" stroke="{colour}" '
            f'stroke-width="1.2" points="{" ".join(coords)}"/>'
        )
    for name, pts, colour in marks:
        for x, y in pts:
            parts.append(
                f'<circle class="marker" data-name="{html.escape(name)}" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.4" fill="{colour}"/>'
            )
    return _figure(title, legend, width, height, "".join(parts))


def _figure(title: str, legend: str, width: int, height: int, body: str) -> str:
    return (
        f'<div class="chart"><h2>{html.escape(title)}</h2><div class="legend">{legend}</div>'
        f'<svg role="img" aria-label="{html.escape(title)}" width="100%" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg></div>'
    )


def render_report(
    title: str,
    subtitle: str,
    headline: Mapping[str, Any],
    charts: Sequence[str],
    config_text: str = "",
) -> str:
    """Assemble the whole page."""
    rows = "".join(
        f'<tr><th>{html.escape(str(k))}</th><td class="num">{html.escape(str(v))}</td></tr>'
        for k, v in headline.items()
    )
    config = f"<h2>Config</h2><pre>{html.escape(config_text)}</pre>" if config_text else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><div class='sub'>{html.escape(subtitle)}</div>"
        f"<table>{rows}</table>{''.join(charts)}{config}</body></html>"
    )
