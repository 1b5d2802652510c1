"""Polymarket (CLOB V2): Gamma discovery, the market and user channels, offline EIP-712 signing of
order versions 1 and 2, batch orders, heartbeats, rate limits, neg-risk markets and allowances."""

__all__: list[str] = []
