"""The config every CCXT venue shares (each family adds its `kind` tag and its key variables)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from tradewright.core.errors import ConfigError

__all__ = ["CcxtVenueConfig"]


class CcxtVenueConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where the venue is and what to trade there.

    `symbols` are the venue's own market ids as `tradewright markets --venue V` lists them (e.g.
    ``BTC-USDT`` on OKX, ``XRPUSDT`` on Bybit). `market` picks spot or perpetual swaps where a venue
    uses one id for both. `rest_url`/`ws_url` (scheme and host) replace every endpoint's scheme and
    host, keeping its path — tests point them at a local server on 127.0.0.1; leave them unset for the
    venue itself. Keys are read from the environment variables the family names, never from a file.
    """

    symbols: tuple[str, ...] = ()
    market: str = ""
    rest_url: str | None = None
    ws_url: str | None = None
    timeout_ms: Annotated[int, msgspec.Meta(ge=100)] = 10_000
    book_depth: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 25
    rate_limit: bool = True
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    rate_limited_pause_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0  # after a 429: pause x attempt
    reconnect_base_s: Annotated[float, msgspec.Meta(gt=0)] = 0.2
    reconnect_cap_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0

    def __post_init__(self) -> None:
        if (self.rest_url is None) != (self.ws_url is None):
            raise ConfigError("`rest_url` and `ws_url` go together: set both (a local server) or neither")
        for key, url, schemes in (
            ("rest_url", self.rest_url, ("http", "https")),
            ("ws_url", self.ws_url, ("ws", "wss")),
        ):
            if url is None:
                continue
            parts = urlsplit(url)
            if parts.scheme not in schemes or not parts.netloc:
                raise ConfigError(f"`{key}` must be a {' or '.join(schemes)} URL with a host, got {url!r}")
            if parts.path not in ("", "/") or parts.query or parts.fragment:
                raise ConfigError(
                    f"`{key}` must be a scheme and host only (paths are the venue's), got {url!r}"
                )
        if self.reconnect_base_s > self.reconnect_cap_s:
            raise ConfigError("`reconnect_base_s` must not exceed `reconnect_cap_s`")
