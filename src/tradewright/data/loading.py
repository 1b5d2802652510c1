"""One entry point for every market-data source a run config can name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tradewright.core.errors import ConfigError
from tradewright.model.columnar import MarketStream

__all__ = ["detect_format", "load_stream"]


def detect_format(path: Path) -> str:
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


def load_stream(paths: Sequence[Path], *, fmt: str = "auto", market: str = "", symbol: str = "") -> MarketStream:
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
    if fmt == "tardis":
        raise ConfigError("Tardis CSVs need an instrument: import them with `tradewright data import` first")
    raise ConfigError(f"unknown data format {fmt!r}")
