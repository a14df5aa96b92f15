"""Sensitivity indices from finished sensitivity sweeps (SALib).

:func:`indices` is the one code path: given the sweep's ``sensitivity`` section
and the outcome of every sample row, it regenerates the sample and returns Morris
(mu*, sigma, with a CI on mu*) or Sobol (S1, ST with CIs) indices. The tests run
it on the Ishigami function, whose indices are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import figures
from experiments.sensitivity import salib_problem, sample


def indices(spec: Mapping[str, Any], outputs: np.ndarray, outcome: str = "y") -> pd.DataFrame:
    """Sensitivity indices of one outcome.

    Args:
        spec: The ``sensitivity`` section (method, parameters, samples, seed, ...).
        outputs: The outcome for every row of the sample, in row order.
        outcome: Name of the outcome (a column in the result).

    Returns:
        A row per parameter: ``parameter``, ``outcome`` and, for Morris, ``mu_star``,
        ``mu_star_low``, ``mu_star_high``, ``sigma``; for Sobol, ``S1``, ``S1_low``,
        ``S1_high``, ``ST``, ``ST_low``, ``ST_high``.
    """
    problem = salib_problem(spec)
    x = sample(spec)
    y = np.asarray(outputs, dtype=float)
    if len(y) != len(x):
        raise ValueError(f"{len(y)} outputs for a sample of {len(x)} rows")
    seed = int(spec.get("seed", 0))
    if spec["method"] == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, conf_level=0.95, num_resamples=1000, seed=seed)
        return pd.DataFrame({"parameter": problem["names"], "outcome": outcome, "mu_star": res["mu_star"],
                             "mu_star_low": res["mu_star"] - res["mu_star_conf"],
                             "mu_star_high": res["mu_star"] + res["mu_star_conf"], "sigma": res["sigma"]})
    from SALib.analyze import sobol

    res = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, num_resamples=1000, seed=seed)
    return pd.DataFrame({"parameter": problem["names"], "outcome": outcome, "S1": res["S1"],
                         "S1_low": res["S1"] - res["S1_conf"], "S1_high": res["S1"] + res["S1_conf"],
                         "ST": res["ST"], "ST_low": res["ST"] - res["ST_conf"], "ST_high": res["ST"] + res["ST_conf"]})


def indices_from_results(res: Any) -> dict[str, tuple[Figure, pd.DataFrame]]:
    """Indices and their figures for every declared outcome of a finished sensitivity sweep.

    Outcomes are averaged over replications per sample row. Raises if rows are missing.
    """
    spec = res.first_meta.get("sensitivity")
    if not spec:
        return {}
    n_rows = len(sample(spec))
    per_row = res.summary.groupby("sample_row").mean(numeric_only=True).reindex(range(n_rows))
    missing = per_row.index[per_row.isna().all(axis=1)].tolist()
    if missing:
        raise ValueError(f"sample rows without results: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    outcomes = [o for o in spec.get("outcomes", ["window_public_value_gap_closed"]) if o in per_row]
    table = pd.concat([indices(spec, per_row[o].to_numpy(), o) for o in outcomes], ignore_index=True)
    if spec["method"] == "morris":
        fig = figures.sensitivity_bars(table, "mu_star", "mu_star_low", "mu_star_high",
                                       "Morris elementary effects: mu* with 95 % CI")
        return {"sensitivity_morris": (fig, table)}
    fig_s1 = figures.sensitivity_bars(table, "S1", "S1_low", "S1_high", "Sobol first-order indices S1 (95 % CI)")
    fig_st = figures.sensitivity_bars(table, "ST", "ST_low", "ST_high", "Sobol total indices ST (95 % CI)")
    return {"sensitivity_sobol_S1": (fig_s1, table), "sensitivity_sobol_ST": (fig_st, table)}
