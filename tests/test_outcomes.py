"""Outcome metrics with a meaning: gap closed, window means, the speed target, recovery against a twin, burnout."""

from __future__ import annotations

import numpy as np
import pytest

from sim.landscape import NKLandscape, realisable_cross_boundary
from sim.metrics import shock_response, steps_to_fraction, window_steps
from sim.runner import no_shock_twin, run_point
from tests.conftest import small_params


@pytest.mark.parametrize(("n", "k"), [(8, 0), (10, 3), (12, 11)])
def test_random_mean_is_the_exact_mean_over_all_configurations(n: int, k: int) -> None:
    owner = np.arange(n) % 3
    share = min(max(0.5, realisable_cross_boundary(owner, k)[0]), realisable_cross_boundary(owner, k)[1])
    land = NKLandscape(n, k, np.random.default_rng(n + k), owner=owner, cross_boundary=share)
    assert land.random_mean() == pytest.approx(land.all_fitness().mean(), abs=1e-12)
    land.redraw(np.array([0, 3]))
    assert land.random_mean() == pytest.approx(land.all_fitness().mean(), abs=1e-12)


def test_speed_metric_is_never_zero_and_censored_for_a_run_that_never_improves() -> None:
    flat_high = np.full(51, 0.8)  # starts high, never improves: fastest under "90 % of own final value"
    steps, censored = steps_to_fraction(flat_high)
    assert steps == 50 and censored
    worse = np.linspace(0.2, -0.1, 51)
    assert steps_to_fraction(worse) == (50, True)
    improving = np.concatenate([[0.0], np.linspace(0.1, 0.9, 50)])
    steps, censored = steps_to_fraction(improving)
    assert not censored and improving[steps] >= 0.5 > improving[steps - 1] and steps > 0


def test_recovery_is_measured_against_the_twin_and_censored_runs_stay() -> None:
    twin = np.full(40, 0.6)
    shocked = twin.copy()
    shocked[10:] = 0.2
    shocked[18:] = 0.58  # back within tolerance from 8 steps after the shock, and it stays
    log = [{"step": 10}]
    out = shock_response(shocked, twin, log, tolerance=0.05, sustain=5)
    assert out["shock_drop"] == pytest.approx(0.4) and out["shock_recovery_steps"] == 8
    assert out["shock_recovery_censored"] == 0 and out["shock_no_drop"] == 0
    blip = shocked.copy()
    blip[18:] = 0.2
    blip[18:20] = 0.6  # two good steps are not a recovery
    never = shock_response(blip, twin, log, tolerance=0.05, sustain=5)
    assert never["shock_recovery_censored"] == 1 and never["shock_recovery_steps"] == never["shock_horizon"] == 25
    none = shock_response(twin, twin, log)
    assert none["shock_no_drop"] == 1 and np.isnan(none["shock_recovery_steps"])
    assert np.isnan(shock_response(twin, None, [])["shock_drop"])


def test_window_is_the_last_tenth_of_steps() -> None:
    assert window_steps(200) == 20 and window_steps(5) == 1 and window_steps(1) == 1


def test_runs_report_gap_closed_window_burnout_and_twin_recovery() -> None:
    params = small_params(problem={"shocks": [{"step": 15, "share": 0.6}]}, run={"steps": 40, "replications": 2})
    assert no_shock_twin(params).problem.shocks == () and params.problem.shocks
    ts, summary = run_point(params)
    assert "public_value_gap_closed" in ts and ts["public_value_gap_closed"].max() <= 1 + 1e-9
    row = summary.iloc[0]
    last = ts[ts["replication"] == 0].tail(4)["public_value_gap_closed"]
    assert row["window_public_value_gap_closed"] == pytest.approx(last.mean())
    assert row["final_public_value_gap_closed"] == pytest.approx(last.iloc[-1])
    assert set(summary["steps_to_half_gap_censored"]) <= {0.0, 1.0}
    assert summary["shock_drop"].notna().all() and summary["shock_horizon"].eq(40 - 15 - 5 + 1).all()
    lost = ts[ts["step"] > 0].groupby("replication")["burnout_rate"].sum() * params.scenario.n_professionals
    assert np.allclose(summary["person_steps_lost"], lost.round())
    no_shock = run_point(small_params(run={"steps": 10, "replications": 1}))[1]
    assert no_shock["shock_drop"].isna().all()


def test_twin_is_the_same_run_until_the_shock() -> None:
    from sim.runner import _simulate, fresh, replication_seeds

    params = small_params(problem={"shocks": [{"step": 12, "share": 0.6}]}, run={"steps": 20, "replications": 1})
    seq = replication_seeds(7, 1)[0]
    _, shocked = _simulate(params, fresh(seq))
    _, twin = _simulate(no_shock_twin(params), fresh(seq))
    _, again = _simulate(params, fresh(seq))
    cols = ["public_value_gap_closed", "mean_trust", "energy"]
    assert shocked[cols].iloc[:12].equals(twin[cols].iloc[:12])
    assert shocked[cols].equals(again[cols])  # a seed sequence used twice gives the same run


def test_area_lost_against_the_twin_sums_the_gap_from_the_shock() -> None:
    from sim.metrics import shock_response

    twin = np.full(21, 0.8)
    run = twin.copy()
    run[10:15] = [0.4, 0.5, 0.6, 0.7, 0.8]  # the shock at step 10, back by step 14
    out = shock_response(run, twin, [{"step": 10}])
    assert out["shock_area_lost"] == pytest.approx(0.4 + 0.3 + 0.2 + 0.1)
    assert np.isnan(shock_response(run, None, [])["shock_area_lost"])
