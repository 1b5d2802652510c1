"""Chart data for the report: drawing reductions keep what the eye needs, and the JSON embeds safely."""

from __future__ import annotations

import json

import numpy as np

from tradewright.analysis.charts import Series, TimeChart, downsample_minmax, encode_payload, histogram


def test_downsampling_keeps_every_bucket_extreme_and_the_global_ones() -> None:
    rng = np.random.default_rng(7)
    x = np.arange(200_000, dtype=np.float64)
    y = np.cumsum(rng.normal(size=x.size))
    y[123_456] = 1e6  # a spike
    xs, ys = downsample_minmax(x, y, 4_000)
    assert xs.size <= 4_000
    assert ys.max() == y.max() and ys.min() == y.min()
    assert np.all(np.diff(xs) > 0), "points stay in time order"
    assert 123_456.0 in xs


def test_downsampling_keeps_gaps_and_leaves_short_series_alone() -> None:
    x = np.arange(10_000, dtype=np.float64)
    y = np.where((x > 3_000) & (x < 6_000), np.nan, x)
    _, ys = downsample_minmax(x, y, 500)
    assert np.isnan(ys).any() and np.isfinite(ys).any()
    same_x, same_y = downsample_minmax(x[:100], y[:100], 500)
    assert same_x is x[:100].base or np.array_equal(same_x, x[:100])
    assert np.array_equal(same_y, y[:100])


def test_histogram_of_equal_values_has_one_bar_and_non_finite_values_are_left_out() -> None:
    edges, counts = histogram([2.0, 2.0, 2.0, float("nan")])
    assert counts.tolist() == [3.0] and edges[0] < 2.0 < edges[1]
    assert histogram([])[0].size == 0


def test_the_payload_cannot_close_its_script_element_and_has_no_nan() -> None:
    chart = TimeChart(
        "c",
        "</script><script>alert(1)</script>",
        "",
        (Series("s<!--", np.array([0.0, 1.0]), np.array([1.0, np.nan]), "#000"),),
    )
    text = encode_payload([chart], t0_ns=1_700_000_000_123_456_789)
    assert "<" not in text
    data = json.loads(text)
    assert data["charts"][0]["title"].startswith("</script>")
    assert data["charts"][0]["series"][0]["y"] == [1.0, None]
    assert data["t0Ms"] == 1_700_000_000_123 and abs(data["t0SubMs"] - 0.456789) < 1e-9
