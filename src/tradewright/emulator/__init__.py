"""A local exchange that speaks a real venue's wire protocol, backed by the simulated venue."""

__all__: list[str] = []
