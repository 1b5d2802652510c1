"""Every command block of README.md and docs/*.md runs, as a user would run it: piped, and under a
pseudo-terminal (where progress bars and status lines are drawn).

A command block is a fenced block tagged ``bash``. The blocks of one page run in order, in one working
folder that looks like a clone (README, docs, examples, data, tests, bench and pyproject copied; ../shared
beside it), each as `bash -e -o pipefail`; each must exit 0 without a traceback. A block that runs
long (or needs what a test machine lacks) says so in the page, right above it, with an HTML comment
that the reader sees in the source:

    <!-- doc-test: instead run
    tradewright paper examples/demo_mm.toml --speed 10 --duration 3
    -->

and the test runs that short variant instead. There is no way to skip a block silently: a command
written in another kind of fence (``sh``, ``console``, none) fails `test_commands_are_in_bash_blocks`.

The two Quickstart commands are also run verbatim in a fresh clone with a new virtualenv
(`test_quickstart_verbatim_in_a_fresh_clone`, slow).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_DIRECTIVE = re.compile(r"<!--\s*doc-test:\s*instead run[^\n]*\n(.*?)-->", re.S)
_COMMAND = re.compile(r"^\s*(tradewright|pip|pytest|python -m tradewright|curl)\b")
BLOCK_TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    text: str  # as written
    run: str  # what the test runs (the text, or the short variant the page names)

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The ```bash blocks of a page, with the short variant named above each, if any."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None or match.group(2) == "":
            i += 1
            continue
        indent, lang = match.group(1), match.group(2)
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = "\n".join(
            line[len(indent) :] if line.startswith(indent) else line for line in lines[i + 1 : end]
        )
        if lang == "bash":
            short = None
            # Only a comment that ends right above the fence belongs to this block.
            if i > 0 and lines[i - 1].strip().endswith("-->"):
                start = next((j for j in range(i - 1, -1, -1) if "<!--" in lines[j]), i - 1)
                directive = _DIRECTIVE.search("\n".join(lines[start:i]))
                short = None if directive is None else directive.group(1).strip()
            found.append(Block(page.relative_to(REPO).as_posix(), i + 1, body, short or body))
        i = end + 1
    return found


def test_commands_are_in_bash_blocks() -> None:
    """A command shown in a page is in a ```bash block, so that it is tested (transcripts start with $)."""
    offenders = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        lang = None
        for n, line in enumerate(lines, start=1):
            match = _FENCE.match(line)
            if match is not None:
                lang = match.group(2) if lang is None else None
                continue
            if lang is not None and lang != "bash" and _COMMAND.match(line):
                offenders.append(f"{page.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == [], "commands outside ```bash blocks are never tested:\n" + "\n".join(offenders)


def test_every_page_with_commands_is_found() -> None:
    names = {b.page for page in PAGES for b in blocks(page)}
    assert "README.md" in names and "docs/getting-started.md" in names and "docs/notebook.md" in names


@pytest.fixture(scope="module")
def clone_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `repo/` (what a clone has, minus .git) and `shared` (../shared beside it)."""
    root = tmp_path_factory.mktemp("docs")
    repo = root / "repo"
    repo.mkdir()
    for name in ("README.md", "pyproject.toml"):
        shutil.copy2(REPO / name, repo / name)
    for name in ("docs", "examples", "data", "tests", "bench", "deploy"):
        shutil.copytree(REPO / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "runs"))
    shared = REPO.parent / "shared"
    if shared.exists():
        (root / "shared").symlink_to(shared)
    return root


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT_", "PYTEST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = ""
    return env


def run_piped(script: str, cwd: Path) -> tuple[int, str]:
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        env=_env(),
    )
    return done.returncode, done.stdout + done.stderr


def run_in_pty(script: str, cwd: Path, columns: int = 120) -> tuple[int, str]:
    """Run under a pseudo-terminal (stdin, stdout and stderr all a tty); return (exit code, screen text)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**_env(), "TERM": "xterm-256color", "COLUMNS": str(columns)},
        start_new_session=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + BLOCK_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    try:
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def _page_ids() -> list[str]:
    return [p.relative_to(REPO).as_posix() for p in PAGES if blocks(p)]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["piped", "pty"])
@pytest.mark.parametrize("page", _page_ids())
def test_every_command_block_of_the_page_runs(page: str, mode: str, clone_root: Path) -> None:
    work = clone_root / f"{page.replace('/', '_')}-{mode}"
    shutil.copytree(clone_root / "repo", work / "repo", symlinks=True)
    if (clone_root / "shared").exists():
        (work / "shared").symlink_to((clone_root / "shared").resolve())
    runner = run_piped if mode == "piped" else run_in_pty
    for block in blocks(REPO / page):
        code, output = runner(block.run, work / "repo")
        where = (
            f"{block.name} ({mode}):\n{block.run}\n--- output (last 3000 characters) ---\n{output[-3000:]}"
        )
        assert code == 0, f"exit {code} from {where}"
        assert "Traceback (most recent call last)" not in output, where
        first = block.run.splitlines()[0].split("#")[0].strip()
        if mode == "pty" and first == "tradewright backtest examples/demo_mm.toml":
            assert "━" in output, f"no progress bar was drawn in the terminal: {where}"


@pytest.mark.slow
def test_quickstart_verbatim_in_a_fresh_clone(tmp_path: Path) -> None:
    """README's first Quickstart command, word for word, in a fresh clone and a new virtualenv: piped and
    under a pseudo-terminal (where the progress bar once crashed). The second (the test suite) is what
    CI itself runs."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout to clone from")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=300)
    # The working tree as it is now (a clone has the last commit only).
    for name in ("src", "examples", "data", "README.md", "pyproject.toml"):
        target = clone / name
        if target.is_dir():
            shutil.rmtree(target)
        src = REPO / name
        (
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
            if src.is_dir()
            else shutil.copy2(src, target)
        )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    command = next(b.text for b in blocks(REPO / "README.md") if "tradewright backtest" in b.text).strip()
    assert command == "pip install -e . && tradewright backtest examples/demo_mm.toml"
    script = f". {venv}/bin/activate && {command}"
    for runner in (run_piped, run_in_pty):
        code, output = runner(script, clone)
        assert code == 0, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        assert "net PnL" in output and "report: " in output and "runs/demo_mm" in output
    assert (clone / "runs" / "demo_mm" / "report.html").exists()
