"""Statistics that cannot mislead: paired differences in outcome units, one interval method, no p-values.

Design of the statistics (the reasons, for a methods section):

- **The replication is the unit of analysis.** Steps within a run are autocorrelated;
  every outcome is one number per replication.
- **Paired differences first.** Replication ``r`` of every condition runs on the same
  seed (common random numbers), so conditions are compared by the difference within
  each replication, in the outcome's own units, against a smallest effect of interest
  declared by the experiment.
- **The seed is the unit of replication.** A factor whose levels all run on the same
  seeds is not a source of independent replications: where a comparison pools over such
  a factor, each seed's values are averaged over its levels first (:func:`seed_means`),
  so n counts seeds, never seeds x levels.
- **The interval follows the outcome's kind** (declared once, in :mod:`analysis.outcomes`),
  never a pretest on the data: Student's t (paired t for differences) for continuous
  outcomes, where it is sound; a BCa bootstrap of the mean (of the values, or of the
  paired differences; seeded, so a report reruns byte-identically) for bounded shares,
  counts and censored times, whose values pile up at a bound. A bootstrap interval of a
  mean lies within the range of the values, so it never leaves the outcome's bounds; a t
  interval that would leave them is replaced by the bootstrap one, and the method used
  is named in every row. A 0/1 event per run (any burnout) is a count of runs with a
  Wilson interval. Where every value (or every paired difference) is the same there is
  no interval: a zero-width one would read as certainty.
- **No p-values.** The number of replications is the modeller's choice, so any
  difference becomes "significant" with enough runs (White et al. 2014). Instead, each
  interval is compared with the smallest effect of interest, and the replications
  needed for a target precision are stated.
- **A declared family of comparisons** gets Bonferroni-adjusted intervals: with ``m``
  intervals each is at level ``1 - (1 - level) / m``.
- **Standardised effects are secondary**: ``d_av`` (the mean difference over the mean of
  the two conditions' standard deviations; Cumming 2012, Lakens 2013), never scaled by
  the sd of the paired differences, and only where both conditions vary by more than
  the outcome's declared floor.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from analysis.outcomes import Outcome, outcome

METHOD = "auto"
"""Interval by the outcome's kind (see the module's description)."""
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 20261208
"""The bootstrap's fixed seed: the same results give the same report."""


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


def bootstrap_interval(values: np.ndarray, level: float = 0.95, seed: int = BOOTSTRAP_SEED,
                       resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float, str]:
    """BCa bootstrap interval of the mean (percentile where BCa is undefined); ``(low, high, method)``.

    Both lie within the range of ``values``, so within any bounds the values respect.
    """
    values = np.asarray(values, dtype=float)
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning: handled by the fallback below
            res = st.bootstrap((values,), np.mean, confidence_level=level, method=method, n_resamples=resamples,
                               rng=np.random.default_rng(seed))
        lo, hi = (float(v) for v in res.confidence_interval)
        if np.isfinite(lo) and np.isfinite(hi):
            return lo, hi, f"{method} bootstrap"
    return float("nan"), float("nan"), "no interval"


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (rare events as counts of runs)."""
    if n < 1:
        return float("nan"), float("nan")
    ci = st.binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def _no_interval(values: np.ndarray) -> str:
    if len(values) < 2:
        return "no interval: fewer than two values"
    if np.ptp(values) == 0:
        return f"no interval: every value is {values[0]:.4g}"
    return ""


def mean_interval(values: np.ndarray, spec: Outcome | None = None, level: float = 0.95,
                  seed: int = BOOTSTRAP_SEED) -> tuple[float, float, str]:
    """Interval of a condition's mean by its outcome's kind; ``(low, high, method)``.

    A 0/1 outcome (an event per run) gets a Wilson interval; a continuous one a
    Student-t interval unless it would leave the outcome's bounds; the others a BCa
    bootstrap. No interval (NaN) from fewer than two values or from values that are
    all equal; ``method`` then says why.
    """
    spec = spec or outcome("")
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    why = _no_interval(values)
    if why:
        return float("nan"), float("nan"), why
    if np.isin(values, (0.0, 1.0)).all():
        lo, hi = wilson_interval(int(values.sum()), len(values), level)
        return lo, hi, "Wilson"
    if spec.kind == "continuous":
        lo, hi = t_interval(values, level)
        if spec.bounds[0] <= lo and hi <= spec.bounds[1]:
            return lo, hi, "t"
    return bootstrap_interval(values, level, seed)


def difference_interval(d: np.ndarray, spec: Outcome | None = None, level: float = 0.95,
                        seed: int = BOOTSTRAP_SEED) -> tuple[float, float, str]:
    """Interval of the mean paired difference by the outcome's kind; ``(low, high, method)``.

    Paired t for a continuous outcome (unless it would leave the bounds a difference
    can take), a BCa bootstrap of the differences for bounded, count and censored ones.
    """
    spec = spec or outcome("")
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    why = _no_interval(d)
    if why:
        return float("nan"), float("nan"), why.replace("value", "paired difference")
    if spec.kind == "continuous":
        lo, hi = t_interval(d, level)
        low, high = spec.difference_bounds()
        if low <= lo and hi <= high:
            return lo, hi, "paired t"
    lo, hi, method = bootstrap_interval(d, level, seed)
    return lo, hi, method + " of paired differences"


def seed_means(frame: pd.DataFrame, by: Sequence[str], values: Sequence[str], unit: str = "seed") -> pd.DataFrame:
    """One row per condition (``by``) and seed: each outcome averaged over the factors pooled within a seed.

    When a factor that is not in ``by`` was swept on the same seeds, its levels are not
    independent replications; averaging within the seed first makes the seed the unit
    (n counts seeds). ``cells`` says how many rows each seed's mean is over. Without a
    ``seed`` column, ``replication`` is the unit.
    """
    unit = unit if unit in frame else "replication"
    keys = [*by, unit]
    present = [v for v in dict.fromkeys(values) if v in frame]
    grouped = frame.groupby(keys, sort=False, dropna=False)
    out = grouped[present].mean()
    out["cells"] = grouped.size()
    if "replication" in frame and unit != "replication":
        out["replication"] = grouped["replication"].min()
    return out.reset_index()


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


def d_av(a: np.ndarray, b: np.ndarray, sd_floor: float = 0.0) -> tuple[float, str]:
    """Standardised mean difference ``a - b`` over the mean of the two sds, or NaN and the reason.

    Args:
        a: Values of a condition.
        b: Values of the reference condition.
        sd_floor: No effect when either condition's sd is below this (the outcome's
            declared floor: a condition that barely varies makes any difference "huge").

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
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    low = [f"{name} sd {v.std(ddof=1):.2g}" for name, v in (("condition", a), ("reference", b))
           if v.std(ddof=1) < sd_floor]
    if low:
        return float("nan"), f"spread below the floor {sd_floor:g}: " + "; ".join(low)
    sd = (a.std(ddof=1) + b.std(ddof=1)) / 2
    return float((a.mean() - b.mean()) / sd), ""


def mean_ci(frame: pd.DataFrame, by: Sequence[str], value: str, method: str = METHOD, seed: int = BOOTSTRAP_SEED,
            level: float = 0.95, expected: int | None = None, spec: Outcome | None = None) -> pd.DataFrame:
    """Mean and confidence interval of ``value`` for each condition, the interval chosen by the outcome's kind.

    Censored outcomes (e.g. ``shock_recovery_steps``) are stored restricted at their
    horizon, so runs that never recover stay in ``n`` and in the mean (a restricted
    mean); only missing values (NaN) are left out, and counted in ``n_missing``.

    Args:
        frame: One row per replication (or per seed, see :func:`seed_means`).
        by: Condition columns.
        value: Outcome column.
        method: ``"auto"`` (by kind, see :func:`mean_interval`) or ``"t"`` (Student's t always).
        seed: Seed of the bootstrap.
        level: Confidence level.
        expected: Replications scheduled per condition; adds the ones without a row
            to ``n_missing``.
        spec: The outcome's declaration (default: looked up in :mod:`analysis.outcomes`).

    Returns:
        A row per condition: the ``by`` columns, ``outcome``, ``n``, ``n_missing``,
        ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``level`` and ``method`` (the method
        used, or why there is no interval).
    """
    if method not in ("t", "auto"):
        raise ValueError(f"method={method!r}: 'auto' (by the outcome's kind) or 't'")
    spec = spec or outcome(value)
    rows = []
    groups = frame.groupby(list(by), sort=True, dropna=False) if by else [((), frame)]
    for key, group in groups:
        raw = group[value].to_numpy(dtype=float)
        values = raw[np.isfinite(raw)]
        key = key if isinstance(key, tuple) else (key,)
        missing = len(raw) - len(values) + max(0, (expected or 0) - len(raw))
        if method == "t":
            lo, hi = t_interval(values, level)
            used = "t"
        else:
            lo, hi, used = mean_interval(values, spec, level, seed)
        rows.append({**dict(zip(by, key, strict=True)), "outcome": value, "n": len(values), "n_missing": missing,
                     "mean": float(values.mean()) if len(values) else float("nan"),
                     "sd": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
                     "ci_low": lo, "ci_high": hi, "level": level, "method": used})
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
                       expected: int | None = None, pair_on: Sequence[str] = ("replication",),
                       spec: Outcome | None = None, seed: int = BOOTSTRAP_SEED, method: str = METHOD) -> pd.DataFrame:
    """Each level of ``factor`` minus ``reference``: paired difference in outcome units with an interval.

    Pairs are formed by ``pair_on`` (the replication, or the seed: the same seed in
    both conditions). A unit that is missing, or NaN, in either condition is left out
    of that pair and counted in ``n_missing``. Without the pairing columns the two
    samples are compared unpaired (Welch's t interval) and ``paired`` is False. The
    interval follows the outcome's kind (:func:`difference_interval`).

    Args:
        frame: One row per unit (replication, or seed after :func:`seed_means`).
        factor: Column whose levels are compared, e.g. ``leadership``.
        reference: The reference level.
        value: Outcome column.
        by: Further condition columns to stratify by.
        level: Joint confidence level of the family.
        family_size: Number of intervals in the declared family (Bonferroni).
        smallest_effect: Smallest effect of interest, in outcome units.
        precision: Target half-width of the interval (default: half the smallest effect).
        levels: Levels to compare (default: every level but the reference).
        expected: Units scheduled per condition (for ``n_missing``).
        pair_on: Columns that identify a pair; the first is the unit (``replication``
            or ``seed``), any further ones are cells within it. Pooling over a factor
            whose levels share seeds by listing it here treats its levels as
            independent: average within the seed first (:func:`seed_means`) instead.
        spec: The outcome's declaration (default: looked up in :mod:`analysis.outcomes`).
        seed: Seed of the bootstrap.
        method: ``"auto"`` (by the outcome's kind) or ``"t"`` (paired t always, as the optimisation
            report documents).

    Returns:
        A row per level and stratum: ``difference``, ``ci_low``, ``ci_high``, ``level``
        (the adjusted per-interval level), ``method``, ``n`` (pairs used), ``n_missing``,
        ``sd_diff``, ``half_width``, ``smallest_effect``, ``verdict``, ``precision``,
        ``n_needed`` and ``more_needed`` (units for the target half-width, given only
        where the verdict is inconclusive), ``d_av`` and ``d_av_note``, ``paired``.
    """
    if method not in ("t", "auto"):
        raise ValueError(f"method={method!r}: 'auto' (by the outcome's kind) or 't'")
    spec = spec or outcome(value)
    if method == "t":  # a continuous, unbounded declaration: the t interval, whatever the outcome
        spec = Outcome(spec.name, spec.label, spec.unit, spec.direction, "continuous", spec.smallest,
                       sd_floor=spec.sd_floor)
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
            row = _compare(group, ref, value, adjusted, expected, list(pair_on), spec, seed)
            half = (row["ci_high"] - row["ci_low"]) / 2
            said = verdict(row["ci_low"], row["ci_high"], smallest_effect)
            needed = replications_needed(row["sd_diff"], target, adjusted) if target and said.startswith(
                "inconclusive") else None
            rows.append({
                **dict(zip(by, key, strict=True)), factor: lv, "reference": reference, "outcome": value, **row,
                "half_width": half, "smallest_effect": smallest_effect, "verdict": said,
                "precision": target, "n_needed": needed,
                "more_needed": max(0, needed - row["n"]) if needed is not None else None,
            })
    return pd.DataFrame(rows)


def _compare(group: pd.DataFrame, ref: pd.DataFrame, value: str, level: float,
             expected: int | None, pair_on: list[str], spec: Outcome, seed: int) -> dict[str, object]:
    keys = [k for k in pair_on if k in group and k in ref]
    paired = bool(keys) and keys[0] == pair_on[0] and not group.duplicated(keys).any() \
        and not ref.duplicated(keys).any()
    if paired:
        a = group.set_index(keys)[value].astype(float)
        b = ref.set_index(keys)[value].astype(float)
        units = a.index.union(b.index)
        both = a.reindex(units).notna() & b.reindex(units).notna()
        common = units[both.to_numpy()]
        cells = len(units.droplevel(0).unique()) if isinstance(units, pd.MultiIndex) else 1
        scheduled = max(len(units), (expected or 0) * cells)
        a_v, b_v = a.loc[common].to_numpy(), b.loc[common].to_numpy()
        d = a_v - b_v
        lo, hi, method = difference_interval(d, spec, level, seed)
        effect, note = d_av(a_v, b_v, spec.sd_floor)
        sd_d = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
        if len(d) > 1 and sd_d == 0:
            note = (note + "; " if note else "") + "all paired differences equal"
        return {"difference": float(d.mean()) if len(d) else float("nan"), "ci_low": lo, "ci_high": hi,
                "level": level, "method": method, "n": len(d), "n_missing": scheduled - len(d), "sd_diff": sd_d,
                "d_av": effect, "d_av_note": note, "paired": True}
    a_v = group[value].dropna().to_numpy(float)
    b_v = ref[value].dropna().to_numpy(float)
    va, vb = a_v.var(ddof=1) / len(a_v), b_v.var(ddof=1) / len(b_v)
    dof = (va + vb) ** 2 / (va**2 / (len(a_v) - 1) + vb**2 / (len(b_v) - 1)) if va + vb > 0 else 1.0
    half = st.t.ppf(0.5 + level / 2, dof) * math.sqrt(va + vb)
    diff = float(a_v.mean() - b_v.mean())
    effect, note = d_av(a_v, b_v, spec.sd_floor)
    return {"difference": diff, "ci_low": diff - half, "ci_high": diff + half, "level": level, "method": "Welch t",
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
