"""`tradewright sweep`: 12 configurations ranked on local processes, resumable after a killed worker or a
killed sweep; bad grids refused before any backtest starts; the same tables from Ray (`--ray local` and
`--ray ADDRESS`) and from an Optuna search on either.

Ray is slow to start (seconds) and heavy (about ten processes), so its tests live here, next to the
local runs they are compared with, and share one cluster (`cluster`); one test starts its own with
`--ray local`. Token authentication is off for these throwaway clusters (RAY_AUTH_MODE=disabled, as
the dependency study advises for local tests); `--ray local` outside tests keeps Ray's default.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.research.builders import grid_args, tradewright, write_config, write_slice
from tests.integration.research.ray_place import RayPlace
from tradewright.cli.main import main


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    return write_config(folder, write_slice(folder / "slice.parquet", 30))


@pytest.fixture(scope="module")
def finished(config: Path) -> Path:
    """The 12-configuration sweep, run once to the end on two local processes."""
    out = config.parent / "full"
    result = tradewright(
        "sweep", str(config), *grid_args(), "--workers", "2", "--out", str(out), cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    return out


def _table(folder: Path) -> list[dict[str, str]]:
    with (folder / "results.csv").open() as fh:
        return list(csv.DictReader(fh))


def _lines(folder: Path) -> list[str]:
    path = folder / "results.jsonl"
    return path.read_text().splitlines() if path.exists() else []


def test_sweep_runs_12_configurations_and_ranks_them_by_the_metric(finished: Path) -> None:
    rows = _table(finished)
    assert len(rows) == 12
    offsets = {r["strategy.params.offset_ticks"] for r in rows}
    limits = {r["strategy.params.max_position"] for r in rows}
    assert offsets == {"0", "1", "2", "3"} and limits == {"0.004", "0.006", "0.010"}
    sharpe = [float(r["sharpe"]) for r in rows]
    assert sharpe == sorted(sharpe, reverse=True)
    assert [int(r["rank"]) for r in rows] == list(range(1, 13))
    assert all(r["status"] == "ok" for r in rows)
    for r in rows:
        run = finished / "runs" / r["trial"]
        assert (run / "report.html").stat().st_size > 0
        # The run's config.toml is what ran: the grid point applied, and it reads back as such.
        assert f"offset_ticks = {r['strategy.params.offset_ticks']}" in (run / "config.toml").read_text()
    assert len(_lines(finished)) == 12


def test_rerunning_a_finished_sweep_runs_nothing_and_keeps_every_run(finished: Path, config: Path) -> None:
    stamps = {p: p.stat().st_mtime_ns for p in (finished / "runs").glob("*/fills.csv")}
    result = tradewright(
        "sweep", str(config), *grid_args(), "--workers", "2", "--out", str(finished), cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    assert "0 trial(s) to run, 12 already done" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert len(_lines(finished)) == 12


def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append((int(stat.parent.name), cmdline))
    return out


def _start_sweep(config: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradewright.cli.main",
            "sweep",
            str(config),
            *grid_args(),
            "--workers",
            "2",
            "--out",
            str(out),
        ],
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_lines(out: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = _lines(out)
        if len(lines) >= n:
            return lines
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"fewer than {n} results after {timeout} s")


def test_killing_a_worker_mid_sweep_loses_no_finished_result(config: Path, finished: Path) -> None:
    out = config.parent / "killed-worker"
    proc = _start_sweep(config, out)
    try:
        before = _wait_for_lines(out, 2, proc)
        workers = [
            pid for pid, cmd in _children(proc.pid) if "spawn_main" in cmd and "resource_tracker" not in cmd
        ]
        assert workers, _children(proc.pid)
        os.kill(workers[0], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, stderr
    assert "a worker process died" in stderr
    after = _lines(out)
    assert after[: len(before)] == before, "results written before the kill are untouched"
    assert len({json.loads(line)["trial"] for line in after}) == 12
    assert _table(out) == _table(finished)


def test_a_killed_sweep_resumes_from_its_finished_results(config: Path, finished: Path) -> None:
    out = config.parent / "killed-sweep"
    proc = _start_sweep(config, out)
    try:
        _wait_for_lines(out, 3, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-flight
        proc.wait()
    done = {json.loads(line)["trial"] for line in _lines(out)}
    assert 3 <= len(done) < 12
    result = tradewright(
        "sweep", str(config), *grid_args(), "--workers", "2", "--out", str(out), cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    assert f"{12 - len(done)} trial(s) to run, {len(done)} already done" in result.stderr
    assert _table(out) == _table(finished), "a resumed sweep gives the same table as an uninterrupted one"
    assert not list((out / "runs").glob(".*partial*"))


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("strategy.params.ofset_ticks=0,1", "unknown config key `strategy.params.ofset_ticks`"),
        ("venue.queue_powr=1,2", "unknown config key `venue.queue_powr`"),
        (
            "strategy.params.offset_ticks=-1..2",
            "--grid strategy.params.offset_ticks=-1: invalid value for `strategy.params.offset_ticks`",
        ),
        ('strategy.params.size="0.002","0.0025"', 'strategy.params.size="0.0025"'),
        ('strategy.params.max_position="0.001"', "must be >= size"),
        ("venue.order_latency_us=0,-5", "--grid venue.order_latency_us=-5"),
        ("venue.queue_model=power,fifo", '--grid venue.queue_model="fifo"'),
        ("data.paths=x", "data.paths cannot be swept"),
        ("strategy.params.offset_ticks", "--grid expects KEY=VALUES"),
    ],
)
def test_a_bad_grid_fails_before_any_backtest_naming_it(
    config: Path, grid: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = config.parent / "bad"
    # In-process (the command line's own entry point), to keep these quick.
    code = main(
        ["sweep", str(config), "--grid", "venue.queue_power=2.0,3.0", "--grid", grid, "--out", str(out)]
    )
    stderr = capsys.readouterr().err
    assert code == 2, stderr
    assert message in stderr
    assert stderr.startswith("error: ") and "Traceback" not in stderr
    assert not out.exists(), "nothing was run or written"


def test_a_size_off_the_lot_grid_is_refused_before_any_backtest(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = config.parent / "offgrid"
    code = main(["sweep", str(config), "--grid", 'strategy.params.size="0.002","0.0025"', "--out", str(out)])
    stderr = capsys.readouterr().err
    assert code == 2
    assert 'grid point strategy.params.size="0.0025": ' in stderr
    assert "not a multiple of the lot size 0.001" in stderr
    assert not out.exists()


OPTUNA = [
    "--grid",
    "strategy.params.offset_ticks=0..5",
    "--grid",
    'strategy.params.max_position="0.004","0.010"',
    "--optuna",
    "4",
    "--workers",
    "2",
    "--seed",
    "3",
    "--metric",
    "net_pnl",
]


@pytest.fixture(scope="module")
def optuna_local(config: Path) -> Path:
    out = config.parent / "optuna"
    result = tradewright("sweep", str(config), *OPTUNA, "--out", str(out), cwd=config.parent)
    assert result.returncode == 0, result.stderr
    return out


def test_optuna_search_runs_n_trials_ranked_and_a_rerun_replays_them_from_disk(
    config: Path, optuna_local: Path
) -> None:
    rows = _table(optuna_local)
    assert 1 <= len(rows) <= 4
    pnl = [float(r["net_pnl"]) for r in rows]
    assert pnl == sorted(pnl, reverse=True)
    again = tradewright("sweep", str(config), *OPTUNA, "--out", str(optuna_local), cwd=config.parent)
    assert again.returncode == 0, again.stderr
    assert _table(optuna_local) == rows
    assert "ran 0," in again.stdout, "the same seed replays the same trials, taken from results.jsonl"


# --- Ray ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def place() -> Iterator[RayPlace]:
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[test]')")
    tmp = tempfile.mkdtemp(prefix="twray-")  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_TMPDIR": tmp, "RAY_USAGE_STATS_ENABLED": "0"}
    place = RayPlace(env)
    yield place
    place.stop_head()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(place: RayPlace) -> str:
    return place.start_head()


def test_ray_local_gives_the_same_12_row_table_as_local_processes(
    config: Path, place: RayPlace, finished: Path
) -> None:
    out = config.parent / "ray-local"
    result = place.run(
        "sweep",
        str(config),
        *grid_args(),
        "--ray",
        "local",
        "--workers",
        "2",
        "--out",
        str(out),
        cwd=config.parent,
    )
    assert result.returncode == 0, result.stderr
    assert "on Ray (local cluster, 2 at a time)" in result.stderr
    assert (out / "results.csv").read_bytes() == (finished / "results.csv").read_bytes()
    assert len(_table(out)) == 12


def test_a_sweep_on_a_running_ray_cluster_gives_the_same_table(
    config: Path, place: RayPlace, cluster: str, finished: Path
) -> None:
    out = config.parent / "ray-address"
    result = place.run(
        "sweep", str(config), *grid_args(), "--ray", cluster, "--out", str(out), cwd=config.parent
    )
    assert result.returncode == 0, result.stderr
    assert f"on Ray ({cluster}, 2 at a time)" in result.stderr
    assert (out / "results.csv").read_bytes() == (finished / "results.csv").read_bytes()


def test_an_optuna_search_on_ray_makes_the_same_choices_as_on_local_processes(
    config: Path, place: RayPlace, cluster: str, optuna_local: Path
) -> None:
    out = config.parent / "optuna-ray"
    result = place.run("sweep", str(config), *OPTUNA, "--ray", cluster, "--out", str(out), cwd=config.parent)
    assert result.returncode == 0, result.stderr
    assert (out / "results.csv").read_bytes() == (optuna_local / "results.csv").read_bytes()
