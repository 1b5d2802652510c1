"""The `[venues.<name>]` table for Bybit (`kind = "bybit"`); keys come from the environment only."""

from __future__ import annotations

from tradewright.venues._ccxt.config import CcxtVenueConfig

__all__ = ["BybitConfig"]


class BybitConfig(
    CcxtVenueConfig, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind", tag="bybit"
):
    """Bybit v5 USDT perpetuals (linear) on a unified trading account. `symbols` are Bybit symbols
    (``BTCUSDT``); the API key and secret are read from the variables named here."""

    market: str = "swap"
    api_key_env: str = "BYBIT_API_KEY"
    api_secret_env: str = "BYBIT_API_SECRET"
