"""The `[venues.<name>]` table for Bitget (`kind = "bitget"`); keys come from the environment only."""

from __future__ import annotations

from tradewright.venues._ccxt.config import CcxtVenueConfig

__all__ = ["BitgetConfig"]


class BitgetConfig(
    CcxtVenueConfig, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind", tag="bitget"
):
    """Bitget v2 spot on a classic account. `symbols` are Bitget symbols (``EOSUSDT``); the API key,
    secret and passphrase are read from the variables named here."""

    api_key_env: str = "BITGET_API_KEY"
    api_secret_env: str = "BITGET_API_SECRET"
    passphrase_env: str = "BITGET_API_PASSPHRASE"
