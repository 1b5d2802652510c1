"""A small client for a running node's API (standard library only): what `tradewright status`, `halt`,
`resume` and `flatten` use. The key comes from $TRADEWRIGHT_API_KEY (never the command line)."""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
import uuid
from typing import Any

from tradewright.core.errors import TradewrightError

__all__ = ["KEY_ENV", "NodeClient", "add_node_args"]

KEY_ENV = "TRADEWRIGHT_API_KEY"
URL_ENV = "TRADEWRIGHT_API_URL"


def add_node_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=None,
        help=f"the node's API (default ${URL_ENV} or http://127.0.0.1:8080); the key is read from ${KEY_ENV}",
    )


class NodeClient:
    """JSON over HTTP to one node; errors become TradewrightError with the node's own words."""

    def __init__(self, url: str | None, key: str | None = None) -> None:
        self.base = (url or os.environ.get(URL_ENV) or "http://127.0.0.1:8080").rstrip("/")
        self.key = key if key is not None else os.environ.get(KEY_ENV)
        if not self.key:
            raise TradewrightError(
                f"set {KEY_ENV} to an API key of the node (create one with `tradewright api key create`)"
            )

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call("POST", path, body or {}, idempotent=True)

    def _call(self, method: str, path: str, body: dict[str, Any] | None, *, idempotent: bool = False) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if idempotent:
            request.add_header("Idempotency-Key", uuid.uuid4().hex)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except (ValueError, AttributeError):
                detail = ""
            raise TradewrightError(f"{method} {path}: {exc.code} {exc.reason}: {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TradewrightError(f"cannot reach the node's API at {self.base}: {exc}") from None
        return None if not text else json.loads(text)
