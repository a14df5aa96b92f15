"""Analysis: loading, statistics, figures, the report, and sensitivity indices."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import figures
from analysis.load import expected_jobs, load_results, varied_parameters
from analysis.report import main as report_main
from analysis.sensitivity import indices
from analysis.stats import effect_sizes, mean_ci, t_interval
from experiments.sensitivity import block_rows, points, sample
from sim.params import ConfigError
from tests.conftest import ROOT


def synthetic_sweep(root: Path, skip: int | None = None, fail: int | None = None) -> list[pd.DataFrame]:
    """A sweep tree like Hydra's: multirun.yaml and jobs 0..3 (leadership x roles)."""
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {
        "sweeper": {"params": {"leadership": "directive,shared"}},
        "overrides": {"task": ["roles=expert_heavy,partner_heavy", "run.steps=3"]}}}))
    frames = []
    jobs = [(s, r) for s in ("directive", "shared") for r in ("expert_heavy", "partner_heavy")]
    for n, (style, roles) in enumerate(jobs):
        job = root / str(n)
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"leadership={style}", f"roles={roles}"]))
        if n == skip:
            continue
        if n == fail:
            (job / "error.json").write_text(json.dumps({"error": "ValueError: boom", "traceback": "..."}))
            continue
        rng = np.random.default_rng(n)
        ts = pd.DataFrame({"leadership": style, "roles": roles, "replication": np.repeat([0, 1], 4),
                           "seed": np.repeat([11, 22], 4), "step": np.tile(range(4), 2),
                           "public_value": rng.random(8)})
        summary = ts.groupby(["leadership", "roles", "replication", "seed"], as_index=False)["public_value"].last()
        summary = summary.rename(columns={"public_value": "final_public_value"})
        ts.to_parquet(job / "timeseries.parquet", index=False)
        summary.to_parquet(job / "summary.parquet", index=False)
        (job / "meta.json").write_text(json.dumps({"labels": {"leadership": style, "roles": roles}}))
        frames.append(ts.assign(job=str(n)))
    return frames


def test_loader_round_trips_a_multirun_exactly(tmp_path: Path) -> None:
    frames = synthetic_sweep(tmp_path / "sweep")
    res = load_results(tmp_path / "sweep")
    expected = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(res.timeseries, expected)
    assert res.missing == [] and res.failed == [] and len(res.meta) == 4
    assert varied_parameters(res.summary) == ["leadership", "roles"]


def test_missing_and_failed_jobs_are_named(tmp_path: Path) -> None:
    synthetic_sweep(tmp_path / "sweep", skip=2, fail=1)
    res = load_results(tmp_path / "sweep")
    assert res.missing == ["job 2: leadership=shared roles=expert_heavy run.steps=3"]
    assert len(res.failed) == 1 and res.failed[0].startswith("job 1: leadership=directive roles=partner_heavy")
    assert "boom" in res.failed[0]
    shutil_rm = tmp_path / "sweep" / "3"
    for f in shutil_rm.iterdir():
        if f.is_file():
            f.unlink()
    res = load_results(tmp_path / "sweep")
    assert "job 3: leadership=shared roles=partner_heavy run.steps=3" in res.missing


def test_expected_jobs_follow_hydra_order(tmp_path: Path) -> None:
    synthetic_sweep(tmp_path / "s")
    jobs = expected_jobs(tmp_path / "s")
    assert jobs[0] == ["leadership=directive", "roles=expert_heavy", "run.steps=3"]
    assert len(jobs) == 4 and jobs[3][:2] == ["leadership=shared", "roles=partner_heavy"]


def test_latest_sweep_is_chosen_from_a_folder_of_sweeps(tmp_path: Path) -> None:
    synthetic_sweep(tmp_path / "study" / "2026-01-01_00-00-00")
    import os
    import time

    synthetic_sweep(tmp_path / "study" / "2026-01-02_00-00-00")
    later = time.time() + 10
    os.utime(tmp_path / "study" / "2026-01-02_00-00-00", (later, later))
    res = load_results(tmp_path / "study")
    assert res.root.name == "2026-01-02_00-00-00" and "latest" in res.note


def test_confidence_intervals_match_hand_computed_values() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    # mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776445
    half = 2.776445 * np.sqrt(2.5) / np.sqrt(5)
    lo, hi = t_interval(values)
    assert lo == pytest.approx(3 - half, abs=1e-5) and hi == pytest.approx(3 + half, abs=1e-5)
    frame = pd.DataFrame({"c": ["a"] * 5, "v": values})
    row = mean_ci(frame, ["c"], "v", method="t").iloc[0]
    assert row["mean"] == 3 and row["n"] == 5 and row["ci_low"] == pytest.approx(3 - half, abs=1e-5)


def test_one_value_has_no_interval() -> None:
    """A single run (a mix dropped after one run of a race) gets no interval, so no verdict rests on it."""
    assert all(np.isnan(t_interval(np.array([0.4]))))
    row = mean_ci(pd.DataFrame({"c": ["a"], "v": [0.4]}), ["c"], "v").iloc[0]
    assert row["mean"] == 0.4 and row["n"] == 1 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])


def test_effect_sizes_paired_by_replication() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(0, 1, 20)
    frame = pd.DataFrame({"leadership": ["laissez_faire"] * 20 + ["shared"] * 20, "replication": list(range(20)) * 2,
                          "y": np.concatenate([base, base + 0.5 + rng.normal(0, 0.05, 20)])})
    row = effect_sizes(frame, "leadership", "laissez_faire", "y").iloc[0]
    assert row["paired"] and row["difference"] == pytest.approx(0.5, abs=0.05)
    assert row["ci_low"] > 0.4 and row["ci_high"] < 0.6 and row["n"] == 20 and row["n_missing"] == 0
    assert row["d_av"] > 0


def tiny_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, sums = [], []
    for style in ("directive", "shared", "laissez_faire"):
        for rep in range(3):
            for step in range(5):
                rows.append({"leadership": style, "roles": "balanced", "replication": rep, "seed": rep, "step": step,
                             "public_value": 0.5 + 0.05 * step, "mean_trust": 0.5, "production": 0.7,
                             "burnout_rate": 0.01, "energy": 0.8})
            sums.append({"leadership": style, "roles": "balanced", "replication": rep, "seed": rep,
                         "final_public_value": 0.7 + rep / 100, "production_mean": 0.6,
                         "steps_to_half_gap": 3})
    return pd.DataFrame(rows), pd.DataFrame(sums)


def test_figure_functions_label_axes_and_plot_every_condition() -> None:
    ts, summary = tiny_frames()
    fig = figures.trajectories(ts, metrics=("public_value", "mean_trust"), hue="leadership")
    axes = fig.axes
    assert axes[0].get_ylabel().replace("\n", " ") == figures.LABELS["public_value"]
    assert axes[-1].get_xlabel() == figures.LABELS["step"]
    assert len(axes[0].get_lines()) == 3  # one line per style
    fig = figures.final_outcomes(summary, outcomes=("final_public_value", "steps_to_half_gap"))
    assert fig.axes[0].get_ylabel().replace("\n", " ") == figures.LABELS["final_public_value"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["directive", "shared", "laissez_faire"]
    fig = figures.heatmap(summary.assign(K=[2, 4, 6] * 3), "final_public_value", x="K", y="leadership")
    assert fig.axes[0].get_xlabel() == "K" and len(fig.axes[0].texts) == 9
    fig = figures.tradeoff(summary)
    assert fig.axes[0].get_xlabel().replace("\n", " ") == figures.LABELS["production_mean"]
    assert len(fig.axes[0].collections[0].get_offsets()) == 9


def test_network_figure_draws_the_recorded_network(tmp_path: Path) -> None:
    import networkx as nx

    g = nx.cycle_graph(12)
    nx.set_node_attributes(g, {i: f"org{i % 3}" for i in g}, "organisation")
    nx.set_node_attributes(g, {i: ("expert", "competitor", "partner")[i % 3] for i in g}, "role")
    nx.set_edge_attributes(g, 0.5, "trust")
    nx.write_graphml(g, tmp_path / "network.graphml")
    assert figures.find_network(tmp_path) == tmp_path / "network.graphml"
    from matplotlib.collections import PathCollection

    fig = figures.network_figure(nx.read_graphml(tmp_path / "network.graphml"), "t")
    drawn = sum(len(c.get_offsets()) for c in fig.axes[0].collections if isinstance(c, PathCollection))
    assert drawn == 12


def test_report_renders_on_a_real_tiny_sweep(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    res = subprocess.run([sys.executable, "-m", "experiments.run", "-m", "leadership=directive,shared,laissez_faire",
                          "run.steps=6", "run.replications=3", "problem.N=10", "problem.K=2", "hydra/launcher=basic",
                          f"hydra.sweep.dir={sweep}"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr[-2000:]
    assert report_main([str(sweep)]) == 0
    out = sweep / "report"  # the default: beside the jobs, never inside one
    md = (out / "report.md").read_text()
    assert "## Conditions" in md and "## Paired differences" in md and "laissez_faire" in md and "git commit" in md
    assert (sweep / "0" / "network.graphml").exists()  # jobs record their final network; the report draws it
    assert (out / "figures" / "network.png").exists() and "Network figure omitted" not in md
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 4
    assert (out / "figures" / "trajectories.png").stat().st_size > 10_000
    assert len(pd.read_parquet(out / "results.parquet")) == 3 * 3 * 7


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


ISHIGAMI = {"x1": [-np.pi, np.pi], "x2": [-np.pi, np.pi], "x3": [-np.pi, np.pi]}


def test_sobol_ranks_ishigami_parameters_correctly() -> None:
    spec = {"method": "sobol", "seed": 3, "samples": 1024, "parameters": ISHIGAMI}
    table = indices(spec, ishigami(sample(spec))).set_index("parameter")
    # analytic: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert table.loc["x2", "S1"] > table.loc["x1", "S1"] > table.loc["x3", "S1"]
    assert table.loc["x1", "ST"] > table.loc["x2", "ST"] > table.loc["x3", "ST"]
    assert table.loc["x1", "S1"] == pytest.approx(0.314, abs=0.06) and abs(table.loc["x3", "S1"]) < 0.06
    assert table.loc["x3", "ST"] == pytest.approx(0.244, abs=0.05)


def test_morris_ranks_ishigami_parameters_correctly() -> None:
    spec = {"method": "morris", "seed": 3, "samples": 60, "levels": 4, "parameters": ISHIGAMI}
    table = indices(spec, ishigami(sample(spec))).set_index("parameter")
    assert table["mu_star"].idxmin() == "x3"  # x3 acts only through its interaction with x1
    assert (table["mu_star_low"] <= table["mu_star"]).all()


def test_sensitivity_blocks_cover_the_sample_once() -> None:
    spec = {"method": "morris", "seed": 1, "samples": 4, "parameters": {"problem.K": [1, 4],
                                                                       "roles.conformity": [0, 1]}, "blocks": 3}
    n = len(sample(spec))
    rows = [r for b in range(3) for r in block_rows(n, 3, b)]
    assert rows == list(range(n))
    pts = points({"problem": {"N": 12}}, {**spec, "block": 1})
    assert all(isinstance(cfg["problem"]["K"], int) for _, cfg, _ in pts)
    assert np.array_equal(sample(spec), sample(spec))
    with pytest.raises(ConfigError, match="sensitivity.method"):
        sample({**spec, "method": "fast99"})
