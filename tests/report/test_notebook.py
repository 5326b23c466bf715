"""The notebook runs top to bottom, offline, on a lake given by ``B3LAKE_LAKE``; it is stored stripped."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "b3lake_charts.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "no code cells"
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None
    first = "".join(code[0]["source"])
    assert 'BACKEND = os.environ.get("B3LAKE_BACKEND", "local")' in first
    assert "B3LAKE_LAKE" in first and "ATHENA_WORKGROUP" in first


def _kernel_dir(tmp_path: Path) -> Path:
    """A ``python3`` kernelspec whose argv is this interpreter (the venv), whatever is on PATH."""
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (b3lake venv)",
                "language": "python",
            }
        )
    )
    return tmp_path


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(
    any_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    for key in ("B3LAKE_BACKEND", "B3LAKE_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("B3LAKE_LAKE", str(any_lake))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    ksm = KernelSpecManager(kernel_dirs=[str(_kernel_dir(tmp_path) / "kernels")])
    assert ksm.get_kernel_spec("python3").argv[0] == sys.executable
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        kernel_manager_class=_manager(ksm),
    )
    client.execute()
    text = "\n".join(
        str(o.get("text", "")) + json.dumps(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "Querying local lake" in text and str(any_lake) in text
    assert "tickers: [" in text and "tickers: []" not in text
    figures = sum(
        1
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    )
    assert figures >= 5  # prices, monthly x2, portfolio x2, coverage
    assert not [
        o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]


def _manager(ksm: object) -> type:
    """A KernelManager class bound to our kernelspec directory."""
    from jupyter_client.manager import AsyncKernelManager

    class Manager(AsyncKernelManager):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(kernel_spec_manager=ksm, **kwargs)

    return Manager
