"""What the local Polymarket serves, read from a folder of the venue's real payloads (the layout of
../shared/data/venues/polymarket: ``nautilus_py/`` and ``nautilus_rust/``), or from a recording of
market-channel frames (``*.jsonl``: ``<receive ns> <frame>`` a line).

- CLOB market objects: the `/markets` page, `market.json` and the closed-market captures; a market
  announced by a recorded `new_market` message is served too (its CLOB object is built from that
  message, in the documented shape — see `_from_new_market`).
- Gamma: markets, events, tags and the search answer, verbatim.
- Books: each recorded `book` message seeds its token's book; the other outcome's book is its mirror
  (Polymarket keeps the two tokens of a market as one book: a bid for YES at p is an ask for NO at 1 - p).
- The replay: every recorded market-channel message of a served market, in the order of its own
  timestamp, re-timed `gap_ms` apart (the captures span months) with its payload untouched.

Fixture files that contradict the served markets (e.g. a token id that is not the market's) are left
out of the replay: a client must see one coherent venue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.core.errors import ConfigError, DataError

__all__ = ["ReplayMessage", "World", "load_world"]


@dataclass(frozen=True, slots=True)
class ReplayMessage:
    """One market-channel message to replay: its payload as recorded, at a replay time."""

    ts_ns: int
    market: str
    assets: tuple[str, ...]
    payload: dict[str, Any]
    text: str

    @property
    def event_type(self) -> str:
        return str(self.payload.get("event_type", "book" if "bids" in self.payload else "price_change"))


@dataclass(slots=True)
class World:
    clob_markets: dict[str, dict[str, Any]] = field(default_factory=dict)  # condition id -> CLOB object
    gamma_markets: list[dict[str, Any]] = field(default_factory=list)
    gamma_events: list[dict[str, Any]] = field(default_factory=list)
    gamma_tags: list[dict[str, Any]] = field(default_factory=list)
    search: dict[str, Any] = field(default_factory=dict)
    books: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> recorded book payload
    replay: list[ReplayMessage] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def token_market(self, token_id: str) -> str | None:
        for cid, market in self.clob_markets.items():
            if any(str(t.get("token_id")) == token_id for t in market.get("tokens", [])):
                return cid
        return None


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path.name}: {exc}", source=str(path)) from None


def _json_files(root: Path) -> Iterator[Path]:
    yield from sorted(p for p in root.rglob("*.json") if p.is_file())


def _from_new_market(msg: dict[str, Any]) -> dict[str, Any]:
    """A CLOB market object for a market the recording announced (`new_market`), in the shape of
    `GET /markets/{condition_id}` (fields from the message; the rest are the documented defaults)."""
    tokens = [
        {"token_id": t, "outcome": o, "price": 0, "winner": False}
        for t, o in zip(
            msg.get("clob_token_ids") or msg.get("assets_ids") or [], msg.get("outcomes") or [], strict=False
        )
    ]
    return {
        "condition_id": msg["condition_id"],
        "question": msg.get("question", ""),
        "market_slug": msg.get("slug", ""),
        "tokens": tokens,
        "minimum_tick_size": msg.get("order_price_min_tick_size", "0.01"),
        "minimum_order_size": 5,
        "neg_risk": False,
        "neg_risk_market_id": "",
        "maker_base_fee": 0,
        "taker_base_fee": 0,
        "active": bool(msg.get("active", True)),
        "closed": False,
        "accepting_orders": True,
        "enable_order_book": True,
        "end_date_iso": None,
        "tags": msg.get("tags", []),
    }


def load_world(path: Path | str, *, gap_ms: int = 50, start_ns: int = 1_700_000_000_000_000_000) -> World:
    """Read every payload the server can use from `path` (see the module docstring)."""
    root = Path(path)
    if not root.exists():
        raise ConfigError(f"--data {root}: no such file or folder")
    world = World()
    messages: list[dict[str, Any]] = []
    files = [root] if root.is_file() else list(_json_files(root))
    for file in files:
        if file.suffix == ".jsonl":
            continue
        value = _read(file)
        name = file.stem
        world.sources.append(str(file))
        if isinstance(value, dict) and isinstance(value.get("data"), list) and "next_cursor" in value:
            for m in value["data"]:
                world.clob_markets.setdefault(m["condition_id"], m)
        elif isinstance(value, dict) and "condition_id" in value and "tokens" in value:
            world.clob_markets[value["condition_id"]] = value
        elif isinstance(value, dict) and "conditionId" in value and "clobTokenIds" in value:
            world.gamma_markets.append(value)
        elif name.startswith("gamma_event") or (isinstance(value, list) and value and "markets" in value[0]):
            world.gamma_events += value if isinstance(value, list) else [value]
        elif name == "event" and isinstance(value, dict) and "markets" in value:
            world.gamma_events.append(value)
        elif name.startswith("gamma_tags") and isinstance(value, list):
            world.gamma_tags = value
        elif name.startswith("search") and isinstance(value, dict):
            world.search = value
        elif isinstance(value, dict) and (
            "event_type" in value or "price_changes" in value or "bids" in value
        ):
            messages.append(value)
    for file in (
        sorted(root.rglob("*.jsonl")) if root.is_dir() else ([root] if root.suffix == ".jsonl" else [])
    ):
        for line in file.read_text().splitlines():
            _, _, frame = line.partition(" ")
            if frame.strip():
                value = json.loads(frame)
                messages += value if isinstance(value, list) else [value]
    for msg in messages:
        if msg.get("event_type") == "new_market" and msg.get("condition_id"):
            world.clob_markets.setdefault(msg["condition_id"], _from_new_market(msg))
    _build_replay(world, messages, gap_ms, start_ns)
    if not world.clob_markets:
        raise ConfigError(f"--data {root}: no Polymarket market objects found")
    return world


def _assets(msg: dict[str, Any]) -> tuple[str, ...]:
    if "price_changes" in msg:
        return tuple(dict.fromkeys(str(c["asset_id"]) for c in msg["price_changes"]))
    if "assets_ids" in msg:
        return tuple(str(a) for a in msg["assets_ids"])
    return (str(msg["asset_id"]),) if "asset_id" in msg else ()


def _build_replay(world: World, messages: list[dict[str, Any]], gap_ms: int, start_ns: int) -> None:
    usable: list[tuple[int, dict[str, Any]]] = []
    for msg in messages:
        kind = msg.get("event_type")
        if kind in ("order", "trade") or msg.get("type") == "TRADE":
            continue  # user-channel messages: the private side makes its own
        market = str(msg.get("market") or msg.get("condition_id") or "")
        known = world.clob_markets.get(market)
        if known is None:
            continue
        tokens = {str(t["token_id"]) for t in known.get("tokens", [])}
        assets = _assets(msg)
        if not assets or not set(assets) <= tokens:
            continue  # a fixture whose token is not the market's: it would make the venue incoherent
        usable.append((int(msg.get("timestamp") or 0), msg))
    usable.sort(key=lambda pair: pair[0])
    for k, (_, msg) in enumerate(usable):
        if "event_type" not in msg:
            msg = {"event_type": "book" if "bids" in msg else "price_change", **msg}
        market = str(msg.get("market") or msg.get("condition_id"))
        world.replay.append(
            ReplayMessage(
                start_ns + k * gap_ms * 1_000_000,
                market,
                _assets(msg),
                msg,
                json.dumps(msg, separators=(",", ":")),
            )
        )
        if msg["event_type"] == "book":
            world.books.setdefault(str(msg["asset_id"]), msg)


def mirror_levels(levels: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The other outcome's side of a book: a level at p becomes one at 1 - p, same size."""
    return [{"price": str(Decimal(1) - Decimal(str(lv["price"]))), "size": str(lv["size"])} for lv in levels]
