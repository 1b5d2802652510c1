"""A backtest over two recorded markets at once (Binance spot and USD-M BTCUSDT, recorded side by side):
the cross-venue arbitrage sees both books in time order, its legs fill on their own venues, failed legs are
unwound, and the run folder says what each workflow did and earned."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data
from tradewright.backtest.multi_runner import build_multi_engine
from tradewright.backtest.runner import run_backtest
from tradewright.config.run import RunConfig, load_run_config
from tradewright.core.errors import ConfigError
from tradewright.data.loading import load_stream
from tradewright.model.columnar import MarketStream
from tradewright.runlog.workflow_ledger import WorkflowLedger

SPOT = "l2/hftbacktest/binance_spot_btcusdt_20240808.jsonl.gz"
PERP = "l2/hftbacktest/binance_usdm_btcusdt_20240808.jsonl.gz"
EXAMPLE = REPO / "examples" / "arb_spot_perp.toml"


def _config(**overrides: object) -> RunConfig:
    paths = [str(shared_data(SPOT)), str(shared_data(PERP))]
    return load_run_config(EXAMPLE, {"data.paths": paths, **overrides})


@pytest.fixture(scope="module")
def streams() -> list[MarketStream]:
    """The first 150 s of both recordings (from their snapshots: a book needs its start)."""
    out = []
    for rel in (SPOT, PERP):
        stream = load_stream([shared_data(rel)], fmt="binance")
        end = int(stream.ts_recv[0]) + 150 * 1_000_000_000
        out.append(stream.slice(0, int((stream.ts_recv <= end).sum())))
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _cash(rows: list[dict[str, str]]) -> Decimal:
    """Cash moved by fills (linear instruments): -side x price x size - fee."""
    total = Decimal(0)
    for r in rows:
        sign = 1 if r["side"] == "BUY" else -1
        total -= sign * Decimal(r["price"]) * Decimal(r["quantity"]) + Decimal(r["fee"])
    return total


@pytest.mark.slow
def test_arbitrage_backtest_reports_both_legs_compensations_and_realised_edge(tmp_path: Path) -> None:
    folder, summary = run_backtest(_config(), out=str(tmp_path / "run"))

    workflows = _read(folder / "workflows.csv")
    fills = _read(folder / "fills.csv")
    assert summary["workflows"] == len(workflows) > 0
    assert summary["workflows_completed"] > 0
    assert {f["instrument_id"] for f in fills} == {"BTCUSDT.BINANCE", "BTCUSDT-PERP.BINANCE"}
    for w in workflows:
        legs = w["legs"].split(" | ")
        assert len(legs) == 2
        mine = [f for f in fills if f["client_order_id"].startswith(w["workflow_id"] + "-")]
        # The realised edge is exactly the cash the workflow's own fills moved, fees included.
        assert Decimal(w["realized_edge_quote"]) == _cash(mine)
        base: dict[str, Decimal] = {}
        for f in mine:
            sign = 1 if f["side"] == "BUY" else -1
            base[f["instrument_id"]] = base.get(f["instrument_id"], Decimal(0)) + sign * Decimal(
                f["quantity"]
            )
        if w["status"] == "COMPLETED":
            # one buy and one sell of the same size, on the two markets: no net exposure was added
            assert {leg.split()[1] for leg in legs} == {"BUY", "SELL"}
            assert len(base) == 2 and sum(base.values()) == 0
        else:
            assert w["status"] == "COMPENSATED", w
            assert w["compensations"], "a compensated workflow names its compensation orders"
            assert sum(base.values()) == 0  # unwound: flat again
    # The inventory started delta-neutral; every workflow kept it so.
    positions = summary["instruments"]
    assert Decimal(positions["BTCUSDT.BINANCE"]["position"]) + Decimal(
        positions["BTCUSDT-PERP.BINANCE"]["position"]
    ) == Decimal(0)
    assert Decimal(summary["realized_edge_quote"]) == sum(
        Decimal(w["realized_edge_quote"]) for w in workflows
    )
    # Equity adds up exactly across both markets: equity - start = realised + unrealised - fees.
    last = _read(folder / "equity.csv")[-1]
    assert Decimal(summary["final_equity"]) == Decimal(last["equity"])
    assert Decimal(last["equity"]) - Decimal(summary["starting_balance"]) == Decimal(
        last["realized_pnl"]
    ) + Decimal(last["unrealized_pnl"]) - Decimal(last["fees"])


def _run(streams: list[MarketStream], config: RunConfig) -> tuple[list[tuple[str, ...]], WorkflowLedger]:
    engine = build_multi_engine(config, streams)
    ledger = WorkflowLedger(engine.kernel.instruments)
    engine.kernel.sinks.append(ledger)
    result = engine.run()
    return result.recorder.fills, ledger


def test_multi_instrument_backtest_is_deterministic(streams: list[MarketStream]) -> None:
    config = _config(**{"strategy.params.min_edge_bps": 0})
    fills_a, ledger_a = _run(streams, config)
    fills_b, ledger_b = _run(streams, config)
    assert fills_a, "the window holds opportunities at a zero threshold"
    assert fills_a == fills_b
    assert ledger_a.rows() == ledger_b.rows()


def test_legs_that_arrive_late_are_unwound_and_leave_no_exposure(streams: list[MarketStream]) -> None:
    # 40 ms to reach the venue: the books have moved by then, so some IOC legs find no price left.
    config = _config(**{"strategy.params.min_edge_bps": 0, "venue.order_latency_us": 40_000})
    _, ledger = _run(streams, config)
    ended = [r.state for r in ledger.records.values()]
    compensated = [s for s in ended if s.status.value == "COMPENSATED"]
    assert compensated, "some legs fell short at this latency"
    for state in compensated:
        held = state.held()
        assert sum(held.values()) == 0, f"{state.workflow_id} still holds {held}"
        assert all(c.reason for c in state.compensations)  # every compensation says why


def test_starting_position_on_an_instrument_without_a_recording_is_refused(
    streams: list[MarketStream],
) -> None:
    config = _config(**{"account.starting_positions": {"ETHUSDT-PERP.BINANCE": "1"}})
    with pytest.raises(ConfigError, match=r"ETHUSDT-PERP\.BINANCE"):
        build_multi_engine(config, streams)


def test_market_and_symbol_are_refused_for_several_instruments(tmp_path: Path) -> None:
    config = _config(**{"data.market": "spot", "data.symbol": "BTCUSDT"})
    with pytest.raises(ConfigError, match="each recording's own"):
        run_backtest(config, out=str(tmp_path / "run"))
