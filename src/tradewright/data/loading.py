"""One entry point for every market-data source a run config can name."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from tradewright.config.run import DataConfig
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.model.columnar import MarketStream
from tradewright.model.contracts import contract_root, futures_instrument
from tradewright.model.instrument import Instrument, InstrumentKind, TradingSession

if TYPE_CHECKING:
    from tradewright.data.bars import BarSeries

__all__ = ["bar_instrument", "detect_format", "load_bar_series", "load_stream"]


def detect_format(path: Path) -> str:
    if path.is_dir() and (path / "instrument.json").is_file():
        return "venue_recording"  # written by `tradewright record`
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".jsonl.gz", ".jsonl")):
        return "binance"
    if "es_l2" in name:
        return "es"
    if name.startswith("tardis") or "incremental_book_l2" in name:
        return "tardis"
    raise ConfigError(f"cannot tell the format of {path}; set `data.format`")


def load_stream(
    paths: Sequence[Path], *, fmt: str = "auto", market: str = "", symbol: str = ""
) -> MarketStream:
    """Load recordings (chained in the order given) into one columnar stream."""
    if not paths:
        raise ConfigError("no data paths given")
    for p in paths:
        if not Path(p).exists():
            raise ConfigError(f"data file not found: {p}")
    if fmt == "auto":
        fmt = detect_format(Path(paths[0]))
    if fmt == "binance":
        from tradewright.data.binance import BinanceMarket, binance_instrument, load_binance

        instrument = None
        if market:
            if not symbol:
                raise ConfigError("`data.market` needs `data.symbol` too")
            instrument = binance_instrument(BinanceMarket(market), symbol)
        return load_binance([Path(p) for p in paths], instrument=instrument, symbol=symbol or None)
    if fmt == "es":
        from tradewright.data.es_bench import load_es_l2

        if len(paths) != 1:
            raise ConfigError("the ES L2 format takes one file")
        stream: MarketStream = load_es_l2(Path(paths[0]))
        return stream
    if fmt == "parquet":
        from tradewright.data.cache import read_stream

        if len(paths) != 1:
            raise ConfigError("a Parquet cache is one file")
        cached: MarketStream = read_stream(Path(paths[0]))
        return cached
    if fmt == "venue_recording":
        from tradewright.data.venue_recording import load_venue_recording

        if len(paths) != 1:
            raise ConfigError("a venue recording is one instrument's folder")
        return load_venue_recording(Path(paths[0]))
    if fmt == "tardis":
        raise ConfigError("Tardis CSVs need an instrument: import them with `tradewright data import` first")
    raise ConfigError(f"unknown data format {fmt!r}")


def bar_instrument(data: DataConfig) -> Instrument:
    """The instrument a bar run trades, from `[data]`: the futures spec table, or the fields given.

    A dated futures symbol (``6EH4``) or `data.contract` picks its spec (tick, multiplier, sessions);
    `tick_size`, `lot_size`, `multiplier`, `currency` and `sessions` override it, or define a
    non-futures instrument (`tick_size` is then required).
    """
    try:
        iid = InstrumentId.parse(data.instrument)
    except ValueError as exc:
        raise ConfigError(f"`data.instrument`: {exc}") from None
    root = data.contract.upper() or contract_root(iid.symbol)
    if data.contract and contract_root(data.contract) is None:
        raise ConfigError(f"`data.contract`: no spec for {data.contract!r} (see tradewright.model.contracts)")
    kind = data.kind or ("future" if root is not None else "spot")
    try:
        sessions = tuple(TradingSession.parse(name, text) for name, text in data.sessions.items())
    except ValueError as exc:
        raise ConfigError(f"`data.sessions`: {exc}") from None
    if kind == "future" and root is not None:
        inst = futures_instrument(iid, root)
    else:
        if data.tick_size is None:
            raise ConfigError(
                f"`data.tick_size` is required for {data.instrument}: it is not a futures contract in the spec "
                "table (set `data.contract`, or give tick_size, lot_size, multiplier, currency)"
            )
        currency = data.currency or "USD"
        inst = Instrument(
            id=iid,
            kind=InstrumentKind(kind),
            base=iid.symbol,
            quote=currency,
            settle=currency,
            tick_size=data.tick_size,
            lot_size=data.lot_size or Decimal(1),
        )
    changes: dict[str, object] = {"kind": InstrumentKind(kind)}
    for name in ("tick_size", "lot_size", "multiplier"):
        value = getattr(data, name)
        if value is not None:
            changes[name] = value
    if data.currency:
        changes["quote"] = changes["settle"] = data.currency
    if sessions:
        changes["sessions"] = sessions
    return msgspec.structs.replace(inst, **changes)


def load_bar_series(paths: Sequence[Path], data: DataConfig) -> BarSeries:
    """Load bar files (chained in the order given) with exact tick prices for `bar_instrument(data)`."""
    from tradewright.data import bars

    if not paths:
        raise ConfigError("no data paths given")
    for p in paths:
        if not Path(p).exists():
            raise ConfigError(f"data file not found: {p}")
    instrument = bar_instrument(data)
    stamped = data.stamped_at or None
    parts = []
    for path in paths:
        fmt = data.bar_format
        if fmt == "auto":
            parts.append(bars.load_bars(path, instrument, stamped_at=stamped))
        elif fmt == "nautilus":
            parts.append(bars.load_nautilus_csv(path, instrument, stamped_at=stamped or "open"))
        elif fmt == "backtrader":
            parts.append(bars.load_backtrader_csv(path, instrument, stamped_at=stamped))
        elif stamped is not None:
            raise ConfigError(f"`data.stamped_at` does not apply to the {fmt} format (its stamps are fixed)")
        elif fmt == "binance_klines":
            parts.append(bars.load_binance_klines(path, instrument))
        elif fmt == "freqtrade_feather":
            parts.append(bars.load_freqtrade_feather(path, instrument))
        elif fmt == "freqtrade_json":
            parts.append(bars.load_freqtrade_json(path, instrument))
        else:
            parts.append(bars.load_bench_bars(path, instrument))
    return _chain(parts)


def _chain(parts: list[BarSeries]) -> BarSeries:
    import numpy as np

    from tradewright.data.bars import BarSeries

    first = parts[0]
    if len(parts) == 1:
        return first
    for prev, part in itertools.pairwise(parts):
        if part.interval_ns != first.interval_ns:
            raise ConfigError(
                f"{part.source}: bar length {part.interval_ns} ns differs from {first.source}'s"
            )
        if len(prev) and len(part) and part.ts_open_ns[0] <= prev.ts_open_ns[-1]:
            raise ConfigError(f"{part.source} does not start after {prev.source} ends")

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return BarSeries(
        ts_open_ns=cat("ts_open_ns"),
        open=cat("open"),
        high=cat("high"),
        low=cat("low"),
        close=cat("close"),
        volume=cat("volume"),
        interval_ns=first.interval_ns,
        source=" + ".join(p.source for p in parts),
        instrument=first.instrument,
        open_ticks=cat("open_ticks"),
        high_ticks=cat("high_ticks"),
        low_ticks=cat("low_ticks"),
        close_ticks=cat("close_ticks"),
    )
