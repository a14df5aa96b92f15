"""Sweeps that survive: validation before anything runs, crash isolation, resume, determinism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from experiments.callbacks import validate
from sim.landscape import external_counts, realisable_cross_boundary, split_decisions
from sim.model import GovernanceModel
from sim.params import STYLES, ConfigError, build_params
from tests.conftest import ROOT

# (override, field named in the message, value named in the message)
BAD_OVERRIDES = [
    ("problem.K=16", "problem.K", "16"),
    ("problem.K=-1", "problem.K", "-1"),
    ("problem.N=0", "problem.N", "0"),
    ("problem.N=40", "problem.N", "40"),
    ("problem.N=3", "problem.N", "3"),  # fewer decisions than the 4 organisations
    ("problem.cross_boundary=1.5", "problem.cross_boundary", "1.5"),
    ("problem.turbulence=-0.1", "problem.turbulence", "-0.1"),
    ("problem.type=ring", "problem.type", "ring"),
    ("problem.K=four", "problem.K", "four"),
    ("+problem.shocks=[{step:500,share:0.5}]", "problem.shocks.step", "500"),
    ("+problem.shocks=[{step:10,share:2}]", "problem.shocks.share", "2"),
    ("scenario.minority_share=0.7", "scenario.minority_share", "0.7"),
    ("scenario.surge_reserve=-1", "scenario.surge_reserve", "-1"),
    ("scenario.surge_duration=0", "scenario.surge_duration", "0"),
    ("scenario.organisations.0.size=0", "scenario.organisations[0].size", "0"),
    ("+scenario.organisations.1.leadership=charismatic", "scenario.organisations[1].leadership", "charismatic"),
    ("+scenario.organisations.2.pressure=2", "scenario.organisations[2].pressure", "2"),
    ("+scenario.organisations.3.kind=ngo", "scenario.organisations[3].kind", "ngo"),
    ("scenario.organisations.1.name=org1", "scenario.organisations", "org1"),
    ("+scenario.organisations.0.colour=red", "scenario.organisations[0].colour", "red"),
    ("roles.orientation.expert=0.9", "roles.orientation", "0.9"),
    ("roles.conformity=1.2", "roles.conformity", "1.2"),
    ("roles.concentration=0", "roles.concentration", "0"),
    ("leadership.style=charismatic", "leadership.style", "charismatic"),
    ("leadership.forum_capacity=0", "leadership.forum_capacity", "0"),
    ("leadership.behaviours.shared.openness=1.5", "leadership.behaviours.shared.openness", "1.5"),
    ("+leadership.behaviours.shared.charisma=1", "leadership.behaviours.shared.charisma", "1"),
    ("problem.K=8", "problem.cross_boundary", "0.5"),  # 4 decisions each cannot hold 4 own dependencies
    ("problem.mandate_correlation=2", "problem.mandate_correlation", "2"),
    ("leadership.forum_rule=lottery", "leadership.forum_rule", "lottery"),
    ("mechanisms.consent=maybe", "mechanisms.consent", "maybe"),
    ("network.structure=star", "network.structure", "star"),
    ("network.degree=1", "network.degree", "1"),
    ("network.degree=500", "network.degree", "500"),
    ("network.initial_trust=2", "network.initial_trust", "2"),
    ("workforce.heuristic_k=8", "workforce.heuristic_k", "8"),
    ("workforce.skill_mean=-0.2", "workforce.skill_mean", "-0.2"),
    ("workforce.burnout_duration=-3", "workforce.burnout_duration", "-3"),
    ("trust.harm_loss=-1", "trust.harm_loss", "-1"),
    ("run.steps=0", "run.steps", "0"),
    ("run.replications=0", "run.replications", "0"),
    ("run.seed=-5", "run.seed", "-5"),
    ("run.collect_agents=maybe", "run.collect_agents", "maybe"),
    ("+workforce.stamina=3", "workforce.stamina", "3"),
    ("+colour=blue", "colour", "blue"),
]

# bad inputs of the command line: (overrides, field named in the one line); each is tried as a single run
# and as a sweep, and must stop with exit code 2 and one line, before any folder exists
MISSING_ENV = "GOVSIM_TEST_SURELY_UNSET"
NEW_BAD_COMMAND_LINES = [
    # glob sweeps are expanded and validated like any other
    (("leadership=glob(*)", "problem.K=20"), "problem.K"),
    (("leadership=glob(d*,s*)", "problem.N=40"), "problem.N"),
    (("roles=glob(*)", "run.seed=-1"), "run.seed"),
    # interpolations that do not resolve
    (("problem.N=${nope}",), "problem.N"),
    ((f"problem.N=${{oc.env:{MISSING_ENV}}}",), "problem.N"),
    ((f"run.steps=${{oc.env:{MISSING_ENV}}}",), "run.steps"),
    (("network.degree=${problem.nope}",), "network.degree"),
    (("run.replications=${oc.env:HOME}",), "run.replications"),
    # list-valued, mapping-valued or null names and strings
    (("scenario.name=[a,b]",), "scenario.name"),
    (("scenario.name=null",), "scenario.name"),
    (("scenario.source=[x]",), "scenario.source"),
    (("scenario.description={a:1}",), "scenario.description"),
    (("scenario.organisations.0.name=null",), "scenario.organisations[0].name"),
    (("scenario.organisations.0.name=[a]",), "scenario.organisations[0].name"),
    (("roles.name=null",), "roles.name"),
    (("leadership.style=[shared]",), "leadership.style"),
    (("network.structure=null",), "network.structure"),
    (("problem.type={nk:1}",), "problem.type"),
    (("+scenario.organisations.0.kind=[public]",), "scenario.organisations[0].kind"),
    # decision weights: bounded, so their sum stays finite
    (("+scenario.organisations.0.decision_weight=1e308",), "scenario.organisations[0].decision_weight"),
    (("+scenario.organisations.0.decision_weight=1e7",), "scenario.organisations[0].decision_weight"),
    (("+scenario.organisations.0.decision_weight=0",), "scenario.organisations[0].decision_weight"),
    (("+scenario.organisations.0.decision_weight=inf",), "scenario.organisations[0].decision_weight"),
    # landscapes too large for memory, refused with the estimate before anything is allocated
    (("problem.N=30", "problem.K=29"), "problem.K"),
    (("problem.N=28", "problem.K=27"), "problem.K"),
    # Hydra's own errors: unknown group option, misspelled key
    (("leadership=charismatic",), "leadership"),
    (("scenario=atlantis",), "scenario"),
    (("problem.KK=3",), "problem.KK"),
    (("run.stepz=3",), "run.stepz"),
    (("+problem.bogus=1",), "problem.bogus"),
    # ... also when swept
    (("leadership=shared,charismatic",), "leadership/charismatic"),
    (("problem.KK=2,3",), "problem.KK"),
    (("scenario.name=a,null",), "scenario.name"),
]
SWEEP_ONLY = {"leadership=glob(*)", "leadership=glob(d*,s*)", "roles=glob(*)", "leadership=shared,charismatic",
              "problem.KK=2,3", "scenario.name=a,null"}
BAD_COMMAND_LINES = [*(((override,), field) for override, field, _ in BAD_OVERRIDES), *NEW_BAD_COMMAND_LINES]
# every bad command line as a sweep; the new cases also as a single run (the others are checked by composition)
BAD_CASES = [(*case, "sweep") for case in BAD_COMMAND_LINES] + [
    (*case, "run") for case in NEW_BAD_COMMAND_LINES if not any(o in SWEEP_ONLY for o in case[0])]


def govsim(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.mark.parametrize(("override", "field", "value"), BAD_OVERRIDES)
def test_bad_override_is_named_with_its_value(compose_cfg, override: str, field: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate(compose_cfg([override]))
    message = str(info.value)
    assert "\n" not in message and field in message and value in message and "allowed" in message


def run_cli(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> tuple:
    """Run the ``govsim`` command in this process; return its exit code and stderr."""
    from hydra.core.global_hydra import GlobalHydra

    from experiments.run import cli

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["govsim", *args])
    monkeypatch.delenv(MISSING_ENV, raising=False)
    GlobalHydra.instance().clear()
    capsys.readouterr()
    try:
        cli()
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        GlobalHydra.instance().clear()
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("overrides", "field", "mode"), BAD_CASES,
                         ids=[f"{mode}: {' '.join(o)}" for o, _, mode in BAD_CASES])
def test_bad_command_line_stops_with_one_line_and_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, overrides: tuple,
        field: str, mode: str) -> None:
    extra = ["-m", "run.steps=2,3"] if mode == "sweep" else ["run.steps=2"]
    code, err = run_cli([*extra, "run.replications=1", "hydra/launcher=basic", *overrides], tmp_path, monkeypatch,
                        capsys)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("govsim: invalid config: ") and field in lines[0], lines
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "no output folder may be created"


def test_bad_value_stops_a_run_with_one_line_and_no_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = govsim("problem.cross_boundary=1.5", f"hydra.run.dir={out}", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "govsim: invalid config: problem.cross_boundary=1.5 is not allowed: must lie in [0, 1]"]
    assert not out.exists()


def test_one_bad_point_stops_a_sweep_before_any_job(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    res = govsim("-m", "problem.K=2,3,20", "run.steps=2", "run.replications=1", f"hydra.sweep.dir={sweep}",
                 "hydra/launcher=basic", cwd=tmp_path)
    assert res.returncode == 2 and "problem.K=20" in res.stderr and "Traceback" not in res.stderr
    assert not sweep.exists()


def test_hydra_errors_stay_readable(tmp_path: Path) -> None:
    res = govsim("leadership=charismatic", cwd=tmp_path)
    assert res.returncode == 2 and "Could not find 'leadership/charismatic'" in res.stderr
    assert "facilitative" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "outputs").exists()


unit = st.floats(0, 1, allow_nan=False)


@st.composite
def valid_configs(draw: st.DrawFn) -> dict:
    n_orgs = draw(st.integers(1, 4))
    n = draw(st.integers(max(n_orgs, 2), 12))
    weights = draw(st.lists(st.floats(0.01, 1), min_size=3, max_size=3))
    orientation = dict(zip(("expert", "competitor", "partner"), np.array(weights) / sum(weights), strict=True))
    orientation["partner"] = 1 - orientation["expert"] - orientation["competitor"]
    sizes = draw(st.lists(st.integers(1, 12), min_size=n_orgs, max_size=n_orgs))
    steps = draw(st.integers(1, 4))
    k = draw(st.integers(0, n - 1))
    span = realisable_cross_boundary(split_decisions(np.ones(n_orgs), n), k)
    assume(span is not None)
    cross = span[0] + draw(unit) * (span[1] - span[0])
    assume(external_counts(split_decisions(np.ones(n_orgs), n), k, cross) is not None)
    return {
        "problem": {"N": n, "K": k, "cross_boundary": cross, "mandate_correlation": draw(unit),
                    "turbulence": draw(st.floats(0, 0.3)),
                    "shocks": [{"step": draw(st.integers(1, steps)), "share": draw(unit)}]},
        "scenario": {"organisations": [{"name": f"o{i}", "size": s, "behaviour": {"pressure": draw(unit)},
                                        "kind": draw(st.sampled_from(["public", "external"]))}
                                       for i, s in enumerate(sizes)],
                     "minority_share": draw(st.floats(0, 0.5)), "surge_reserve": draw(unit)},
        "roles": {"orientation": orientation, "conformity": draw(unit)},
        "leadership": {"style": draw(st.sampled_from(STYLES))},
        # a random network needs more professionals than its degree (2); tiny workforces get a path
        "network": {"structure": draw(st.sampled_from(["linear", "full", "random"])) if sum(sizes) > 2 else "linear",
                    "degree": 2,
                    "initial_trust": draw(unit)},
        "workforce": {"domain_size": draw(st.integers(1, 4)), "skill_mean": draw(unit),
                      "burnout_threshold": draw(st.floats(0, 0.5))},
        "run": {"steps": steps, "replications": 1, "seed": draw(st.integers(0, 2**31))},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_configs())
def test_random_valid_parameters_run_with_invariants(config: dict) -> None:
    params = build_params(config)
    model = GovernanceModel(params, rng=config["run"]["seed"])
    heads = model.n_professionals
    for _ in range(params.run.steps):
        model.step()
        assert 0 <= model.trust.min() and model.trust.max() <= 1
        assert 0 <= model.energy.min() and model.energy.max() <= 1
        assert len(model.org_of) == heads and np.bincount(model.org_of).sum() == heads
        assert 0 < model.public_value <= 1 + 1e-9
        for state in (model.safety, model.efficacy, model.network.trust):
            assert ((0 <= state) & (state <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(section=st.sampled_from(["problem", "network", "workforce", "run", "roles", "leadership"]),
       key=st.sampled_from(["K", "N", "degree", "steps", "conformity", "style", "skill_mean", "bogus"]),
       value=st.one_of(st.integers(-100, 100), st.floats(allow_nan=True), st.text(max_size=5), st.none(),
                       st.lists(st.integers(), max_size=2)))
def test_random_invalid_values_raise_only_config_errors(section: str, key: str, value: object) -> None:
    try:
        build_params({section: {key: value}})
    except ConfigError:
        pass


def sweep_args(sweep: Path, launcher: str = "basic") -> list[str]:
    return ["-m", "leadership=directive,shared,facilitative,laissez_faire", "run.steps=60", "run.replications=3",
            "problem.N=12", f"hydra.sweep.dir={sweep}", f"hydra/launcher={launcher}"]


def read_bytes(sweep: Path) -> dict[str, bytes]:
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in sorted(sweep.glob("*/*.parquet"))}


def test_crashed_job_leaves_error_json_and_the_rest_completes(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    res = govsim(*sweep_args(sweep), cwd=tmp_path, env={"GOVSIM_FAULT_JOBS": "1"})
    assert res.returncode == 1
    assert "1 job(s) of the sweep failed" in res.stderr and "job 1: leadership=shared" in res.stderr
    err = json.loads((sweep / "1" / "error.json").read_text())
    assert "fault injected" in err["error"] and "Traceback" in err["traceback"]
    assert "leadership=shared" in err["overrides"] and err["config"]["leadership"]["style"] == "shared"
    for job in ("0", "2", "3"):
        assert (sweep / job / "meta.json").exists() and not (sweep / job / "error.json").exists()
    assert not (sweep / "1" / "timeseries.parquet").exists()
    # resume runs only the failed job
    res = govsim(*sweep_args(sweep), cwd=tmp_path)
    assert res.returncode == 0
    assert res.stderr.count("skipping") + res.stdout.count("skipping") == 3
    assert (sweep / "1" / "meta.json").exists() and not (sweep / "1" / "error.json").exists()


def test_killed_sweep_resumes_exactly_the_missing_jobs(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert govsim(*sweep_args(reference), cwd=tmp_path).returncode == 0
    sweep = tmp_path / "sweep"
    proc = subprocess.Popen([sys.executable, "-m", "experiments.run", *sweep_args(sweep)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 120
    while time.time() < deadline and len(list(sweep.glob("*/meta.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.parent.name for p in sweep.glob("*/meta.json")}
    assert 2 <= len(done_before) < 4, "the sweep must be killed part-way"
    res = govsim(*sweep_args(sweep), cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    log = res.stdout + res.stderr
    skipped = {job for job in ("0", "1", "2", "3") if f"skipping {sweep / job}:" in log}
    assert skipped == done_before
    assert read_bytes(sweep) == read_bytes(reference) and len(read_bytes(sweep)) == 8


def test_basic_and_joblib_launchers_give_byte_identical_results(tmp_path: Path) -> None:
    basic, joblib = tmp_path / "basic", tmp_path / "joblib"
    assert govsim(*sweep_args(basic), cwd=tmp_path).returncode == 0
    res = govsim(*sweep_args(joblib, "joblib"), "hydra.launcher.n_jobs=2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    assert read_bytes(basic) == read_bytes(joblib) and len(read_bytes(basic)) == 8


def test_submitit_local_runs_a_sweep_end_to_end_with_identical_results(tmp_path: Path) -> None:
    args = ["-m", "leadership=directive,shared", "run.steps=5", "run.replications=2", "problem.N=10"]
    sweep, basic = tmp_path / "submitit", tmp_path / "basic"
    res = govsim(*args, f"hydra.sweep.dir={sweep}", "hydra/launcher=submitit_local", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    assert sorted(p.parent.name for p in sweep.glob("*/meta.json")) == ["0", "1"]
    assert govsim(*args, f"hydra.sweep.dir={basic}", "hydra/launcher=basic", cwd=tmp_path).returncode == 0
    assert read_bytes(sweep) == read_bytes(basic) and len(read_bytes(basic)) == 4


def test_ray_launcher_gives_identical_results(tmp_path: Path) -> None:
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason="optional extra: pip install -e '.[ray]'")
    args = ["-m", "leadership=directive,shared", "run.steps=5", "run.replications=2", "problem.N=10"]
    ray, basic = tmp_path / "ray", tmp_path / "basic"
    res = govsim(*args, f"hydra.sweep.dir={ray}", "hydra/launcher=ray_cluster", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    assert govsim(*args, f"hydra.sweep.dir={basic}", "hydra/launcher=basic", cwd=tmp_path).returncode == 0
    assert read_bytes(ray) == read_bytes(basic) and len(read_bytes(basic)) == 4


def test_slurm_launcher_config_composes_with_its_options(tmp_path: Path) -> None:
    res = govsim("--cfg", "hydra", "hydra/launcher=slurm", "hydra.launcher.partition=short",
                 "hydra.launcher.array_parallelism=32", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "SlurmLauncher" in res.stdout and "partition: short" in res.stdout and "array_parallelism: 32" in res.stdout
