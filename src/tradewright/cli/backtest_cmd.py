"""`tradewright backtest CONFIG.toml`: run a backtest, print a summary, write the run folder."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.console import Console

from tradewright.cli._term import ProgressDisplay, plain

__all__ = ["add_overwrite_argument", "parse_overrides", "print_summary", "register", "summary_console"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backtest",
        help="run a backtest from a TOML config",
        description="Replay recorded market data through a strategy and the simulated venue. Writes "
        "orders.csv, fills.csv, equity.csv, events.jsonl, summary.json and report.html to the run folder. "
        "A folder that already holds a run is never replaced silently: the new run goes to a dated folder "
        "beside it (e.g. runs/demo_mm-20240808-235959) unless --overwrite. Progress goes to stderr: a bar "
        "on a terminal, a line every few seconds when piped. Ctrl-C stops the run and writes nothing.",
    )
    p.add_argument("config", help="path to the run config (TOML)")
    p.add_argument("--out", help="output folder (default: run.output_dir from the config)")
    add_overwrite_argument(p)
    p.add_argument(
        "--json", action="store_true", help="print the summary as JSON on stdout (no progress output)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--progress-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="when stderr is not a terminal, print a progress line this often (default 5)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set strategy.params.offset_ticks=2 (value parsed as TOML)",
    )
    p.add_argument(
        "--flatten-at",
        metavar="TIME",
        help="fire the kill switch at TIME (seconds after the first row, or ISO-8601): cancel every order, "
        "close every position, halt; the summary and events.jsonl record it",
    )
    p.set_defaults(func=run)


def add_overwrite_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in the output folder (default: keep it and write a dated folder beside it)",
    )


def parse_overrides(items: list[str]) -> dict[str, Any]:
    import tomllib

    from tradewright.core.errors import ConfigError

    out: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw
    return out


def run(args: argparse.Namespace) -> int:
    from tradewright.backtest.runner import output_dir, run_backtest
    from tradewright.config.run import load_run_config
    from tradewright.core.errors import ConfigError

    config = load_run_config(args.config, parse_overrides(args.set))
    if config.data.format == "bars" and (config.venue.bar_spread_ticks or config.run.store_url):
        run_backtest = _day_runner  # modelled quotes / a state store: the paper-day runner (docs/futures.md)
    err = Console(stderr=True)
    unit = "bars" if config.data.format == "bars" else "events"
    if args.progress_every <= 0:
        raise ConfigError(f"--progress-every must be > 0, got {args.progress_every}")
    progress = ProgressDisplay(
        err, "backtest", unit, quiet=args.json or args.quiet, every_s=args.progress_every
    )
    try:
        with progress:
            folder, summary = run_backtest(
                config,
                out=args.out,
                progress=progress.update,
                flatten_at=args.flatten_at,
                overwrite=args.overwrite,
            )
    except KeyboardInterrupt:
        where = output_dir(config, args.out)
        done = (
            f" after {progress.done:,} of {progress.total:,} {unit}"
            if progress.total
            else " while loading data"
        )
        kept = (
            f"{where} keeps the run it held before" if where.exists() else f"no folder was created at {where}"
        )
        plain(
            err,
            f"interrupted{done} ({progress.elapsed_s:.1f} s). Nothing of this run was kept: a run folder is "
            f"written only when the run completes; {kept}.",
        )
        return 130
    if args.json:
        json.dump(summary, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
        return 0
    out = summary_console()
    print_summary(summary, out, title=f"backtest {config.run.name}")
    requested = output_dir(config, args.out)
    if folder != requested:
        plain(
            out,
            f"note: {requested} already holds a run (or another run is writing it): it is kept as it was, "
            f"and this run went to {folder} (--overwrite replaces it instead)",
        )
    out.print(f"report: [bold]{folder / 'report.html'}[/]", highlight=False, soft_wrap=True)
    return 0


def summary_console() -> Console:
    """Standard output; in a pipe or a file, wide enough that nothing is cut or wrapped."""
    console = Console()
    return console if console.is_terminal else Console(width=200)


def _money(value: Any, currency: str, *, sign: bool = False) -> str:
    from tradewright.analysis.report_html import fmt_money_rounded

    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "–"
    return fmt_money_rounded(amount, currency, sign=sign)


def _pct(value: Any, decimals: int = 2) -> str:
    if not isinstance(value, int | float):
        return "–"
    return f"{value * 100:,.{decimals}f} %".replace("-", "−")


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}".replace("-", "−")
    return str(value)


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The summary as (label, value, note) rows: what a person reads first, money rounded to the
    settlement currency's decimals (the exact amounts are in summary.json and the CSV files)."""
    cur = str(summary.get("settle_currency", ""))
    rows: list[tuple[str, str, str]] = []
    start = summary.get("starting_balance")
    ret = summary.get("total_return")
    rows.append(
        ("net PnL", _money(summary.get("net_pnl"), cur, sign=True), _pct(ret) if ret is not None else "")
    )
    rows.append(("fees", _money(summary.get("fees"), cur), "paid (negative: rebates received)"))
    rows.append(("realised PnL", _money(summary.get("realized_pnl"), cur, sign=True), "before fees"))
    rows.append(
        (
            "unrealised PnL",
            _money(summary.get("unrealized_pnl"), cur, sign=True),
            f"final position {summary.get('final_position', '–')}",
        )
    )
    if start is not None:
        rows.append(("equity", _money(summary.get("final_equity"), cur), f"from {_money(start, cur)}"))
    trips = summary.get("round_trips")
    if "round_trips" in summary:
        win = summary.get("win_rate")
        rows.append(("round trips", _num(trips), f"win rate {_pct(win, 1)}" if win is not None else ""))
    if "sharpe" in summary:
        if summary.get("annualised"):
            rows.append(
                ("Sharpe", _num(summary.get("sharpe")), f"annualised, {summary.get('calendar')} calendar")
            )
        else:
            rows.append(
                (
                    f"Sharpe per {summary.get('return_sampling', 'period')}",
                    _num(summary.get("sharpe")),
                    f"not annualised: the run is shorter than {summary.get('min_annualised_span', 'the minimum')}",
                )
            )
    if "max_drawdown" in summary:
        rows.append(
            ("max drawdown", _pct(summary.get("max_drawdown"), 3), "of equity, from its running peak")
        )
    fills = summary.get("fills")
    maker, taker = summary.get("maker_volume"), summary.get("taker_volume")
    rows.append(
        ("fills", _num(fills), f"maker {maker}, taker {taker} (quantity)" if maker is not None else "")
    )
    rows.append(
        (
            "orders",
            _num(summary.get("orders")),
            f"{summary.get('orders_rejected', 0):,} rejected, {summary.get('orders_denied', 0):,} denied by risk",
        )
    )
    if "workflows" in summary:  # multi-leg workflows (a multi-instrument run: docs/arbitrage.md)
        counts = ", ".join(
            f"{summary.get(f'workflows_{k}', 0):,} {k}"
            for k in ("completed", "compensated", "aborted", "unresolved", "refused")
        )
        rows.append(("workflows", _num(summary["workflows"]), counts))
        rows.append(
            (
                "realised edge",
                _money(summary.get("realized_edge_quote"), cur, sign=True),
                f"{summary.get('legs_sent', 0):,} legs, {summary.get('compensations', 0):,} compensations "
                f"({summary.get('hedges', 0):,} hedges); fees included, see workflows.csv",
            )
        )
    unit = "bars" if "bars" in summary else "events"
    per_s = summary.get("bars_per_second" if unit == "bars" else "events_per_second")
    rows.append(
        (unit, _num(summary.get(unit)), f"in {summary.get('wall_seconds', 0):.1f} s ({_num(per_s)} {unit}/s)")
    )
    for key, label in (("stop_reason", "stopped"), ("open_orders_at_end", "open orders at the end")):
        if key in summary:
            rows.append((label, _num(summary[key]), ""))
    stopped = summary.get("strategies_stopped")
    if isinstance(stopped, dict):
        for sid, why in stopped.items():
            rows.append((f"strategy {sid}", "stopped", str(why)))
    state = summary.get("trading_state")
    if state is not None:
        holds = summary.get("risk_holds") or []
        events = summary.get("risk_events") or []
        note = "; ".join(str(x) for x in [*holds, *events]) or "no risk holds or events"
        rows.append(("trading state", str(state), note))
    return rows


def print_summary(summary: dict[str, Any], console: Console, *, title: str = "run") -> None:
    """Print the headline of a run (backtest or paper): a title line, then aligned label/value/note rows."""
    from rich.markup import escape

    console.print(
        f"[bold]{escape(title)}[/] · {escape(str(summary.get('instrument', '')))} · {escape(_span(summary))}",
        highlight=False,
        soft_wrap=True,
    )
    rows = summary_rows(summary)
    label_w = max(len(r[0]) for r in rows)
    value_w = max(len(r[1]) for r in rows)
    for label, value, note in rows:
        line = f"  [bold]{escape(label.ljust(label_w))}[/]  {escape(value.rjust(value_w))}"
        if note:
            line += f"  [dim]{escape(note)}[/]"
        console.print(line, highlight=False, soft_wrap=True)


def _span(summary: dict[str, Any]) -> str:
    """`2024-08-08 23:54:15 → 23:59:59 UTC (5 min 44 s)` from the summary's ISO `data_span`."""
    from datetime import datetime

    from tradewright.analysis.report_html import fmt_duration_ns

    start_text, _, end_text = str(summary.get("data_span", "")).partition(" → ")
    try:
        start = datetime.fromisoformat(start_text.replace("Z", "+00:00"))
        end = datetime.fromisoformat(end_text.replace("Z", "+00:00"))
    except ValueError:
        return str(summary.get("data_span", ""))
    same_day = start.date() == end.date()
    tail = end.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")
    length = fmt_duration_ns(int((end - start).total_seconds() * 1e9))
    return f"{start:%Y-%m-%d %H:%M:%S} → {tail} UTC ({length})"


def _day_runner(
    config: Any,
    *,
    out: str | None = None,
    progress: Any = None,
    flatten_at: str | None = None,
    overwrite: bool = False,
) -> Any:
    from tradewright.backtest.runner import output_dir, parse_time_point
    from tradewright.daytrade import run_day_backtest

    at = flatten_at
    return run_day_backtest(
        config,
        output_dir(config, out),
        overwrite=overwrite,
        progress=progress,
        flatten_at=None if at is None else (lambda start_ns: parse_time_point(at, start_ns)),
    )
