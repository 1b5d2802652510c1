"""`[api]`: the node's REST/WebSocket API, dashboard and Prometheus metrics (served by `tradewright.api`).

```toml
[api]
enabled = true
host = "127.0.0.1"          # a non-loopback address needs TLS and at least one credential
port = 8080                 # 0: any free port (printed at start)
cors_origins = []           # exact origins allowed to call from another site; empty: same-origin only
metrics_auth = true         # /metrics needs a key with the `metrics` (or any) role
```

Secrets are never in this section: operator accounts and API keys live (hashed) in the state store and
are managed with `tradewright api user ...` / `tradewright api key ...`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ["LOOPBACK_HOSTS", "ApiConfig"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

Positive = Annotated[int, msgspec.Meta(gt=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]


class ApiConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Where the API listens, who may call it from where, and its limits (see docs/operations.md)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080
    # TLS: uvicorn serves HTTPS with these files; or a TLS-terminating proxy in front (`behind_tls_proxy`).
    tls_certfile: str = ""
    tls_keyfile: str = ""
    behind_tls_proxy: bool = False
    # Where API keys, operator accounts and the API's audit live; "" = the node's own store (live) or
    # $TRADEWRIGHT_STORE_URL / sqlite:///tradewright.sqlite (paper).
    store_url: str = ""
    cors_origins: list[str] = msgspec.field(default_factory=list)
    metrics_auth: bool = True
    openapi_docs: bool = False  # Swagger UI at /api/v1/docs (the OpenAPI JSON is always served)
    access_token_ttl_s: Positive = 900
    refresh_token_ttl_s: Positive = 12 * 3600
    login_max_failures: Positive = 5
    login_window_s: Positive = 300
    read_rate_per_s: PositiveFloat = 100.0  # per key or user; halt and flatten are never limited
    command_rate_per_s: PositiveFloat = 10.0
    flatten_token_ttl_s: Positive = 30
    max_param_change_pct: PositiveFloat = 50.0  # the largest relative change of one numeric parameter
    ws_max_clients: Positive = 200
    ws_queue_size: Positive = 2000  # messages buffered per WebSocket client before it is dropped
    tracing: bool = False  # OpenTelemetry spans of the order path (needs an exporter; see docs)

    def __post_init__(self) -> None:
        for origin in self.cors_origins:
            if origin == "*" or "*" in origin:
                raise ValueError("`api.cors_origins` must list exact origins; a wildcard is not allowed")
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(
                    f"`api.cors_origins`: {origin!r} is not an origin (scheme://host[:port], no path or "
                    "trailing slash)"
                )
        if bool(self.tls_certfile) != bool(self.tls_keyfile):
            raise ValueError("`api.tls_certfile` and `api.tls_keyfile` go together")

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")

    @property
    def tls(self) -> bool:
        """True when the API is reached over TLS (served here, or by a proxy in front)."""
        return bool(self.tls_certfile) or self.behind_tls_proxy
