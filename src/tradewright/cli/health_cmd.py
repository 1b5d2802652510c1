"""`tradewright health`: exit 0 if a node's API answers its liveness check, 1 otherwise (the image's
HEALTHCHECK; docs/deployment.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

__all__ = ["register"]

PORT_ENV_VAR = "TRADEWRIGHT_API_PORT"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "health",
        help="check that a running node answers (exit 0) or not (exit 1): the container healthcheck",
        description="GET /api/v1/health of a running node's API (public, no key needed) and exit 0 if it "
        f"answers ok within --timeout-s, else print why and exit 1. The default URL is "
        f"http://127.0.0.1:${PORT_ENV_VAR} (8080 when unset). The node runs its API on its own event loop, "
        "so a node that is stuck does not answer either.",
    )
    p.add_argument("--url", help="the node's API root (default http://127.0.0.1:$TRADEWRIGHT_API_PORT)")
    p.add_argument("--timeout-s", type=float, default=3.0, help="how long to wait for the answer (default 3)")
    p.set_defaults(func=health)


def health(args: argparse.Namespace) -> int:
    from tradewright.core.errors import ConfigError

    if args.timeout_s <= 0:
        raise ConfigError(f"--timeout-s must be > 0, got {args.timeout_s}")
    root = args.url or f"http://127.0.0.1:{_port()}"
    if not root.startswith(("http://", "https://")):
        raise ConfigError(f"--url must start with http:// or https://, got {root!r}")
    url = root.rstrip("/") + "/api/v1/health"
    problem = _problem(url, args.timeout_s)
    if problem is None:
        print(f"healthy: {url}")
        return 0
    print(f"unhealthy: {url}: {problem}", file=sys.stderr)
    return 1


def _port() -> int:
    from tradewright.core.errors import ConfigError

    raw = os.environ.get(PORT_ENV_VAR, "8080")
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"${PORT_ENV_VAR} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"${PORT_ENV_VAR} must be a port number (1-65535), got {port}")
    return port


def _problem(url: str, timeout_s: float) -> str | None:
    """None when the node answered 200 {"status": "ok"}; else what went wrong, in a few words."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as answer:
            body = answer.read(4096)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"no answer ({reason})"
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        return f"the answer is not the health JSON: {body[:80]!r}"
    return None if status == "ok" else f"status {status!r}"
