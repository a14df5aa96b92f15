"""Statistics across replications: means with 95 % intervals, and effect sizes against a reference.

Intervals are Student-t where the replications look normal (Shapiro-Wilk p >= 0.05
with at least 8 of them) and bootstrap percentile intervals otherwise. Every
bootstrap draws from a ``numpy.random.Generator`` seeded by the caller, so a report
is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

BOOTSTRAP = 4000


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = values.mean()
    if n < 2:
        return float(mean), float(mean)
    half = st.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(mean - half), float(mean + half)


def bootstrap_interval(values: np.ndarray, rng: np.random.Generator, level: float = 0.95,
                       n_boot: int = BOOTSTRAP) -> tuple[float, float]:
    """Bootstrap percentile confidence interval of the mean."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), float(values.mean())
    means = values[rng.integers(0, len(values), (n_boot, len(values)))].mean(axis=1)
    lo, hi = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    return float(lo), float(hi)


def looks_normal(values: np.ndarray) -> bool:
    """Whether a t-interval is reasonable: at least 8 values and Shapiro-Wilk p >= 0.05."""
    values = np.asarray(values, dtype=float)
    if len(values) < 8 or np.ptp(values) == 0:
        return False
    return bool(st.shapiro(values).pvalue >= 0.05)


def mean_ci(frame: pd.DataFrame, by: Sequence[str], value: str, method: str = "auto", seed: int = 0,
            level: float = 0.95) -> pd.DataFrame:
    """Mean and confidence interval of ``value`` for each condition.

    Args:
        frame: One row per replication (or per replication x step, with ``step`` in ``by``).
        by: Condition columns.
        value: Outcome column.
        method: ``t``, ``bootstrap`` or ``auto`` (t where the values look normal).
        seed: Seed of the bootstrap generator.
        level: Confidence level.

    Returns:
        A row per condition: the ``by`` columns, ``outcome``, ``n``, ``mean``, ``sd``,
        ``ci_low``, ``ci_high`` and ``method``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    groups = frame.groupby(list(by), sort=True, dropna=False) if by else [((), frame)]
    for key, group in groups:
        values = group[value].dropna().to_numpy(dtype=float)
        key = key if isinstance(key, tuple) else (key,)
        use = method if method != "auto" else ("t" if looks_normal(values) else "bootstrap")
        if len(values) == 0:
            lo = hi = mean = sd = float("nan")
        else:
            mean = float(values.mean())
            sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            lo, hi = t_interval(values, level) if use == "t" else bootstrap_interval(values, rng, level)
        rows.append({**dict(zip(by, key, strict=True)), "outcome": value, "n": len(values), "mean": mean, "sd": sd,
                     "ci_low": lo, "ci_high": hi, "method": use})
    return pd.DataFrame(rows)


def hedges_g(a: np.ndarray, b: np.ndarray) -> float:
    """Standardised mean difference ``a - b`` with Hedges' small-sample correction."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan")
    pooled = np.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    if pooled == 0:
        return float("nan")
    correction = 1 - 3 / (4 * (na + nb) - 9)
    return float(correction * (a.mean() - b.mean()) / pooled)


def effect_sizes(frame: pd.DataFrame, factor: str, reference: str, value: str, by: Sequence[str] = (),
                 seed: int = 0, n_boot: int = BOOTSTRAP) -> pd.DataFrame:
    """Each level of ``factor`` against ``reference``: difference of means and Hedges' g, with 95 % CIs.

    Where both conditions have the same replications (common random numbers), the
    difference is paired by replication and bootstrapped over replications;
    otherwise the two samples are bootstrapped independently.

    Args:
        frame: One row per replication.
        factor: Column whose levels are compared, e.g. ``leadership``.
        reference: The reference level, e.g. ``laissez_faire``.
        value: Outcome column.
        by: Further condition columns to stratify by (e.g. ``roles``).
        seed: Seed of the bootstrap generator.
        n_boot: Bootstrap resamples.

    Returns:
        A row per level (not the reference) and stratum.
    """
    rng = np.random.default_rng(seed)
    rows = []
    strata = frame.groupby(list(by), sort=True) if by else [((), frame)]
    for key, stratum in strata:
        key = key if isinstance(key, tuple) else (key,)
        ref = stratum[stratum[factor].astype(str) == str(reference)]
        if ref.empty:
            continue
        ref_by_rep = ref.set_index("replication")[value] if "replication" in ref else None
        for level, group in stratum.groupby(factor, sort=True):
            if str(level) == str(reference):
                continue
            a = group[value].to_numpy(float)
            b = ref[value].to_numpy(float)
            paired = False
            if ref_by_rep is not None and "replication" in group:
                ga = group.set_index("replication")[value]
                common = ga.index.intersection(ref_by_rep.index)
                paired = len(common) == len(ga) == len(ref_by_rep) and ga.index.is_unique
            if paired:
                d = (ga.loc[common] - ref_by_rep.loc[common]).to_numpy(float)
                idx = rng.integers(0, len(d), (n_boot, len(d)))
                boot_diff = d[idx].mean(axis=1)
                a_al, b_al = ga.loc[common].to_numpy(float), ref_by_rep.loc[common].to_numpy(float)
                boot_g = np.array([hedges_g(a_al[i], b_al[i]) for i in idx[:1000]])
            else:
                ia = rng.integers(0, len(a), (n_boot, len(a)))
                ib = rng.integers(0, len(b), (n_boot, len(b)))
                boot_diff = a[ia].mean(axis=1) - b[ib].mean(axis=1)
                boot_g = np.array([hedges_g(a[i], b[j]) for i, j in zip(ia[:1000], ib[:1000], strict=True)])
            boot_g = boot_g[np.isfinite(boot_g)]
            rows.append({
                **dict(zip(by, key, strict=True)), factor: level, "reference": reference, "outcome": value,
                "difference": float(a.mean() - b.mean()),
                "diff_ci_low": float(np.quantile(boot_diff, 0.025)),
                "diff_ci_high": float(np.quantile(boot_diff, 0.975)),
                "hedges_g": hedges_g(a, b),
                "g_ci_low": float(np.quantile(boot_g, 0.025)) if len(boot_g) else float("nan"),
                "g_ci_high": float(np.quantile(boot_g, 0.975)) if len(boot_g) else float("nan"),
                "paired": paired,
            })
    return pd.DataFrame(rows)
