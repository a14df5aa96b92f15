"""The tutorial notebook runs from top to bottom on a tiny sweep the test makes (nbclient)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT


def test_tutorial_notebook_executes_on_a_tiny_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sweep = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "leadership=directive,shared,laissez_faire",
                          "run.steps=6", "run.replications=3", "problem.N=10", "problem.K=2", "hydra/launcher=basic",
                          f"hydra.sweep.dir={sweep}"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    monkeypatch.setenv("GOVSIM_TUTORIAL_SWEEP", str(sweep))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # two figures drawn
    text = " ".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "shared − laissez_faire" in text and "3 complete jobs" in " ".join(
        str(o.get("text", "")) for o in outputs)
