"""IB start-up failures stop with a message that says what to fix; orders the gateway refuses, modifies
and cancels map onto our events; contracts resolve by CME's roll rule on the gateway's date."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import pytest

from tests.venues.ib.harness import config, gateway, venue
from tests.venues.kit import Book, command, until
from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError, VenueError
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderRejected, OrderUpdated
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.ib import IbConfig, IbInstrumentConfig, connect, credentials

D = Decimal


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hooks(book: Book) -> VenueHooks:
    return VenueHooks(clock=LiveClock(), emit=book.emit)


def test_an_unreachable_gateway_stops_the_start_naming_the_address_and_the_usual_ports() -> None:
    port = free_port()
    with pytest.raises(VenueError) as err:
        asyncio.run(connect(config(port), Credentials("Interactive Brokers", {}), hooks(Book())))
    message = str(err.value)
    assert f"cannot reach TWS / IB Gateway at 127.0.0.1:{port}" in message
    assert "IB Gateway paper 4002" in message and "Enable ActiveX and Socket Clients" in message


def test_a_client_id_in_use_is_refused_with_what_to_change() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server, client_id=5):
            with pytest.raises(ConfigError, match=r"client id 5 is already in use at 127\.0\.0\.1"):
                cfg = config(server.port, client_id=5, connect_timeout_s=0.5)
                await connect(cfg, Credentials("Interactive Brokers", {}), hooks(Book()))

    asyncio.run(scenario())


def test_an_account_the_gateway_does_not_manage_is_refused_without_printing_it_whole() -> None:
    async def scenario() -> None:
        async with gateway() as server:
            creds = Credentials("Interactive Brokers", {"account": "U9876543"})
            with pytest.raises(ConfigError) as err:
                await connect(config(server.port), creds, hooks(Book()))
            assert "does not manage the configured account U9…43" in str(err.value)
            assert "U9876543" not in str(err.value) and "DU…67" in str(err.value)

    asyncio.run(scenario())


def test_an_account_read_from_an_unset_environment_variable_is_named() -> None:
    cfg = IbConfig(account_env="IB_ACCOUNT_FOR_TEST", instruments=[IbInstrumentConfig(symbol="ES")])
    with pytest.raises(ConfigError, match="set IB_ACCOUNT_FOR_TEST in the environment"):
        credentials(cfg, environ={})
    assert credentials(cfg, environ={"IB_ACCOUNT_FOR_TEST": "DU1234567"}).get("account") == "DU1234567"


def test_futures_resolve_to_the_front_month_on_the_gateways_date_and_unknown_ones_are_refused() -> None:
    async def scenario() -> None:
        async with gateway() as server:
            instruments = [IbInstrumentConfig(symbol="MNQ"), IbInstrumentConfig(symbol="ES", contract_month="202406")]
            async with venue(server, instruments=instruments) as (v, _):
                assert sorted(str(i) for i in v.instruments) == ["ESM4.IB", "MNQH4.IB"]
                mnq = v.instruments[next(i for i in v.instruments if i.symbol == "MNQH4")]
                assert (mnq.tick_size, mnq.multiplier, mnq.expiry_ns) == (D("0.25"), D(2), 1710509400000000000)
            with pytest.raises(ConfigError, match="IB knows no contract for FUT NQ 203012"):
                async with venue(server, instruments=[IbInstrumentConfig(symbol="NQ", contract_month="203012")]):
                    pass
            with pytest.raises(ConfigError, match="no expiry or roll rule for futures root 'CL'"):
                async with venue(server, instruments=[IbInstrumentConfig(symbol="CL")]):
                    pass

    asyncio.run(scenario())


def test_an_order_the_gateway_rejects_ends_rejected_with_ibs_code_and_text() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server) as (v, book):
            (iid,) = v.instruments
            server.reject_next_order(201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED BECAUSE OF MARGIN")
            order = book.new_order(command("X1", iid, OrderSide.BUY, "1"))
            v.execution.submit(order)
            await until(lambda: order.status is OrderStatus.REJECTED, what="the rejection")
            (rejected,) = book.of(OrderRejected)
            assert rejected.reason == "ib_201" and "MARGIN" in rejected.message

    asyncio.run(scenario())


def test_a_resting_limit_is_moved_in_place_and_reported_as_updated() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server) as (v, book):
            (iid,) = v.instruments
            resting = book.new_order(command("L1", iid, OrderSide.BUY, "2", "1.05000"))
            v.execution.submit(resting)
            await until(lambda: resting.status is OrderStatus.ACCEPTED, what="the ack")
            v.execution.modify(resting, D("1.05500"), D("3"))
            await until(lambda: resting.quantity == 3, what="the modify")
            (update,) = book.of(OrderUpdated)
            assert (update.quantity, update.price) == (D(3), D("1.05500"))
            assert [o.lmt for o in server.book.open_orders()] == [D("1.05500")]

    asyncio.run(scenario())


def test_orders_while_the_gateway_is_unreachable_are_refused_at_once_and_never_sent() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server) as (v, book):
            (iid,) = v.instruments
            await v.session.close()  # as if the gateway went away and no reconnect has happened yet
            order = book.new_order(command("Y1", iid, OrderSide.BUY, "1"))
            v.execution.submit(order)
            assert order.status is OrderStatus.REJECTED and book.of(OrderRejected)[0].reason == "venue_disconnected"
            assert server.book.orders == {}

    asyncio.run(scenario())


def test_a_wider_spread_at_the_gateway_shows_in_the_one_level_book() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server) as (v, _):
            (iid,) = v.instruments
            books: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] = []
            task = asyncio.create_task(v.market_data.run_book(iid, lambda i, b, a: books.append((b, a))))
            await until(lambda: bool(books), what="a quote")
            server.set_spread(4)
            await until(lambda: books[-1][1][0][0] - books[-1][0][0][0] == 4, what="the wide quote")
            task.cancel()

    asyncio.run(scenario())


def test_a_burst_of_orders_is_paced_under_ibs_fifty_messages_a_second() -> None:
    async def scenario() -> None:
        async with gateway() as server, venue(server) as (v, book):
            (iid,) = v.instruments
            orders = [book.new_order(command(f"P{i}", iid, OrderSide.BUY, "1", "1.05000")) for i in range(120)]
            for order in orders:
                v.execution.submit(order)
            await until(lambda: all(o.status is OrderStatus.ACCEPTED for o in orders), timeout_s=15, what="every ack")
            assert server.requests[3] == 120  # every order reached the gateway once
            assert not [e for e in v.session._errors if e[1] == 100], "the gateway saw more than 50 messages a second"

    asyncio.run(scenario())
