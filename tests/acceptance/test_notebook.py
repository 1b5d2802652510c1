"""The notebook habit: examples/quickstart.ipynb runs top to bottom in a real Jupyter kernel (nbclient),
and the Python API it shows returns exact tables and the report inline; docs/notebook.md's Python
blocks run too, so the page and the API cannot drift apart."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A folder laid out like a clone (examples/, data/), so that nothing is written into the repository."""
    for name in ("examples", "data"):
        shutil.copytree(REPO / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


@pytest.mark.slow
def test_quickstart_notebook_runs_in_a_kernel_and_shows_the_report_inline(copy: Path) -> None:
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(copy / "examples" / "quickstart.ipynb", as_version=4)

    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(copy / "examples")}}
    ).execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any(h.startswith("<iframe srcdoc=") and "uPlot" in h for h in html), "the report, inline"
    assert any("offset_ticks" in h for h in html), "the parameter table"
    for name in ("demo", "offset0", "offset1", "offset2", "from_code"):
        assert (copy / "runs" / "notebook" / name / "report.html").exists()


def test_the_api_gives_exact_tables_and_the_same_run_as_the_cli(copy: Path) -> None:
    from tradewright import Backtest, BacktestRun

    bt = Backtest.from_file(copy / "examples" / "demo_mm.toml")
    varied = bt.with_params(offset_ticks=1)
    assert (
        bt.config.strategy.params["offset_ticks"] == 0 and varied.config.strategy.params["offset_ticks"] == 1
    )

    run = varied.run(copy / "runs" / "api")
    fills = run.fills("arrow")
    equity = run.equity()

    assert fills.num_rows == run.summary["fills"] > 0
    assert str(fills.schema.field("price").type).startswith("decimal128")
    assert equity["equity"].iloc[-1] == Decimal(run.summary["final_equity"])
    assert sum(fills.column("fee").to_pylist()) == Decimal(run.summary["fees"])
    assert BacktestRun.open(run.folder).summary == run.summary
    with pytest.raises(Exception, match='kind must be "pandas" or "arrow"'):
        run.orders("excel")


def test_docs_notebook_python_blocks_run(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (REPO / "docs" / "notebook.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert blocks, "docs/notebook.md shows the API in ```python blocks"
    monkeypatch.chdir(copy)
    scope: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/notebook.md", "exec"), scope)
