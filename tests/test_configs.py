"""Configs compose into valid typed parameters; the entry point runs and writes Parquet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.run import model_config
from sim.metrics import METRICS
from sim.params import STYLES, ConfigError, ModelParams, build_params
from tests.conftest import CONFIGS, ROOT

EXPERIMENTS = sorted(p.stem for p in (CONFIGS / "experiment").glob("*.yaml"))
GROUP_OPTIONS = [(g.name, p.stem) for g in sorted(CONFIGS.iterdir()) if g.is_dir() and g.name != "experiment"
                 for p in sorted(g.glob("*.yaml"))]


def govsim(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})


def test_default_config_builds(compose_cfg) -> None:
    params = build_params(model_config(compose_cfg()))
    typed = ModelParams()  # the YAML defaults are the typed defaults, value for value
    for section in ("problem", "leadership", "network", "workforce", "trust", "mechanisms", "run"):
        assert getattr(params, section) == getattr(typed, section), section
    assert params.scenario.organisations == typed.scenario.organisations
    assert params.problem.N == 16 and params.problem.K == 3
    assert params.scenario.n_professionals == 200 and len(params.scenario.organisations) == 4


@pytest.mark.parametrize(("group", "option"), GROUP_OPTIONS)
def test_every_group_option_composes(compose_cfg, group: str, option: str) -> None:
    build_params(model_config(compose_cfg([f"{group}={option}"])))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_and_builds(compose_cfg, name: str) -> None:
    cfg = compose_cfg([f"experiment={name}"])
    if "optimise" in cfg:  # an optimisation: its model, every lever value and its settings are validated
        from omegaconf import OmegaConf

        from experiments.optimise import prepare

        model_cfg, settings, _ = prepare(OmegaConf.to_container(cfg, resolve=True), name)
        build_params(model_cfg)
        assert settings.space.levers
        return
    build_params(model_config(cfg))


def test_config_behaviours_equal_the_typed_defaults(compose_cfg) -> None:
    import dataclasses

    from sim.params import DEFAULT_BEHAVIOURS

    cfg = compose_cfg()
    assert {k: dict(v) for k, v in cfg.leadership.behaviours.items()} == {
        k: dataclasses.asdict(v) for k, v in DEFAULT_BEHAVIOURS.items()}
    params = build_params(model_config(compose_cfg(["leadership.behaviours.shared.openness=0.95"])))
    assert params.leadership.behaviours["shared"].openness == 0.95
    assert params.leadership.behaviours["shared"].autonomy == DEFAULT_BEHAVIOURS["shared"].autonomy


def test_main_study_sweeps_all_styles_and_three_role_mixes(compose_cfg) -> None:
    cfg = compose_cfg(["experiment=leadership_styles"])
    del cfg  # composed above; the sweep lives in the hydra node of the file itself
    text = (CONFIGS / "experiment" / "leadership_styles.yaml").read_text()
    assert all(s in text for s in STYLES)
    assert all(r in text for r in ("expert_heavy", "competitor_heavy", "partner_heavy"))


def test_unknown_style_is_one_line_listing_valid_names(tmp_path: Path) -> None:
    res = govsim("leadership.style=charismatic", f"hydra.run.dir={tmp_path / 'out'}", cwd=tmp_path)
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and "leadership.style" in lines[0] and "charismatic" in lines[0]
    assert all(s in lines[0] for s in STYLES)
    assert not (tmp_path / "out" / "timeseries.parquet").exists()


def test_unknown_style_group_option_lists_options(tmp_path: Path) -> None:
    res = govsim("leadership=charismatic", cwd=tmp_path)
    assert res.returncode != 0
    assert all(s in res.stderr for s in STYLES)


def test_bad_value_raises_config_error_naming_field() -> None:
    with pytest.raises(ConfigError, match=r"problem\.K=16 .*smaller than problem\.N=16"):
        build_params({"problem": {"N": 16, "K": 16}})
    with pytest.raises(ConfigError, match=r"roles\.orientation.*sum to 1"):
        build_params({"roles": {"orientation": {"expert": 0.5, "competitor": 0.5, "partner": 0.5}}})
    with pytest.raises(ConfigError, match=r"network\.colour.*unknown key"):
        build_params({"network": {"colour": "red"}})


def test_tiny_multirun_end_to_end(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    res = govsim("-m", "leadership=directive,shared", "run.steps=5", "run.replications=2", "problem.N=10",
                 "problem.K=2", f"hydra.sweep.dir={sweep}", "hydra/launcher=basic", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and (p / "timeseries.parquet").exists())
    assert len(jobs) == 2
    ts = pd.concat(pd.read_parquet(j / "timeseries.parquet") for j in jobs)
    assert set(ts.leadership) == {"directive", "shared"}
    assert len(ts) == 2 * 2 * 6 and set(METRICS) <= set(ts.columns)
    summary = pd.read_parquet(jobs[0] / "summary.parquet")
    assert len(summary) == 2 and "public_value_auc" in summary
    meta = json.loads((jobs[0] / "meta.json").read_text())
    assert meta["seed"] == 12345 and len(meta["replication_seeds"]) == 2
    assert meta["versions"]["mesa"] and "commit" in meta["git"] and meta["params"]["problem"]["N"] == 10


def test_a_jobs_record_counts_the_cpu_of_its_model_runs_alone(tmp_path: Path) -> None:
    """``model_cpu_s`` grows with the runs' length; the job's file writing and log lines are not in it."""
    cpu = {}
    for steps in (2, 300):
        out = tmp_path / f"steps{steps}"
        res = govsim(f"run.steps={steps}", "run.replications=2", "problem.N=10", "problem.K=2",
                     f"hydra.run.dir={out}", cwd=tmp_path)
        assert res.returncode == 0, res.stderr[-2000:]
        meta = json.loads((out / "meta.json").read_text())
        cpu[steps] = meta["model_cpu_s"]
        assert 0 < cpu[steps] < meta["wall_time_s"] + 0.5  # one thread's runs, inside the job's time
    assert cpu[300] > 3 * cpu[2]  # about 12 times here
