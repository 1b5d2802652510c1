"""The `[venues.<name>]` table for Kraken (`kind = "kraken"`); keys come from the environment only."""

from __future__ import annotations

from tradewright.venues._ccxt.config import CcxtVenueConfig

__all__ = ["KrakenConfig"]


class KrakenConfig(
    CcxtVenueConfig, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind", tag="kraken"
):
    """Kraken spot (REST v0, WebSocket v2). `symbols` are Kraken pairs as `tradewright markets` lists
    them (``XMRUSD``, or the WebSocket name ``XMR/USD``); the API key and the (base64) secret are read
    from the variables named here."""

    api_key_env: str = "KRAKEN_API_KEY"
    api_secret_env: str = "KRAKEN_API_SECRET"
