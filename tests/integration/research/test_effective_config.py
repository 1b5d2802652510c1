"""The effective config a research run writes into its folder reads back as exactly what ran."""

from __future__ import annotations

import tomllib
from pathlib import Path

import msgspec
import pytest

from tests.conftest import REPO
from tradewright.config.effective import dump_toml, effective_config_text
from tradewright.config.run import load_run_config
from tradewright.core.errors import ConfigError

DEMO = REPO / "examples" / "demo_mm.toml"


def test_the_effective_config_loads_as_the_original_with_the_overrides(tmp_path: Path) -> None:
    overrides = {"strategy.params.offset_ticks": 2, "venue.queue_model": "log", "run.seed": 11}
    text = effective_config_text(DEMO, overrides, header="trial abc\n  offset_ticks = 2")
    assert text.startswith("# trial abc\n#   offset_ticks = 2\n")
    written = tmp_path / "elsewhere" / "config.toml"
    written.parent.mkdir()
    written.write_text(text)
    again = load_run_config(written)
    original = load_run_config(DEMO, overrides)
    # The same config wherever the file now lives: its paths were made absolute.
    for section in ("run", "venue", "account", "risk"):
        assert msgspec.to_builtins(getattr(again, section)) == msgspec.to_builtins(getattr(original, section))
    assert [again.resolve(p) for p in again.data.paths] == [original.resolve(p) for p in original.data.paths]
    assert again.data.format == original.data.format
    assert again.resolve(again.strategy.path) == original.resolve(original.strategy.path)
    assert again.strategy.class_name == original.strategy.class_name
    assert again.strategy.params == original.strategy.params
    assert again.strategy.params["offset_ticks"] == 2 and again.run.seed == 11


def test_environment_overrides_are_part_of_what_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWRIGHT__RUN__SEED", "99")
    assert tomllib.loads(effective_config_text(DEMO, {}, header=""))["run"]["seed"] == 99


def test_toml_writer_round_trips_nested_tables_arrays_and_awkward_strings() -> None:
    data = {
        "top": 1,
        "a": {"b": {"c": [1, 2.5, "x"], "inline": [{"k": True}]}, "empty": {}},
        "s": {"quote": 'say "hi"\n\ttab \\ back', "unicode": "µs", "key with space": 0.1},
        "risk": {"instruments": {"BTCUSDT-PERP.BINANCE": {"max_position_base": "0.1"}}},
    }
    assert tomllib.loads(dump_toml(data)) == data


def test_an_override_through_a_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="is a value, not a table"):
        effective_config_text(DEMO, {"run.seed.x": 1}, header="")
