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
    assert row["difference"] == 0 and row["ci_low"] == row["ci_high"] == 0
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
    a, b = rng.normal(0.5, 0.05, 10), rng.normal(0.45, 0.05, 10)
    row = paired_differences(paired_frame(a, b), "leadership", "laissez_faire", "y", smallest_effect=0.02).iloc[0]
    assert row["precision"] == 0.01 and row["more_needed"] == row["n_needed"] - 10 > 0
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
