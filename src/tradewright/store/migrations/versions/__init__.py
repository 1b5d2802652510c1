"""Migration revisions, oldest first: r0001_initial, r0002_trade_journal."""

__all__: list[str] = []
