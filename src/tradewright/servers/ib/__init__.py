"""A local IB Gateway speaking the TWS API socket protocol, written from documentation (see `server`).

`build_ib_server(data=[...])` loads recorded futures bars (e.g. the CME 6EH4 one-minute file) for the
contracts they belong to and returns a server to `start()`; `tradewright venues serve --venue ib`
runs it from the command line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tradewright.core.errors import ConfigError
from tradewright.data.bars import load_bars
from tradewright.model.calendar import ContractMonth
from tradewright.model.contracts import futures_instrument
from tradewright.servers.bars import ReplayMarket
from tradewright.servers.ib.securities import SecurityMaster
from tradewright.servers.ib.server import HOST, IbGatewayServer

__all__ = ["HOST", "IbGatewayServer", "ReplayMarket", "SecurityMaster", "build_ib_server", "data_contract"]

_LOCAL = re.compile(r"^(?P<symbol>[A-Z0-9]+[FGHJKMNQUVXZ]\d)\b")


def data_contract(path: Path, contract: str = "") -> str:
    """The local symbol a bar file is for: given, or read from its name (``6EH4.XCME_1min...`` -> 6EH4)."""
    if contract:
        return contract.upper()
    match = _LOCAL.match(path.name.upper())
    if match is None:
        raise ConfigError(
            f"cannot tell which contract {path.name} holds: name it, e.g. --data {path}=6EH4"
        )
    return match.group("symbol")


def build_ib_server(
    data: Sequence[tuple[Path, str]],
    *,
    port: int = 0,
    warmup: int = 60,
    spread_ticks: int = 1,
    accounts: tuple[str, ...] = ("DU1234567",),
    starting_cash: Decimal = Decimal(1_000_000),
    stamped_at: str = "close",
) -> IbGatewayServer:
    """A fake gateway replaying each (bar file, local symbol) pair; the files must be one-minute bars of
    futures the calendar knows (ES, MES, NQ, MNQ, 6E), stamped at their close (nautilus CSVs) unless told."""
    if not data:
        raise ConfigError("the IB server needs at least one bar file (--data PATH)")
    loaded = []
    for path, symbol in data:
        local = data_contract(path, symbol)
        inst = futures_instrument(f"{local}.XCME")
        series = load_bars(path, inst, stamped_at="open" if stamped_at == "open" else "close")
        if len(series) == 0:
            raise ConfigError(f"{path}: no bars")
        loaded.append((local, series))
    first = min(int(s.ts_open_ns[0]) for _, s in loaded)
    around = datetime.fromtimestamp(first / 1e9, UTC).date()
    master = SecurityMaster(around)
    market = ReplayMarket(warmup=warmup, spread_ticks=spread_ticks)
    for local, series in loaded:
        month = ContractMonth.parse(local, near=around.year)
        sec = master.by_local_symbol(month.local_symbol)
        if sec is None:
            raise ConfigError(f"the server does not list {local} (known roots: ES, MES, NQ, MNQ, 6E)")
        market.add(sec.con_id, series)
    return IbGatewayServer(market, master, accounts=accounts, starting_cash=starting_cash, port=port)
