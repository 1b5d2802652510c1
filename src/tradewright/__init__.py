"""tradewright: one engine for backtest, paper and live algorithmic trading."""

__all__ = ["__version__"]

__version__ = "0.1.0"
