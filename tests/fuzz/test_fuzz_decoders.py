"""Fuzz the live Binance decoders with mutations of real venue messages: each message is decoded (or
refused with a `VenueError` naming what is wrong) — no other exception, whatever it holds.

The decoders are the ones the live node runs on every venue message: ORDER_TRADE_UPDATE into events
(and the fill check of the order manager), REST orders, user trades, accounts, exchangeInfo symbols,
CCXT order books and public trades.
"""

from __future__ import annotations

import contextlib
import random
import traceback
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz import seeds
from tests.fuzz.conftest import CI, LONG, long_run
from tests.fuzz.mutate import Mutated, messages, mutate
from tests.fuzz.tally import Tally, reason_of
from tradewright.core.errors import VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.order_manager import fill_violation
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderType
from tradewright.model.orders import Order
from tradewright.testkit import make_instrument
from tradewright.venues.binance.parsing import (
    account_snapshot,
    book_update,
    decode,
    fill_from_trade,
    instrument_from_symbol,
    order_update,
    trade_tick,
    update_facts,
    venue_order,
)
from tradewright.venues.binance.schemas import AccountInfo, RestOrder, SymbolInfo, UserTrade

IID = InstrumentId.parse("BTCUSDT-PERP.BINANCE")
INST = make_instrument("BTCUSDT-PERP", "BINANCE", tick="0.01", lot="0.001")
ORDER = Order(
    SubmitOrder(
        ts_init=0,
        client_order_id=ClientOrderId("TEST"),
        strategy_id=StrategyId("S"),
        instrument_id=IID,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Decimal("0.010"),
        price=Decimal("7100.50"),
    )
)
Decoder = Callable[[Any], object]


def _order_update(value: Any) -> object:
    facts = update_facts(order_update(value), IID, 1, "USDT")
    if facts.fill is not None:  # what the order manager would then make of the fill: never an exception
        fill_violation(ORDER, facts.fill, INST)
    return facts


def _rest_order(value: Any) -> object:
    return venue_order(decode(RestOrder, value, "order answer"), IID)


def _user_trade(value: Any) -> object:
    return fill_from_trade(decode(UserTrade, value, "userTrades row"), ClientOrderId("TEST"), IID, 1)


def _account(value: Any) -> object:
    return account_snapshot(decode(AccountInfo, value, "account"), {"BTCUSDT": INST})


def _symbol(value: Any) -> object:
    return instrument_from_symbol(
        decode(SymbolInfo, value, "exchangeInfo symbol"),
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal("0.0005"),
    )


def _book(value: Any) -> object:
    return book_update(value, make_instrument("BTCUSDT-PERP", "BINANCE", tick="0.1", lot="0.001"), 20)


def _trade(value: Any) -> object:
    return trade_tick(value, INST, 1)


TARGETS: dict[str, list[tuple[str, Decoder, Callable[[], tuple[Any, ...]]]]] = {
    "order_updates": [("ORDER_TRADE_UPDATE", _order_update, seeds.order_update_seeds)],
    "rest_decoders": [
        ("REST order", _rest_order, seeds.rest_order_seeds),
        ("userTrades", _user_trade, seeds.user_trade_seeds),
        ("account", _account, seeds.account_seeds),
        ("exchangeInfo symbol", _symbol, seeds.symbol_seeds),
    ],
    "market_decoders": [
        ("order book (CCXT)", _book, seeds.book_seeds),
        ("public trade (CCXT)", _trade, seeds.trade_seeds),
    ],
}


def feed(decoder: Decoder, case: Mutated, tally: Tally) -> None:
    try:
        decoder(case.value)
    except VenueError as exc:
        tally.refuse(reason_of(str(exc)))
    except Exception:
        tally.crash(f"{case!r}\n{traceback.format_exc()}")
    else:
        tally.ok()


def run_bulk(group: str, n: int, make_tally: Callable[[str], Tally]) -> None:
    """`n` mutated messages spread over the group's decoders; case i is `mutate(seed, Random(i))`."""
    crashes: list[str] = []
    per = n // len(TARGETS[group]) + 1
    for name, decoder, seed_list in TARGETS[group]:
        pool = seed_list()
        tally = make_tally(f"{group}: {name}")
        case_no = 0
        while tally.messages < per:
            rnd = random.Random(f"{name}:{case_no}")
            case_no += 1
            case = mutate(rnd.choice(pool), rnd)
            if case.value is None:
                continue  # not JSON any more: a client's JSON parser drops it before any decoder
            feed(decoder, case, tally)
        crashes += tally.crashes
    assert not crashes, f"{len(crashes)} uncaught exceptions; the first:\n{crashes[0]}"


@pytest.mark.parametrize("group", list(TARGETS))
def test_live_decoders_refuse_every_mutated_message_cleanly(
    group: str, tally: Callable[[str], Tally]
) -> None:
    run_bulk(group, CI[group], tally)


@pytest.mark.slow
@long_run
@pytest.mark.parametrize("group", list(TARGETS))
def test_live_decoders_long_run(group: str, tally: Callable[[str], Tally]) -> None:
    run_bulk(group, LONG[group], tally)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=messages(seeds.order_update_seeds()))
def test_hypothesis_finds_no_order_update_that_escapes_the_decoder(case: Mutated) -> None:
    if case.value is None:
        return
    with contextlib.suppress(VenueError):
        _order_update(case.value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=messages(seeds.book_seeds()))
def test_hypothesis_finds_no_book_that_escapes_the_decoder(case: Mutated) -> None:
    if case.value is None:
        return
    with contextlib.suppress(VenueError):
        _book(case.value)
