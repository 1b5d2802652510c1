"""HTML building blocks shared by the report pages: escaping, number formats, tables, the page shell.

Every page is one self-contained file: the CSS and the chart script are inlined from
`report_assets.html`, the chart data is a JSON block in the page, and nothing is fetched from a
network. Pages are deterministic (no build time or random ids), so rebuilding a report from the same
run folder gives the same bytes.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from importlib import resources

from tradewright import __version__
from tradewright.analysis.charts import Chart, encode_payload

__all__ = [
    "currency_decimals",
    "esc",
    "fmt_count",
    "fmt_duration_ns",
    "fmt_float",
    "fmt_money",
    "fmt_money_rounded",
    "fmt_pct",
    "kpi",
    "kv_table",
    "page",
    "table",
]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def fmt_float(value: float | Decimal | None, digits: int = 4) -> str:
    """Format a ratio with `digits` significant digits; NaN and None as –, infinities as ∞."""
    if value is None:
        return "–"
    number = float(value)
    if math.isnan(number):
        return "–"
    if math.isinf(number):
        return "∞" if number > 0 else "−∞"
    if number == 0:
        return "0"
    if abs(number) >= 1e7 or abs(number) < 1e-4:
        return f"{number:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(number))))
    return f"{number:,.{decimals}f}"


def fmt_pct(value: float | None, decimals: int = 2) -> str:
    """Format a fraction as a percentage (0.0123 → 1.23 %)."""
    if value is None or math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= 1e5:
        return f"{value * 100:.3e} %"
    return f"{value * 100:,.{decimals}f} %"


def fmt_money(value: Decimal | None, currency: str = "") -> str:
    """Show money exactly as recorded (no rounding), with the currency."""
    if value is None:
        return "–"
    text = f"{value:,f}" if abs(value) >= 1000 else f"{value:f}"
    return f"{text} {currency}".strip()


# Decimals a currency is shown with: cents for fiat money and the dollar stablecoins, none for the yen
# and the won, satoshis (8) for every other (crypto) currency.
_TWO = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USDE", "EUR", "GBP", "CHF", "CAD",
                  "AUD", "NZD", "SGD", "HKD", "CNY", "CNH", "TRY", "BRL", "MXN", "ZAR", "INR"})  # fmt: skip
_NONE = frozenset({"JPY", "KRW"})


def currency_decimals(currency: str) -> int:
    """How many decimals `currency` is shown with in summaries (exact amounts stay in the files)."""
    code = currency.upper()
    if code in _TWO:
        return 2
    if code in _NONE:
        return 0
    return 8


def fmt_money_rounded(value: Decimal | None, currency: str = "", *, sign: bool = False) -> str:
    """Money rounded half-even to the currency's decimals, with thousands separators: −28.28 USDT."""
    if value is None:
        return "–"
    rounded = value.quantize(Decimal(1).scaleb(-currency_decimals(currency)))
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    text = f"{rounded:+,f}" if sign else f"{rounded:,f}"
    return f"{text.replace('-', '−')} {currency}".strip()


def fmt_count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def fmt_duration_ns(ns: int | None) -> str:
    """Format a duration: 850 ms, 1 s, 42.5 s, 12 min 5 s, 1 min, 3 h 20 min, 23 h, 4 d 6 h."""
    if ns is None:
        return "–"
    seconds = ns / 1e9
    if seconds < 1:
        return f"{ns / 1e6:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s" if ns % 1_000_000_000 == 0 else f"{seconds:.1f} s"

    def two(big: int, big_unit: str, small: int, small_unit: str) -> str:
        return f"{big} {big_unit}" + (f" {small} {small_unit}" if small else "")

    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return two(minutes, "min", sec, "s")
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return two(hours, "h", minutes, "min")
    days, hours = divmod(hours, 24)
    return two(days, "d", hours, "h")


def kv_table(rows: Iterable[tuple[str, str]], *, title: str = "", note: str = "") -> str:
    """A two-column table of label → formatted value (values are text; they are escaped here)."""
    body = "".join(f'<tr><th>{esc(k)}</th><td class="num">{esc(v)}</td></tr>' for k, v in rows)
    head = f"<h3>{esc(title)}</h3>" if title else ""
    foot = f'<p class="note">{esc(note)}</p>' if note else ""
    return f'<div class="card">{head}<table>{body}</table>{foot}</div>'


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[bool] | None = None,
    title: str = "",
    raw_html_columns: Sequence[int] = (),
) -> str:
    """A table with a header; cells are text (escaped) except the columns in `raw_html_columns`."""
    numeric = numeric or [False] * len(header)
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    lines = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            content = cell if i in raw_html_columns else esc(cell)
            cls = ' class="num"' if numeric[i] else ""
            cells.append(f"<td{cls}>{content}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    heading = f"<h3>{esc(title)}</h3>" if title else ""
    return (
        f'<div class="card">{heading}<div class="scroll"><table class="wide"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></div></div>"
    )


def kpi(label: str, value: str, sign: float | None = None) -> str:
    """One headline figure; `sign` colours it (positive green, negative red)."""
    cls = ""
    if sign is not None and not math.isnan(sign) and sign != 0:
        cls = " pos" if sign > 0 else " neg"
    return f'<div class="kpi"><div class="label">{esc(label)}</div><div class="value{cls}">{esc(value)}</div></div>'


_UPLOT = "web/vendor/uplot"


@cache
def _assets() -> tuple[str, str]:
    """The page's stylesheet and scripts: uPlot (vendored, with its licence) and the chart script."""
    package = resources.files("tradewright")
    text = resources.files("tradewright.analysis").joinpath("report_assets.html").read_text(encoding="utf-8")
    style, _, script = text.partition("<script>")
    vendor = package.joinpath(_UPLOT)
    licence = vendor.joinpath("LICENSE").read_text(encoding="utf-8").strip()
    uplot_css = vendor.joinpath("uPlot.min.css").read_text(encoding="utf-8").strip()
    uplot_js = vendor.joinpath("uPlot.iife.min.js").read_text(encoding="utf-8").strip()
    # The file's first line is a banner with the project's web address: a page holds no URL at all
    # (it opens offline), so the banner is replaced by the same credit without a link.
    banner, _, body = uplot_js.partition("\n")
    if banner.startswith("/*!") and "uPlot" in banner:
        uplot_js = body
    vendored = (
        f"<style>{uplot_css}</style>"
        f"<script>/* uPlot {UPLOT_VERSION} (github.com/leeoniya/uPlot), vendored in "
        f"tradewright/{_UPLOT}.\n{licence}\n*/\n{uplot_js}</script>"
    )
    return vendored + style.strip(), "<script>" + script.strip()


#: The version of the vendored uPlot (tradewright/web/vendor/uplot/VENDORED.md).
UPLOT_VERSION = "1.6.32"


def page(
    *,
    title: str,
    subtitle: str,
    body: str,
    charts: Sequence[Chart],
    t0_ns: int,
    max_points: int | None = None,
) -> str:
    """Assemble a whole report page: `body` is HTML with chart slots (`<div data-charts="id id">`)."""
    style, script = _assets()
    payload = (
        encode_payload(charts, t0_ns=t0_ns)
        if max_points is None
        else encode_payload(charts, t0_ns=t0_ns, max_points=max_points)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>{style}</head><body><main>"
        f'<h1>{esc(title)}</h1><div class="sub">{esc(subtitle)}</div>{body}'
        f"<footer>tradewright {esc(__version__)} · a self-contained page: it needs no network. "
        "Charts: scroll to zoom, drag to zoom to a range, double-click to reset. Charts drawn with "
        f"uPlot {UPLOT_VERSION} (MIT licence, © Leon Sorokin), inlined in this page.</footer>"
        f'</main><script type="application/json" id="tw-data">{payload}</script>{script}</body></html>\n'
    )
