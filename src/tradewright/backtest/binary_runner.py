"""`tradewright backtest` for prediction markets (`[data] format = "binary"`): recordings of binary markets
in, the same run folder out (orders, fills, equity, events with each `MarketResolved`, summary, report).

`data.paths` name market folders written by `tradewright record --venue polymarket|turbine`, or folders
holding them; every market found is replayed. `data.symbol` picks the instrument the strategy is built
for (default: the first market's first outcome); a strategy that trades groups (`DutchBook`) names the
rest in its own parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import summary_of, write_outputs
from tradewright.backtest.binary import BinaryBacktest
from tradewright.config.loader import to_struct
from tradewright.config.run import RunConfig
from tradewright.core.errors import ConfigError, DataError
from tradewright.core.ids import InstrumentId
from tradewright.data.binary_recording import find_binary_recordings, load_binary_recording
from tradewright.risk.engine import RiskEngine
from tradewright.sim.factory import build_latency
from tradewright.strategy.loader import load_strategy_class, make_strategy

__all__ = ["build_binary_backtest", "run_binary_backtest"]

# `[venue]` keys that model other venues: the binary venue queues and charges fees by its own rules
# (the queue rule of `sim.binary_venue`, each market's own `FeeSchedule`), so these are refused.
_NOT_HERE = {
    "queue_model": "conservative",
    "queue_power": 2.0,
    "market_data_latency_us": 0,
    "maker_fee": None,
    "taker_fee": None,
    "slippage_ticks": None,
    "intrabar": None,
    "limit_fill": None,
}


def build_binary_backtest(config: RunConfig, events_file: Any = None) -> BinaryBacktest:
    """Load the recordings, wire the engine and build the configured strategy."""
    for key, default in _NOT_HERE.items():
        if getattr(config.venue, key) != default:
            raise ConfigError(
                f"`venue.{key}` does not apply to binary markets: fees come from each market's schedule "
                "and fills follow the binary venue's queue rule (docs/prediction-markets.md)"
            )
    folders = find_binary_recordings([config.resolve(p) for p in config.data.paths])
    recordings = [load_binary_recording(f) for f in folders]
    primary = None
    if config.data.symbol:
        try:
            primary = InstrumentId.parse(config.data.symbol)
        except ValueError as exc:
            raise ConfigError(f"`data.symbol`: {exc}") from None
    engine = BinaryBacktest(
        recordings,
        starting_balance=config.account.starting_balance,
        latency=build_latency(config),
        risk=RiskEngine(config.risk),
        equity_sample_ns=config.run.equity_sample_ms * 1_000_000,
        events_file=events_file,
        primary=primary,
    )
    cls = load_strategy_class(config)
    if getattr(cls, "rotates_markets", False):
        # A strategy that moves from market to market (QuickMarketMaker) is given every outcome token.
        params: Any = config.strategy.params
        if cls.Config is not None:
            params = to_struct(cls.Config, config.strategy.params, "strategy.params")
        try:
            strategy = cls(
                config.strategy.id,
                [i for m in engine.markets.values() for i in (m.instrument_id(0), m.instrument_id(1))],
                params,
            )
        except (ValueError, TypeError) as exc:
            raise ConfigError(str(exc)) from None
    else:
        strategy = make_strategy(config, engine.primary)
    engine.add_strategy(strategy)
    return engine


def run_binary_backtest(
    config: RunConfig,
    folder_path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run a binary-market backtest and write its folder; return (folder, summary)."""
    if config.account.mark_price != "mid":
        raise ConfigError(
            '`account.mark_price` must be "mid" for binary markets (positions are marked at mid)'
        )
    folder = RunFolder(folder_path, overwrite=overwrite)
    try:
        with folder.path("events.jsonl").open("wb") as events:
            engine = build_binary_backtest(config, events)
            if engine.recorder is None or not any(r.rows for r in engine.recordings):
                raise DataError("the recordings hold no rows")
            result = engine.run(progress)
        kernel = result.kernel
        cur = engine.currency
        portfolio = kernel.portfolio
        extra: dict[str, Any] = {
            "instrument": f"{len(result.outcomes)} binary markets ({engine.primary} shown)",
            "fees": str(portfolio.fees(cur)),
            "realized_pnl": str(portfolio.realized_pnl(cur)),
            "final_position": str(sum((abs(p.quantity) for p in portfolio.positions), start=0)),
            "markets": [o.as_dict() for o in result.outcomes],
            "settlement_pnl": str(sum((o.settlement_pnl for o in result.outcomes), start=0)),
            "cross_token_fills": result.cross_token_fills,
            "off_grid_levels": result.off_grid_levels,
            "malformed_rows": sum(r.malformed for r in engine.recordings),
        }
        summary = summary_of(
            kernel,
            result.recorder,
            rows=result.rows,
            wall_seconds=result.wall_seconds,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
            extra=extra,
        )
        write_outputs(
            folder,
            kernel,
            result.recorder,
            summary,
            title=f"Backtest: {config.run.name}",
            config_text=config.source_text,
        )
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary
