"""The `[venues.<name>]` table for OKX (`kind = "okx"`); keys come from the environment only."""

from __future__ import annotations

from tradewright.venues._ccxt.config import CcxtVenueConfig

__all__ = ["OkxConfig"]


class OkxConfig(
    CcxtVenueConfig, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind", tag="okx"
):
    """OKX v5. `symbols` are OKX instrument ids (``BTC-USDT``, ``BTC-USDT-SWAP``); the API key, secret and
    passphrase are read from the variables named here."""

    api_key_env: str = "OKX_API_KEY"
    api_secret_env: str = "OKX_API_SECRET"
    passphrase_env: str = "OKX_API_PASSPHRASE"
