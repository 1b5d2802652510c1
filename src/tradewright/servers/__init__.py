"""Local wire-format venue servers: replay real recordings over a venue's own REST and WebSocket API on
127.0.0.1, with a stateful, signature-checking private side (`tradewright venues serve`)."""

__all__: list[str] = []
