"""Statistics that cannot mislead: paired differences in outcome units, one interval method, no p-values.

Design of the statistics (the reasons, for a methods section):

- **The replication is the unit of analysis.** Steps within a run are autocorrelated;
  every outcome is one number per replication.
- **Paired differences first.** Replication ``r`` of every condition runs on the same
  seed (common random numbers), so conditions are compared by the difference within
  each replication, in the outcome's own units, against a smallest effect of interest
  declared by the experiment.
- **One interval method: Student's t** (on the values, or on the paired differences).
  With 5-20 replications a bootstrap interval is itself unreliable (the percentile
  bootstrap undercovers at n = 10, and BCa needs far more resamples and replications
  to estimate its acceleration), while the t interval of a mean is robust to moderate
  non-normality of the differences; its coverage is checked by simulation in the
  tests. There is no normality pretest choosing between methods (a pretest changes the
  interval's coverage).
- **No p-values.** The number of replications is the modeller's choice, so any
  difference becomes "significant" with enough runs (White et al. 2014). Instead, each
  interval is compared with the smallest effect of interest, and the replications
  needed for a target precision are stated.
- **A declared family of comparisons** gets Bonferroni-adjusted intervals: with ``m``
  intervals each is at level ``1 - (1 - level) / m``.
- **Standardised effects are secondary**: ``d_av`` (the mean difference over the mean of
  the two conditions' standard deviations; Cumming 2012, Lakens 2013), never scaled by
  the sd of the paired differences, and only where both conditions vary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

METHOD = "t"
"""The one interval method (Student's t; paired t for differences)."""


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval of the mean; undefined (NaN) from fewer than two values.

    One value has no spread to build an interval on: a zero-width "interval" there would read as
    certainty and let one run decide a comparison.
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    mean = values.mean()
    half = st.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return float(mean - half), float(mean + half)


def bonferroni_level(level: float, family_size: int) -> float:
    """Per-interval level so that ``family_size`` intervals hold jointly at ``level``."""
    return 1 - (1 - level) / max(int(family_size), 1)


def replications_needed(sd: float, half_width: float, level: float = 0.95, n_max: int = 100_000) -> int | None:
    """Smallest n with ``t(level, n-1) * sd / sqrt(n) <= half_width`` (n ≈ (t·sd/h)²).

    Returns None when no finite target applies (``half_width`` not positive or ``sd``
    not finite); 2 when ``sd`` is 0.
    """
    if not (np.isfinite(sd) and np.isfinite(half_width)) or half_width <= 0:
        return None
    if sd == 0:
        return 2
    z = st.norm.ppf(0.5 + level / 2)
    n = max(2, math.ceil((z * sd / half_width) ** 2))
    while n < n_max and st.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n) > half_width:
        n += 1
    return n


def varies(values: np.ndarray) -> tuple[bool, str]:
    """Whether a condition's values vary enough for a standardised effect, and why not.

    A condition varies when its sd is not zero (relative to its scale) and its most
    common value accounts for at most half of the values (otherwise the sd rests on a
    few runs, as for burnout that is exactly 0 in most runs).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return False, "fewer than two values"
    scale = max(1.0, float(np.abs(values).max()))
    if values.std(ddof=1) <= 1e-12 * scale:
        return False, f"constant ({values[0]:.4g})"
    _, counts = np.unique(values, return_counts=True)
    if counts.max() > len(values) / 2:
        return False, f"{counts.max()} of {len(values)} values identical"
    return True, ""


def d_av(a: np.ndarray, b: np.ndarray) -> tuple[float, str]:
    """Standardised mean difference ``a - b`` over the mean of the two sds, or NaN and the reason.

    Args:
        a: Values of a condition.
        b: Values of the reference condition.

    Returns:
        ``(d_av, note)``: the note is empty when the effect is given, else says why not
        (e.g. ``"no variance: reference constant (0)"``).
    """
    ok_a, why_a = varies(a)
    ok_b, why_b = varies(b)
    if not (ok_a and ok_b):
        parts = [f"{name} {why}" for name, ok, why in (("condition", ok_a, why_a), ("reference", ok_b, why_b))
                 if not ok]
        return float("nan"), "no variance: " + "; ".join(parts)
    a, b = np.asarray(a, float), np.asarray(b, float)
    sd = (a.std(ddof=1) + b.std(ddof=1)) / 2
    return float((a.mean() - b.mean()) / sd), ""


def mean_ci(frame: pd.DataFrame, by: Sequence[str], value: str, method: str = METHOD, seed: int = 0,
            level: float = 0.95, expected: int | None = None) -> pd.DataFrame:
    """Mean and Student-t confidence interval of ``value`` for each condition.

    Censored outcomes (e.g. ``shock_recovery_steps``) are stored restricted at their
    horizon, so runs that never recover stay in ``n`` and in the mean (a restricted
    mean); only missing values (NaN) are left out, and counted in ``n_missing``.

    Args:
        frame: One row per replication.
        by: Condition columns.
        value: Outcome column.
        method: Only ``"t"`` (kept as an argument for old callers).
        seed: Unused (kept for old callers; the t interval draws nothing).
        level: Confidence level.
        expected: Replications scheduled per condition; adds the ones without a row
            to ``n_missing``.

    Returns:
        A row per condition: the ``by`` columns, ``outcome``, ``n``, ``n_missing``,
        ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``level`` and ``method``.
    """
    if method not in ("t", "auto"):
        raise ValueError(f"method={method!r}: only Student's t intervals are offered (see analysis.stats)")
    del seed
    rows = []
    groups = frame.groupby(list(by), sort=True, dropna=False) if by else [((), frame)]
    for key, group in groups:
        raw = group[value].to_numpy(dtype=float)
        values = raw[np.isfinite(raw)]
        key = key if isinstance(key, tuple) else (key,)
        missing = len(raw) - len(values) + max(0, (expected or 0) - len(raw))
        lo, hi = t_interval(values, level)
        rows.append({**dict(zip(by, key, strict=True)), "outcome": value, "n": len(values), "n_missing": missing,
                     "mean": float(values.mean()) if len(values) else float("nan"),
                     "sd": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                     "ci_low": lo, "ci_high": hi, "level": level, "method": METHOD})
    return pd.DataFrame(rows)


def verdict(low: float, high: float, smallest: float | None) -> str:
    """Where an interval of a difference lies relative to ``±smallest`` (the smallest effect of interest)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "no interval"
    if smallest is None or not np.isfinite(smallest):
        return "no smallest effect declared"
    if low > smallest:
        return f"larger than +{smallest:g}"
    if high < -smallest:
        return f"smaller than -{smallest:g}"
    if -smallest < low and high < smallest:
        return f"within ±{smallest:g} (negligible)"
    return f"inconclusive at ±{smallest:g}"


def paired_differences(frame: pd.DataFrame, factor: str, reference: str, value: str, by: Sequence[str] = (),
                       level: float = 0.95, family_size: int = 1, smallest_effect: float | None = None,
                       precision: float | None = None, levels: Sequence[str] | None = None,
                       expected: int | None = None, pair_on: Sequence[str] = ("replication",)) -> pd.DataFrame:
    """Each level of ``factor`` minus ``reference``: paired difference in outcome units with a t interval.

    Pairs are formed by ``replication`` (the same seed in both conditions). A
    replication that is missing, or NaN, in either condition is left out of that pair
    and counted in ``n_missing``. Without a ``replication`` column the two samples are
    compared unpaired (Welch's t interval) and ``paired`` is False.

    Args:
        frame: One row per replication.
        factor: Column whose levels are compared, e.g. ``leadership``.
        reference: The reference level.
        value: Outcome column.
        by: Further condition columns to stratify by.
        level: Joint confidence level of the family.
        family_size: Number of intervals in the declared family (Bonferroni).
        smallest_effect: Smallest effect of interest, in outcome units.
        precision: Target half-width of the interval (default: half the smallest effect).
        levels: Levels to compare (default: every level but the reference).
        expected: Replications scheduled per condition (for ``n_missing``).
        pair_on: Columns that identify a pair: ``replication`` plus any other swept
            factor the comparison pools over (each pair then is one replication of
            one level of that factor).

    Returns:
        A row per level and stratum: ``difference``, ``ci_low``, ``ci_high``, ``level``
        (the adjusted per-interval level), ``n`` (pairs used), ``n_missing``,
        ``sd_diff``, ``half_width``, ``smallest_effect``, ``verdict``, ``precision``,
        ``n_needed`` and ``more_needed`` (replications for the target half-width),
        ``d_av`` and ``d_av_note``, ``paired``.
    """
    adjusted = bonferroni_level(level, family_size)
    target = precision if precision is not None else (smallest_effect / 2 if smallest_effect else None)
    rows = []
    strata = frame.groupby(list(by), sort=True) if by else [((), frame)]
    for key, stratum in strata:
        key = key if isinstance(key, tuple) else (key,)
        ref = stratum[stratum[factor].astype(str) == str(reference)]
        if ref.empty:
            continue
        todo = [lv for lv in (levels if levels is not None else pd.unique(stratum[factor].astype(str)))
                if str(lv) != str(reference)]
        for lv in todo:
            group = stratum[stratum[factor].astype(str) == str(lv)]
            if group.empty:
                continue
            row = _compare(group, ref, value, adjusted, expected, list(pair_on))
            half = (row["ci_high"] - row["ci_low"]) / 2
            needed = replications_needed(row["sd_diff"], target, adjusted) if target else None
            rows.append({
                **dict(zip(by, key, strict=True)), factor: lv, "reference": reference, "outcome": value, **row,
                "half_width": half, "smallest_effect": smallest_effect,
                "verdict": verdict(row["ci_low"], row["ci_high"], smallest_effect),
                "precision": target, "n_needed": needed,
                "more_needed": max(0, needed - row["n"]) if needed is not None else None,
            })
    return pd.DataFrame(rows)


def _compare(group: pd.DataFrame, ref: pd.DataFrame, value: str, level: float,
             expected: int | None, pair_on: list[str]) -> dict[str, object]:
    keys = [k for k in pair_on if k in group and k in ref]
    paired = "replication" in keys and not group.duplicated(keys).any() and not ref.duplicated(keys).any()
    if paired:
        a = group.set_index(keys)[value].astype(float)
        b = ref.set_index(keys)[value].astype(float)
        reps = a.index.union(b.index)
        both = a.reindex(reps).notna() & b.reindex(reps).notna()
        common = reps[both.to_numpy()]
        cells = len(reps.droplevel("replication").unique()) if isinstance(reps, pd.MultiIndex) else 1
        scheduled = max(len(reps), (expected or 0) * cells)
        a_v, b_v = a.loc[common].to_numpy(), b.loc[common].to_numpy()
        d = a_v - b_v
        lo, hi = t_interval(d, level)
        effect, note = d_av(a_v, b_v)
        sd_d = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
        if len(d) > 1 and sd_d == 0:
            note = (note + "; " if note else "") + "all paired differences equal"
        return {"difference": float(d.mean()) if len(d) else float("nan"), "ci_low": lo, "ci_high": hi,
                "level": level, "n": len(d), "n_missing": scheduled - len(d), "sd_diff": sd_d, "d_av": effect,
                "d_av_note": note, "paired": True}
    a_v = group[value].dropna().to_numpy(float)
    b_v = ref[value].dropna().to_numpy(float)
    va, vb = a_v.var(ddof=1) / len(a_v), b_v.var(ddof=1) / len(b_v)
    dof = (va + vb) ** 2 / (va**2 / (len(a_v) - 1) + vb**2 / (len(b_v) - 1)) if va + vb > 0 else 1.0
    half = st.t.ppf(0.5 + level / 2, dof) * math.sqrt(va + vb)
    diff = float(a_v.mean() - b_v.mean())
    effect, note = d_av(a_v, b_v)
    return {"difference": diff, "ci_low": diff - half, "ci_high": diff + half, "level": level,
            "n": min(len(a_v), len(b_v)), "n_missing": (len(group) - len(a_v)) + (len(ref) - len(b_v)),
            "sd_diff": float("nan"), "d_av": effect, "d_av_note": note, "paired": False}


def effect_sizes(frame: pd.DataFrame, factor: str, reference: str, value: str, by: Sequence[str] = (),
                 **kwargs: object) -> pd.DataFrame:
    """Alias of :func:`paired_differences` (the primary effect is the paired difference in outcome units)."""
    kwargs.pop("seed", None)
    kwargs.pop("n_boot", None)
    return paired_differences(frame, factor, reference, value, by, **kwargs)  # type: ignore[arg-type]


def all_pairs(levels: Sequence[str]) -> list[tuple[str, str]]:
    """Every unordered pair of levels, as ``(level, reference)``."""
    levels = list(levels)
    return [(levels[j], levels[i]) for i in range(len(levels)) for j in range(i + 1, len(levels))]
