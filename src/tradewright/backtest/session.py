"""Backtests from Python — a notebook or a script: load a config (or build one in code), change its
parameters, run it, and read the orders, fills and equity as pandas or Arrow tables. In Jupyter a
finished run displays its report inline.

    from tradewright import Backtest

    bt = Backtest.from_file("examples/demo_mm.toml").with_params(offset_ticks=1)
    run = bt.run()                      # the same run folder as `tradewright backtest`
    run.summary["net_pnl"]              # exact, as a string: "-28.28009172"
    fills = run.fills()                 # pandas DataFrame (money as Decimal); run.fills("arrow") for Arrow
    run                                 # in Jupyter: the report, inline

A `Backtest` is immutable: `with_params` and `with_overrides` return a new one, so variations of one
config can be kept side by side. Money columns are exact: `Decimal` in pandas, `decimal128` in Arrow.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tradewright.analysis.run_analysis import RunAnalysis, analyse_run
from tradewright.analysis.run_outputs import load_run
from tradewright.backtest.runner import run_backtest
from tradewright.config.effective import apply_overrides, dump_toml
from tradewright.config.loader import to_struct
from tradewright.config.run import RunConfig, load_run_config
from tradewright.core.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Backtest", "BacktestRun"]

# Columns of the run's CSV files that hold integers (nanosecond times, 0/1 flags); the money and
# quantity columns are exact decimals; the rest is text.
_INTEGER = frozenset({"ts_ns", "ts_event_ns", "ts_init_ns", "ts_last_ns", "post_only", "reduce_only"})
_TEXT = frozenset(
    {"ts_iso", "client_order_id", "venue_order_id", "trade_id", "instrument_id", "side", "order_type",
     "time_in_force", "status", "reason", "liquidity", "fee_currency", "tag_regime", "tag_reason"}
)  # fmt: skip
_TABLES = {"orders": "orders.csv", "fills": "fills.csv", "equity": "equity.csv"}


class Backtest:
    """A backtest ready to run: a validated config, and nothing run yet."""

    def __init__(
        self, config: RunConfig, *, overrides: Mapping[str, Any] | None = None, path: Path | None = None
    ):
        self.config = config
        self._overrides = dict(overrides or {})
        self._path = path

    @classmethod
    def from_file(cls, path: str | Path, **params: Any) -> Backtest:
        """Load a run config (TOML) like `tradewright backtest PATH`; `params` set `strategy.params.*`."""
        overrides = {f"strategy.params.{k}": v for k, v in params.items()}
        return cls(load_run_config(path, overrides or None), overrides=overrides, path=Path(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: str | Path = ".") -> Backtest:
        """Build a config in code: the same sections and keys as a TOML file (`docs/backtesting.md`);
        relative paths are read from `base_dir`."""
        raw = msgspec.json.decode(msgspec.json.encode(dict(data)))  # a deep copy of plain values
        for key in ("base_dir", "source_text"):
            if key in raw:
                raise ConfigError(f"unknown config key `{key}`")
        text = "# built in code with tradewright.Backtest.from_dict\n" + dump_toml(raw)
        config = to_struct(
            RunConfig, {**raw, "base_dir": str(Path(base_dir).resolve()), "source_text": text}, ""
        )
        if not config.data.paths:
            raise ConfigError("`data.paths` must name at least one recording")
        return cls(config)

    def with_params(self, **params: Any) -> Backtest:
        """A copy with strategy parameters changed, e.g. `with_params(offset_ticks=1, size="0.003")`."""
        return self.with_overrides({f"strategy.params.{k}": v for k, v in params.items()})

    def with_overrides(self, overrides: Mapping[str, Any]) -> Backtest:
        """A copy with any config keys changed, by dotted name: `{"venue.queue_model": "log"}`."""
        merged = {**self._overrides, **overrides}
        if self._path is not None:
            return Backtest(load_run_config(self._path, merged), overrides=merged, path=self._path)
        data = msgspec.to_builtins(self.config, enc_hook=str)
        base_dir = data.pop("base_dir")
        data.pop("source_text")
        return Backtest.from_dict(apply_overrides(_without_none(data), overrides), base_dir=base_dir)

    def run(
        self,
        out: str | Path | None = None,
        *,
        overwrite: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> BacktestRun:
        """Run it and write the run folder (`out`, else the config's `run.output_dir`; an existing run
        there is kept and this one goes beside it, unless `overwrite`)."""
        folder, summary = run_backtest(
            self.config, out=None if out is None else str(out), progress=progress, overwrite=overwrite
        )
        return BacktestRun(folder, summary)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.config.source_text)}</pre>"

    def __repr__(self) -> str:
        where = f"from {self._path}" if self._path is not None else "built in code"
        return f"Backtest({self.config.run.name!r}, {where}, overrides={self._overrides!r})"


class BacktestRun:
    """A finished run: its folder, its summary, its tables, its report."""

    def __init__(self, folder: str | Path, summary: dict[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        if summary is None:
            summary = msgspec.json.decode((self.folder / "summary.json").read_bytes())
        self.summary: dict[str, Any] = summary
        self._analysis: RunAnalysis | None = None

    @classmethod
    def open(cls, folder: str | Path) -> BacktestRun:
        """Open a run folder written earlier (by the CLI, a sweep, or `Backtest.run`)."""
        return cls(folder)

    def orders(self, kind: str = "pandas") -> Any:
        """orders.csv as a table: `kind` "pandas" (a DataFrame) or "arrow" (a pyarrow Table)."""
        return self._table("orders", kind)

    def fills(self, kind: str = "pandas") -> Any:
        """fills.csv as a table (see `orders`)."""
        return self._table("fills", kind)

    def equity(self, kind: str = "pandas") -> Any:
        """equity.csv as a table (see `orders`)."""
        return self._table("equity", kind)

    def analysis(self) -> RunAnalysis:
        """Every metric of the run (`tradewright.analysis.run_analysis.RunAnalysis`)."""
        if self._analysis is None:
            self._analysis = analyse_run(load_run(self.folder))
        return self._analysis

    def report_html(self) -> str:
        """The run's report page (self-contained HTML)."""
        return (self.folder / "report.html").read_text(encoding="utf-8")

    def _repr_html_(self) -> str:
        # The report in an iframe of its own, so its styles and scripts stay apart from the notebook's.
        page = html.escape(self.report_html(), quote=True)
        return (
            f'<iframe srcdoc="{page}" style="width:100%;height:900px;border:1px solid #ddd;border-radius:6px" '
            f'title="report of {html.escape(str(self.folder))}"></iframe>'
        )

    def __repr__(self) -> str:
        return f"BacktestRun({str(self.folder)!r}, net_pnl={self.summary.get('net_pnl')!r})"

    def _table(self, name: str, kind: str) -> Any:
        if kind not in ("pandas", "arrow"):
            raise ConfigError(f'kind must be "pandas" or "arrow", got {kind!r}')
        table = read_table(self.folder / _TABLES[name])
        if kind == "arrow":
            return table
        try:
            import pandas  # noqa: F401  (to_pandas needs it)
        except ModuleNotFoundError:
            raise ConfigError(
                'pandas is not installed: pip install pandas, or ask for kind="arrow"'
            ) from None
        return table.to_pandas()


def read_table(path: Path) -> pa.Table:
    """Read one of a run's CSV files as Arrow: integers as int64, money and sizes as exact decimal128."""
    import pyarrow as pa
    from pyarrow import csv

    with path.open(encoding="utf-8") as fh:
        names = fh.readline().strip().split(",")
    strings = csv.read_csv(
        path,
        convert_options=csv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=True
        ),
    )
    columns = []
    for name in names:
        column = strings.column(name).to_pylist()
        if name in _INTEGER:
            columns.append(pa.array([None if v is None else int(v) for v in column], pa.int64()))
        elif name in _TEXT:
            columns.append(pa.array(column, pa.string()))
        else:
            values = [None if v is None else Decimal(v) for v in column]
            columns.append(pa.array(values, _decimal_type(values)))
    return pa.table(dict(zip(names, columns, strict=True)))


def _decimal_type(values: list[Decimal | None]) -> Any:
    """The narrowest decimal128 that holds every value exactly (digits before and after the point)."""
    import pyarrow as pa

    present = [v for v in values if v is not None and v != 0]
    scale = max((max(0, -v.as_tuple().exponent) for v in present), default=0)  # type: ignore[operator]
    whole = max((max(1, v.adjusted() + 1) for v in present), default=1)
    if whole + scale > 38:
        raise ConfigError(f"a value needs {whole + scale} digits; Arrow's decimal128 holds 38")
    return pa.decimal128(whole + scale, scale)


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    """Drop unset (None) keys: TOML has no null, and an unset key takes its default anyway."""
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in data.items() if v is not None}
