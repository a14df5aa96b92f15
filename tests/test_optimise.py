"""govsim-optimise: the search finds the best mix, resumes exactly, isolates crashes and undefined objectives."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import optimise as opt
from experiments.mixes import MixSpace, apply_mix, evaluate, replication_seed
from sim.params import ConfigError, build_params
from sim.runner import replication_seeds

ROOT = Path(__file__).resolve().parents[1]

# Two organisations of a small problem, few steps: 36 mixes, a run in about 20 ms.
TINY = ["scenario.organisations=[{name:north,size:12},{name:south,size:12}]", "problem.N=8", "problem.K=2",
        "problem.cross_boundary=0.5", "run.steps=12", "optimise.replications=2", "optimise.workers=1",
        "optimise.reevaluate=4", "optimise.choose=3", "optimise.selection=all", "optimise.surrogate=0"]


def prepared(*extra: str, experiment: str = "optimise_mix"):
    overrides = [f"experiment={experiment}", *TINY, *extra]
    return opt.prepare(opt.compose(overrides), experiment)


def test_replication_seed_is_the_jobs_replication():
    for r in (0, 3, 7):
        assert np.array_equal(replication_seed(99, r).generate_state(4), replication_seeds(99, 8)[r].generate_state(4))


def test_apply_mix_sets_style_and_behaviour_of_the_named_organisation_only():
    model_cfg, settings, _ = prepared("optimise.space.behaviours=[convening]")
    cfg = apply_mix(model_cfg, {"north.style": "shared", "north.convening": 0.9})
    params = build_params(cfg)
    assert params.style_of(0) == "shared"
    assert params.behaviour_of(0).convening == 0.9
    assert params.style_of(1) == params.leadership.style
    assert settings.space.levers == ["north.style", "north.convening", "south.style", "south.convening"]
    assert model_cfg["scenario"]["organisations"][0].get("leadership") is None  # the base config is not changed


def test_mix_space_checks_values():
    space = MixSpace(("a", "b"), ("directive", "shared"), ("support",))
    with pytest.raises(ConfigError, match=r"a\.style.*allowed: directive, shared"):
        space.check({"a.style": "autocratic", "a.support": 0.1, "b.style": "shared", "b.support": 0.2})
    with pytest.raises(ConfigError, match=r"b\.support.*\[0, 1\]"):
        space.check({"a.style": "shared", "a.support": 0.1, "b.style": "shared", "b.support": 2})
    assert math.isinf(space.size)
    assert len(list(MixSpace(("a", "b"), ("directive", "shared")).grid())) == 4


@pytest.mark.parametrize(("override", "field"), [
    ("optimise.objectives=[public_value]", "optimise.objectives"),
    ("optimise.trials=0", "optimise.trials"),
    ("optimise.sampler=cmaes", "optimise.sampler"),
    ("optimise.space.organisations=[north,west]", "optimise.space.organisations"),
    ("optimise.space.styles=[autocratic]", "optimise.space.styles"),
    ("optimise.space.behaviours=[charisma]", "optimise.space.behaviours"),
    ("+optimise.max_runs=3", "optimise.max_runs"),
    ("optimise.smallest_effect.gap_closed_auc=0", "optimise.smallest_effect.gap_closed_auc"),
    ("optimise.undefined=ignore", "optimise.undefined"),
    ("optimise.multivariate=false", "optimise.avoid_repeats"),
    ("optimise.selection=best", "optimise.selection"),
    ("optimise.selection=halving optimise.objectives=[gap_closed_auc,production_mean]", "optimise.selection"),
    ("optimise.selection=halving optimise.choose=8 optimise.selection_runs=23", "optimise.selection_runs"),
])
def test_bad_settings_name_the_field(override, field):
    with pytest.raises(ConfigError) as err:
        prepared(*override.split())
    assert err.value.field == field


def test_cli_refuses_bad_input_in_one_line_before_any_folder(tmp_path):
    out = tmp_path / "opt"
    res = subprocess.run([sys.executable, "-m", "experiments.optimise", "optimise.trials=-1", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "optimise.trials=-1" in lines[0] and "integer" in lines[0]
    assert not out.exists()


def test_govsim_points_an_optimisation_to_govsim_optimise(tmp_path):
    res = subprocess.run([sys.executable, "-m", "experiments.run", "experiment=optimise_mix",
                          f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "govsim-optimise" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_finds_the_best_of_an_exhaustive_sweep(tmp_path):
    """On 36 mixes, the search's best trial is the exhaustive sweep's best on the same replications."""
    model_cfg, settings, record = prepared("optimise.trials=400", "optimise.budget=60", "optimise.startup=8",
                                           "optimise.seed=3")
    space = settings.space
    exhaustive = {tuple(m.values()): np.mean([r["gap_closed_auc"] for r in evaluate(model_cfg, m, [0, 1],
                                                                                      ["gap_closed_auc"])])
                  for m in space.grid()}
    best_value = max(exhaustive.values())
    final = opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    trials = pd.read_parquet(tmp_path / "trials.parquet")
    ran = trials[trials["duplicate_of"] < 0]
    assert len(ran) == 30 and final["runs_search"] == 60  # the budget: 30 mixes run twice; repeats cost nothing
    assert ran[space.levers].drop_duplicates().shape[0] == 30
    assert trials["value_gap_closed_auc"].max() == pytest.approx(best_value, abs=1e-12)
    # every trial's value is the exhaustive value of its mix (the same runner, the same replications)
    for _, row in trials.iterrows():
        assert row["value_gap_closed_auc"] == pytest.approx(exhaustive[tuple(row[lev] for lev in space.levers)])
    assert final["runs_used"] == 60 + 3 * 4


def _run_cli(out: Path, *extra: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != opt.FAULT_ENV}
    if fault:
        env[opt.FAULT_ENV] = fault
    return subprocess.run([sys.executable, "-m", "experiments.optimise", "experiment=optimise_mix", *TINY, *extra,
                           "--quiet", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=300)


def _finished(out: Path) -> pd.DataFrame:
    t = pd.read_parquet(out / "trials.parquet")
    return t[~t["interrupted"]].sort_values("slot").drop(columns=["number", "duration_s"]).reset_index(drop=True)


@pytest.mark.parametrize(("objectives", "fault"), [
    ("[gap_closed_auc]", "kill:7"),            # mid-batch: batch 2 half asked, batch 1 running, neither told
    ("[gap_closed_auc]", "kill_told:5"),       # batch 1 told, batch 2 asked and running: its view hid batch 1
    ("[gap_closed_auc,production_mean,burnout_rate_mean,window_voice_equity]", "kill:7"),
    ("[gap_closed_auc,production_mean,burnout_rate_mean,window_voice_equity]", "kill_told:5"),
])
def test_killed_search_resumes_to_the_same_trials(tmp_path, objectives, fault):
    """SIGKILL mid-search; the resumed search completes exactly the planned slots, as if never killed."""
    extra = ["optimise.trials=14", "optimise.startup=4", "optimise.population=4", "optimise.batch=3",
             f"optimise.objectives={objectives}"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _run_cli(whole, *extra).returncode == 0
    res = _run_cli(killed, *extra, fault=fault)
    assert res.returncode == -9
    assert not (killed / "trials.parquet").exists()
    res = _run_cli(killed, *extra)
    assert res.returncode == 0, res.stderr
    t = pd.read_parquet(killed / "trials.parquet")
    assert t["interrupted"].sum() >= 1  # the batch left RUNNING is marked FAIL, not lost
    assert (t.loc[t["interrupted"], "state"] == "FAIL").all()
    pd.testing.assert_frame_equal(_finished(whole), _finished(killed))
    assert sorted(_finished(killed)["slot"]) == list(range(14))
    pd.testing.assert_frame_equal(pd.read_parquet(whole / "reevaluation.parquet"),
                                  pd.read_parquet(killed / "reevaluation.parquet"))


def test_an_optimisation_leaves_joblib_usable_in_its_process(tmp_path):
    """The search's worker pool is its own: joblib.Parallel still works afterwards (the proof script needs it)."""
    from joblib import Parallel, delayed

    model_cfg, settings, record = prepared("optimise.trials=4", "optimise.choose=1", "optimise.workers=2")
    opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    assert Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    """Two worker processes (runs of the next batch queued behind the running one) give one worker's trials."""
    extra = ["optimise.trials=16", "optimise.startup=4", "optimise.batch=2"]
    assert _run_cli(tmp_path / "one", *extra).returncode == 0
    res = _run_cli(tmp_path / "two", *extra, "optimise.workers=2")
    assert res.returncode == 0, res.stderr
    pd.testing.assert_frame_equal(_finished(tmp_path / "one"), _finished(tmp_path / "two"))


def test_a_crashing_trial_fails_and_the_study_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv(opt.FAULT_ENV, "raise:2")
    model_cfg, settings, record = prepared("optimise.trials=6")
    final = opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    t = pd.read_parquet(tmp_path / "trials.parquet").set_index("slot")
    assert t.loc[2, "state"] == "FAIL" and "fault injected" in t.loc[2, "error"]
    assert (t.drop(index=2)["state"] == "COMPLETE").all()
    assert final["trials_failed"] == 1 and final["trials_complete"] == 5


def test_an_undefined_objective_is_a_constraint_not_a_failure(tmp_path, monkeypatch):
    """Voice equity undefined in one replication: the trial completes, infeasible, valued on the defined one."""
    real = opt.evaluate

    def silent_north(config, mix, replications, outcomes):
        rows = real(config, mix, replications, outcomes)
        if mix["north.style"] == "laissez_faire" and replications == [0]:
            rows[0]["window_voice_equity"] = float("nan")
        return rows

    monkeypatch.setattr(opt, "evaluate", silent_north)
    model_cfg, settings, record = prepared(
        "optimise.trials=12", "optimise.objectives=[gap_closed_auc,window_voice_equity]", "optimise.population=4",
        "optimise.space.styles=[laissez_faire,facilitative]")
    opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    t = pd.read_parquet(tmp_path / "trials.parquet")
    assert (t["state"] == "COMPLETE").all()
    silent = t["north.style"] == "laissez_faire"
    assert silent.any() and (~silent).any()
    assert (t.loc[silent, "defined_window_voice_equity"] == 0.5).all()
    assert not t.loc[silent, "feasible"].any() and t.loc[~silent, "feasible"].all()
    assert np.isfinite(t["value_window_voice_equity"]).all()
    reeval = pd.read_parquet(tmp_path / "reevaluation.parquet")
    assert (reeval["north.style"] == "facilitative").all()  # only feasible mixes are chosen


def test_a_folder_of_another_optimisation_is_refused(tmp_path):
    model_cfg, settings, record = prepared("optimise.trials=2", "optimise.choose=1")
    opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    before = (tmp_path / "study.journal").read_bytes()
    model_cfg, settings, record = prepared("optimise.trials=3", "optimise.choose=1")
    with pytest.raises(opt.SweepRefused, match="another optimisation"):
        opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    assert (tmp_path / "study.journal").read_bytes() == before


def test_smallest_effects_are_the_reports_declared_ones():
    """The optimisation judges ties with the smallest effects govsim-report declares with the outcomes."""
    from analysis.report import DEFAULT_SMALLEST

    declared = opt.compose(["experiment=optimise_mix"])["optimise"]["smallest_effect"]
    assert declared and {k: DEFAULT_SMALLEST[k] for k in declared} == dict(declared)


def test_avoiding_tpe_proposes_its_best_candidate_not_run_yet(monkeypatch):
    """After the start-up trials, TPE's proposal is the highest-acquisition candidate outside the mixes run."""
    import optuna

    _, settings, _ = prepared("optimise.startup=4")
    space, dists = settings.space, opt.distributions(settings.space)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    mixes = list(space.grid())
    rng = np.random.default_rng(5)
    run = [mixes[i] for i in rng.choice(len(mixes), 14, replace=False)]
    for i, mix in enumerate(run):  # a landscape with one good corner, so TPE has an incumbent to repeat
        study.add_trial(optuna.trial.create_trial(params=mix, distributions=dists, value=float(i % 5 == 0) + 0.01 * i))
    visited = {opt._key(m) for m in run}
    seen: list[tuple[list[str], np.ndarray]] = []
    plain = optuna.samplers.TPESampler._compute_acquisition_func

    def spy(self, samples, below, above):
        values = plain(self, samples, below, above)
        keys = [opt._key({lev: dists[lev].to_external_repr(float(samples[lev][i])) for lev in space.levers})
                for i in range(values.size)]
        seen.append((keys, values))
        return values

    monkeypatch.setattr(optuna.samplers.TPESampler, "_compute_acquisition_func", spy)
    repeats_plain = 0
    for slot in range(20):
        for avoid in (False, True):
            seen.clear()
            sampler = opt.make_sampler(dataclasses.replace(settings, avoid_repeats=avoid), slot, visited)
            study.sampler = sampler
            trial = study.ask(dists)
            key = opt._key(opt._mix_of(trial.params, space))
            keys, values = seen[-1]
            assert key in keys  # the proposal is one of the candidates
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # not an observation
            if not avoid:
                repeats_plain += key in visited
                continue
            new = [i for i, k in enumerate(keys) if k not in visited]
            if new:
                assert key not in visited
                assert values[keys.index(key)] == max(values[i] for i in new)
    assert repeats_plain > 0  # without avoidance TPE repeats mixes here (else this test shows nothing)


def test_pareto_mask_respects_directions():
    values = np.array([[0.5, 0.1], [0.4, 0.2], [0.6, 0.05], [0.6, 0.3]])
    assert opt.pareto_mask(values, ["maximize", "minimize"]).tolist() == [False, False, True, False]
    assert opt.pareto_mask(values, ["maximize", "maximize"]).tolist() == [False, False, False, True]


def test_chosen_mixes_run_over_the_robustness_sample(tmp_path):
    """The candidates run at every Latin-hypercube point, on the same fresh replications, with the point's values."""
    model_cfg, settings, record = prepared("optimise.trials=6", "optimise.choose=2", "optimise.robustness.points=3",
                                           "optimise.robustness.replications=2")
    final = opt.optimise(model_cfg, settings, tmp_path, record, show_progress=False)
    robust = pd.read_parquet(tmp_path / "robustness.parquet")
    reeval = pd.read_parquet(tmp_path / "reevaluation.parquet")
    assert len(robust) == 2 * 3 * 2 == final["runs_robustness"]
    assert sorted(robust["replication"].unique()) == [1000, 1001]
    # each mix of the sample is a re-evaluated candidate, at the same three points
    assert set(robust["mix_id"]) == set(reeval["mix_id"])
    points = robust.groupby("mix_id")["problem.turbulence"].apply(lambda s: tuple(sorted(s.unique())))
    assert points.nunique() == 1 and len(points.iloc[0]) == 3
    lo, hi = settings.robustness["parameters"]["problem.turbulence"]
    assert robust["problem.turbulence"].between(lo, hi).all()
    # a point's values reach the model: the same mix differs between points on the same replication
    one = robust[(robust["mix_id"] == 0) & (robust["replication"] == 1000)]
    assert one["gap_closed_auc"].nunique() > 1


# ------------------------------------------------------------------------- the final mix by halving
@pytest.mark.parametrize("n", range(1, 34))
def test_halving_schedule_halves_the_candidates_within_the_runs(n):
    rounds = opt._rounds(n)
    assert rounds == (1 if n == 1 else math.ceil(math.log2(n)))
    for runs in (n * rounds, n * rounds + 7, 90, 1000):
        if runs < n * rounds:
            continue
        plan = opt.halving_schedule(n, runs)
        assert len(plan) == rounds and plan[0][0] == n and plan[-1][0] <= 2
        assert all(b == math.ceil(a / 2) for (a, _), (b, _) in zip(plan, plan[1:], strict=False))
        assert all(each == runs // (alive * rounds) >= 1 for alive, each in plan)  # an equal share per round
        assert sum(alive * each for alive, each in plan) <= runs


class _Truth:
    """A fake evaluator: a mix's value is its true value plus a replication's shared shock plus its own noise."""

    def __init__(self, truth: dict[tuple, float], own_noise: float, seed: int = 5) -> None:
        self.truth, self.own_noise, self.seed, self.calls = truth, own_noise, seed, []

    def __call__(self, tasks):
        self.calls.append(tasks)
        out = []
        for mix, r in tasks:
            key = tuple(mix.values())
            rng = np.random.default_rng([self.seed, r, list(self.truth).index(key)])
            shared = np.random.default_rng([self.seed, r]).normal(0, 0.3)  # common random numbers cancel it
            out.append({"gap_closed_auc": self.truth[key] + shared + rng.normal(0, self.own_noise)})
        return out


def _candidates(settings, n: int, seed: int = 1):
    mixes = list(settings.space.grid())[:n]
    rng = np.random.default_rng(seed)
    truth = {tuple(m.values()): float(v) for m, v in zip(mixes, rng.permutation(n) * 0.05, strict=True)}
    frame = pd.DataFrame([{**m, "slot": i} for i, m in enumerate(mixes)])
    return frame, truth


def test_halving_finds_the_best_candidate_on_common_random_numbers():
    """Shocks shared by a replication cancel; the truly best of ten mixes wins, the rest drop out half by half."""
    _, settings, _ = prepared("optimise.selection=halving", "optimise.choose=10", "optimise.selection_runs=90")
    frame, truth = _candidates(settings, 10)
    evaluator = _Truth(truth, own_noise=0.01)
    rows = opt.race(frame, settings, evaluator)
    plan = opt.halving_schedule(10, 90)
    assert len(rows) == sum(a * e for a, e in plan) <= 90
    levers = settings.space.levers
    for round_, (alive, each) in enumerate(plan):
        part = rows[rows["round"] == round_]
        assert part["mix_id"].nunique() == alive
        done = sum(e for _, e in plan[:round_])
        for _, g in part.groupby("mix_id"):  # the same next replications for every mix of the round
            assert sorted(g["replication"]) == list(range(1000 + done, 1000 + done + each))
    for round_ in range(1, len(plan)):  # who went on had the better mean over all runs so far
        went_on = set(rows.loc[rows["round"] == round_, "mix_id"])
        so_far = rows[rows["round"] < round_].groupby("mix_id")["gap_closed_auc"].mean()
        so_far = so_far[so_far.index.isin(set(rows.loc[rows["round"] == round_ - 1, "mix_id"]))]
        assert so_far[list(went_on)].min() >= so_far.drop(list(went_on)).max()
    chosen = opt.choose(rows, settings)
    best = max(truth, key=truth.get)
    final = rows[rows["mix_id"] == chosen["final"]].iloc[0]
    assert tuple(final[lev] for lev in levers) == best
    assert sorted(chosen["candidates"]) == list(range(10))


def test_halving_tells_two_close_mixes_apart_through_noise():
    """Two mixes 0.05 apart, own noise 0.08 a run: 100 paired runs each pick the better one nearly always."""
    _, settings, _ = prepared("optimise.selection=halving", "optimise.choose=2", "optimise.selection_runs=200")
    frame, truth = _candidates(settings, 2)
    wins = 0
    for seed in range(20):
        rows = opt.race(frame, settings, _Truth(truth, own_noise=0.08, seed=seed))
        final = rows[rows["mix_id"] == opt.choose(rows, settings)["final"]].iloc[0]
        wins += tuple(final[lev] for lev in settings.space.levers) == max(truth, key=truth.get)
    assert wins >= 18  # a 0.05 gap on 100 runs each, paired: the better mix wins nearly always


def test_choose_takes_the_final_from_the_last_round_only():
    _, settings, _ = prepared("optimise.selection=halving")
    rows = [{"mix_id": 0, "replication": 1000 + r, "gap_closed_auc": v} for r, v in enumerate([0.9, 0.95])]
    rows += [{"mix_id": m, "replication": 1000 + r, "gap_closed_auc": base + 0.01 * (r % 3)}
             for m, base in ((1, 0.5), (2, 0.6)) for r in range(10)]
    assert opt.choose(pd.DataFrame(rows), settings)["final"] == 2  # mix 0 dropped out after two runs


def test_an_optimisation_with_halving_reports_its_race(tmp_path):
    from analysis.report import main as report_main

    model_cfg, settings, record = prepared("optimise.trials=12", "optimise.startup=4", "optimise.selection=halving",
                                           "optimise.choose=5", "optimise.selection_runs=30")
    final = opt.optimise(model_cfg, settings, tmp_path / "o", record, show_progress=False)
    reev = pd.read_parquet(tmp_path / "o" / "reevaluation.parquet")
    assert final["runs_used"] == final["runs_search"] + len(reev) and len(reev) <= 30
    assert final["selection"] == "halving" and final["selection_runs"] == 30
    counts = reev.groupby("mix_id")["replication"].count()
    chosen = opt.choose(reev, settings)
    assert counts[chosen["final"]] == counts.max() and counts.min() < counts.max()
    assert report_main([str(tmp_path / "o"), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "sequential halving" in md and f"mix {chosen['final']}) is the best mean of the last round" in md
    assert "| out after round 1 |" in md and "| finalist |" in md  # five candidates: rounds of 5, 3, 2


# ------------------------------------------------------------------------- candidates from the surrogate
def _trials_of(settings, mixes, values) -> pd.DataFrame:
    """A trials table as :func:`opt.trials_table` writes it, for the given mixes and objective values."""
    return pd.DataFrame([{"number": i, "slot": i, "state": "COMPLETE", "interrupted": False, "error": None,
                          "duplicate_of": -1, "explore": False, **m, "value_gap_closed_auc": v,
                          "defined_gap_closed_auc": 1.0, "feasible": True}
                         for i, (m, v) in enumerate(zip(mixes, values, strict=True))])


def _additive(settings, seed: int = 2):
    """An additive truth over the two organisations' styles, with its best mix."""
    rng = np.random.default_rng(seed)
    effect = {lever: dict(zip(settings.space.styles, rng.normal(0, 0.1, len(settings.space.styles)), strict=True))
              for lever in settings.space.levers}
    truth = {tuple(m.values()): sum(effect[lv][m[lv]] for lv in m) for m in settings.space.grid()}
    return truth, max(truth, key=truth.get)


def test_the_surrogate_proposes_the_best_mix_the_search_never_ran():
    """Twenty noisy trials of an additive truth, none of them the best mix: the surrogate ranks it first."""
    _, settings, _ = prepared("optimise.choose=2", "optimise.surrogate=2")
    truth, best = _additive(settings)
    rng = np.random.default_rng(0)
    others = [m for m in settings.space.grid() if tuple(m.values()) != best]
    run = [others[i] for i in rng.choice(len(others), 20, replace=False)]
    trials = _trials_of(settings, run, [truth[tuple(m.values())] + rng.normal(0, 0.02) for m in run])
    out = opt.candidates(trials, settings)
    levers = settings.space.levers
    assert list(out["source"]) == ["trial", "trial", "surrogate", "surrogate"]
    by_value = trials.sort_values("value_gap_closed_auc", ascending=False).head(2)
    assert [tuple(r) for r in out[levers].head(2).to_numpy()] == [tuple(r) for r in by_value[levers].to_numpy()]
    assert out[levers].drop_duplicates().shape[0] == 4  # distinct mixes
    first = out[out["source"] == "surrogate"].iloc[0]
    assert tuple(first[lv] for lv in levers) == best and first["slot"] == -1  # never run, proposed first
    # its prediction is the best of every mix in the space
    pool = pd.DataFrame(list(settings.space.grid()))
    assert first["predicted"] == pytest.approx(opt.surrogate_predict(trials, pool, settings).max())


def test_the_surrogate_proposes_nothing_from_one_trial():
    _, settings, _ = prepared("optimise.choose=2", "optimise.surrogate=2")
    trials = _trials_of(settings, list(settings.space.grid())[:1], [0.4])
    out = opt.candidates(trials, settings)
    assert list(out["source"]) == ["trial"]


def test_without_the_surrogate_the_candidates_are_the_best_trials():
    _, settings, _ = prepared("optimise.choose=4")
    truth, _ = _additive(settings)
    run = list(settings.space.grid())[:10]
    trials = _trials_of(settings, run, [truth[tuple(m.values())] for m in run])
    out = opt.candidates(trials, settings)
    assert list(out["source"]) == ["trial"] * 4
    assert list(out["value_gap_closed_auc"]) == sorted(trials["value_gap_closed_auc"], reverse=True)[:4]


def test_the_surrogate_finds_a_behaviours_best_value_inside_its_range():
    """A behaviour lever whose value peaks at 0.3: the quadratic term puts the proposed value near it."""
    _, settings, _ = prepared("optimise.space.styles=[]", "optimise.space.behaviours=[convening]",
                              "optimise.choose=1", "optimise.surrogate=1", "optimise.surrogate_pool=2000")
    rng = np.random.default_rng(4)
    mixes = [{lever: float(x) for lever, x in zip(settings.space.levers, rng.random(2), strict=True)}
             for _ in range(40)]
    trials = _trials_of(settings, mixes, [-sum((v - 0.3) ** 2 for v in m.values()) for m in mixes])
    out = opt.candidates(trials, settings)
    proposed = out[out["source"] == "surrogate"].iloc[0]
    assert all(abs(proposed[lv] - 0.3) < 0.1 for lv in settings.space.levers)
    again = opt.candidates(trials, settings)  # the drawn pool is seeded: the same proposal
    assert again[settings.space.levers].equals(out[settings.space.levers])


@pytest.mark.parametrize(("override", "field"), [
    ("optimise.surrogate=-1", "optimise.surrogate"),
    ("optimise.surrogate=1.5", "optimise.surrogate"),
    ("optimise.selection=halving optimise.choose=8 optimise.surrogate=2 optimise.selection_runs=39",
     "optimise.selection_runs"),  # ten candidates in four rounds need 40 runs
    ("optimise.surrogate_pool=0", "optimise.surrogate_pool"),
    ("optimise.surrogate_pool=300000", "optimise.surrogate_pool"),  # 1,000,000 took 25 s and 1.4 GB
])
def test_bad_surrogate_settings_name_the_field(override, field):
    with pytest.raises(ConfigError) as err:
        prepared(*override.split())
    assert err.value.field == field


def test_an_optimisation_races_the_surrogates_mixes_and_reports_them(tmp_path):
    from analysis.report import main as report_main

    model_cfg, settings, record = prepared("optimise.trials=12", "optimise.startup=4", "optimise.selection=halving",
                                           "optimise.choose=3", "optimise.surrogate=3", "optimise.selection_runs=36")
    opt.optimise(model_cfg, settings, tmp_path / "o", record, show_progress=False)
    reev = pd.read_parquet(tmp_path / "o" / "reevaluation.parquet")
    sources = reev.drop_duplicates("mix_id").set_index("mix_id")["source"]
    assert (sources == "surrogate").sum() == 3 and (sources == "trial").sum() == 3
    assert report_main([str(tmp_path / "o"), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "3 further mixes a surrogate predicted best" in md and "3 proposed by the surrogate" in md
    unrun = reev[(reev["source"] == "surrogate") & (reev["trial"] < 0)]["mix_id"].unique()
    for m in unrun:
        assert f"mix {m} (surrogate)" in md


def test_the_surrogate_is_not_used_with_several_objectives():
    """A surrogate set (as optimise_mix sets it) stays out of a multi-objective search: the front is the candidates."""
    _, settings, record = prepared("optimise.surrogate=5", "optimise.objectives=[gap_closed_auc,production_mean]")
    assert settings.surrogate == 5 and settings.surrogate_used == 0 and record["surrogate"] == 0
    assert settings.candidate_count == settings.choose


def test_a_mix_raced_once_gets_no_interval_and_no_verdict(tmp_path):
    """Eight candidates on 24 runs: round one runs each once. One run has no interval, so nothing is decided on it."""
    from analysis.report import main as report_main

    model_cfg, settings, record = prepared("optimise.trials=12", "optimise.startup=4", "optimise.selection=halving",
                                           "optimise.choose=8", "optimise.selection_runs=24")
    opt.optimise(model_cfg, settings, tmp_path / "o", record, show_progress=False)
    reev = pd.read_parquet(tmp_path / "o" / "reevaluation.parquet")
    once = reev.groupby("mix_id")["replication"].count().loc[lambda c: c == 1].index
    assert len(once) == 4
    assert report_main([str(tmp_path / "o"), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text().splitlines()
    for m in once:
        rows = [line for line in md if line.startswith(f"| mix {m} (trial")]
        assert len(rows) == 2  # the chosen-mixes table and the table against the best
        assert "[–, –] (1" in rows[0]
        assert "| no interval |" in rows[1] and "no: undecided" in rows[1]
