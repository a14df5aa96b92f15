"""What a paper needs from govsim-report: the seed as the unit, a methods paragraph, tables as CSV and LaTeX,
figure layout from the command line, labels that name their factor, colour scales, shock markers, clean Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import figures
from analysis.report import main as report_main
from analysis.report import with_relative_drop
from analysis.stats import paired_differences

GAP = "window_public_value_gap_closed"


def write_design(root: Path, factors: dict[str, list], effect: callable, seeds: int = 10, steps: int = 4,
                 report: dict | None = None, scenario: dict | None = None) -> Path:
    """A sweep folder of every combination of ``factors``, each job on the same ``seeds`` seeds."""
    import itertools

    root.mkdir(parents=True)
    jobs = []
    combos = list(itertools.product(*factors.values()))
    for i, combo in enumerate(combos):
        point = dict(zip(factors, combo, strict=True))
        overrides = [f"{k}={v}" for k, v in point.items()]
        job = root / str(i)
        (job / ".hydra").mkdir(parents=True)
        (job / ".hydra" / "overrides.yaml").write_text(json.dumps(overrides))
        values = np.array([effect(point, r) for r in range(seeds)])
        head = {**point, "replication": range(seeds), "seed": [1000 + r for r in range(seeds)]}
        summary = pd.DataFrame({**head, GAP: values, "production_mean": 0.5 + values / 10,
                                "burnout_rate_mean": np.where(np.arange(seeds) % 4 == 0, 0.01, 0.0),
                                "any_burnout": (np.arange(seeds) % 4 == 0).astype(float),
                                "person_steps_lost": np.where(np.arange(seeds) % 4 == 0, 12.0, 0.0)})
        ramp = np.tile(np.linspace(0, 1, steps + 1), seeds)
        ts = pd.DataFrame({**point, "replication": np.repeat(range(seeds), steps + 1),
                           "seed": np.repeat([1000 + r for r in range(seeds)], steps + 1),
                           "step": np.tile(range(steps + 1), seeds),
                           "public_value_gap_closed": np.repeat(values, steps + 1) * ramp,
                           "mean_trust": 0.5, "production": 0.6, "burnout_rate": 0.0, "energy": 0.7})
        summary.to_parquet(job / "summary.parquet", index=False)
        ts.to_parquet(job / "timeseries.parquet", index=False)
        meta = {"labels": point, "overrides": overrides, "replications_scheduled": seeds,
                "replications_completed": seeds, "steps": steps, "seed": 4242,
                "params": {"scenario": scenario or {"name": "fixture_case"}},
                "git": {"commit": "0123456789abcdef", "dirty": False}, "environment": {"python": "3.12.1"},
                "versions": {"mesa": "3.5.1", "numpy": "2.1"}, "config": {"report": report or {}}}
        (job / "meta.json").write_text(json.dumps(meta))
        jobs.append({"num": i, "dir": str(i), "overrides": overrides})
    (root / "sweep.json").write_text(json.dumps({"jobs": jobs}))
    return root


SEED_EFFECT = np.random.default_rng(26).normal(0, 0.3, 10)


def shared_seed_effect(point: dict, r: int) -> float:
    """Shared minus laissez-faire varies by seed (the same at both levels of G): pooling G doubles nothing."""
    noise = np.random.default_rng(hash((r, point["G"])) % 2**32).normal(0, 0.01)
    return 0.4 + noise + ((0.25 + SEED_EFFECT[r]) if point["leadership"] == "shared" else 0.0)


def section(md: str, title: str) -> str:
    return md.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_pooling_a_factor_that_shares_seeds_gives_the_seed_level_verdict(tmp_path: Path) -> None:
    sweep = write_design(tmp_path / "s", {"leadership": ["shared", "laissez_faire"], "G": [0.2, 0.8]},
                         shared_seed_effect)
    out = tmp_path / "r"
    assert report_main([str(sweep), "--out", str(out), "--facet", "none", "--outcomes", GAP]) == 0
    md = (out / "report.md").read_text()
    per_seed = pd.read_parquet(out / "summary.parquet").groupby(["leadership", "seed"], as_index=False)[GAP].mean()
    title = figures.final_outcomes(per_seed, [GAP], x="leadership", varied=["leadership", "G"])._suptitle.get_text()
    assert title.endswith("(averaged over G within each seed)")  # a figure says what it pooled, and how
    diffs = section(md, "Paired differences (primary result)")
    row = next(line for line in diffs.splitlines() if line.startswith("| shared − laissez_faire |"))
    assert "10 (0 missing)" in row and "inconclusive at ±0.05" in row
    assert "G is pooled by averaging each seed's values over its levels first" in diffs
    assert "| shared | 10 (0) |" in section(md, "Conditions")  # seeds, not seeds x levels
    # the naive analysis that pairs by (replication, G) would have claimed a clear effect
    frame = pd.read_parquet(out / "summary.parquet")
    naive = paired_differences(frame, "leadership", "laissez_faire", GAP, pair_on=["replication", "G"],
                               smallest_effect=0.05).iloc[0]
    assert naive["n"] == 20 and naive["verdict"].startswith("larger")


def test_a_declared_facet_is_shown_and_its_levels_name_their_factor(tmp_path: Path) -> None:
    sweep = write_design(tmp_path / "s", {"leadership": ["shared", "laissez_faire"], "roles": ["a", "b"],
                                          "scenario.goal_orientation": [0.2, 0.8]}, shared_seed_effect_go,
                         report={"facet": "scenario.goal_orientation", "outcomes": [GAP]})
    out = tmp_path / "r"
    assert report_main([str(sweep), "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "facets: scenario.goal_orientation" in md
    assert "shared − laissez_faire (goal_orientation = 0.2)" in md
    assert "roles is pooled by averaging each seed's values" in md


def shared_seed_effect_go(point: dict, r: int) -> float:
    return shared_seed_effect({**point, "G": point["scenario.goal_orientation"]}, r)


HOSTILE_CASE = {"name": "fixture_case", "description": "gap closed < 0.5 & trust > 0.4 <b>raw</b> [x](javascript:y)"}


def three_styles(point: dict, r: int) -> float:
    return 0.3 + 0.1 * (point["leadership"] == "shared") + 0.01 * r + 0.02 * SEED_EFFECT[r] * (point["K"] == 3)


@pytest.fixture(scope="module")
def paper_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One report of a 3 styles x 2 K design on 7 seeds (with a scenario text full of markup), shared by the
    tests of the methods paragraph, the tables and the Markdown."""
    tmp = tmp_path_factory.mktemp("paper")
    sweep = write_design(tmp / "s", {"leadership": ["directive", "shared", "laissez_faire"], "K": [1, 3]},
                         three_styles, seeds=7, steps=9, scenario=HOSTILE_CASE)
    out = tmp / "r"
    assert report_main([str(sweep), "--out", str(out), "--outcomes", f"{GAP},person_steps_lost"]) == 0
    return out


def test_methods_paragraph_names_every_design_element(paper_report: Path) -> None:
    from analysis.report import govsim_version

    methods = (paper_report / "methods.md").read_text()
    for element in ("fixture_case", "leadership (3 levels: directive, shared, laissez_faire)", "K (2 levels: 1, 3)",
                    "6 conditions", "6 of 6 jobs", "9 steps", "same 7 seeds", "experiment seed 4242",
                    "common random numbers", "against laissez_faire", "within each level of K", GAP,
                    "person_steps_lost", "count", "continuous", "smallest effect of interest ±0.05",
                    "smallest effect of interest ±20", "BCa", "Student-t", "m = 8", "Bonferroni",
                    f"govsim {govsim_version()}", "mesa 3.5.1", "Python 3.12.1", "0123456789ab", "CITATION.cff"):
        assert element in methods, element
    assert methods.strip() in (paper_report / "report.md").read_text()


def test_every_table_is_also_csv_and_booktabs_latex(paper_report: Path) -> None:
    md = (paper_report / "report.md").read_text()
    tables = md.count("\n|---")
    csvs = sorted((paper_report / "tables").glob("*.csv"))
    assert tables >= 4 and len(csvs) == tables - 1  # the provenance table is not a result
    for csv in csvs:
        tex = csv.with_suffix(".tex").read_text()
        assert all(rule in tex for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
        frame = pd.read_csv(csv)
        assert tex.count(r" \\") == len(frame) + 1  # header + one line per row
        assert "_" not in re.sub(r"\\_", "", tex)  # every underscore escaped
    diffs = pd.read_csv(paper_report / "tables" / "differences.csv")
    assert "shared − laissez_faire (K = 1)" in set(diffs["comparison"])


def test_report_md_has_no_html_entities(paper_report: Path) -> None:
    md = (paper_report / "report.md").read_text()
    assert not re.search(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);", md)
    assert r"gap closed \< 0.5 \& trust \> 0.4 \<b\>raw\</b\>" in md and r"[x\](javascript:y)" in md


def shared_seed_effect_k(point: dict, r: int) -> float:
    return shared_seed_effect({**point, "G": point["K"]}, r)


def test_figure_layout_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_design(tmp_path / "s", {"leadership": ["shared", "laissez_faire"], "K": [1, 3, 5]},
                         shared_seed_effect_k)
    out = tmp_path / "r"
    assert report_main([str(sweep), "--out", str(out), "--x", "nope"]) == 2
    assert "--x 'nope' is not a swept factor" in capsys.readouterr().err
    assert report_main([str(sweep), "--out", str(out), "--x", "K", "--hue", "leadership"]) == 0
    assert (out / "figures" / "final_outcomes.png").exists()
    summary = pd.read_parquet(out / "summary.parquet")
    fig = figures.final_outcomes(summary, [GAP], x="K", hue="leadership")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["K = 1", "K = 3", "K = 5"]
    labels = fig.legends[0].get_texts()
    assert [t.get_text() for t in labels] == ["shared", "laissez_faire"]
    fig = figures.final_outcomes(summary, [GAP], x="leadership", hue="K")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["K = 1", "K = 3", "K = 5"]


def test_colour_scales_start_at_zero_or_diverge_around_the_reference() -> None:
    frame = pd.DataFrame({"a": [1, 1, 2, 2], "b": ["x", "y", "x", "y"], GAP: [0.35, 0.4, 0.5, 0.6],
                          "production_mean": [0.35, 0.4, 0.5, 0.6]})
    mesh = figures.heatmap(frame, "production_mean", "a", "b").axes[0].collections[0]
    assert mesh.norm.vmin == 0 and mesh.norm.vmax == 1  # a share: the whole scale, from zero
    mesh = figures.heatmap(frame.assign(**{GAP: [-0.2, 0.4, 0.5, 0.6]}), GAP, "a", "b").axes[0].collections[0]
    assert mesh.norm.vmin == -mesh.norm.vmax  # can be negative: diverging around zero
    mesh = figures.heatmap(frame, GAP, "a", "b", reference=1).axes[0].collections[0]
    assert mesh.norm.vmin == -mesh.norm.vmax and mesh.get_array().min() == 0  # differences from the reference


def test_a_shock_is_marked_and_the_drop_is_relative_to_the_twins_level() -> None:
    ts = pd.DataFrame({"leadership": "shared", "job": "0", "replication": np.repeat([0, 1], 21),
                       "step": np.tile(range(21), 2), "public_value_gap_closed": np.tile(np.linspace(0, 0.8, 21), 2)})
    fig = figures.trajectories(ts, ("public_value_gap_closed",), hue="leadership", shocks=[10])
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "--"]
    assert len(lines) == 1 and list(lines[0].get_xdata()) == [10, 10]
    summary = pd.DataFrame({"leadership": "shared", "job": "0", "replication": [0, 1], "shock_drop": [0.2, 0.02]})
    out = with_relative_drop(summary, ts, 10)
    twin = 0.4 + np.array([0.2, 0.02])  # the shocked run's value at step 10 plus the drop
    assert out["shock_drop_share"].to_numpy() == pytest.approx(np.array([0.2, 0.02]) / twin)


def test_shipped_experiments_declare_what_their_reports_need() -> None:
    import yaml

    from analysis.outcomes import BY_NAME
    from tests.conftest import CONFIGS

    main = yaml.safe_load((CONFIGS / "experiment" / "leadership_styles.yaml").read_text())
    assert main["report"]["facet"] in main["hydra"]["sweeper"]["params"]  # the main study shows goal orientation
    crisis = yaml.safe_load((CONFIGS / "experiment" / "crisis_aftershock.yaml").read_text())
    assert crisis["report"]["outcomes"][0] == "shock_drop_share" and crisis["run"]["replications"] >= 20
    for path in sorted((CONFIGS / "experiment").glob("*.yaml")):
        cfg = yaml.safe_load(path.read_text()) or {}
        report = cfg.get("report") or {}
        assert set(report.get("outcomes") or []) <= set(BY_NAME), path.name  # every outcome declared once
        folder = ((cfg.get("hydra") or {}).get("sweep") or {}).get("dir")
        if folder:  # the unique suffix the README promises
            assert folder.endswith("_${govsim_uid:}"), path.name


def test_a_citable_release_license_and_version_agree() -> None:
    import tomllib

    import yaml

    from analysis.report import govsim_version
    from tests.conftest import ROOT

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]  # SPDX, no deprecated table
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT" and citation["authors"]
    assert citation["version"] == project["version"] == govsim_version()
