"""A bar run with modelled quotes and, optionally, a state store: the paper day of the futures
day-trading flow (`tradewright backtest` routes a bar config here when it sets `venue.bar_spread_ticks`
or `run.store_url`).

It is the bar backtest (`tradewright.backtest.bar_runner`) with two additions wired through the
kernel's public hooks: the quotes (`quotes.BarQuotes`) and, with `run.store_url`, the live node's
commit-before-acting journal over the state store (`tradewright.live.store_sink.StoreSink`), so a paper
day leaves the same records a live one does. The run folder is the bar run's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tradewright.analysis.recorder import FILL_COLUMNS
from tradewright.analysis.run_folder import RunFolder
from tradewright.analysis.run_summary import build_report_html, summary_of, write_outputs
from tradewright.backtest.bar_engine import TAG_COLUMNS, BarBacktestEngine
from tradewright.backtest.bar_runner import build_bar_engine
from tradewright.config.run import RunConfig
from tradewright.core.errors import ConfigError, TradewrightError
from tradewright.data.loading import load_bar_series
from tradewright.daytrade.quotes import BarQuotes, SpreadModel
from tradewright.live.store_sink import StoreSink
from tradewright.store.sql_store import SqlStateStore, open_store

__all__ = ["DayRun", "prepare_day_run", "run_day_backtest", "store_url_in"]


class DayRun:
    """A wired bar engine (quotes installed, store attached) ready to `run`; `close` releases the store."""

    def __init__(
        self, engine: BarBacktestEngine, quotes: BarQuotes | None, store: SqlStateStore | None
    ) -> None:
        self.engine = engine
        self.quotes = quotes
        self.store = store
        self.sink: StoreSink | None = None
        if store is not None:
            inst = engine.instrument
            store.save_instrument(inst, ts_ns=engine.clock.now)
            self.sink = StoreSink(store)
            engine.kernel.journal = self.sink
            engine.kernel.sinks.append(self.sink)

    def close(self) -> None:
        if self.sink is not None:
            self.sink.flush()
        if self.store is not None:
            self.store.close()


def store_url_in(url: str, folder: Path | None) -> str:
    """A relative SQLite file (``sqlite:///day.sqlite``) lives in the run folder; other URLs as given."""
    prefix = "sqlite:///"
    if folder is not None and url.startswith(prefix) and not Path(url[len(prefix) :]).is_absolute():
        return prefix + str(folder / url[len(prefix) :])
    return url


def prepare_day_run(
    config: RunConfig, events_file: Any = None, *, record: bool = True, folder: Path | None = None
) -> DayRun:
    """Load the bars and wire the engine: the configured strategy and risk, the modelled quotes, and the
    state store when `run.store_url` is set (a relative SQLite file in `folder`)."""
    if config.data.format != "bars":
        raise ConfigError('the paper day runs on bar data (`data.format = "bars"`)')
    series = load_bar_series([config.resolve(p) for p in config.data.paths], config.data)
    if len(series) == 0:
        raise TradewrightError("the bar file has no bars")
    engine = build_bar_engine(config, series, events_file, record=record)
    quotes = None
    if config.venue.bar_spread_ticks:
        model = SpreadModel(engine.instrument, config.venue.bar_spread_ticks)
        quotes = BarQuotes(engine, model, config.venue.bar_quote_size)
        quotes.install()
    store = open_store(store_url_in(config.run.store_url, folder)) if config.run.store_url else None
    return DayRun(engine, quotes, store)


def run_day_backtest(
    config: RunConfig,
    folder_path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    flatten_at: Callable[[int], int] | None = None,
    overwrite: bool = False,
) -> tuple[Path, dict[str, Any]]:
    """Run it and write the run folder (as `run_bar_backtest` does, `overwrite` included); nothing is
    left half-written."""
    if config.account.mark_price != "mid":
        raise ConfigError(
            "`account.mark_price` does not apply to bar runs: positions are marked at the last bar price"
        )
    folder = RunFolder(folder_path, overwrite=overwrite)
    try:
        with folder.path("events.jsonl").open("wb") as events:
            day = prepare_day_run(config, events, folder=folder.tmp)
            try:
                engine = day.engine
                if flatten_at is not None:
                    engine.flatten_at(flatten_at(int(engine.series.ts_open_ns[0])), "backtest --flatten-at")
                result = engine.run(progress)
            finally:
                day.close()
        recorder = result.recorder
        assert recorder is not None
        extra: dict[str, Any] = {"bars": result.bars, "bars_per_second": round(result.bars_per_second)}
        if day.quotes is not None:
            extra["quoted_spreads_ticks"] = {str(k): v for k, v in sorted(day.quotes.spreads.items())}
        summary = summary_of(
            result.kernel,
            recorder,
            rows=result.bars,
            wall_seconds=result.wall_seconds,
            folder=folder.final,
            starting_balance=config.account.starting_balance,
            extra=extra,
        )
        title = f"Backtest: {config.run.name}"
        write_outputs(folder, result.kernel, recorder, summary, title=title, config_text=config.source_text)
        if recorder.has_tags:
            folder.write_csv("fills.csv", FILL_COLUMNS + TAG_COLUMNS, recorder.fill_rows_with_tags())
            folder.write_text("report.html", build_report_html(folder.tmp, title=title))
        final = folder.commit()
    except BaseException:
        folder.abandon()
        raise
    return final, summary
