"""Alembic migrations of the state store. Run them with `tradewright db upgrade`."""

__all__: list[str] = []
