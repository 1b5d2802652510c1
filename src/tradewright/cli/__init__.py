"""The `tradewright` command line."""

__all__: list[str] = []
