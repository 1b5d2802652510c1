"""A tiny but realistic run folder, written by hand in the documented format (docs/architecture.md,
"Run outputs"), and a builder to vary or damage it for tests.

The run: a market maker on BTCUSDT-PERP.BINANCE (linear, multiplier 1) with 10 000 USDT, maker fee
1 bp, taker fee 5 bps, starting at T0 = 2023-11-14T22:13:20Z. Equity is sampled each second for 7 s,
then every 10 s until T0 + 65 s, plus one row per fill.

    fill  time     order  side  qty  price   liq    fee       mid then  position after  realised after
    F1    +1.5 s   O1     BUY   2    99.95   MAKER  0.01999   99.97      2               0
    F2    +3.2 s   O2     SELL  1    100.03  MAKER  0.010003  100.01     1               0.08
    F3    +4.5 s   O3     SELL  2    100.00  TAKER  0.1       100.01    -1 (a flip)      0.13
    F4    +6.0 s   O4     BUY   1    100.02  MAKER  0.010002  100.03     0               0.11

Worked by hand: spread captured 0.04 + 0.02 − 0.02 + 0.01 = 0.05; fees 0.139995; inventory PnL
2×(−0.01) + 2×0.02 + 2×0.03 + 0.01 − 0.01 − 0.02 = 0.06; equity 10000 → 9999.970005, a change of
−0.029995 = 0.05 − 0.139995 + 0.06.
"""

from __future__ import annotations

import json
from pathlib import Path

T0 = 1_700_000_000_000_000_000
S = 1_000_000_000

CONFIG_TOML = """\
[run]
name = "tiny_mm"
seed = 7
equity_sample_ms = 1000

[data]
paths = ["../data/binance/btcusdt_20231114.jsonl.gz"]
format = "binance"

[account]
starting_balance = "10000"

[strategy]
path = "symmetric_mm.py"
class = "SymmetricMarketMaker"
id = "MM"

[strategy.params]
size = "1"
max_position = "2"
"""

SUMMARY = {
    "instrument": "BTCUSDT-PERP.BINANCE",
    "orders": 8,
    "orders_denied": 1,
    "orders_rejected": 1,
    "fills": 4,
    "maker_volume": "4",
    "taker_volume": "2",
    "fees": "0.139995",
    "realized_pnl": "0.11",
    "unrealized_pnl": "0",
    "net_pnl": "-0.029995",
    "starting_balance": "10000",
    "final_equity": "9999.970005",
    "final_position": "0",
    "max_abs_inventory": "2",
    "settle_currency": "USDT",
}

ORDERS_CSV = """\
client_order_id,instrument_id,side,order_type,time_in_force,post_only,reduce_only,price,quantity,status,filled_qty,avg_px,fees,ts_init_ns,ts_last_ns,reason
O1,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,99.95,2,FILLED,2,99.95,0.01999,1700000000000000000,1700000001500000000,
O2,BTCUSDT-PERP.BINANCE,SELL,LIMIT,GTC,1,0,100.03,1,FILLED,1,100.03,0.010003,1700000000000000000,1700000003200000000,
O6,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,99.90,3,CANCELED,0,,0,1700000001500000000,1700000007000000000,strategy stopped
O7,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,99.50,1,DENIED,0,,0,1700000002000000000,1700000002000000000,max_position
O8,BTCUSDT-PERP.BINANCE,SELL,LIMIT,GTC,1,0,99.97,1,REJECTED,0,,0,1700000002500000000,1700000002500000000,post-only order would cross
O5,BTCUSDT-PERP.BINANCE,SELL,LIMIT,GTC,1,0,100.08,1,CANCELED,0,,0,1700000003200000000,1700000007000000000,strategy stopped
O3,BTCUSDT-PERP.BINANCE,SELL,MARKET,IOC,0,0,,2,FILLED,2,100.00,0.1,1700000004500000000,1700000004500000000,
O4,BTCUSDT-PERP.BINANCE,BUY,LIMIT,GTC,1,0,100.02,1,FILLED,1,100.02,0.010002,1700000005000000000,1700000006000000000,
"""

FILLS_CSV = """\
ts_event_ns,ts_iso,client_order_id,venue_order_id,trade_id,instrument_id,side,price,quantity,liquidity,fee,fee_currency,position_after,realized_pnl_after
1700000001500000000,2023-11-14T22:13:21.500000Z,O1,1,BINANCE-1,BTCUSDT-PERP.BINANCE,BUY,99.95,2,MAKER,0.01999,USDT,2,0
1700000003200000000,2023-11-14T22:13:23.200000Z,O2,2,BINANCE-2,BTCUSDT-PERP.BINANCE,SELL,100.03,1,MAKER,0.010003,USDT,1,0.08
1700000004500000000,2023-11-14T22:13:24.500000Z,O3,3,BINANCE-3,BTCUSDT-PERP.BINANCE,SELL,100.00,2,TAKER,0.1,USDT,-1,0.13
1700000006000000000,2023-11-14T22:13:26.000000Z,O4,4,BINANCE-4,BTCUSDT-PERP.BINANCE,BUY,100.02,1,MAKER,0.010002,USDT,0,0.11
"""

EQUITY_CSV = """\
ts_ns,ts_iso,mid,best_bid,best_ask,own_bid,own_ask,position,cash,equity,realized_pnl,unrealized_pnl,fees
1700000000000000000,2023-11-14T22:13:20.000000Z,100.00,99.99,100.01,99.95,100.03,0,10000,10000,0,0,0
1700000001000000000,2023-11-14T22:13:21.000000Z,100.00,99.99,100.01,99.95,100.03,0,10000,10000,0,0,0
1700000001500000000,2023-11-14T22:13:21.500000Z,99.97,99.96,99.98,99.90,100.03,2,9800.08001,10000.02001,0,0.04,0.01999
1700000002000000000,2023-11-14T22:13:22.000000Z,99.96,99.95,99.97,99.90,100.03,2,9800.08001,10000.00001,0,0.02,0.01999
1700000003000000000,2023-11-14T22:13:23.000000Z,99.98,99.97,99.99,99.90,100.03,2,9800.08001,10000.04001,0,0.06,0.01999
1700000003200000000,2023-11-14T22:13:23.200000Z,100.01,100.00,100.02,99.90,100.08,1,9900.100007,10000.110007,0.08,0.06,0.029993
1700000004000000000,2023-11-14T22:13:24.000000Z,100.02,100.01,100.03,99.90,100.08,1,9900.100007,10000.120007,0.08,0.07,0.029993
1700000004500000000,2023-11-14T22:13:24.500000Z,100.01,100.00,100.02,99.90,100.08,-1,10100.000007,9999.990007,0.13,-0.01,0.129993
1700000005000000000,2023-11-14T22:13:25.000000Z,100.03,100.02,100.04,100.02,100.08,-1,10100.000007,9999.970007,0.13,-0.03,0.129993
1700000006000000000,2023-11-14T22:13:26.000000Z,100.03,100.02,100.04,100.02,100.08,-1,10100.000007,9999.970007,0.13,-0.03,0.129993
1700000006000000000,2023-11-14T22:13:26.000000Z,100.03,100.02,100.04,99.90,100.08,0,9999.970005,9999.970005,0.11,0,0.139995
1700000007000000000,2023-11-14T22:13:27.000000Z,100.05,100.04,100.06,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000010000000000,2023-11-14T22:13:30.000000Z,100.04,100.03,100.05,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000020000000000,2023-11-14T22:13:40.000000Z,100.00,99.99,100.01,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000030000000000,2023-11-14T22:13:50.000000Z,99.98,99.97,99.99,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000040000000000,2023-11-14T22:14:00.000000Z,100.01,100.00,100.02,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000050000000000,2023-11-14T22:14:10.000000Z,100.02,100.01,100.03,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000060000000000,2023-11-14T22:14:20.000000Z,100.06,100.05,100.07,,,0,9999.970005,9999.970005,0.11,0,0.139995
1700000065000000000,2023-11-14T22:14:25.000000Z,100.10,100.09,100.11,,,0,9999.970005,9999.970005,0.11,0,0.139995
"""


class RunFolderBuilder:
    """Write the tiny run (or a variation of it) into a folder.

    Each file's text can be replaced, edited line by line (line 1 is the header) or left out, so a test
    states exactly how its run differs from the documented format.
    """

    def __init__(self) -> None:
        self.files: dict[str, str] = {
            "config.toml": CONFIG_TOML,
            "summary.json": json.dumps(SUMMARY, indent=2, sort_keys=True) + "\n",
            "orders.csv": ORDERS_CSV,
            "fills.csv": FILLS_CSV,
            "equity.csv": EQUITY_CSV,
            "events.jsonl": "",
            "report.html": "<!doctype html><title>tiny_mm</title>\n",
        }

    def with_text(self, name: str, text: str) -> RunFolderBuilder:
        self.files[name] = text
        return self

    def with_line(self, name: str, line: int, text: str) -> RunFolderBuilder:
        """Replace line `line` (1-based) of a file."""
        lines = self.files[name].splitlines(keepends=True)
        lines[line - 1] = text + "\n"
        self.files[name] = "".join(lines)
        return self

    def with_lines_appended(self, name: str, *lines: str) -> RunFolderBuilder:
        self.files[name] += "".join(line + "\n" for line in lines)
        return self

    def with_columns(self, name: str, header_suffix: str, cells: list[str]) -> RunFolderBuilder:
        """Append columns: `header_suffix` (e.g. ",tag_regime") to the header, then cells[i] to data row i."""
        header, *rows = self.files[name].splitlines()
        rows = [row + cell for row, cell in zip(rows, cells, strict=True)]
        self.files[name] = "\n".join([header + header_suffix, *rows]) + "\n"
        return self

    def truncated(self, name: str, drop_chars: int) -> RunFolderBuilder:
        """Cut the last `drop_chars` characters, as a write interrupted mid-row would."""
        self.files[name] = self.files[name][:-drop_chars]
        return self

    def without(self, name: str) -> RunFolderBuilder:
        del self.files[name]
        return self

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder
