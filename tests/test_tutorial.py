"""The tutorial notebook runs from top to bottom on a tiny sweep the test makes (nbclient, as `jupyter execute`
does), from the repository's root and from docs/, and shows each figure once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's layout (pyproject, docs/tutorial.ipynb) with the main study's folder of sweeps."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / "docs").mkdir()
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    shutil.copy(ROOT / "docs" / "tutorial.ipynb", repo / "docs" / "tutorial.ipynb")
    sweep = repo / "outputs" / "leadership_styles" / "2026-12-08_00-00-00_1-abc"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "leadership=directive,shared,laissez_faire",
                          "scenario.goal_orientation=0.2,0.8", "run.steps=6", "run.replications=3", "problem.N=10",
                          "problem.K=2", "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"], cwd=repo,
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    return repo


@pytest.mark.parametrize("folder", [".", "docs"])
def test_tutorial_runs_from_the_root_and_from_docs(repo: Path, folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVSIM_TUTORIAL_SWEEP", raising=False)  # the notebook's own default path
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(repo / "docs" / "tutorial.ipynb", as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str((repo / folder).resolve())}}).execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    outputs = [o for cell in code for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    figure_cells = [cell for cell in code if "figures." in cell.source and "display(fig)" in cell.source]
    assert len(figure_cells) == 2
    for cell in figure_cells:  # each figure shown exactly once
        assert sum("image/png" in o.get("data", {}) for o in cell.outputs) == 1
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
    text = " ".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", "")) for o in outputs)
    assert "6 complete jobs" in text and "shared − laissez_faire" in text
    assert "3 seeds; each seed averaged over: scenario.goal_orientation" in text  # the seed is the unit
