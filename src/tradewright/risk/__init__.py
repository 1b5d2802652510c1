"""Pre-trade checks, limits, circuit breakers, trading state and the kill switch."""

__all__: list[str] = []
