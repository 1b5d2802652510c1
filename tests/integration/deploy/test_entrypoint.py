"""The image's entrypoint (deploy/entrypoint.sh, as the Dockerfile's ENTRYPOINT names it), run on this host:
it waits for the store, restores a backup into an empty store (backup → wipe → restore gives the same state,
on SQLite and PostgreSQL), never overwrites a store that holds state, refuses to start a node when the
backup it was told to restore is missing, and gives up on a database that never answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from tradewright.store import SqlStateStore, StoreConfig
from tradewright.store.backup import backup
from tradewright.store.engine import make_engine

from ..store.conftest import BACKENDS, _url_for
from ..store.test_backup import dump, populate
from .image import stages

ENTRYPOINT = Path(__file__).resolve().parents[3] / "deploy" / "entrypoint.sh"


@pytest.fixture(params=BACKENDS)
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """A store to back up and an empty database to restore into, on the backend under test."""
    urls = []
    for name in ("source", "target"):
        (tmp_path / name).mkdir()
        gen = _url_for(str(request.param), tmp_path / name)
        urls.append(next(gen))
        request.addfinalizer(lambda gen=gen: next(gen, None))  # type: ignore[misc]
    return urls[0], urls[1]


def entrypoint(*args: str, env: dict[str, str], timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint as the container would: `sh entrypoint.sh ARGS` with `tradewright` on PATH."""
    assert stages()[-1].last("ENTRYPOINT") == '["tradewright-entrypoint"]'
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT", "PYTEST"))}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


def test_a_backup_restores_into_an_empty_store_before_the_command_runs(
    two_urls: tuple[str, str], tmp_path: Path
) -> None:
    source, target = two_urls
    store = SqlStateStore(StoreConfig(url=source))
    populate(store)
    before = store.load_state()
    store.close()
    archive = tmp_path / "store.twb.gz"
    backup(make_engine(StoreConfig(url=source)), archive)

    env = {"TRADEWRIGHT_STORE_URL": target, "TRADEWRIGHT_RESTORE_FROM": str(archive)}
    done = entrypoint("api", "user", "list", env=env)

    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout and "from " + str(archive) in done.stdout
    assert dump(target) == dump(source)
    again = SqlStateStore(StoreConfig(url=target))
    try:
        after = again.load_state()
        assert after.balances == before.balances and set(after.orders) == set(before.orders)
        assert {i: p.quantity for i, p in after.positions.items()} == {
            i: p.quantity for i, p in before.positions.items()
        }
    finally:
        again.close()

    # A second start (the container restarted) finds the store holding state and leaves it alone.
    again = SqlStateStore(StoreConfig(url=target))
    again.end_run("run-1", ended_ns=200, exit_status="ok")  # the store moves on after the restore
    again.close()
    moved_on = dump(target)
    done = entrypoint("api", "user", "list", env=env)
    assert done.returncode == 0, done.stderr
    assert "is not restored" in done.stdout
    assert dump(target) == moved_on


def test_a_missing_backup_stops_the_start_and_leaves_the_store_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    env = {"TRADEWRIGHT_STORE_URL": url, "TRADEWRIGHT_RESTORE_FROM": str(tmp_path / "nope.twb.gz")}

    done = entrypoint("api", "user", "list", env=env)

    assert done.returncode == 2
    assert "does not exist; the store is empty and is left so" in done.stderr
    assert "Traceback" not in done.stderr
    engine = make_engine(StoreConfig(url=url))
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_without_a_backup_the_entrypoint_creates_the_schema_and_runs_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'store.sqlite'}"

    done = entrypoint("api", "user", "list", env={"TRADEWRIGHT_STORE_URL": url})

    assert done.returncode == 0, done.stderr
    assert "schema upgraded empty -> " in done.stdout


def test_a_database_that_never_answers_fails_the_start_with_the_reason() -> None:
    url = "postgresql+psycopg://tradewright@127.0.0.1:1/tradewright"

    done = entrypoint(
        "live", "/nonexistent.toml", env={"TRADEWRIGHT_STORE_URL": url, "TRADEWRIGHT_STORE_WAIT_S": "2"}
    )

    assert done.returncode == 2
    assert "the store did not answer within 2 s" in done.stderr
    assert "Traceback" not in done.stderr


def test_commands_that_do_not_need_the_store_run_without_it(tmp_path: Path) -> None:
    done = entrypoint("--version", env={"TRADEWRIGHT_STORE_URL": "postgresql+psycopg://x@127.0.0.1:1/x"})

    assert done.returncode == 0 and done.stdout.startswith("tradewright ")
