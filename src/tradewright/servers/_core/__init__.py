"""The generic replay server every local venue server is built on (see docs/venues.md, "Local servers").

A venue protocol module (`VenueProtocol`) supplies the venue's markets, its recorded events, REST routes,
WebSocket handling and error envelopes; `ReplayServer` serves it on 127.0.0.1 with one market clock,
fault injection, a request log and the private order simulator (`Exchange`, matching with
`tradewright.sim`).
"""

from tradewright.servers._core.accounts import Account, Balance, MarketKind, Position, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.exchange import Exchange, OrderChange, OrderRefused, SimFill, SimOrder, Status
from tradewright.servers._core.faults import Faults, FaultSettings, FrameAction
from tradewright.servers._core.protocol import RateRule, VenueProtocol
from tradewright.servers._core.recording import (
    HttpRecord,
    Recording,
    WsFrame,
    WsSession,
    load_frame_lines,
    load_recording,
)
from tradewright.servers._core.rest import LoggedRequest, RequestLog, RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.server import HOST, AccountSpec, ReplayServer, ServerOptions
from tradewright.servers._core.text import dumps, num
from tradewright.servers._core.timeline import MarketEvent, Pacing, Row, Timeline
from tradewright.servers._core.ws import Hub, Session, Subscription

__all__ = [
    "HOST",
    "Account",
    "AccountSpec",
    "Balance",
    "Exchange",
    "FaultSettings",
    "Faults",
    "FrameAction",
    "HttpRecord",
    "Hub",
    "LoggedRequest",
    "MarketEvent",
    "MarketKind",
    "OrderChange",
    "OrderRefused",
    "Pacing",
    "Position",
    "RateRule",
    "Recording",
    "ReplayServer",
    "RequestLog",
    "RestAnswer",
    "RestRequest",
    "RestRouter",
    "Row",
    "ServerOptions",
    "Session",
    "SimFill",
    "SimMarket",
    "SimOrder",
    "Status",
    "StringBook",
    "Subscription",
    "Timeline",
    "VenueProtocol",
    "WsFrame",
    "WsSession",
    "dumps",
    "load_frame_lines",
    "load_recording",
    "num",
]
