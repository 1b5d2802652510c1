"""The soak, shortened for CI: bench/soak.py runs a live node on the emulator with random faults for
$TRADEWRIGHT_SOAK_S seconds (60 here by default; the bench's own default is 30 minutes), then checks that
the store equals the venue and that memory and open descriptors stopped growing after the warm-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_a_soak_with_random_faults_ends_equal_to_the_venue_without_growing() -> None:
    seconds = os.environ.get("TRADEWRIGHT_SOAK_S", "60")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT_", "BINANCE_"))}
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "soak.py"),
            "--seconds",
            seconds,
            "--fault-every",
            "4",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=float(seconds) + 300,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result, indent=1))  # the figures, in the test log

    assert result["problems"] == [], result["problems"]
    assert done.returncode == 0
    assert sum(result["faults_armed"].values()) >= float(seconds) / 4 - 1
    assert result["venue_orders"] > 0 and result["samples"] >= 4
