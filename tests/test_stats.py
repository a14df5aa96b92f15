"""Statistics that cannot mislead: paired t intervals, no-variance notes, censored outcomes, precision, palette."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from analysis import effect_sizes, load_results, mean_ci  # the notebook import works
from analysis.palette import STYLE_COLOURS, colours_for
from analysis.stats import bonferroni_level, d_av, paired_differences, replications_needed, verdict


def paired_frame(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("shared", "laissez_faire")) -> pd.DataFrame:
    n = len(a)
    return pd.DataFrame({"leadership": [names[0]] * n + [names[1]] * n, "replication": list(range(n)) * 2,
                         "y": np.concatenate([a, b])})


def test_constant_columns_give_no_standardised_effect_and_say_why() -> None:
    zeros = np.zeros(10)
    row = paired_differences(paired_frame(zeros + 0.0, zeros), "leadership", "laissez_faire", "y").iloc[0]
    assert np.isnan(row["d_av"]) and "no variance" in row["d_av_note"] and "constant" in row["d_av_note"]
    assert row["difference"] == 0 and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])  # no zero-width interval
    assert "every paired difference is 0" in row["method"]
    # the case: burnout exactly 0 in most runs of both conditions
    a = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0.002, 0.001])
    b = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0.001])
    value, note = d_av(a, b)
    assert np.isnan(value) and "values identical" in note
    # near-zero but varying production (the 12369 g of the old report) still gets d_av only when both vary
    rng = np.random.default_rng(0)
    value, note = d_av(0.6 + rng.normal(0, 1e-3, 10), np.full(10, 0.28))
    assert np.isnan(value) and "reference constant" in note


def test_censored_outcome_keeps_non_recovered_runs_in_n_and_estimate() -> None:
    horizon = 85.0
    recovery = np.array([5.0, 8.0, 12.0, 8.0, horizon])  # the last run never recovers: restricted at the horizon
    frame = pd.DataFrame({"leadership": "shared", "replication": range(5), "shock_recovery_steps": recovery,
                          "shock_recovery_censored": [0, 0, 0, 0, 1]})
    row = mean_ci(frame, ["leadership"], "shock_recovery_steps").iloc[0]
    assert row["n"] == 5 and row["n_missing"] == 0 and row["mean"] == pytest.approx(recovery.mean())
    assert row["mean"] > 8.25  # the biased value of the old report left the worst run out
    other = frame.assign(leadership="directive", shock_recovery_steps=recovery - 2)
    diff = paired_differences(pd.concat([frame, other]), "leadership", "shared", "shock_recovery_steps").iloc[0]
    assert diff["n"] == 5 and diff["difference"] == pytest.approx(-2)


def test_paired_t_interval_covers_a_known_difference_at_least_93_percent() -> None:
    rng = np.random.default_rng(20261126)
    true = 0.3
    covered = 0
    trials = 1000
    for _ in range(trials):
        world = rng.normal(0, 1, 10)  # common random numbers: the same seed moves both conditions
        a = world + true + rng.gamma(2.0, 0.1, 10)  # skewed noise, as in bounded simulation outcomes
        b = world + rng.gamma(2.0, 0.1, 10)
        row = paired_differences(paired_frame(a, b), "leadership", "laissez_faire", "y").iloc[0]
        covered += row["ci_low"] <= true <= row["ci_high"]
    assert covered / trials >= 0.93


def test_bonferroni_family_widens_intervals_and_missing_pairs_are_counted() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(1, 1, 10), rng.normal(0, 1, 10)
    one = paired_differences(paired_frame(a, b), "leadership", "laissez_faire", "y").iloc[0]
    six = paired_differences(paired_frame(a, b), "leadership", "laissez_faire", "y", family_size=6).iloc[0]
    assert six["level"] == pytest.approx(bonferroni_level(0.95, 6)) == pytest.approx(1 - 0.05 / 6)
    assert six["ci_high"] - six["ci_low"] > one["ci_high"] - one["ci_low"]
    frame = paired_frame(a, b)
    frame.loc[3, "y"] = np.nan  # replication 3 of the first condition has no value
    frame = frame.drop(index=15)  # replication 5 of the reference never ran
    row = paired_differences(frame, "leadership", "laissez_faire", "y", expected=10).iloc[0]
    assert row["n"] == 8 and row["n_missing"] == 2


def test_precision_statement_follows_the_t_formula() -> None:
    sd, h = 0.05, 0.01
    n = replications_needed(sd, h)
    assert st.t.ppf(0.975, n - 1) * sd / np.sqrt(n) <= h < st.t.ppf(0.975, n - 2) * sd / np.sqrt(n - 1)
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.5, 0.05, 10), rng.normal(0.48, 0.05, 10)
    row = paired_differences(paired_frame(a, b), "leadership", "laissez_faire", "y", smallest_effect=0.02).iloc[0]
    assert row["verdict"].startswith("inconclusive")
    assert row["precision"] == 0.01 and row["more_needed"] == row["n_needed"] - 10 > 0
    clear = paired_differences(paired_frame(a + 1, b), "leadership", "laissez_faire", "y", smallest_effect=0.02)
    assert clear["verdict"].iloc[0].startswith("larger") and clear["n_needed"].iloc[0] is None  # nothing to resolve
    assert verdict(0.03, 0.08, 0.02).startswith("larger") and verdict(-0.01, 0.01, 0.02).startswith("within")
    assert verdict(-0.01, 0.05, 0.02).startswith("inconclusive")


def test_no_p_values_anywhere() -> None:
    row = effect_sizes(paired_frame(np.arange(5.0), np.arange(5.0) + 1), "leadership", "laissez_faire", "y")
    assert not [c for c in row.columns if "p_value" in c or c in ("p", "pvalue")]
    assert callable(load_results)


def test_a_style_has_one_colour_whatever_the_subset() -> None:
    two = colours_for(["shared", "directive"], "leadership")
    six = colours_for(list(STYLE_COLOURS), "leadership")
    assert two["shared"] == six["shared"] == STYLE_COLOURS["shared"] and two["directive"] == six["directive"]
    numeric = colours_for([1, 4, 8], "problem.K")
    import matplotlib.colors as mc

    lowest = np.array(mc.to_rgb(numeric[1]))
    assert lowest.mean() < 0.85 and len(set(numeric.values())) == 3  # the lowest level is not near-white


def test_pairs_stay_paired_when_another_swept_factor_is_pooled() -> None:
    rng = np.random.default_rng(2)
    rows = []
    for k in (2, 4):
        world = rng.normal(0, 1, 6)
        for style, shift in (("laissez_faire", 0.0), ("shared", 0.4)):
            rows += [{"leadership": style, "K": k, "replication": r, "y": world[r] + shift + rng.normal(0, 0.01)}
                     for r in range(6)]
    frame = pd.DataFrame(rows)
    row = paired_differences(frame, "leadership", "laissez_faire", "y", pair_on=["replication", "K"],
                             expected=6).iloc[0]
    assert row["paired"] and row["n"] == 12 and row["n_missing"] == 0
    assert row["ci_low"] > 0.35 and row["ci_high"] < 0.45  # the shared world cancels


def test_a_swept_main_parameter_is_counted_once() -> None:
    from analysis.load import drop_aliases, varied_parameters

    frame = pd.DataFrame({"leadership": ["a", "b"] * 2, "K": [2, 2, 4, 4], "problem.K": [2, 2, 4, 4],
                          "replication": 0})
    assert varied_parameters(frame) == ["leadership", "K"]
    assert "problem.K" not in drop_aliases(frame)


def test_comparison_families() -> None:
    from analysis.report import comparison_pairs

    levels = ["directive", "shared", "laissez_faire"]
    assert comparison_pairs(levels, "laissez_faire", "reference") == [("directive", "laissez_faire"),
                                                                       ("shared", "laissez_faire")]
    assert len(comparison_pairs(levels, "laissez_faire", "all_pairs")) == 3
    assert comparison_pairs(levels, "x", ["shared vs directive", "nope vs shared"]) == [("shared", "directive")]


def zero_inflated(seed: int, n: int = 10) -> pd.DataFrame:
    """Burnout as the model gives it: 0 in most runs, a few small shares, person-steps lost in lumps."""
    rng = np.random.default_rng(seed)
    rows = []
    for style, p in (("laissez_faire", 0.2), ("shared", 0.3), ("directive", 0.0)):
        hit = rng.random(n) < p
        rows += [{"leadership": style, "replication": r, "burnout_rate_mean": float(hit[r]) * rng.uniform(0.001, 0.02),
                  "person_steps_lost": float(hit[r]) * rng.integers(1, 40), "any_burnout": float(hit[r])}
                 for r in range(n)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(6))
def test_no_interval_leaves_the_outcomes_declared_bounds_on_zero_inflated_data(seed: int) -> None:
    from analysis.outcomes import outcome

    frame = zero_inflated(seed)
    for name in ("burnout_rate_mean", "person_steps_lost", "any_burnout"):
        spec = outcome(name)
        means = mean_ci(frame, ["leadership"], name)
        assert (means["ci_low"].dropna() >= spec.bounds[0]).all()
        assert (means["ci_high"].dropna() <= spec.bounds[1]).all()
        assert not (means["ci_low"] == means["ci_high"]).any()  # no zero-width interval
        low, high = spec.difference_bounds()
        for ref in ("laissez_faire", "directive"):
            diffs = paired_differences(frame, "leadership", ref, name, family_size=6)
            assert (diffs["ci_low"].dropna() >= low).all() and (diffs["ci_high"].dropna() <= high).all()
            assert not (diffs["ci_low"] == diffs["ci_high"]).any()
            assert not diffs["method"].str.contains("t$").any() or name == "any_burnout"
    # the old t interval did break the bound: the "burnout share 0.0078 [-0.0017, ...]"
    shared = frame.loc[frame["leadership"] == "shared", "burnout_rate_mean"].to_numpy()
    from analysis.stats import t_interval

    if (shared > 0).sum() == 1:
        assert t_interval(shared)[0] < 0


def test_an_event_per_run_is_a_count_with_a_wilson_interval() -> None:
    frame = pd.DataFrame({"leadership": "shared", "replication": range(10), "any_burnout": [1.0] + [0.0] * 9})
    row = mean_ci(frame, ["leadership"], "any_burnout").iloc[0]
    low, high = st.binomtest(1, 10).proportion_ci(method="wilson")
    assert row["method"] == "Wilson" and row["ci_low"] == pytest.approx(low) and row["ci_high"] == pytest.approx(high)
    assert row["ci_low"] > 0  # Wilson: never below 0, never zero width at 1 of 10


def test_bootstrap_intervals_are_seeded_and_follow_the_kind() -> None:
    frame = zero_inflated(3)
    one = paired_differences(frame, "leadership", "laissez_faire", "person_steps_lost")
    two = paired_differences(frame, "leadership", "laissez_faire", "person_steps_lost")
    assert one[["ci_low", "ci_high"]].equals(two[["ci_low", "ci_high"]])
    assert one["method"].str.contains("bootstrap").all()
    gap = "window_public_value_gap_closed"
    frame = paired_frame(np.arange(10.0) / 20, np.arange(10.0) ** 0.5 / 20).rename(columns={"y": gap})
    cont = paired_differences(frame, "leadership", "laissez_faire", gap)
    assert cont["method"].iloc[0] == "paired t"


def test_no_d_av_when_a_condition_barely_varies() -> None:
    rng = np.random.default_rng(4)
    a = 0.3 + rng.normal(0, 0.05, 10)
    b = 0.1 + rng.normal(0, 0.001, 10)  # the d_av = 18.38: one condition almost constant
    value, note = d_av(a, b, sd_floor=0.005)
    assert np.isnan(value) and "below the floor" in note and "reference" in note
    assert np.isfinite(d_av(a, b)[0]) and d_av(a, b)[0] > 5  # without the floor it would be "huge"
    gap = "window_public_value_gap_closed"
    row = paired_differences(paired_frame(a, b).rename(columns={"y": gap}), "leadership", "laissez_faire", gap)
    assert np.isnan(row["d_av"].iloc[0])  # the outcome table declares the floor


def shared_seed_design() -> pd.DataFrame:
    """Two styles x two levels of G on the same 10 seeds; the style effect varies by seed, not by G."""
    rng = np.random.default_rng(26)
    seed_effect = rng.normal(0, 0.3, 10)
    rows = []
    for g in (0.2, 0.8):
        for r in range(10):
            base = rng.normal(0.5, 0.01)
            rows.append({"leadership": "laissez_faire", "G": g, "replication": r, "seed": 1000 + r, "y": base})
            rows.append({"leadership": "shared", "G": g, "replication": r, "seed": 1000 + r,
                         "y": base + 0.25 + seed_effect[r] + rng.normal(0, 0.01)})
    return pd.DataFrame(rows)


def test_seed_is_the_unit_when_a_factor_sharing_seeds_is_pooled() -> None:
    from analysis import seed_means

    frame = shared_seed_design()
    naive = paired_differences(frame, "leadership", "laissez_faire", "y", pair_on=["replication", "G"],
                               smallest_effect=0.05).iloc[0]
    per_seed = seed_means(frame, ["leadership"], ["y"])
    assert len(per_seed) == 20 and (per_seed["cells"] == 2).all()
    right = paired_differences(per_seed, "leadership", "laissez_faire", "y", pair_on=["seed"],
                               smallest_effect=0.05).iloc[0]
    assert naive["n"] == 20 and right["n"] == 10
    assert right["difference"] == pytest.approx(naive["difference"])
    assert naive["verdict"].startswith("larger") and right["verdict"].startswith("inconclusive")
