"""Robustness maps and scenario discovery (EMA Workbench's PRIM, CART, feature scoring) on LHS sweeps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.load import load_results
from analysis.report import main as report_main
from analysis.robustness import parse_condition, robustness_map, robustness_sections
from experiments.sensitivity import sample
from tests.conftest import ROOT

PARAMS = {"problem.cross_boundary": [0.0, 1.0], "roles.conformity": [0.0, 1.0], "network.initial_trust": [0.2, 0.8]}


def planted_sweep(root: Path, points: int = 240) -> None:
    """An LHS sweep on disk whose public value is low exactly in a planted box of the context."""
    spec = {"method": "lhs", "seed": 5, "samples": points, "parameters": PARAMS, "blocks": 1}
    x = sample(spec)
    rng = np.random.default_rng(0)
    inside = (x[:, 0] > 0.6) & (x[:, 1] < 0.4)  # the planted box: wicked problem, low conformity
    jobs = []
    for j, style in enumerate(("directive", "shared")):
        rows = []
        for r in range(points):
            for rep in range(2):
                low = inside[r] if style == "directive" or rng.random() < 0.9 else False
                value = (0.2 if low else 0.8) + rng.normal(0, 0.05)
                rows.append({"leadership": style, "sample_row": r, **dict(zip(PARAMS, x[r], strict=True)),
                             "replication": rep, "seed": rep, "window_public_value_gap_closed": value,
                             "window_mean_trust": 0.5 + (0.1 if style == "shared" else 0.0) + rng.normal(0, 0.01)})
        job = root / str(j)
        job.mkdir(parents=True)
        pd.DataFrame(rows).to_parquet(job / "summary.parquet", index=False)
        (job / "meta.json").write_text(json.dumps({"sensitivity": spec, "replications_completed": len(rows),
                                                   "config": {"report": {"outcomes": ["window_public_value_gap_closed",
                                                                                      "window_mean_trust"]}}}))
        jobs.append({"num": j, "dir": str(j), "overrides": [f"leadership={style}"]})
    (root / "sweep.json").write_text(json.dumps({"jobs": jobs}))


def test_lhs_sample_is_a_latin_hypercube_within_bounds() -> None:
    spec = {"method": "lhs", "seed": 1, "samples": 50, "parameters": PARAMS}
    x = sample(spec)
    assert x.shape == (50, 3) and np.array_equal(x, sample(spec))
    for k, (lo, hi) in enumerate(PARAMS.values()):
        strata = np.floor((x[:, k] - lo) / (hi - lo) * 50).astype(int)
        assert sorted(strata) == list(range(50))  # one point in each of the 50 strata of every parameter


def test_prim_recovers_a_planted_box(tmp_path: Path) -> None:
    planted_sweep(tmp_path / "s")
    res = load_results(tmp_path / "s")
    settings = SimpleNamespace(factor="leadership", outcomes=["window_public_value_gap_closed", "window_mean_trust"],
                               smallest={"window_public_value_gap_closed": 0.05, "window_mean_trust": 0.05},
                               discover="window_public_value_gap_closed < 0.5")
    sections, figs = robustness_sections(res, settings, tmp_path / "out")
    box = next(s for s in sections if s["title"] == "Scenario discovery: PRIM box")
    limits = {row[0]: row[1:] for row in box["table"]["rows"]}
    assert float(limits["problem.cross_boundary"][0]) == pytest.approx(0.6, abs=0.05)
    assert float(limits["roles.conformity"][1]) == pytest.approx(0.4, abs=0.05)
    assert "network.initial_trust" not in limits  # the irrelevant input is left free
    stability = next(s for s in sections if s["title"] == "Scenario discovery: box stability")
    scores = {row[0]: float(row[2]) for row in stability["table"]["rows"]}  # reproduce density, %
    assert scores["problem.cross_boundary"] >= 80 and scores["roles.conformity"] >= 80
    assert scores["network.initial_trust"] < min(scores["problem.cross_boundary"], scores["roles.conformity"])
    assert {f["name"] for f in figs} == {"robustness_map", "prim_tradeoff"}
    trust_map = next(s for s in sections if s["title"] == "Robustness map: window_mean_trust")["table"]["rows"]
    assert trust_map[1][1] == "1.00" and trust_map[0][2] == "0.00"  # shared beats directive everywhere
    cart = next(s for s in sections if s["title"] == "Scenario discovery: CART")["table"]
    assert cart["header"][-1] == "limits"
    densest = max(cart["rows"], key=lambda row: float(row[2]))  # the leaf where the condition holds
    assert "problem.cross_boundary in [" in densest[-1] and "roles.conformity in [" in densest[-1]
    low = float(densest[-1].split("problem.cross_boundary in [")[1].split(",")[0])
    assert low == pytest.approx(0.6, abs=0.1)
    scoring = next(s for s in sections if s["title"] == "Feature scoring")
    assert not scoring["intro"][0].startswith("Warning")  # 240 points for 3 inputs: enough


def test_a_design_too_small_for_feature_scores_is_flagged() -> None:
    from analysis.robustness import feature_score_warning

    flat = pd.DataFrame({"y": [0.12, 0.1, 0.11, 0.1, 0.09, 0.12, 0.12, 0.12, 0.12]},
                        index=[f"u{i}" for i in range(9)])
    warning = feature_score_warning(flat, 30)  # the 30 points over 9 inputs, every score ~0.1
    assert warning.startswith("Warning") and "180 needed" in warning and "factor 1.5 of the equal share 1/9" in warning
    clear = pd.DataFrame({"y": [0.7, 0.2, 0.1]}, index=["a", "b", "c"])
    assert feature_score_warning(clear, 240) == ""
    assert "60 needed" in feature_score_warning(clear, 30)


def test_robustness_map_counts_only_wins_beyond_the_smallest_effect() -> None:
    means = pd.DataFrame({"sample_row": [0, 0, 1, 1, 2, 2], "leadership": ["directive", "shared"] * 3,
                          "y": [0.5, 0.6, 0.5, 0.52, 0.5, 0.4], "steps_to_half_gap": [10, 20, 10, 5, 10, 10]})
    table = robustness_map(means, "leadership", "y", 0.05)
    assert table.loc["shared", "directive"] == pytest.approx(1 / 3) and table.loc["directive", "shared"] == \
        pytest.approx(1 / 3)
    faster = robustness_map(means, "leadership", "steps_to_half_gap", 1)  # lower is better
    assert faster.loc["shared", "directive"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="OUTCOME OP NUMBER"):
        parse_condition("__import__('os') < 1")


def test_tiny_real_lhs_sweep_and_report(tmp_path: Path) -> None:
    sweep = tmp_path / "lhs"
    cfg = yaml.safe_load((ROOT / "configs" / "experiment" / "robustness_lhs.yaml").read_text())
    assert len(cfg["sensitivity"]["parameters"]) >= 8 and cfg["sensitivity"]["samples"] >= 200
    assert len(cfg["hydra"]["sweeper"]["params"]["leadership"].split(",")) == 6
    res = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "experiment=robustness_lhs",
                          "leadership=directive,laissez_faire", "+sensitivity.block=range(0,2)", "sensitivity.blocks=2",
                          "sensitivity.samples=6", "run.replications=2", "run.steps=8",
                          "hydra/launcher=basic", f"hydra.sweep.dir={sweep}"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr[-2000:]
    assert report_main([str(sweep), "--out", str(tmp_path / "r"), "--discover", "gap_closed_auc > 0.2"]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "## Robustness map: window_public_value_gap_closed" in md and "valid for the sampled ranges only" in \
        md.lower()
    assert "## Where contrasts with laissez_faire change sign" in md  # PRIM on the contrast itself
    assert r"Condition gap_closed_auc \> 0.2 holds for" in md  # escaped for Markdown, not as an HTML entity
    assert report_main([str(sweep), "--out", str(tmp_path / "r"), "--discover", "x == 1"]) == 2
