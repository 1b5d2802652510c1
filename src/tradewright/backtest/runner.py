"""`tradewright backtest`: config in, run folder out."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.analysis.report import render_report, svg_chart
from tradewright.backtest.config import RunConfig
from tradewright.backtest.engine import BacktestEngine, BacktestResult
from tradewright.backtest.outputs import RunFolder, span_text
from tradewright.backtest.recorder import EQUITY_COLUMNS, FILL_COLUMNS
from tradewright.config.loader import to_struct
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.data.loading import load_stream
from tradewright.model.columnar import MarketStream
from tradewright.sim.fees import FeeModel
from tradewright.sim.latency import ConstantLatency, EmpiricalLatency, LatencyModel
from tradewright.sim.queue import queue_model_from_config
from tradewright.strategy.base import Strategy

__all__ = ["build_latency", "load_strategy_class", "make_strategy", "run_backtest", "summary_of"]


def resolve(config: RunConfig, relative: str) -> Path:
    p = Path(relative)
    return p if p.is_absolute() else Path(config.base_dir) / p


def load_strategy_class(config: RunConfig) -> type[Strategy]:
    """Import the strategy class named in `[strategy]` (from a file path or a module)."""
    sc = config.strategy
    if bool(sc.path) == bool(sc.module):
        raise ConfigError("`strategy` needs exactly one of `path` (a .py file) or `module`")
    if sc.path:
        file = resolve(config, sc.path)
        if not file.is_file():
            raise ConfigError(f"`strategy.path`: no such file {file}")
        name = f"tradewright_user_strategy_{abs(hash(str(file)))}"
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise ConfigError(f"`strategy.path`: cannot import {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(sc.module)
        except ImportError as exc:
            raise ConfigError(f"`strategy.module`: cannot import {sc.module}: {exc}") from None
    cls = getattr(module, sc.class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(
            f"`strategy.class`: {sc.class_name} is not a Strategy subclass in {sc.path or sc.module}"
        )
    return cls


def make_strategy(config: RunConfig, stream: MarketStream) -> Strategy:
    cls = load_strategy_class(config)
    params: Any = config.strategy.params
    if cls.Config is not None:
        params = to_struct(cls.Config, config.strategy.params, "strategy.params")
    try:
        return cls(config.strategy.id, [stream.instrument.id], params)
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc)) from None


def build_latency(config: RunConfig) -> LatencyModel:
    v = config.venue
    if v.latency_file:
        return EmpiricalLatency.from_csv(resolve(config, v.latency_file), seed=config.run.seed)
    cancel = None if v.cancel_latency_us is None else v.cancel_latency_us * 1000
    return ConstantLatency(v.order_latency_us * 1000, v.response_latency_us * 1000, cancel)


def output_dir(config: RunConfig, override: str | None = None) -> Path:
    raw = override or config.run.output_dir.format(name=config.run.name)
    p = Path(raw)
    return p if p.is_absolute() else Path.cwd() / p


def build_engine(config: RunConfig, stream: MarketStream, events_file: Any = None) -> BacktestEngine:
    v = config.venue
    engine = BacktestEngine(
        stream,
        starting_balance=config.account.starting_balance,
        latency=build_latency(config),
        market_data_latency_ns=v.market_data_latency_us * 1000,
        queue_model=queue_model_from_config(v.queue_model, v.queue_power),
        fees=FeeModel(v.maker_fee, v.taker_fee),
        seed=config.run.seed,
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
    )
    engine.add_strategy(make_strategy(config, stream))
    return engine


def run_backtest(
    config: RunConfig,
    *,
    out: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run a backtest and write its folder; return (folder, summary). Nothing is left half-written."""
    stream = load_stream(
        [resolve(config, p) for p in config.data.paths],
        fmt=config.data.format,
        market=config.data.market,
        symbol=config.data.symbol,
    )
    if len(stream) == 0:
        raise TradewrightError("the recording has no rows")
    folder = RunFolder(output_dir(config, out))
    try:
        with folder.path("events.jsonl").open("wb") as events:
            engine = build_engine(config, stream, events)
            result = engine.run(progress)
        summary = summary_of(result, folder.final, config)
        write_outputs(folder, result, summary, config)
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary


def summary_of(result: BacktestResult, folder: Path, config: RunConfig) -> dict[str, Any]:
    kernel = result.kernel
    inst = kernel.instruments[result.instrument_id]
    rec = result.recorder
    pos = kernel.portfolio.position(inst)
    last = rec.equity[-1] if rec.equity else None
    unreal = Decimal(last[EQUITY_COLUMNS.index("unrealized_pnl")]) if last else Decimal(0)
    equity = Decimal(last[EQUITY_COLUMNS.index("equity")]) if last else config.account.starting_balance
    orders = kernel.orders.all_orders
    stream = engine_stream_span(result)
    return {
        "output_folder": str(folder),
        "instrument": str(inst.id),
        "data_span": stream,
        "events": result.rows,
        "orders": len(orders),
        "orders_denied": kernel.counts.get("orders_denied", 0),
        "orders_rejected": sum(1 for o in orders if o.status.value == "REJECTED"),
        "fills": len(rec.fills),
        "maker_volume": str(rec.maker_volume),
        "taker_volume": str(rec.taker_volume),
        "fees": str(pos.fees),
        "realized_pnl": str(pos.realized_pnl),
        "unrealized_pnl": str(unreal),
        "net_pnl": str(equity - config.account.starting_balance),
        "starting_balance": str(config.account.starting_balance),
        "final_equity": str(equity),
        "final_position": str(pos.quantity),
        "max_abs_inventory": str(rec.max_abs_position),
        "wall_seconds": round(result.wall_seconds, 3),
        "events_per_second": round(result.events_per_second),
        "settle_currency": inst.settle,
    }


def engine_stream_span(result: BacktestResult) -> str:
    rec = result.recorder
    if not rec.equity:
        return ""
    return span_text(int(rec.equity[0][0]), int(rec.equity[-1][0]))


def write_outputs(
    folder: RunFolder, result: BacktestResult, summary: dict[str, Any], config: RunConfig
) -> None:
    rec = result.recorder
    folder.write_text("config.toml", config.source_text)
    folder.write_orders(result.kernel.orders.all_orders)
    folder.write_csv("fills.csv", FILL_COLUMNS, rec.fills)
    folder.write_csv("equity.csv", EQUITY_COLUMNS, rec.equity)
    folder.write_json("summary.json", summary)
    folder.write_text("report.html", build_report_html(result, summary, config))


def _col(rows: list[tuple[str, ...]], name: str, columns: tuple[str, ...]) -> list[float | None]:
    i = columns.index(name)
    return [float(r[i]) if r[i] != "" else None for r in rows]


def build_report_html(result: BacktestResult, summary: dict[str, Any], config: RunConfig) -> str:
    rec = result.recorder
    eq = rec.equity
    t0 = int(eq[0][0]) if eq else 0
    xs = [(int(r[0]) - t0) / 1e9 for r in eq]
    fill_x = [(int(r[0]) - t0) / 1e9 for r in rec.fills]
    fill_px = [float(r[FILL_COLUMNS.index("price")]) for r in rec.fills]
    buys = [(x, p) for x, p, r in zip(fill_x, fill_px, rec.fills, strict=True) if r[6] == "BUY"]
    sells = [(x, p) for x, p, r in zip(fill_x, fill_px, rec.fills, strict=True) if r[6] == "SELL"]
    labels = (eq[0][1], eq[-1][1]) if eq else ("", "")
    price = svg_chart(
        "Price, own quotes and fills",
        [
            ("mid", xs, _col(eq, "mid", EQUITY_COLUMNS), "#3b4252"),
            ("own bid", xs, _col(eq, "own_bid", EQUITY_COLUMNS), "#2e8b57"),
            ("own ask", xs, _col(eq, "own_ask", EQUITY_COLUMNS), "#c0392b"),
        ],
        markers=[
            ("buy fills", [b[0] for b in buys], [b[1] for b in buys], "#1e7d32"),
            ("sell fills", [s[0] for s in sells], [s[1] for s in sells], "#b71c1c"),
        ],
        x_labels=labels,
        height=320,
    )
    equity = svg_chart(
        f"Equity ({summary['settle_currency']})",
        [("equity", xs, _col(eq, "equity", EQUITY_COLUMNS), "#2b6cb0")],
        x_labels=labels,
    )
    inventory = svg_chart(
        "Inventory",
        [("position", xs, _col(eq, "position", EQUITY_COLUMNS), "#8e44ad")],
        x_labels=labels,
        step=True,
    )
    headline = {k: v for k, v in summary.items() if k not in ("output_folder",)}
    return render_report(
        f"Backtest: {config.run.name}",
        f"{summary['instrument']} · {summary['data_span']}",
        headline,
        [price, equity, inventory],
        config.source_text,
    )
