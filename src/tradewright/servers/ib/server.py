"""A minimal IB Gateway: the TWS API socket protocol on 127.0.0.1, written from documentation.

It speaks the subset of the TWS API that `tradewright.venues.ib` (on ib-async) uses, at server version
178 (``../shared/reference/brokers.md`` §2-§7): the handshake and start-up answers, contract details,
streaming quotes (reqMktData) and bars (reqHistoricalData with keepUpToDate), orders (place, modify,
cancel, brackets and one-cancels-all groups), order status, executions with commission reports,
positions, account values and completed orders. Market data is recorded bars replayed on a market
clock (`ReplayMarket`); orders fill against them (`OrderBook`).

Faults a test (or an operator) can inject: dropping every connection, IB's connectivity codes
(1100/1101/1102), rejecting the next order with a given error, partial fills, a wider spread, and the
pacing errors a real gateway sends (100 over 50 messages a second, 162 for repeated historical
requests within 15 s). A second connection with a client id already in use is refused with 326.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewright.servers.bars import BarRow, ReplayMarket
from tradewright.servers.ib import messages as msg
from tradewright.servers.ib.orders import Execution, FakeOrder, OrderBook, Rejection
from tradewright.servers.ib.securities import SecurityMaster
from tradewright.servers.ib.wire import (
    MIN_CLIENT_VERSION,
    PREFIX,
    SERVER_VERSION,
    Fields,
    ProtocolError,
    encode,
    parse_client_versions,
    read_message,
)

__all__ = ["HOST", "IbGatewayServer"]

HOST = "127.0.0.1"
_MAX_MESSAGES_PER_S = 50
_HISTORICAL_REPEAT_S = 15.0
_log = logging.getLogger("tradewright.servers.ib")


@dataclass(eq=False)
class _Session:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    client_id: int = -1
    ready: bool = False
    quotes: dict[int, int] = field(default_factory=dict)  # reqId -> conId
    bars: dict[int, int] = field(default_factory=dict)  # reqId -> conId (keepUpToDate subscriptions)
    sent_times: deque[float] = field(default_factory=deque)

    def send(self, values: list[object]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(values))


class IbGatewayServer:
    """Serve the fake gateway on `HOST`; port 0 picks a free port (see `port` after `start`)."""

    def __init__(
        self,
        market: ReplayMarket,
        master: SecurityMaster,
        *,
        accounts: tuple[str, ...] = ("DU1234567",),
        starting_cash: Decimal = Decimal(1_000_000),
        port: int = 0,
    ) -> None:
        if not accounts:
            raise ValueError("the gateway needs at least one account")
        self.market = market
        self.master = master
        self.accounts = accounts
        self.book = OrderBook(self.market, self, accounts=accounts, starting_cash=starting_cash)
        self._port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_ids: dict[int, int] = {}
        self._historical_asked: dict[tuple[Any, ...], float] = {}
        self.requests: Counter[int] = Counter()  # message id -> count: the request log
        self.connections = 0
        market.listeners.append(self._on_bar)

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        _log.info("IB gateway (fake) listening on %s:%d", HOST, self._port)

    @property
    def port(self) -> int:
        return self._port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def run_paced(self, seconds_per_bar: float) -> None:
        """Reveal one bar every `seconds_per_bar` wall seconds until the data ends."""
        while not self.market.exhausted:
            await asyncio.sleep(seconds_per_bar)
            self.step()

    # --- control (tests and operators) --------------------------------------------------------
    def step(self, bars: int = 1) -> None:
        """Move the market clock `bars` bars on (fills, quotes and bar updates follow)."""
        for _ in range(bars):
            if not self.market.step():
                break

    def drop_connections(self) -> None:
        """Close every client connection at once (orders keep working in the gateway)."""
        for session in list(self._sessions):
            session.writer.close()

    def broadcast_error(self, code: int, text: str) -> None:
        """Send a connectivity message (1100 lost, 1101/1102 restored) to every client."""
        for session in self._ready_sessions():
            session.send(msg.error(-1, code, text))

    def fill_now(self, order_ref: str) -> None:
        """Fill the working order with this `orderRef` at the quote now (e.g. while its client is away)."""
        for order in self.book.open_orders():
            if order.order_ref == order_ref:
                self.book.fill_at_quote(order)
                return
        raise KeyError(f"no working order with orderRef {order_ref!r}")

    def cancel_now(self, order_ref: str) -> None:
        """Cancel the working order with this `orderRef` at the gateway (as an operator in TWS would)."""
        for order in self.book.open_orders():
            if order.order_ref == order_ref:
                self.book.cancel(order.client_id, order.order_id)
                return
        raise KeyError(f"no working order with orderRef {order_ref!r}")

    def reject_next_order(self, code: int, text: str) -> None:
        self.book.reject_next = Rejection(code, text)

    def set_partial_fill(self, pct: int | None) -> None:
        """Make each order's first fill only `pct` % of it (None: whole fills)."""
        self.book.partial_fill_pct = pct

    def set_spread(self, ticks: int) -> None:
        """Quote `ticks` wide around the last price from now on, and tell the quote subscribers."""
        self.market.spread_ticks = ticks
        for session in self._ready_sessions():
            for req_id, con_id in session.quotes.items():
                self._send_quote(session, req_id, con_id)

    # --- connections --------------------------------------------------------------------------
    def _ready_sessions(self) -> list[_Session]:
        return [s for s in self._sessions if s.ready and not s.writer.is_closing()]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(reader, writer)
        self._sessions.add(session)
        self.connections += 1
        try:
            await self._handshake(session)
            while True:
                fields = await read_message(reader)
                if fields:
                    self._dispatch(session, fields)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            _log.warning("closing a connection: %s", exc)
        except asyncio.CancelledError:
            pass  # the server is closing: the session ends with it
        except Exception:  # one bad client never takes the server down
            _log.exception("IB fake: session of client %s failed", session.client_id)
        finally:
            self._sessions.discard(session)
            writer.close()

    async def _handshake(self, session: _Session) -> None:
        prefix = await session.reader.readexactly(len(PREFIX))
        if prefix != PREFIX:
            raise ProtocolError(f"expected the API prefix, got {prefix!r}")
        (versions,) = (await read_message(session.reader))[:1]
        low, high = parse_client_versions(versions)
        if high < MIN_CLIENT_VERSION or low > SERVER_VERSION:
            raise ProtocolError(f"client versions {low}..{high} do not overlap {MIN_CLIENT_VERSION}..{SERVER_VERSION}")
        now = datetime.fromtimestamp(self.market.now_ns / 1e9, UTC)
        session.send([SERVER_VERSION, now.strftime("%Y%m%d %H:%M:%S") + " UTC"])
        start = await read_message(session.reader)
        if not start or start[0] != "71":
            raise ProtocolError(f"expected startApi (71), got {start[:1]}")
        client_id = int(start[2])
        if any(s.client_id == client_id for s in self._ready_sessions()):
            session.send(
                msg.error(-1, 326, "Unable to connect as the client id is already in use. Retry with a unique client id.")
            )
            await session.writer.drain()
            raise ConnectionError(f"client id {client_id} already in use")
        session.client_id = client_id
        session.ready = True
        next_id = max(self._next_ids.get(client_id, 1), 1)
        session.send([9, 1, next_id])
        session.send([15, 1, ",".join(self.accounts)])

    # --- requests -------------------------------------------------------------------------------
    def _dispatch(self, session: _Session, fields: Fields) -> None:
        try:
            kind = int(fields[0])
        except ValueError:
            raise ProtocolError(f"message id {fields[0]!r} is not a number") from None
        self.requests[kind] += 1
        self._pace(session)
        handler = _HANDLERS.get(kind)
        if handler is None:
            _log.info("IB fake: message %d is not served here (ignored)", kind)
            return
        try:
            handler(self, session, fields)
        except (IndexError, ValueError, InvalidOperation) as exc:
            session.send(msg.error(-1, 320, f"Error reading request: message {kind}: {exc}"))

    def _pace(self, session: _Session) -> None:
        now = time.monotonic()
        sent = session.sent_times
        sent.append(now)
        while sent and now - sent[0] > 1.0:
            sent.popleft()
        if len(sent) > _MAX_MESSAGES_PER_S:
            session.send(
                msg.error(-1, 100, f"Max rate of messages per second has been exceeded:max={_MAX_MESSAGES_PER_S} rec={len(sent)} (1)")
            )

    def _contract_details(self, session: _Session, f: Fields) -> None:
        req_id = int(f[2])
        today = datetime.fromtimestamp(self.market.now_ns / 1e9, UTC).date()
        found = self.master.match(f[3:15], live_on=None if f[15] == "1" else today)
        if not found:
            session.send(msg.error(req_id, 200, "No security definition has been found for the request"))
            return
        for sec in found:
            session.send(msg.contract_details(req_id, sec, today))
        session.send([52, 1, req_id])

    def _market_data(self, session: _Session, f: Fields) -> None:
        req_id = int(f[2])
        found = self.master.match(f[3:15])
        if len(found) != 1:
            session.send(msg.error(req_id, 200, "No security definition has been found for the request"))
            return
        con_id = found[0].con_id
        if not self.market.has_data(con_id):
            session.send(msg.error(req_id, 354, f"Requested market data is not subscribed: no data for {found[0].local_symbol}"))
            return
        session.quotes[req_id] = con_id
        self._send_quote(session, req_id, con_id)

    def _send_quote(self, session: _Session, req_id: int, con_id: int) -> None:
        quote = self.market.quote(con_id)
        bar = self.market.last_bar(con_id)
        if quote is None or bar is None:
            return
        tick = self.market.tick_size(con_id)
        lots = self.market.quote_lots
        session.send([1, 6, req_id, 1, quote[0] * tick, lots, 0])  # bid
        session.send([1, 6, req_id, 2, quote[1] * tick, lots, 0])  # ask
        session.send([1, 6, req_id, 4, bar.close * tick, "", 0])  # last (the recorded close; size unknown)

    def _cancel_market_data(self, session: _Session, f: Fields) -> None:
        session.quotes.pop(int(f[2]), None)

    def _historical(self, session: _Session, f: Fields) -> None:
        req_id = int(f[1])
        contract = f[2:14]
        end, bar_size, duration, _use_rth, what, _fmt, keep = f[15], f[16], f[17], f[18], f[19], f[20], f[21]
        found = self.master.match(contract)
        if len(found) != 1:
            session.send(msg.error(req_id, 200, "No security definition has been found for the request"))
            return
        con_id = found[0].con_id
        key = (session.client_id, con_id, end, bar_size, duration, what, keep)
        now = time.monotonic()
        if now - self._historical_asked.get(key, -1e9) < _HISTORICAL_REPEAT_S:
            session.send(
                msg.error(req_id, 162, "Historical Market Data Service error message:API historical data query "
                          "cancelled: pacing violation (identical request within 15 seconds)")
            )
            return
        self._historical_asked[key] = now
        if not self.market.has_data(con_id):
            session.send(msg.error(req_id, 162, "Historical Market Data Service error message:HMDS query returned no data"))
            return
        interval_s = self.market.interval_ns(con_id) // 1_000_000_000
        if _bar_seconds(bar_size) != interval_s:
            session.send(
                msg.error(req_id, 162, f"Historical Market Data Service error message:bar size {bar_size!r} is not "
                          f"available here; the recorded bars are {interval_s} s")
            )
            return
        since = self.market.now_ns - _duration_ns(duration)
        rows = self.market.completed(con_id, since)
        tick = self.market.tick_size(con_id)
        forming = self._forming(con_id) if keep == "1" else None
        bars = [*rows, forming] if forming is not None else rows
        start = datetime.fromtimestamp(since / 1e9, UTC).strftime("%Y%m%d %H:%M:%S")
        finish = datetime.fromtimestamp(self.market.now_ns / 1e9, UTC).strftime("%Y%m%d %H:%M:%S")
        out: list[object] = [17, req_id, start, finish, len(bars)]
        for row in bars:
            out.extend(msg.bar_fields(row, tick))
        session.send(out)
        if keep == "1":
            session.bars[req_id] = con_id

    def _forming(self, con_id: int) -> BarRow | None:
        """The bar opening now, as IB shows it at its first trade (its open price, no volume yet) — only
        when the next recorded bar opens right at the last one's close."""
        feed = self.market.feeds[con_id]
        if feed.revealed >= len(feed.series):
            return None
        nxt = self.market.row(con_id, feed.revealed)
        if nxt.ts_open_ns != self.market.now_ns:
            return None
        return BarRow(nxt.ts_open_ns, nxt.ts_close_ns, nxt.open, nxt.open, nxt.open, nxt.open, Decimal(0))

    def _on_bar(self, con_id: int, row: BarRow) -> None:
        tick = self.market.tick_size(con_id)
        forming = self._forming(con_id)
        for session in self._ready_sessions():
            for req_id, sub in session.bars.items():
                if sub != con_id:
                    continue
                for bar in (row, forming):
                    if bar is None:
                        continue
                    date_, o, h, lo, c, volume, wap, count = msg.bar_fields(bar, tick)
                    session.send([90, req_id, count, date_, o, c, h, lo, wap, volume])
            for req_id, sub in session.quotes.items():
                if sub == con_id:
                    self._send_quote(session, req_id, con_id)

    def _cancel_historical(self, session: _Session, f: Fields) -> None:
        session.bars.pop(int(f[2]), None)

    def _place(self, session: _Session, f: Fields) -> None:
        order_id = int(f[1])
        found = self.master.match(f[2:14])
        if len(found) != 1:
            session.send(msg.error(order_id, 200, "No security definition has been found for the request"))
            return
        self._next_ids[session.client_id] = max(self._next_ids.get(session.client_id, 1), order_id + 1)
        order = FakeOrder(
            order_id=order_id,
            client_id=session.client_id,
            perm_id=0,
            sec=found[0],
            action=f[16],
            total=Decimal(f[17]),
            order_type=f[18],
            lmt=_decimal(f[19]),
            aux=_decimal(f[20]),
            tif=f[21],
            oca_group=f[22],
            account=f[23] or self.accounts[0],
            order_ref=f[26],
            transmit=f[27] != "0",
            parent_id=int(f[28] or 0),
            outside_rth=f[33] == "1",
            oca_type=int(f[46] or 0),
        )
        if order.account not in self.accounts:
            session.send(msg.error(order_id, 201, f"Order rejected - reason:account {order.account} is not managed here"))
            return
        try:
            self.book.place(order)
        except Rejection as rejection:
            session.send(msg.error(order_id, rejection.code, rejection.text))

    def _cancel(self, session: _Session, f: Fields) -> None:
        order_id = int(f[2])
        try:
            self.book.cancel(session.client_id, order_id)
        except Rejection as rejection:
            session.send(msg.error(order_id, rejection.code, rejection.text))
            return
        session.send(msg.error(order_id, 202, "Order Canceled - reason:"))

    def _open_orders(self, session: _Session, f: Fields, *, everyone: bool = False) -> None:
        for order in self.book.open_orders(None if everyone else session.client_id):
            session.send(msg.open_order(order))
            session.send(msg.order_status(order))
        session.send([53, 1])

    def _completed_orders(self, session: _Session, f: Fields) -> None:
        for order in self.book.completed_orders():
            session.send(msg.completed_order(order))
        session.send([102])

    def _executions(self, session: _Session, f: Fields) -> None:
        req_id, client_filter = int(f[2]), int(f[3] or 0)
        for execution in self.book.executions:
            if client_filter and execution.order.client_id != client_filter:
                continue
            session.send(msg.exec_details(req_id, execution))
            session.send(msg.commission_report(execution))
        session.send([55, 1, req_id])

    def _positions(self, session: _Session, f: Fields) -> None:
        for (account, con_id), _ in sorted(self.book.positions.items()):
            quantity, avg_cost = self.book.position(account, con_id)
            if quantity:
                session.send(msg.position(account, self.master.securities[con_id], quantity, avg_cost))
        session.send([62, 1])

    def _account_values(self, account: str) -> list[tuple[str, object, str]]:
        cash = self.book.cash.get(account, Decimal(0))
        return [("AccountCode", account, ""), ("TotalCashValue", cash, "USD"), ("CashBalance", cash, "USD"),
                ("NetLiquidation", cash, "USD"), ("Currency", "USD", "USD")]

    def _account_updates(self, session: _Session, f: Fields) -> None:
        account = f[3] or self.accounts[0]
        for key, value, currency in self._account_values(account):
            session.send([6, 2, key, value, currency, account])
        now = datetime.fromtimestamp(self.market.now_ns / 1e9, UTC)
        session.send([8, 1, now.strftime("%H:%M")])
        session.send([54, 1, account])

    def _account_updates_multi(self, session: _Session, f: Fields) -> None:
        req_id, account = int(f[2]), f[3]
        for key, value, currency in self._account_values(account or self.accounts[0]):
            session.send([73, 1, req_id, account, "", key, value, currency])
        session.send([74, 1, req_id])

    def _ids(self, session: _Session, f: Fields) -> None:
        session.send([9, 1, max(self._next_ids.get(session.client_id, 1), 1)])

    def _current_time(self, session: _Session, f: Fields) -> None:
        session.send([49, 1, self.market.now_ns // 1_000_000_000])

    def _global_cancel(self, session: _Session, f: Fields) -> None:
        self.book.cancel_all()

    def _realtime_bars(self, session: _Session, f: Fields) -> None:
        session.send(
            msg.error(int(f[2]), 354, "Requested market data is not subscribed: this server replays recorded "
                      "one-minute bars (use reqHistoricalData with keepUpToDate)")
        )

    # --- order events (OrderListener) ------------------------------------------------------------
    def _owner(self, client_id: int) -> list[_Session]:
        return [s for s in self._ready_sessions() if s.client_id in (client_id, 0)]

    def order_changed(self, order: FakeOrder) -> None:
        for session in self._owner(order.client_id):
            if order.status in ("PreSubmitted", "Submitted"):
                session.send(msg.open_order(order))
            session.send(msg.order_status(order))

    def executed(self, execution: Execution) -> None:
        for session in self._owner(execution.order.client_id):
            session.send(msg.exec_details(-1, execution))
            session.send(msg.order_status(execution.order))
            session.send(msg.commission_report(execution))


def _ignore(server: IbGatewayServer, session: _Session, f: Fields) -> None:
    del server, session, f


_HANDLERS: dict[int, Any] = {
    1: IbGatewayServer._market_data,
    2: IbGatewayServer._cancel_market_data,
    3: IbGatewayServer._place,
    4: IbGatewayServer._cancel,
    5: IbGatewayServer._open_orders,
    6: IbGatewayServer._account_updates,
    7: IbGatewayServer._executions,
    8: IbGatewayServer._ids,
    9: IbGatewayServer._contract_details,
    15: _ignore,  # reqAutoOpenOrders
    16: lambda server, session, f: server._open_orders(session, f, everyone=True),
    20: IbGatewayServer._historical,
    25: IbGatewayServer._cancel_historical,
    49: IbGatewayServer._current_time,
    50: IbGatewayServer._realtime_bars,
    58: IbGatewayServer._global_cancel,
    59: _ignore,  # reqMarketDataType
    61: IbGatewayServer._positions,
    64: _ignore,  # cancelPositions
    76: IbGatewayServer._account_updates_multi,
    99: IbGatewayServer._completed_orders,
}


def _decimal(text: str) -> Decimal | None:
    if not text or text in ("1.7976931348623157E308", "1.7976931348623157e+308"):
        return None
    return Decimal(text)


def _bar_seconds(text: str) -> int:
    count, _, unit = text.strip().partition(" ")
    scale = {"sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600, "day": 86400}.get(unit)
    if scale is None:
        raise ValueError(f"bar size {text!r} is not understood")
    return int(count) * scale


def _duration_ns(text: str) -> int:
    count, _, unit = text.strip().partition(" ")
    scale = {"S": 1, "D": 86_400, "W": 7 * 86_400}.get(unit.upper())
    if scale is None:
        raise ValueError(f"duration {text!r} is not understood (use N S, N D or N W)")
    return int(count) * scale * 1_000_000_000
