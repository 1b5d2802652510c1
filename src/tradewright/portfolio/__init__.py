"""Balances, positions, exposure and PnL."""

from tradewright.portfolio.portfolio import Portfolio

__all__ = ["Portfolio"]
