"""Venue kinds and the packages that implement them, imported only when a config names them (so a node
trading one venue never imports another venue's client library).

A venue package exposes:

- `CONFIG_TYPES`: the msgspec config structs it accepts, each tagged by its `kind` (the `[venues.<name>]`
  table of a live config is decoded into the one whose tag matches);
- `credentials(config, environ=None) -> Credentials`: read the keys the config names from the
  environment, refusing with a message that names the venue and the missing variables;
- `async connect(config, credentials, hooks) -> LiveVenue` (`tradewright.venues._common.ports`);
- `async list_markets(config, search: str | None = None, *, active: bool = False) -> list[MarketInfo]`:
  the public market list (no credentials needed); `active` keeps only markets open for orders (a venue
  that cannot filter on its side filters the rows).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Protocol, cast

from tradewright.core.errors import ConfigError
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues._common.ports import LiveVenue, VenueHooks

__all__ = ["VenuePackage", "venue_kinds", "venue_package"]

# kind -> implementing package. Add a line when a venue package lands.
_PACKAGES: dict[str, str] = {
    "alpaca": "tradewright.venues.alpaca",
    "bitget": "tradewright.venues.bitget",
    "bybit": "tradewright.venues.bybit",
    "gate": "tradewright.venues.gate",
    "ib": "tradewright.venues.ib",
    "kraken": "tradewright.venues.kraken",
    "okx": "tradewright.venues.okx",
    "polymarket": "tradewright.venues.polymarket",
    "turbine": "tradewright.venues.turbine",
}
# kind -> the pyproject extra that installs its client libraries (default: "live").
_EXTRAS: dict[str, str] = {"alpaca": "alpaca", "ib": "ib", "polymarket": "polymarket", "turbine": "turbine"}


class VenuePackage(Protocol):
    CONFIG_TYPES: tuple[type[Any], ...]

    def credentials(self, config: Any, environ: Mapping[str, str] | None = None) -> Credentials: ...

    async def connect(self, config: Any, credentials: Credentials, hooks: VenueHooks) -> LiveVenue: ...

    async def list_markets(
        self, config: Any, search: str | None = None, *, active: bool = False
    ) -> list[MarketInfo]: ...


def venue_kinds() -> list[str]:
    """Every venue kind a config may name, sorted."""
    return sorted(_PACKAGES)


def venue_package(kind: str) -> VenuePackage:
    """Import the package implementing `kind`; a ConfigError lists the valid kinds when it is unknown."""
    name = _PACKAGES.get(kind)
    if name is None:
        raise ConfigError(f"unknown venue kind {kind!r}; valid kinds: {', '.join(venue_kinds())}")
    try:
        module: ModuleType = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and not exc.name.startswith("tradewright"):
            raise ConfigError(
                f"venue kind {kind!r} needs the Python package {exc.name!r}: "
                f"install the extra that carries it (pip install -e '.[{_EXTRAS.get(kind, 'live')}]')"
            ) from None
        raise
    return cast(VenuePackage, module)
