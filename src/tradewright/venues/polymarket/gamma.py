"""Market discovery on Gamma, Polymarket's metadata API: markets and events page by page (offset
pagination), filtered by activity, tag and text, as `BinaryMarket`s and `OutcomeEvent`s."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec

from tradewright.core.errors import VenueError
from tradewright.model.prediction import BinaryMarket, OutcomeEvent
from tradewright.venues._common.markets import MarketInfo
from tradewright.venues.polymarket.http import ClobHttp
from tradewright.venues.polymarket.parsing import decode, event_from_gamma, market_from_gamma
from tradewright.venues.polymarket.schemas import GammaEvent, GammaMarket

__all__ = ["Discovery", "GammaFilter", "market_info"]

log = logging.getLogger("tradewright.venues.polymarket")


@dataclass(frozen=True, slots=True)
class GammaFilter:
    """What to list. `active` keeps open markets still taking orders; `search` matches the question,
    slug or event title (case-insensitive); `tag_id` is Gamma's numeric tag."""

    active: bool = False
    search: str = ""
    tag_id: str = ""
    page_size: int = 100
    max_pages: int = 50

    def params(self, offset: int) -> dict[str, str]:
        params = {"limit": str(self.page_size), "offset": str(offset)}
        if self.active:
            params.update({"active": "true", "closed": "false"})
        if self.tag_id:
            params["tag_id"] = self.tag_id
        return params

    def keeps(self, market: BinaryMarket, title: str = "") -> bool:
        if self.active and not (market.active and market.accepting_orders):
            return False
        if self.search:
            needle = self.search.lower()
            return any(needle in text.lower() for text in (market.question, market.slug, title))
        return True


class Discovery:
    """Gamma queries for one venue connection (`http` points at the Gamma host)."""

    def __init__(self, http: ClobHttp, collateral: str = "pUSD") -> None:
        self.http = http
        self.collateral = collateral
        self.pages = 0
        self.skipped = 0  # rows that did not decode: counted and left out, never fatal

    async def _pages(self, path: str, flt: GammaFilter) -> AsyncIterator[list[Any]]:
        for page in range(flt.max_pages):
            rows = await self.http.request(
                "GET", path, params=flt.params(page * flt.page_size), bucket="gamma"
            )
            self.pages += 1
            if not isinstance(rows, list):
                rows = rows.get("data", []) if isinstance(rows, dict) else []
            yield rows
            if len(rows) < flt.page_size:
                return

    async def markets(self, flt: GammaFilter | None = None) -> list[BinaryMarket]:
        """Every binary order-book market Gamma lists, page by page, kept by the filter."""
        flt = flt or GammaFilter()
        found: list[BinaryMarket] = []
        async for rows in self._pages("/markets", flt):
            for raw in rows:
                market = market_from_gamma(
                    decode(GammaMarket, raw, "gamma market"), collateral=self.collateral
                )
                if market is not None and flt.keeps(market):
                    found.append(market)
        return found

    async def events(self, flt: GammaFilter | None = None) -> list[OutcomeEvent]:
        """Events with their markets (a neg-risk event is one mutually exclusive question)."""
        flt = flt or GammaFilter()
        found: list[OutcomeEvent] = []
        async for rows in self._pages("/events", flt):
            for raw in rows:
                try:
                    event = event_from_gamma(
                        decode(GammaEvent, raw, "gamma event"), collateral=self.collateral
                    )
                except VenueError as exc:
                    self._skip(exc)
                    continue
                markets = tuple(m for m in event.markets if flt.keeps(m, event.title))
                if markets:
                    found.append(msgspec.structs.replace(event, markets=markets))
        return found

    async def search(self, text: str, *, active: bool = False) -> list[OutcomeEvent]:
        """Gamma's text search (`/public-search`): the events it finds, with their markets."""
        answer = await self.http.request("GET", "/public-search", params={"q": text}, bucket="gamma")
        events = answer.get("events", []) if isinstance(answer, dict) else []
        flt = GammaFilter(active=active)
        found = []
        for raw in events:
            try:
                event = event_from_gamma(decode(GammaEvent, raw, "gamma event"), collateral=self.collateral)
            except VenueError as exc:
                self._skip(exc)
                continue
            markets = tuple(m for m in event.markets if flt.keeps(m))
            if markets:
                found.append(msgspec.structs.replace(event, markets=markets))
        return found

    def _skip(self, exc: VenueError) -> None:
        self.skipped += 1
        log.warning("gamma: skipped a row that does not decode (%s)", exc)


def market_info(market: BinaryMarket, event_title: str = "") -> list[MarketInfo]:
    """The rows `tradewright markets` shows for one market: one per outcome token."""
    rows = []
    for index, token in enumerate(market.tokens):
        rows.append(
            MarketInfo(
                symbol=str(market.instrument_id(index)),
                kind="binary_outcome",
                base=token.outcome,
                quote=market.collateral,
                tick_size=market.tick_size,
                lot_size=market.lot_size,
                min_size=market.min_size,
                min_notional=market.min_marketable_notional,
                active=market.active and market.accepting_orders,
                end_ns=market.end_ns,
                extra={
                    "question": market.question,
                    "condition_id": market.market_id,
                    "neg_risk": "yes" if market.neg_risk else "no",
                    **({"event": event_title} if event_title else {}),
                },
            )
        )
    return rows
