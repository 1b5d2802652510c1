"""The local venue servers by name, and how each reads its recording (`tradewright venues serve`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tradewright.core.errors import ConfigError

if TYPE_CHECKING:  # the server core (and the matching engine under it) loads only when a server starts
    from tradewright.servers._core.protocol import VenueProtocol

__all__ = ["SERVER_VENUES", "build_protocol"]

SERVER_VENUES = ("okx", "kraken", "bitget", "gate", "bybit", "polymarket", "turbine")


def build_protocol(venue: str, data: Sequence[Path]) -> VenueProtocol:
    """The protocol module of `venue`, reading `data` (cryptofeed files or folders; for Bybit a v5 frame
    file and its instruments JSON; for Polymarket the folder of its payloads; Turbine takes none)."""
    if venue == "turbine":
        # Nothing to replay: quick markets roll on the clock (no capture of Turbine exists).
        from tradewright.servers.turbine import TurbineProtocol

        return TurbineProtocol()
    if not data:
        raise ConfigError("--data: give the recording to replay (a file or a folder)")
    for path in data:
        if not Path(path).exists():
            raise ConfigError(f"--data: {path} does not exist")
    if venue == "bybit":
        frames = [p for p in data if p.suffix in (".zip", ".data", ".jsonl", ".gz")]
        instruments = [p for p in data if p.suffix == ".json"]
        if len(frames) != 1 or len(instruments) != 1:
            raise ConfigError(
                "--data for bybit: a v5 order-book frame file (e.g. l2/nautilus/bybit_xrpusdt-ob500.data.zip) and "
                "the instruments JSON (e.g. venues/bybit/nautilus_rust/http_get_instruments_linear.json)"
            )
        from tradewright.servers.bybit import BybitProtocol

        return BybitProtocol(frames[0], instruments[0])
    if venue == "polymarket":
        if len(data) != 1:
            raise ConfigError(
                "--data for polymarket: one folder of its payloads (e.g. ../shared/data/venues/polymarket)"
            )
        from tradewright.servers.polymarket import PolymarketProtocol

        return PolymarketProtocol(str(data[0]))
    from tradewright.servers._core.recording import load_recording

    recording = load_recording(list(data))
    if venue == "okx":
        from tradewright.servers.okx import OkxProtocol

        return OkxProtocol(recording)
    if venue == "kraken":
        from tradewright.servers.kraken import KrakenProtocol

        return KrakenProtocol(recording)
    if venue == "bitget":
        from tradewright.servers.bitget import BitgetProtocol

        return BitgetProtocol(recording)
    if venue == "gate":
        from tradewright.servers.gate import GateProtocol

        return GateProtocol(recording)
    raise ConfigError(f"--venue: unknown venue {venue!r}; local servers exist for {', '.join(SERVER_VENUES)}")
