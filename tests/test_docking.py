"""Docking: the engine reproduces Kauffman/Levinthal, Lazer & Friedman and Hong & Page.

Fast versions assert the direction of each published effect with a margin; the
full-size setups of ``configs/experiment/docking_*.yaml`` run behind the ``slow``
marker (``pytest -m slow``; ``.ci/run`` runs them after the default suite).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from experiments.callbacks import validate
from sim.docking import DockingParams, build_docking, lazer_friedman_run, nk_landscape_stats, run_docking
from sim.params import ConfigError
from sim.ring import RingProblem, ability, all_heuristics, climb, diversity, relay

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------- ring mechanics
def test_pool_holds_every_ordered_heuristic_once() -> None:
    pool = all_heuristics(3, 12)
    assert pool.shape == (12 * 11 * 10, 3)
    assert len({tuple(h) for h in pool}) == len(pool)
    assert pool.min() == 1 and pool.max() == 12
    assert all(len(set(h)) == 3 for h in pool)


def test_diversity_counts_positions_that_differ() -> None:
    assert diversity(np.array([[1, 2, 3], [1, 3, 5]])) == pytest.approx(2 / 3)
    assert diversity(np.array([[3, 4, 5], [4, 5, 6]])) == pytest.approx(1.0)
    assert diversity(np.array([[1, 2, 3], [1, 2, 3], [1, 2, 3]])) == 0.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), l_max=st.integers(3, 15))
def test_a_climb_stops_where_no_step_of_the_heuristic_improves(seed: int, l_max: int) -> None:
    rng = np.random.default_rng(seed)
    ring = RingProblem(200, 100.0, rng)
    pool = all_heuristics(3, l_max)
    steps = pool[rng.integers(0, len(pool), size=200)]
    end, _ = climb(ring.values, np.arange(200), steps)
    for s in range(3):
        assert np.all(ring.values[(end + steps[:, s]) % 200] <= ring.values[end])
    assert np.all(ring.values[end] >= ring.values[np.arange(200)])


def test_relay_never_ends_below_its_first_member_alone() -> None:
    rng = np.random.default_rng(4)
    ring = RingProblem(500, 100.0, rng)
    group = all_heuristics(3, 8)[rng.choice(336, size=5, replace=False)]
    alone, _ = climb(ring.values, np.arange(500), np.broadcast_to(group[0], (500, 3)))
    together = relay(ring.values, group)
    assert np.all(ring.values[together] >= ring.values[alone])
    for member in group:  # nobody in the group can improve on where it stopped
        for s in member:
            assert np.all(ring.values[(together + s) % 500] <= ring.values[together])


# ---------------------------------------------------------------------------- Kauffman / Levinthal
def test_with_k0_every_walk_reaches_the_single_global_optimum() -> None:
    for seed in range(5):
        stats = nk_landscape_stats(DockingParams(study="nk", N=10, K=0, walks=50), np.random.default_rng(seed))
        assert stats["local_optima"] == 1 and stats["walk_reaches_optimum"] == 1.0
        assert stats["walk_fitness"] == pytest.approx(1.0)


def test_local_optima_multiply_and_walks_end_lower_as_k_grows() -> None:
    by_k = {k: run_docking(DockingParams(study="nk", N=10, K=k, landscapes=30, walks=50), seed=1)[1].mean(
        numeric_only=True) for k in (1, 4, 9)}
    assert by_k[1]["local_optima"] < by_k[4]["local_optima"] < by_k[9]["local_optima"]
    assert by_k[1]["walk_fitness"] > by_k[4]["walk_fitness"] + 0.02 > by_k[9]["walk_fitness"] + 0.04
    # a fully random landscape has 2^N / (N + 1) one-bit local optima in expectation (93.1 for N = 10)
    assert by_k[9]["local_optima"] == pytest.approx(2**10 / 11, rel=0.05)


# ---------------------------------------------------------------------------- Lazer & Friedman
def test_full_network_is_ahead_early_and_linear_ahead_late() -> None:
    def mean_score(network: str) -> pd.Series:
        params = DockingParams(study="lazer_friedman", N=14, K=5, agents=40, network=network, rounds=80,
                               landscapes=12)
        ts, _ = run_docking(params, seed=7)
        return ts.groupby("step")["score"].mean()

    linear, full, small_world = mean_score("linear"), mean_score("full"), mean_score("small_world")
    # same landscapes and starts for every network (common random numbers)
    assert linear.iloc[0] == pytest.approx(full.iloc[0]) == pytest.approx(small_world.iloc[0])
    assert full.loc[4] > linear.loc[4] + 0.05
    assert linear.iloc[-1] > full.iloc[-1] + 0.02


def test_imitation_spreads_the_best_solution_through_a_full_network() -> None:
    params = DockingParams(study="lazer_friedman", N=10, K=3, agents=20, network="full", rounds=3)
    run = lazer_friedman_run(params, np.random.default_rng(3))
    # after one round of a full network every agent holds the round-0 best solution or explored once from it
    assert run["distinct_solutions"].iloc[0] > run["distinct_solutions"].iloc[1]
    assert run["score"].is_monotonic_increasing


# ---------------------------------------------------------------------------- Hong & Page
def test_random_group_beats_the_best_group_on_most_rings() -> None:
    params = DockingParams(study="hong_page", ring_size=1000, l=12, group_sizes=(10,), landscapes=8)
    _, summary = run_docking(params, seed=2004)
    assert summary["random_wins"].mean() >= 0.75
    assert summary["random_minus_best"].mean() > 0.5
    assert (summary["random_diversity"] > summary["best_diversity"]).mean() >= 0.75
    assert (summary["best_group_ability"] > summary["random_group_ability"]).all()  # the best are more able


def test_ability_is_the_mean_stopping_value_over_all_starts() -> None:
    rng = np.random.default_rng(0)
    ring = RingProblem(300, 100.0, rng)
    pool = all_heuristics(2, 5)
    manual = [ring.values[climb(ring.values, np.arange(300), np.broadcast_to(h, (300, 2)))[0]].mean() for h in pool]
    assert ability(ring.values, pool, chunk=7) == pytest.approx(manual)


# ---------------------------------------------------------------------------- runs and validation
def test_a_seed_gives_identical_results() -> None:
    params = DockingParams(study="lazer_friedman", N=10, K=3, agents=15, network="small_world", rounds=10,
                           landscapes=3)
    a, b = run_docking(params, seed=5), run_docking(params, seed=5)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])


@pytest.mark.parametrize(("experiment", "override", "field"), [
    ("docking_nk", "docking.K=12", "docking.K"),
    ("docking_nk", "docking.landscapes=0", "docking.landscapes"),
    ("docking_nk", "docking.study=axelrod", "docking.study"),
    ("docking_nk", "+docking.speed=3", "docking.speed"),
    ("docking_lazer_friedman", "docking.network=star", "docking.network"),
    ("docking_lazer_friedman", "docking.power=0", "docking.power"),
    ("docking_hong_page", "docking.l=2", "docking.k"),
    ("docking_hong_page", "docking.group_sizes=[10,5000]", "docking.group_sizes"),
    ("docking_hong_page", "docking.group_sizes=ten", "docking.group_sizes"),
])
def test_bad_docking_values_are_named(compose_cfg, experiment: str, override: str, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate(compose_cfg([f"experiment={experiment}", override]))
    assert info.value.field == field and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["docking_nk", "docking_lazer_friedman", "docking_hong_page"])
def test_docking_experiments_compose_and_validate(compose_cfg, name: str) -> None:
    cfg = compose_cfg([f"experiment={name}"])
    validate(cfg)
    assert build_docking(OmegaConf.to_container(cfg.docking)).study == name.removeprefix("docking_")


def test_docking_sweep_and_report_end_to_end(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "experiments.run", "-m", "experiment=docking_hong_page", "docking.ring_size=300",
           "docking.landscapes=3", "docking.group_sizes=[5]", "docking.l=6,8", f"hydra.sweep.dir={sweep}",
           "hydra/launcher=basic"]
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    rep = subprocess.run([sys.executable, "-m", "analysis.report", str(sweep)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert rep.returncode == 0, rep.stderr
    out = sweep / "report"  # beside the jobs, never in one
    md = (out / "report.md").read_text()
    assert "docking_hong_page" in md and "published_best" in md and "0 missing, 0 failed" in md
    assert (out / "figures" / "docking_hong_page.png").stat().st_size > 10_000
    summary = pd.read_parquet(out / "summary.parquet")
    assert sorted(summary["l"].unique()) == [6, 8] and len(summary) == 6


# ---------------------------------------------------------------------------- full size (slow)
@pytest.mark.slow
def test_full_size_kauffman_levinthal() -> None:
    rows = [run_docking(DockingParams(study="nk", N=12, K=k, landscapes=100, walks=100), seed=1993)[1]
            for k in range(12)]
    summary = pd.concat(rows)
    g = summary.groupby("K")
    optima, walk = g["local_optima"].mean(), g["walk_fitness"].mean()
    assert optima[0] == 1 and (np.diff(optima.to_numpy()) > 0).all()
    assert (np.diff(walk.to_numpy()) < 0).all()
    se = g["local_optima"].sem()[11]
    assert abs(optima[11] - 2**12 / 13) < 3 * se + 1
    assert abs(g["global_optimum"].mean()[0] - 2 / 3) < 0.02  # K = 0: E[max of two uniforms] per decision


@pytest.mark.slow
def test_full_size_lazer_friedman() -> None:
    curves = {}
    for net in ("linear", "full"):
        params = DockingParams(study="lazer_friedman", N=20, K=5, agents=100, network=net, rounds=100, landscapes=100)
        curves[net] = run_docking(params, seed=2007)[0].groupby("step")["score"].mean()
    assert curves["full"].loc[5] > curves["linear"].loc[5] + 0.1
    assert curves["linear"].loc[100] > curves["full"].loc[100] + 0.05


@pytest.mark.slow
def test_full_size_hong_page() -> None:
    published = {(10, 12): (92.34, 94.35), (20, 12): (93.66, 94.74), (10, 20): (93.55, 95.73),
                 (20, 20): (95.00, 96.48)}
    for l_max in (12, 20):
        params = DockingParams(study="hong_page", l=l_max, group_sizes=(10, 20), landscapes=50)
        summary = run_docking(params, seed=2004)[1]
        for size, part in summary.groupby("group_size"):
            best, rand = published[(int(size), l_max)]
            assert part["random_group"].mean() > part["best_group"].mean()
            assert part["random_wins"].mean() >= 0.85
            assert abs(part["best_group"].mean() - best) < 1.0 and abs(part["random_group"].mean() - rand) < 1.0
