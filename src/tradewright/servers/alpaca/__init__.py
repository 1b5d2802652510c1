"""A local Alpaca (Trading API, trade_updates, market-data streams), written from Alpaca's documentation,
on the generic replay server. `build_alpaca_server(data=[...])` replays recorded bars per symbol;
`tradewright venues serve --venue alpaca` runs it from the command line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data.bars import BarSeries, load_bars
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.servers._core import AccountSpec, Pacing, ReplayServer, ServerOptions
from tradewright.servers.alpaca.orders import Asset
from tradewright.servers.alpaca.protocol import AlpacaProtocol
from tradewright.servers.bars import ReplayMarket

__all__ = ["AlpacaProtocol", "Asset", "build_alpaca_server", "on_cents"]

_EXCHANGES = {"us_equity": "NASDAQ", "crypto": "CRYPTO"}


def on_cents(series: BarSeries, symbol: str, tick: Decimal, lot: Decimal) -> BarSeries:
    """The bars on a price grid of `tick`: recorded prices that are the grid's values written with float
    noise (Yahoo's ``20.530001``) are put on it; anything further off is refused, naming the row."""
    inst = Instrument(
        id=InstrumentId(symbol.replace("/", ""), Venue("ALPACA")), kind=InstrumentKind.SPOT, base=symbol, quote="USD",
        settle="USD", tick_size=tick, lot_size=lot,
    )
    step = float(tick)
    ticks: dict[str, np.ndarray] = {}
    for name in ("open", "high", "low", "close"):
        values: np.ndarray = getattr(series, name)
        scaled = values / step
        rounded = np.rint(scaled)
        off = np.abs(scaled - rounded) > 1e-3
        if off.any():
            row = int(np.argmax(off))
            raise ConfigError(f"{series.source} row {row}: {name} {values[row]} is not a price on the grid of {tick}")
        ticks[f"{name}_ticks"] = rounded.astype(np.int64)
    return replace(
        series,
        instrument=inst,
        open_ticks=ticks["open_ticks"],
        high_ticks=ticks["high_ticks"],
        low_ticks=ticks["low_ticks"],
        close_ticks=ticks["close_ticks"],
    )


def build_alpaca_server(
    data: Sequence[tuple[Path, str, str]],
    *,
    start: str = "",
    port: int = 0,
    pacing: Pacing = Pacing.RECORDED,
    speed: float = 1.0,
    warmup: int = 5,
    spread_ticks: int = 1,
    cash: Decimal = Decimal(100_000),
    accounts: tuple[AccountSpec, ...] = (),
) -> ReplayServer:
    """A local Alpaca replaying each (bar file, symbol, asset class) — ``us_equity`` on a one-cent grid,
    ``crypto`` on a 0.001 USD grid with 0.0001 size steps — from `start` (an ISO date; empty: the whole
    file). Old equity prices split-adjusted to fractions of a cent are refused: start after them."""
    if not data:
        raise ConfigError("the Alpaca server needs at least one bar file (--data PATH=SYMBOL)")
    market = ReplayMarket(warmup=warmup, spread_ticks=spread_ticks)
    assets: dict[str, Asset] = {}
    for key, (path, symbol, asset_class) in enumerate(data, start=1):
        if asset_class not in _EXCHANGES:
            raise ConfigError(f"asset class {asset_class!r}: use us_equity or crypto")
        lot = Decimal(1) if asset_class == "us_equity" else Decimal("0.0001")
        tick = Decimal("0.01") if asset_class == "us_equity" else Decimal("0.001")
        series = load_bars(path)
        if start:
            first = int(np.searchsorted(series.ts_open_ns, int(np.datetime64(start, "ns").astype(np.int64))))
            series = series.slice(first, len(series))
        series = on_cents(series, symbol, tick, lot)
        market.add(key, series)
        assets[symbol] = Asset(
            key=key, symbol=symbol, asset_class=asset_class, exchange=_EXCHANGES[asset_class],
            name=f"{symbol} (replayed from {path.name})", price_increment=tick, min_trade_increment=lot,
        )
    protocol = AlpacaProtocol(market, assets, cash=cash)
    options = ServerOptions(port=port, pacing=pacing, speed=speed, start_on="subscribe", accounts=accounts)
    return ReplayServer(protocol, options)
