"""Reading an optimisation folder and judging its chosen mixes on fresh replications.

An optimisation (``govsim-optimise``) writes one folder:

- ``optimise.json``: what was searched (case, objectives with direction and smallest
  effect of interest, levers, sampler, seed, budget, status, provenance, config);
- ``trials.parquet``: one row per trial (its lever values, state, and per objective the
  mean over the trial's replications, ``value_<name>``, and the share of those
  replications where the outcome is defined, ``defined_<name>``);
- ``reevaluation.parquet``: one row per chosen mix and *fresh* replication (indices
  from 1000 on, the same for every mix: common random numbers, so mixes are compared
  paired by replication), with the mix's ``trial`` slot (-1: not a trial), its race
  ``round`` under sequential halving, and its ``source`` (``trial``, or ``surrogate`` for
  a mix the surrogate proposed);
- ``chosen.json``: the final mix (single objective), the candidates and the front;
- optionally ``robustness.parquet``: the chosen mixes over a Latin-hypercube sample of
  uncertain parameters, one row per mix, point and replication.

The report judges mixes only on the fresh replications: a trial's value is the best of
many noisy means and so is biased upwards (the winner's curse). Per mix and objective it
gives the mean with a 95 % Student-t interval and the paired difference to the best mix
with a 95 % paired t interval (:mod:`analysis.stats`); a mix is *tied with the best*
when that interval rules out being worse than the best by the smallest effect of
interest or more. With several objectives the front is recomputed from the re-evaluated
means and measured by its hypervolume. Nothing here runs the model or writes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.csvsafe import csv_bytes
from analysis.load import ResultsError
from analysis.stats import mean_ci, paired_differences

SPEC_FILE = "optimise.json"
TRIALS_FILE = "trials.parquet"
REEVALUATION_FILE = "reevaluation.parquet"
CHOSEN_FILE = "chosen.json"
ROBUSTNESS_FILE = "robustness.parquet"
OWN_FILES = (SPEC_FILE, TRIALS_FILE, REEVALUATION_FILE, CHOSEN_FILE, ROBUSTNESS_FILE)
"""Files the optimiser writes; the report never writes any of them."""
DIRECTIONS = ("maximize", "minimize")
TRIAL_STATES = ("COMPLETE", "FAIL")
LEVEL = 0.95


class OptimisationError(ResultsError):
    """An optimisation folder that cannot be read: one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Objective:
    """One objective of the search.

    Attributes:
        name: Outcome column (e.g. ``gap_closed_auc``).
        direction: ``maximize`` or ``minimize``.
        smallest_effect: Smallest effect of interest, in the outcome's units.
    """

    name: str
    direction: str
    smallest_effect: float

    @property
    def sign(self) -> float:
        """+1 when larger is better, -1 when smaller is better."""
        return 1.0 if self.direction == "maximize" else -1.0


@dataclass
class Optimisation:
    """Everything read from an optimisation folder.

    Attributes:
        root: The folder.
        spec: ``optimise.json``.
        objectives: The objectives, in the order of ``optimise.json`` (the first is primary).
        levers: Lever names (``<organisation>.style`` or ``<organisation>.<behaviour>``).
        trials: ``trials.parquet``.
        reevaluation: ``reevaluation.parquet``.
        chosen: ``chosen.json``.
        robustness: ``robustness.parquet``, or None when absent.
        notes: Remarks for the report (e.g. an optimisation still running).
    """

    root: Path
    spec: dict[str, Any]
    objectives: list[Objective]
    levers: list[str]
    trials: pd.DataFrame
    reevaluation: pd.DataFrame
    chosen: dict[str, Any]
    robustness: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def multi(self) -> bool:
        """Whether the search had more than one objective."""
        return len(self.objectives) > 1

    @property
    def names(self) -> list[str]:
        """Objective names."""
        return [o.name for o in self.objectives]


# ------------------------------------------------------------------ reading
def optimisation_folder(path: Path | str) -> Path | None:
    """The optimisation folder ``path`` is (a folder holding ``optimise.json``, or that file), or None."""
    path = Path(path)
    try:
        if path.name == SPEC_FILE and path.is_file():
            return path.parent
        if path.is_dir() and (path / SPEC_FILE).is_file():
            return path
    except OSError:
        return None
    return None


def _fail(file: str, what: str) -> OptimisationError:
    return OptimisationError(f"{file}: {what}")


def _read_json(root: Path, name: str) -> Any:
    path = root / name
    if not path.exists():
        raise _fail(name, f"missing in {root}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise _fail(name, f"cannot be read ({getattr(err, 'strerror', None) or err})") from None
    except json.JSONDecodeError as err:
        raise _fail(name, f"is not valid JSON (line {err.lineno}: {err.msg})") from None


def _read_parquet(root: Path, name: str, required: list[str]) -> pd.DataFrame:
    path = root / name
    if not path.exists():
        raise _fail(name, f"missing in {root}")
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises many types for damaged files
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise _fail(name, f"cannot be read as Parquet ({first[:160]})") from None
    absent = [c for c in required if c not in frame.columns]
    if absent:
        raise _fail(name, f"lacks column(s) {', '.join(absent)}; it has: {', '.join(map(str, frame.columns))}")
    return frame


def _objectives(spec: dict[str, Any]) -> list[Objective]:
    raw = spec.get("objectives")
    if not isinstance(raw, list) or not raw:
        raise _fail(SPEC_FILE, f"objectives={raw!r}: needs a non-empty list of {{name, direction, smallest_effect}}")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise _fail(SPEC_FILE, f"objectives[{i}]={item!r}: needs a name")
        if item.get("direction") not in DIRECTIONS:
            raise _fail(SPEC_FILE, f"objectives[{i}].direction={item.get('direction')!r}: allowed: "
                        + ", ".join(DIRECTIONS))
        delta = item.get("smallest_effect")
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not math.isfinite(delta) or delta < 0:
            raise _fail(SPEC_FILE, f"objectives[{i}].smallest_effect={delta!r}: needs a finite number >= 0")
        out.append(Objective(item["name"], item["direction"], float(delta)))
    if len({o.name for o in out}) != len(out):
        raise _fail(SPEC_FILE, f"objectives: names must be unique, got {[o.name for o in out]}")
    return out


def _ids(value: Any, file: str, key: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise _fail(file, f"{key}={value!r}: needs a list of mix ids (integers)")
    return [int(v) for v in value]


def load_optimisation(path: Path | str) -> Optimisation:
    """Read and check an optimisation folder.

    Args:
        path: The folder, or its ``optimise.json``.

    Returns:
        The optimisation.

    Raises:
        OptimisationError: A file is missing, damaged or breaks the format (one line
            naming the file, the field and what is allowed).
    """
    root = optimisation_folder(path)
    if root is None:
        raise _fail(SPEC_FILE, f"missing in {path} (not an optimisation folder)")
    spec = _read_json(root, SPEC_FILE)
    if not isinstance(spec, dict) or spec.get("kind") != "optimisation":
        kind = spec.get("kind") if isinstance(spec, dict) else type(spec).__name__
        raise _fail(SPEC_FILE, f"kind={kind!r}: expected 'optimisation'")
    objectives = _objectives(spec)
    levers = spec.get("levers")
    if not isinstance(levers, list) or not levers or not all(isinstance(v, str) and "." in v for v in levers):
        raise _fail(SPEC_FILE, f"levers={levers!r}: needs a list of '<organisation>.<lever>' names")
    notes: list[str] = []
    running = spec.get("status") == "running"
    if running:
        notes.append("The optimisation was still running when this report was made (status 'running').")
    names = [o.name for o in objectives]
    trials = _read_parquet(root, TRIALS_FILE, ["number", "state", *levers, *(f"value_{n}" for n in names)])
    bad_state = sorted(set(map(str, trials["state"])) - set(TRIAL_STATES))
    if bad_state:
        raise _fail(TRIALS_FILE, f"state {bad_state[0]!r}: allowed: {', '.join(TRIAL_STATES)}")
    if trials["number"].duplicated().any():
        raise _fail(TRIALS_FILE, f"trial number {int(trials.loc[trials['number'].duplicated(), 'number'].iloc[0])} "
                    "appears twice")
    trials = trials.sort_values("number").reset_index(drop=True)
    try:
        reev = _read_parquet(root, REEVALUATION_FILE, ["mix_id", "replication", *levers, *names])
        chosen = _read_json(root, CHOSEN_FILE)
    except OptimisationError as err:
        raise OptimisationError(f"{err} (the optimisation is still running)" if running else str(err)) from None
    if reev.empty:
        raise _fail(REEVALUATION_FILE, "has no rows: no chosen mix was re-evaluated")
    dup = reev.duplicated(["mix_id", "replication"])
    if dup.any():
        r = reev[dup].iloc[0]
        raise _fail(REEVALUATION_FILE, f"mix {int(r['mix_id'])} has replication {int(r['replication'])} twice")
    for name in names:
        if not pd.api.types.is_numeric_dtype(reev[name]):
            raise _fail(REEVALUATION_FILE, f"column {name} is {reev[name].dtype}, not numeric")
    if not isinstance(chosen, dict):
        raise _fail(CHOSEN_FILE, f"is a {type(chosen).__name__}, expected an object with final, candidates, front")
    known = set(int(v) for v in reev["mix_id"].unique())
    final = chosen.get("final")
    if final is not None and (isinstance(final, bool) or not isinstance(final, int)):
        raise _fail(CHOSEN_FILE, f"final={final!r}: needs a mix id or null")
    candidates = _ids(chosen.get("candidates", []), CHOSEN_FILE, "candidates")
    front = _ids(chosen.get("front", []), CHOSEN_FILE, "front")
    for key, ids in (("final", [final] if final is not None else []), ("candidates", candidates), ("front", front)):
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise _fail(CHOSEN_FILE, f"{key} names mix {unknown[0]}, which {REEVALUATION_FILE} does not hold "
                        f"(it holds mixes {', '.join(map(str, sorted(known)))})")
    chosen = {"final": final, "candidates": candidates, "front": front}
    robustness = None
    if (root / ROBUSTNESS_FILE).exists():
        robustness = _read_parquet(root, ROBUSTNESS_FILE, ["mix_id", "point", "replication", *names])
        dup = robustness.duplicated(["mix_id", "point", "replication"])
        if dup.any():
            r = robustness[dup].iloc[0]
            raise _fail(ROBUSTNESS_FILE, f"mix {int(r['mix_id'])}, point {int(r['point'])} has replication "
                        f"{int(r['replication'])} twice")
    return Optimisation(root=root, spec=spec, objectives=objectives, levers=[str(v) for v in levers], trials=trials,
                        reevaluation=reev, chosen=chosen, robustness=robustness, notes=notes)


# ------------------------------------------------------------------ mixes
def mix_label(mix_id: int, trial: int | None = None, source: str = "trial") -> str:
    """How a mix is named in tables and figures: ``mix 3 (trial 17)`` or ``mix 0 (given)``.

    A candidate the surrogate proposed is ``mix 7 (surrogate)``, or ``mix 6 (trial 52, surrogate)``
    when the search had run it.
    """
    if trial is None:
        return f"mix {mix_id}"
    if source == "surrogate":
        return f"mix {mix_id} (trial {trial}, surrogate)" if trial >= 0 else f"mix {mix_id} (surrogate)"
    return f"mix {mix_id} (trial {trial})" if trial >= 0 else f"mix {mix_id} (given)"


def mixes(opt: Optimisation) -> pd.DataFrame:
    """One row per re-evaluated mix: ``mix_id``, ``trial``, ``label``, its lever values and its role.

    The role is ``final``, ``front`` (multi-objective), ``candidate`` or ``re-evaluated``; a
    candidate of a race by sequential halving (``reevaluation.parquet`` has ``round``) is
    ``finalist`` (ran in the last round) or ``out after round k``.
    """
    cols = ["mix_id", *(c for c in ("trial", "source") if c in opt.reevaluation), *opt.levers]
    table = opt.reevaluation[cols].drop_duplicates("mix_id").sort_values("mix_id").reset_index(drop=True)
    if "trial" not in table:
        table["trial"] = -1
    table["trial"] = table["trial"].astype(int)
    table["source"] = table["source"].fillna("trial").astype(str) if "source" in table else "trial"
    table["label"] = [mix_label(int(m), int(t), s) for m, t, s in zip(table["mix_id"], table["trial"],
                                                                       table["source"], strict=True)]
    front, candidates = set(opt.chosen["front"]), set(opt.chosen["candidates"])
    table["role"] = ["final" if m == opt.chosen["final"] else "front" if m in front else
                     "candidate" if m in candidates else "re-evaluated" for m in table["mix_id"]]
    if "round" in opt.reevaluation and opt.chosen["final"] is not None:
        last = opt.reevaluation.groupby("mix_id")["round"].max()
        table["role"] = [role if role != "candidate" else "finalist" if last[m] == last.max() else
                         f"out after round {int(last[m]) + 1}" for m, role in zip(table["mix_id"], table["role"],
                                                                                   strict=True)]
    return table


# ------------------------------------------------------------------ statistics
def reevaluated_means(opt: Optimisation, level: float = LEVEL) -> pd.DataFrame:
    """Mean and Student-t interval of every objective per mix, on the fresh replications only.

    Returns:
        A row per mix and objective: ``mix_id``, ``outcome``, ``n``, ``n_missing`` (NaN
        values, e.g. voice equity without minority proposals), ``mean``, ``sd``,
        ``ci_low``, ``ci_high``.
    """
    frames = [mean_ci(opt.reevaluation, ["mix_id"], o.name, level=level, method="t") for o in opt.objectives]
    return pd.concat(frames, ignore_index=True)


def best_mix(means: pd.DataFrame, objective: Objective) -> int | None:
    """The mix with the best re-evaluated mean on ``objective`` (ties to the lower id), or None."""
    part = means[(means["outcome"] == objective.name) & np.isfinite(means["mean"])]
    if part.empty:
        return None
    scored = part.assign(score=-objective.sign * part["mean"]).sort_values(["score", "mix_id"])
    return int(scored["mix_id"].iloc[0])


def reference_mixes(opt: Optimisation, means: pd.DataFrame) -> dict[str, int | None]:
    """The mix each objective is compared with: the final mix on the primary objective, else the best by mean."""
    refs = {o.name: best_mix(means, o) for o in opt.objectives}
    if opt.chosen["final"] is not None:
        refs[opt.objectives[0].name] = int(opt.chosen["final"])
    return refs


def tied_with_best(ci_low: float, ci_high: float, objective: Objective) -> bool:
    """Whether the interval of ``mix − best`` rules out being worse than the best by the smallest effect or more.

    For a maximised objective the interval's lower end must lie above ``−smallest_effect``;
    for a minimised one its upper end below ``+smallest_effect``.
    """
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return False
    if objective.direction == "maximize":
        return bool(ci_low > -objective.smallest_effect)
    return bool(ci_high < objective.smallest_effect)


def worse_by_more(ci_low: float, ci_high: float, objective: Objective) -> bool:
    """Whether the whole interval of ``mix − best`` lies beyond the smallest effect on the worse side."""
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return False
    if objective.direction == "maximize":
        return bool(ci_high < -objective.smallest_effect)
    return bool(ci_low > objective.smallest_effect)


def differences_to_best(opt: Optimisation, means: pd.DataFrame | None = None, level: float = LEVEL) -> pd.DataFrame:
    """Each mix minus the objective's reference mix, paired by fresh replication, with a paired t interval.

    Returns:
        A row per mix and objective (the reference itself included, with difference 0):
        ``mix_id``, ``best`` (the reference mix), ``outcome``, ``difference``,
        ``ci_low``, ``ci_high``, ``n`` (pairs), ``n_missing``, ``smallest_effect``,
        ``verdict`` (:func:`analysis.stats.verdict` against ±smallest effect), ``tied``
        and ``worse`` (worse than the best by more than the smallest effect).
    """
    means = reevaluated_means(opt, level) if means is None else means
    refs = reference_mixes(opt, means)
    frame = opt.reevaluation.assign(mix=opt.reevaluation["mix_id"].astype(int).astype(str))
    ids = sorted(int(m) for m in frame["mix_id"].unique())
    rows = []
    for o in opt.objectives:
        best = refs[o.name]
        if best is None:
            continue
        others = [str(m) for m in ids if m != best]
        table = paired_differences(frame, "mix", str(best), o.name, level=level, smallest_effect=o.smallest_effect,
                                   levels=others, method="t") if others else pd.DataFrame()
        n_best = int(frame.loc[frame["mix_id"] == best, o.name].notna().sum())
        rows.append({"mix_id": best, "best": best, "outcome": o.name, "difference": 0.0, "ci_low": 0.0,
                     "ci_high": 0.0, "n": n_best, "n_missing": 0, "smallest_effect": o.smallest_effect,
                     "verdict": "the best", "tied": True, "worse": False})
        for _, r in table.iterrows():
            rows.append({"mix_id": int(r["mix"]), "best": best, "outcome": o.name, "difference": r["difference"],
                         "ci_low": r["ci_low"], "ci_high": r["ci_high"], "n": int(r["n"]),
                         "n_missing": int(r["n_missing"]), "smallest_effect": o.smallest_effect,
                         "verdict": r["verdict"], "tied": tied_with_best(r["ci_low"], r["ci_high"], o),
                         "worse": worse_by_more(r["ci_low"], r["ci_high"], o)})
    return pd.DataFrame(rows)


def to_minimisation(values: np.ndarray, objectives: list[Objective]) -> np.ndarray:
    """Objective values (a row per point) turned so that smaller is better in every column."""
    signs = np.array([o.sign for o in objectives])
    return -np.asarray(values, dtype=float) * signs


def pareto_mask(losses: np.ndarray) -> np.ndarray:
    """Which rows of a minimisation-oriented array are non-dominated (rows with NaN never are)."""
    losses = np.asarray(losses, dtype=float)
    finite = np.isfinite(losses).all(axis=1)
    mask = finite.copy()
    for i in np.flatnonzero(finite):
        others = losses[finite]
        dominated = (np.all(others <= losses[i], axis=1) & np.any(others < losses[i], axis=1)).any()
        mask[i] = not dominated
    return mask


def hypervolume(losses: np.ndarray, reference: np.ndarray) -> float:
    """Hypervolume dominated by minimisation-oriented points up to ``reference`` (Optuna's exact WFG).

    Points that do not strictly dominate the reference point in every objective add
    nothing and are left out; rows with NaN too.

    Args:
        losses: A row per point, a column per objective, smaller is better.
        reference: The reference point (one value per objective), worse than every point counted.
    """
    from optuna._hypervolume import compute_hypervolume

    losses = np.asarray(losses, dtype=float).reshape(-1, len(reference))
    reference = np.asarray(reference, dtype=float)
    keep = np.isfinite(losses).all(axis=1) & (losses < reference).all(axis=1)
    if not keep.any():
        return 0.0
    return float(compute_hypervolume(losses[keep], reference))


def mean_matrix(means: pd.DataFrame, objectives: list[Objective]) -> pd.DataFrame:
    """Re-evaluated means as a frame: a row per mix (index ``mix_id``), a column per objective."""
    wide = means.pivot(index="mix_id", columns="outcome", values="mean")
    return wide.reindex(columns=[o.name for o in objectives])


def nadir_reference(opt: Optimisation, means: pd.DataFrame) -> np.ndarray:
    """Default hypervolume reference point (minimisation-oriented): per objective the worst value seen.

    "Seen" covers every complete trial's value and every mix's re-evaluated mean, so
    every point counts and the reference depends only on this optimisation's results.
    """
    wide = mean_matrix(means, opt.objectives).to_numpy(float)
    ok = opt.trials["state"] == "COMPLETE"
    tv = opt.trials.loc[ok, [f"value_{o.name}" for o in opt.objectives]].to_numpy(float)
    both = np.vstack([to_minimisation(wide, opt.objectives), to_minimisation(tv, opt.objectives)])
    ref = np.nanmax(np.where(np.isfinite(both), both, np.nan), axis=0)
    span = np.nanmax(both, axis=0) - np.nanmin(both, axis=0)
    return ref + np.where(span > 0, 0.0, 1e-9)  # a degenerate axis still gives a positive volume


@dataclass
class Front:
    """The re-evaluated Pareto front of a multi-objective search."""

    mix_ids: list[int]
    hypervolume: float
    reference: np.ndarray
    """Reference point in the objectives' own units and directions."""
    declared: list[int]
    """The optimiser's own front (``chosen.json``)."""
    left_out: list[int]
    """Mixes with an undefined mean on some objective (never on the front)."""


def pareto_front(opt: Optimisation, means: pd.DataFrame | None = None,
                 reference: np.ndarray | None = None) -> Front:
    """Mixes non-dominated by re-evaluated means (respecting directions) and their hypervolume.

    Args:
        opt: The optimisation.
        means: :func:`reevaluated_means` (computed when not given).
        reference: Reference point in the objectives' own units (default: the worst
            value seen per objective, :func:`nadir_reference`).
    """
    means = reevaluated_means(opt) if means is None else means
    wide = mean_matrix(means, opt.objectives)
    losses = to_minimisation(wide.to_numpy(float), opt.objectives)
    mask = pareto_mask(losses)
    ref_loss = nadir_reference(opt, means) if reference is None else to_minimisation(
        np.asarray(reference, float)[None, :], opt.objectives)[0]
    hv = hypervolume(losses[mask], ref_loss)
    left_out = [int(m) for m, ok in zip(wide.index, np.isfinite(losses).all(axis=1), strict=True) if not ok]
    return Front(mix_ids=[int(m) for m in wide.index[mask]], hypervolume=hv,
                 reference=to_minimisation(ref_loss[None, :], opt.objectives)[0], declared=list(opt.chosen["front"]),
                 left_out=left_out)


def robustness_means(opt: Optimisation) -> pd.DataFrame:
    """Mean over replications per mix and robustness point (a row per mix and point)."""
    if opt.robustness is None:
        return pd.DataFrame()
    return opt.robustness.groupby(["mix_id", "point"], as_index=False)[opt.names].mean()


def shortfalls(opt: Optimisation) -> pd.DataFrame:
    """Per objective, robustness point and mix: how far the mix falls short of the point's best mix.

    The best mix of a point is the one with the best mean over its replications;
    ``shortfall`` is ``best − mix`` turned so that it is never negative, in the
    objective's units; ``within`` says whether it is at most the smallest effect.
    """
    means = robustness_means(opt)
    rows = []
    for o in opt.objectives:
        part = means[["mix_id", "point", o.name]].dropna()
        if part.empty:
            continue
        best = part.groupby("point")[o.name].transform("max" if o.sign > 0 else "min")
        short = (best - part[o.name]) * o.sign
        rows.append(pd.DataFrame({"outcome": o.name, "mix_id": part["mix_id"].astype(int), "point": part["point"],
                                  "mean": part[o.name], "best": best, "shortfall": short,
                                  "within": short <= o.smallest_effect + 1e-12,
                                  "smallest_effect": o.smallest_effect}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def robustness_summary(opt: Optimisation) -> pd.DataFrame:
    """Per mix and objective: over how many robustness points it stays within the smallest effect of the best.

    Returns:
        A row per mix and objective: ``points`` (with a defined mean), ``within``,
        ``share``, ``best_at`` (points where it is the best), ``mean_shortfall``,
        ``max_shortfall``.
    """
    sf = shortfalls(opt)
    if sf.empty:
        return pd.DataFrame()
    out = sf.groupby(["outcome", "mix_id"], sort=False).agg(
        points=("point", "size"), within=("within", "sum"), best_at=("shortfall", lambda s: int((s <= 0).sum())),
        mean_shortfall=("shortfall", "mean"), max_shortfall=("shortfall", "max")).reset_index()
    out["within"] = out["within"].astype(int)
    out["share"] = out["within"] / out["points"]
    return out


def uncertain_parameters(opt: Optimisation) -> list[str]:
    """Columns of ``robustness.parquet`` that are uncertain parameters (not ids, levers or outcomes)."""
    if opt.robustness is None:
        return []
    skip = {"mix_id", "point", "replication", "trial", "seed", *opt.levers, *opt.names}
    return [c for c in opt.robustness.columns if c not in skip and "." in str(c)
            and pd.api.types.is_numeric_dtype(opt.robustness[c])]


# ------------------------------------------------------------------ figures
def _plain(text: Any) -> str:
    """Text for a figure: dollar signs escaped, so names from the data never turn into mathtext."""
    return str(text).replace("$", r"\$")


def _axis(objective: Objective, width: int = 30) -> str:
    from analysis import figures

    arrow = "↑ better" if objective.direction == "maximize" else "↓ better"
    return _plain(figures.label(objective.name, width)) + f"\n({arrow})"


def mix_colours(opt: Optimisation) -> dict[int, str]:
    """One colour per re-evaluated mix (by mix id, in id order), the same in every figure of a report."""
    from analysis.palette import OTHER_COLOURS

    ids = sorted(int(m) for m in opt.reevaluation["mix_id"].unique())
    return {m: OTHER_COLOURS[i % len(OTHER_COLOURS)] for i, m in enumerate(ids)}


def _few_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))


def trials_figure(opt: Optimisation) -> Any:
    """Objective value per trial number (the search's own noisy means), best so far, failed trials marked.

    A panel per objective. Complete feasible trials are filled dots, infeasible ones
    hollow; failed trials are red crosses on the lower edge. The step line is the best
    value so far among complete feasible trials.
    """
    import matplotlib.pyplot as plt

    from analysis import figures

    figures.set_style()
    t = opt.trials
    k = len(opt.objectives)
    fig, axes = plt.subplots(k, 1, figsize=(7.2, 2.6 * k + 0.5), squeeze=False, sharex=True)
    complete = t["state"] == "COMPLETE"
    feasible = t["feasible"].astype(bool) if "feasible" in t else pd.Series(True, index=t.index)
    failed = t[t["state"] == "FAIL"]
    for ax, o in zip(axes[:, 0], opt.objectives, strict=True):
        col = f"value_{o.name}"
        repeat = t["duplicate_of"] >= 0 if "duplicate_of" in t else pd.Series(False, index=t.index)
        ok = t[complete & feasible & t[col].notna()]
        bad = t[complete & ~feasible & t[col].notna() & ~repeat]
        shown = ok[~repeat.loc[ok.index]]
        again = ok[repeat.loc[ok.index]]
        if len(again):
            ax.scatter(again["number"], again[col], s=6, color="0.7", alpha=0.6,
                       label="repeat of a mix already run (its values, no run)", zorder=2)
        ax.scatter(shown["number"], shown[col], s=14, color="#0072B2", alpha=0.8, label="complete trial", zorder=3)
        if len(bad):
            ax.scatter(bad["number"], bad[col], s=16, facecolors="none", edgecolors="#0072B2", alpha=0.8,
                       label="complete, infeasible", zorder=3)
        if len(ok):
            running = ok[col].cummax() if o.sign > 0 else ok[col].cummin()
            ax.step(ok["number"], running, where="post", color="#D55E00", linewidth=1.4, label="best so far", zorder=4)
        if len(failed):
            ax.scatter(failed["number"], np.zeros(len(failed)), transform=ax.get_xaxis_transform(), marker="x",
                       s=28, color="#CC0000", clip_on=False, label="failed trial", zorder=5)
        ax.set_ylabel(_axis(o, 26))
    axes[-1, 0].set_xlabel("Trial number")
    handles, labels = [], []
    for ax in axes[:, 0]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=len(labels), frameon=False)
    reps = opt.spec.get("replications")
    fig.suptitle(f"Trials: mean of {reps} replications each (noisy; the search's own values)", fontsize=10,
                 y=1.04)
    fig.tight_layout()
    return fig


def _span(frame: pd.DataFrame, centre: str, keep: set, pad: float) -> tuple[float, float] | None:
    """x-limits covering the intervals of the mixes in ``keep`` (and ± ``pad``), 6 % margin; None: no data."""
    if frame.empty or centre not in frame:
        return None
    part = frame[frame.index.isin(keep) & np.isfinite(frame[centre])]
    if part.empty:
        return None
    low = min(float(part["ci_low"].min()), float(part[centre].min()), -pad if pad else np.inf)
    high = max(float(part["ci_high"].max()), float(part[centre].max()), pad if pad else -np.inf)
    margin = 0.06 * (high - low) if high > low else 0.05
    return low - margin, high + margin


def _interval(ax: Any, centre: float, low: float, high: float, y: float, lim: tuple[float, float] | None,
              color: str, face: str | None = None) -> None:
    """A point with its interval, cut at ``lim`` with an arrow where it goes beyond.

    A point beyond ``lim`` is drawn as an arrow at that edge; a point without an interval (one
    run: ``low``/``high`` NaN) as the point alone, or that arrow.
    """
    if lim is None:
        lim = (-np.inf, np.inf)
    finite = bool(np.isfinite(low) and np.isfinite(high))
    if not finite:
        low = high = centre
    lo, hi = max(low, lim[0]), min(high, lim[1])
    if lim[0] <= centre <= lim[1]:
        ax.errorbar(centre, y, xerr=[[centre - lo], [hi - centre]] if finite else None, fmt="o", color=color,
                    mfc=face or color, capsize=3, markersize=5)
    elif lo < hi:
        ax.plot([lo, hi], [y, y], color=color, linewidth=1.5)
    if low < lim[0]:
        ax.plot(lim[0], y, marker="<", color=color, markersize=6, clip_on=False)
    if high > lim[1]:
        ax.plot(lim[1], y, marker=">", color=color, markersize=6, clip_on=False)


def chosen_figure(opt: Optimisation, means: pd.DataFrame, diffs: pd.DataFrame) -> Any:
    """Chosen mixes on fresh replications: mean [95 % CI] and paired difference to the best with ±smallest effect.

    A row per objective. Left: the mix's re-evaluated mean with its Student-t interval.
    Right: the mix minus the best mix, paired by replication, with the grey band ±
    the smallest effect of interest; filled points are tied with the best, hollow ones not.
    When mixes ran on different numbers of replications (a race), each label gives its runs,
    and the axes span the intervals of the mixes with at least a quarter of the most runs:
    wider intervals (a mix dropped after a few runs) are cut at the edge, marked by an arrow.
    """
    import matplotlib.pyplot as plt

    from analysis import figures

    figures.set_style()
    table = mixes(opt)
    labels = [f"{lab} ★" if role == "final" else lab for lab, role in zip(table["label"], table["role"], strict=True)]
    runs = opt.reevaluation.groupby("mix_id")["replication"].count()
    uneven = runs.min() != runs.max()
    if uneven:
        labels = [f"{lab}, {int(runs[m])} run{'s' if runs[m] != 1 else ''}"
                  for lab, m in zip(labels, table["mix_id"], strict=True)]
    wide_ok = set(runs.index[runs >= max(2, runs.max() / 4)]) if uneven else set(runs.index)
    ids = list(table["mix_id"].astype(int))
    colours = mix_colours(opt)
    k = len(opt.objectives)
    height = max(2.4, 0.34 * len(ids) + 1.3)
    fig, axes = plt.subplots(k, 2, figsize=(9.0, height * k + 0.4), squeeze=False, sharey=True)
    for row, o in enumerate(opt.objectives):
        m = means[means["outcome"] == o.name].set_index("mix_id")
        d = diffs[diffs["outcome"] == o.name].set_index("mix_id") if not diffs.empty else pd.DataFrame()
        left, right = axes[row]
        delta = o.smallest_effect
        lims = [_span(m, "mean", wide_ok, pad=0.0), _span(d, "difference", wide_ok, pad=delta)]
        for y, mid in enumerate(ids):
            c = colours[mid]
            if mid in m.index and np.isfinite(m.loc[mid, "mean"]):
                r = m.loc[mid]
                _interval(left, r["mean"], r["ci_low"], r["ci_high"], y, lims[0], color=c)
            if mid in d.index:
                r = d.loc[mid]
                _interval(right, r["difference"], r["ci_low"], r["ci_high"], y, lims[1], color=c,
                          face=c if r["tied"] else "white")
        for ax, lim in zip((left, right), lims, strict=True):
            if lim is not None:
                ax.set_xlim(*lim)
        right.axvspan(-delta, delta, color="0.87", zorder=0, linewidth=0)
        right.axvline(0, color="0.3", linewidth=0.8)
        _few_ticks(left)
        _few_ticks(right)
        left.set_yticks(range(len(ids)), [_plain(lab) for lab in labels])
        left.set_ylim(len(ids) - 0.5, -0.5)
        left.set_xlabel(_plain(figures.label(o.name, 40)) + " (mean, 95 % CI)")
        best = d["best"].iloc[0] if len(d) else None
        right.set_xlabel(f"Mix − best (mix {best}), paired 95 % CI\n"
                         f"grey: ± smallest effect {delta:g}; "
                         + ("↑ better" if o.sign > 0 else "↓ better"))
    fig.suptitle(f"Chosen mixes on {f'{int(runs.min())}–' if uneven else ''}"
                 f"{int(runs.max())} fresh replications "
                 "(★ final; filled: tied with the best)", fontsize=10)
    fig.tight_layout()
    return fig


def pareto_figure(opt: Optimisation, means: pd.DataFrame, front: Front) -> Any:
    """Pairwise scatter of the objectives: trials in grey (noisy), re-evaluated mixes with 95 % CIs, front in colour.

    Front members are large filled dots, other re-evaluated mixes hollow; every mix is
    labelled with its id.
    """
    import itertools

    import matplotlib.pyplot as plt

    from analysis import figures

    figures.set_style()
    pairs = list(itertools.combinations(range(len(opt.objectives)), 2))
    ncol = min(3, len(pairs))
    nrow = int(np.ceil(len(pairs) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.3 * ncol, 3.9 * nrow + 0.5), squeeze=False)
    table = mixes(opt).set_index("mix_id")
    t = opt.trials[opt.trials["state"] == "COMPLETE"]
    on_front = set(front.mix_ids)
    for ax, (i, j) in zip(axes.flat, pairs, strict=False):
        oi, oj = opt.objectives[i], opt.objectives[j]
        ax.scatter(t[f"value_{oi.name}"], t[f"value_{oj.name}"], s=10, color="0.72", label="trials (search means)",
                   zorder=1)
        mi = means[means["outcome"] == oi.name].set_index("mix_id")
        mj = means[means["outcome"] == oj.name].set_index("mix_id")
        for mid in table.index:
            if mid not in mi.index or mid not in mj.index:
                continue
            x, y = mi.loc[mid], mj.loc[mid]
            if not (np.isfinite(x["mean"]) and np.isfinite(y["mean"])):
                continue
            inside = mid in on_front
            ax.errorbar(x["mean"], y["mean"], xerr=[[x["mean"] - x["ci_low"]], [x["ci_high"] - x["mean"]]],
                        yerr=[[y["mean"] - y["ci_low"]], [y["ci_high"] - y["mean"]]], fmt="o",
                        color="#D55E00" if inside else "#0072B2", mfc="#D55E00" if inside else "white",
                        markersize=7 if inside else 5, capsize=2, linewidth=0.9, zorder=3,
                        label="re-evaluated front" if inside else "re-evaluated, dominated")
            ax.annotate(str(mid), (x["mean"], y["mean"]), textcoords="offset points", xytext=(5, 4), fontsize=7)
        ax.set_xlabel(_axis(oi, 30))
        ax.set_ylabel(_axis(oj, 30))
    for ax in list(axes.flat)[len(pairs):]:
        ax.remove()
    handles, labels = [], []
    for ax in axes.flat[: len(pairs)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=len(labels), frameon=False)
    fig.suptitle("Pareto front of re-evaluated means (numbers: mix ids); the front is computed on all "
                 "objectives, so a front mix can look dominated in one panel", fontsize=9, y=1.05)
    fig.tight_layout()
    return fig


def robustness_figure(opt: Optimisation, summary: pd.DataFrame, sf: pd.DataFrame) -> Any:
    """Per objective: how often each mix stays within the smallest effect of the best robustness point by point.

    Left, bars: the share of points within the smallest effect of the point's best mix.
    Right, dots: each point's shortfall, with the smallest effect as a dashed line.
    """
    import matplotlib.pyplot as plt

    from analysis import figures

    figures.set_style()
    table = mixes(opt).set_index("mix_id")
    ids = sorted(int(m) for m in summary["mix_id"].unique())
    labels = [table.loc[m, "label"] + (" ★" if table.loc[m, "role"] == "final" else "") if m in table.index
              else mix_label(m) for m in ids]
    colours = mix_colours(opt)
    objectives = [o for o in opt.objectives if o.name in set(summary["outcome"])]
    k = len(objectives)
    height = max(2.2, 0.34 * len(ids) + 1.2)
    fig, axes = plt.subplots(k, 2, figsize=(9.0, height * k + 0.4), squeeze=False, sharey=True)
    rng = np.random.default_rng(0)  # jitter only
    for row, o in enumerate(objectives):
        left, right = axes[row]
        s = summary[summary["outcome"] == o.name].set_index("mix_id")
        for y, mid in enumerate(ids):
            if mid not in s.index:
                continue
            r = s.loc[mid]
            c = colours.get(mid, "#777777")
            left.barh(y, r["share"], color=c, height=0.6)
            left.text(min(r["share"], 1.0) + 0.02, y, f"{int(r['within'])} of {int(r['points'])}", va="center",
                      fontsize=7)
            pts = sf[(sf["outcome"] == o.name) & (sf["mix_id"] == mid)]["shortfall"].to_numpy(float)
            right.scatter(pts, y + rng.uniform(-0.18, 0.18, len(pts)), s=9, color=c, alpha=0.7)
        left.set_xlim(0, 1.18)
        left.set_yticks(range(len(ids)), [_plain(lab) for lab in labels])
        left.set_ylim(len(ids) - 0.5, -0.5)
        left.set_xlabel(f"Share of points within {o.smallest_effect:g} of the best\n"
                        + _plain(figures.label(o.name, 40)))
        right.axvline(o.smallest_effect, color="0.3", linestyle="--", linewidth=0.9)
        _few_ticks(right)
        right.set_xlabel("Shortfall to the point's best mix (outcome units)\ndashed: smallest effect")
    points = int(opt.robustness["point"].nunique()) if opt.robustness is not None else 0
    fig.suptitle(f"Chosen mixes over {points} Latin-hypercube points of uncertain parameters (★ final)", fontsize=10)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ report
def organisations(levers: list[str]) -> list[str]:
    """Organisation names in lever order (``<organisation>.<lever>``; the last dot splits)."""
    seen: list[str] = []
    for lever in levers:
        org = lever.rpartition(".")[0]
        if org not in seen:
            seen.append(org)
    return seen


def _value(v: Any) -> str:
    from analysis.report import fmt

    if isinstance(v, (float, np.floating)):
        return fmt(float(v))
    return str(v)


def _first_line(text: Any, width: int = 160) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _with_smallest(opt: Optimisation, smallest: dict[str, float] | None) -> list[str]:
    """Apply command-line smallest effects to the objectives; returns lines saying which were overridden."""
    lines = []
    for i, o in enumerate(opt.objectives):
        if smallest and o.name in smallest:
            opt.objectives[i] = Objective(o.name, o.direction, float(smallest[o.name]))
            lines.append(f"{o.name}: smallest effect {smallest[o.name]:g} from the command line "
                         f"(the optimisation declared {o.smallest_effect:g})")
    return lines


def build(opt: Optimisation, out: Path, smallest: dict[str, float] | None = None) -> dict[str, Any]:
    """Compute the tables and figures of an optimisation report; returns the report template's data.

    Writes figures and CSV tables into ``out`` (never into the optimisation folder).
    """
    import base64

    from analysis import figures
    from analysis.report import _atomic_write, ci_text, fmt, safe_url

    overridden = _with_smallest(opt, smallest)
    spec, t = opt.spec, opt.trials
    means = reevaluated_means(opt)
    diffs = differences_to_best(opt, means)
    table = mixes(opt)
    primary = opt.objectives[0]
    reps = spec.get("replications")
    fresh = int(opt.reevaluation["replication"].nunique())
    n_complete = int((t["state"] == "COMPLETE").sum())
    n_failed = int((t["state"] == "FAIL").sum())
    n_interrupted = int(t["interrupted"].astype(bool).sum()) if "interrupted" in t else 0
    n_repeat = int((t["duplicate_of"] >= 0).sum()) if "duplicate_of" in t else 0
    stop = (f"; stopped by its budget of {spec['budget']} model runs" if spec.get("budget")
            and n_complete + n_failed < spec.get("trials_planned", 0) else "")
    raced = spec.get("selection") == "halving"
    runs_per_mix = opt.reevaluation.groupby("mix_id")["replication"].count()
    counts = (f"{len(t)} of {spec.get('trials_planned', '?')} planned trials{stop} ({n_complete} complete, "
              f"{n_failed} failed, {n_interrupted} interrupted; {n_repeat} repeated a mix already run and cost no "
              f"run); {len(table)} mixes " + (f"raced on {len(opt.reevaluation)} fresh runs "
                                                f"({int(runs_per_mix.min())}–{fresh} each)" if raced else
                                                f"re-evaluated on {fresh} fresh replications")
              + f"; {spec.get('runs_used', '?')} model runs in all")
    sections: list[dict[str, Any]] = []

    # chosen mixes
    header = ["mix", "role", *opt.levers, *(f"{o.name}: mean [95 % CI] (n)" for o in opt.objectives),
              f"{primary.name} in the search (trial mean of {reps}; optimistic)"]
    rows = []
    # reevaluation.parquet's `trial` is the trial's slot (trial numbers shift when a search is resumed)
    key = "slot" if "slot" in t else "number"
    alive = t[~t["interrupted"].astype(bool)] if "interrupted" in t else t
    trial_values = alive.set_index(key)[f"value_{primary.name}"] if len(t) else pd.Series(dtype=float)
    for _, mix in table.iterrows():
        cells = [mix["label"], mix["role"], *(_value(mix[lv]) for lv in opt.levers)]
        for o in opt.objectives:
            r = means[(means["outcome"] == o.name) & (means["mix_id"] == mix["mix_id"])].iloc[0]
            missing = f", {int(r['n_missing'])} undefined" if r["n_missing"] else ""
            cells.append(f"{ci_text(r['mean'], r['ci_low'], r['ci_high'])} ({int(r['n'])}{missing})")
        trial = int(mix["trial"])
        cells.append(fmt(trial_values.get(trial, np.nan)) if trial >= 0 else
                     "– (not run in the search)" if mix["source"] == "surrogate" else "– (given)")
        rows.append(cells)
    span = f"{int(opt.reevaluation['replication'].min())}–{int(opt.reevaluation['replication'].max())}"
    if raced:
        rounds = opt.reevaluation.groupby("round")["mix_id"].nunique() if "round" in opt.reevaluation else None
        plan = ("; ".join(f"round {int(r) + 1}: {int(n)} mixes" for r, n in rounds.items())
                if rounds is not None else "")
        proposed = int((table["source"] == "surrogate").sum())
        who = (f"The {len(table) - proposed} best trials (distinct mixes) and the {proposed} further mixes "
               "a surrogate predicted best (a Bayesian ridge regression of every trial's value on the levers, "
               "ranked over mixes run or not; labelled \"surrogate\")" if proposed else
               f"The {len(table)} best trials (distinct mixes)")
        how = (f"{who} were raced by sequential halving (Karnin, Koren and "
               f"Somekh 2013) on fresh replications ({span}, disjoint from the search's; common random numbers: "
               "in each round every remaining mix ran the same further replications), and after each round the "
               f"better half by mean of {primary.name} went on ({plan}). Means and 95 % Student-t intervals come "
               "from each mix's fresh runs only, so mixes dropped early have few runs and wide intervals (after one "
               "run, none: shown as –). The final "
               f"mix (mix {opt.chosen['final']}) is the best mean of the last round; since it survived on these "
               "same runs, its mean is slightly favoured, and an unbiased value needs further fresh replications.")
    else:
        how = (f"Every chosen mix was run again on {fresh} fresh replications (indices {span}, disjoint from "
               "the search's and the same for every mix: common random numbers). Means and 95 % Student-t intervals "
               "come from these replications only."
               + (f" Final mix: mix {opt.chosen['final']}, the best re-evaluated mean of {primary.name}."
                  if opt.chosen["final"] is not None else ""))
    sections.append({"title": "Chosen mixes on fresh replications", "intro": [
        how + " The last column is the value the search saw: the mean of the trial's own few replications, the best "
        "of many noisy means and so biased upwards (winner's curse); it is shown for comparison and used for "
        "nothing else."], "table": {"header": header, "rows": rows}})

    # against the best
    rows = []
    tied_lines = []
    for o in opt.objectives:
        part = diffs[diffs["outcome"] == o.name] if not diffs.empty else diffs
        if part.empty:
            tied_lines.append(f"{o.name}: no mix has a defined mean.")
            continue
        best = int(part["best"].iloc[0])
        label = table.set_index("mix_id")["label"]
        for _, r in part.iterrows():
            if int(r["mix_id"]) == best:
                continue
            tied = "yes" if r["tied"] else ("no: worse by more" if r["worse"] else "no: undecided")
            rows.append([label[int(r["mix_id"])], o.name, label[best], ci_text(r["difference"], r["ci_low"],
                                                                               r["ci_high"]),
                         f"{int(r['n'])} ({int(r['n_missing'])} missing)", r["verdict"], tied])
        tied_ids = sorted(int(m) for m in part.loc[part["tied"], "mix_id"])
        tied_lines.append(f"{o.name} ({o.direction}, smallest effect {o.smallest_effect:g}): best mix {best}; "
                          f"tied with it: {', '.join(map(str, tied_ids))}.")
    sections.append({"title": "Against the best mix (paired, fresh replications)", "intro": [
        "Each mix minus the best mix of that objective (for the primary objective of a single-objective search, "
        "the final mix), paired by replication, with a 95 % paired Student-t interval (not adjusted for the "
        "number of mixes). A mix is tied with the best when the interval rules out its being worse than the best "
        "by the smallest effect of interest or more; 'worse by more' when the whole interval lies beyond it; "
        "otherwise undecided (more fresh replications would tell). Choosing the best by the same fresh means "
        "favours it slightly, so ties are if anything understated.", *tied_lines],
        "table": {"header": ["mix", "objective", "best", "mix − best [95 % paired CI]", "pairs used",
                             "against ± smallest effect", "tied with the best"], "rows": rows}})

    front = None
    if opt.multi:
        front = pareto_front(opt, means)
        wide = mean_matrix(means, opt.objectives)
        ref_text = ", ".join(f"{o.name} {fmt(v)}" for o, v in zip(opt.objectives, front.reference, strict=True))
        agree = ("It agrees with the optimiser's own front." if sorted(front.mix_ids) == sorted(front.declared) else
                 f"The optimiser's own front was mixes {', '.join(map(str, front.declared)) or 'none'}.")
        intro = [f"Mixes that no other re-evaluated mix beats on every objective (respecting each direction): "
                 f"{', '.join(map(str, front.mix_ids)) or 'none'}. {agree}",
                 f"Hypervolume of this front: {front.hypervolume:.4g} (objectives turned to minimisation; "
                 f"reference point, per objective the worst value of any complete trial or re-evaluated mix: "
                 f"{ref_text}). Hypervolumes compare only with the same reference point."]
        if front.left_out:
            intro.append("Left off the front for an undefined mean: mixes " + ", ".join(map(str, front.left_out)))
        rows = [[table.set_index("mix_id").loc[m, "label"], *(fmt(wide.loc[m, o.name]) for o in opt.objectives)]
                for m in front.mix_ids]
        sections.append({"title": "Pareto front (re-evaluated means)", "intro": intro,
                         "table": {"header": ["mix", *(f"{o.name} ({o.direction})" for o in opt.objectives)],
                                   "rows": rows}})

    # trials
    intro = [f"{len(t)} trials, each the mean of {reps} replications; failed trials (a crash) are kept and marked. "
             "An undefined outcome (e.g. voice equity without minority proposals) is not a failure."]
    done = t[t["state"] == "COMPLETE"]
    for o in opt.objectives:
        col = f"defined_{o.name}"
        if col in done and (done[col] < 1).any():
            intro.append(f"{o.name} was undefined in some replications of {int((done[col] < 1).sum())} complete "
                         f"trials (mean share defined over complete trials {done[col].mean():.0%}).")
    infeasible = int((~done["feasible"].astype(bool)).sum()) if "feasible" in done else 0
    if infeasible:
        intro.append(f"{infeasible} complete trial{'s were' if infeasible != 1 else ' was'} infeasible (hollow in "
                     "the figure).")
    fails = t[t["state"] == "FAIL"]
    trial_section: dict[str, Any] = {"title": "Trials", "intro": intro}
    if len(fails):
        trial_section["table"] = {"header": ["failed trial", "error"], "rows": [
            [str(int(r["number"])), _first_line(r.get("error") or "no error recorded")] for _, r in fails.iterrows()]}
    sections.append(trial_section)

    # robustness
    rob = robustness_summary(opt) if opt.robustness is not None else pd.DataFrame()
    sf = shortfalls(opt) if opt.robustness is not None else pd.DataFrame()
    omitted = []
    if opt.robustness is None:
        omitted.append(f"No {ROBUSTNESS_FILE}: the chosen mixes were not run over a sample of uncertain parameters.")
    elif rob.empty:
        omitted.append(f"{ROBUSTNESS_FILE} holds no defined objective values: robustness not computed.")
    else:
        r_ = opt.robustness
        params = uncertain_parameters(opt)
        ranges = "; ".join(f"{p} {fmt(r_[p].min())}–{fmt(r_[p].max())}" for p in params) or "none named"
        label = table.set_index("mix_id")["label"]
        rows = [[label.get(int(r["mix_id"]), mix_label(int(r["mix_id"]))), r["outcome"],
                 f"{int(r['within'])} of {int(r['points'])} ({r['share']:.0%})", str(int(r["best_at"])),
                 fmt(r["mean_shortfall"]), fmt(r["max_shortfall"])] for _, r in rob.iterrows()]
        sections.append({"title": "Robustness over uncertain parameters", "intro": [
            f"Each chosen mix was run at {int(r_['point'].nunique())} Latin-hypercube points of the uncertain "
            f"parameters ({ranges}), {int(r_.groupby(['mix_id', 'point']).size().median())} replications per point. "
            "At each point the best mix is the one with the best mean over replications; a mix stays within the "
            "smallest effect of interest of the best at a point when its mean falls short of the best by at most "
            "that effect. Means of few replications are noisy, so small shares of points are approximate."],
            "table": {"header": ["mix", "objective", "points within the smallest effect of the best",
                                 "points where it is the best", "mean shortfall", "largest shortfall"],
                      "rows": rows}})

    # figures and tables
    made: list[dict[str, Any]] = []

    def keep(name: str, fig: Any, title: str, caption: str) -> None:
        png = figures.save(fig, out / "figures", name)[0]
        made.append({"name": name, "file": png.name, "path": png, "title": title, "caption": caption})
        print(f"govsim-report: figure {name}", flush=True)

    keep("trials", trials_figure(opt), "Trials", "Objective value per trial (mean of the trial's own replications: "
         "noisy), the best so far among complete feasible trials, and failed trials as red crosses.")
    keep("chosen_mixes", chosen_figure(opt, means, diffs), "Chosen mixes on fresh replications",
         "Left: re-evaluated mean with 95 % Student-t interval. Right: mix − best, paired by replication, with a "
         "95 % paired interval; grey band: ± smallest effect of interest; filled points are tied with the best.")
    if front is not None:
        keep("pareto_front", pareto_figure(opt, means, front), "Pareto front",
             "Grey: trials (the search's noisy means). Coloured: re-evaluated mixes with 95 % intervals; the front "
             "is filled.")
    if not rob.empty:
        keep("robustness", robustness_figure(opt, rob, sf), "Robustness of the chosen mixes",
             "Share of Latin-hypercube points where each mix stays within the smallest effect of interest of the "
             "point's best mix, and each point's shortfall.")
    _atomic_write(out / "reevaluated_means.csv", csv_bytes(means))
    if not diffs.empty:
        _atomic_write(out / "differences.csv", csv_bytes(diffs))
    if not rob.empty:
        _atomic_write(out / "robustness.csv", csv_bytes(rob))
    for fig in made:
        fig["src"] = "data:image/png;base64," + base64.b64encode(fig["path"].read_bytes()).decode()

    objectives = "; ".join(f"{o.name} ({o.direction}, smallest effect {o.smallest_effect:g})" for o in opt.objectives)
    design = [f"Optimisation of case {spec.get('case', '?')} (experiment {spec.get('experiment', '?')}), status "
              f"{spec.get('status', '?')}.", f"Objectives: {objectives}.", *overridden,
              f"Levers: {', '.join(opt.levers)}.",
              f"Sampler {spec.get('sampler', '?')}, seed {spec.get('seed', '?')}; {reps} replications per trial on "
              f"common random numbers; " + (f"the final mix raced from {len(table)} candidates"
                                             + (f" ({spec['surrogate']} proposed by the surrogate)"
                                                if spec.get("surrogate") else "")
                                             + f" by sequential halving on at most {spec.get('selection_runs')} "
                                             "fresh runs."
                                             if raced else
                                             f"{spec.get('reevaluate', fresh)} fresh replications per chosen mix.")]
    prov = [("optimisation", opt.root.name), ("experiment", spec.get("experiment")), ("case", spec.get("case")),
            ("sampler", spec.get("sampler")), ("seed", spec.get("seed")), ("status", spec.get("status")),
            ("trials planned", spec.get("trials_planned")), ("model runs used", spec.get("runs_used"))]
    for key, value in (spec.get("provenance") or {}).items():
        if isinstance(value, dict):
            prov += [(f"{key} {k}", v) for k, v in value.items()]
        else:
            prov.append((key, value))
    cfg = spec.get("config") if isinstance(spec.get("config"), dict) else {}
    scenario = cfg.get("scenario") if isinstance(cfg.get("scenario"), dict) else {}
    source = str(scenario.get("source", ""))
    return {
        "title": opt.root.name, "counts": counts, "notes": list(opt.notes),
        "scenario": {"name": str(scenario.get("name", spec.get("case", ""))),
                     "description": str(scenario.get("description", "")), "source": source,
                     "source_url": safe_url(source)},
        "organisations": organisations(opt.levers), "problems": [], "design": design, "sections": sections,
        "figures": made, "omitted": omitted, "provenance": [(k, str(v)) for k, v in prov],
        "overrides": "", "config": json.dumps(cfg, indent=1, default=str) if cfg else "",
        "diffs": diffs,
    }


def write_report(opt: Optimisation, out: Path, smallest: dict[str, float] | None = None) -> Path:
    """Write the optimisation report (report.md, report.html, figures, CSV tables) to ``out``; returns the HTML."""
    from analysis.load import REPORT_MARKER
    from analysis.report import _atomic_write, check_writable, render

    check_writable(out)
    (out / REPORT_MARKER).touch()
    data = build(opt, out, smallest)
    html_text, md_text = render(data)
    _atomic_write(out / "report.md", md_text.encode())
    html_path = out / "report.html"
    _atomic_write(html_path, html_text.encode())
    return html_path


def writes_into(out: Path, root: Path) -> bool:
    """Whether ``out`` is the optimisation folder itself (whose own files the report must never touch)."""
    try:
        return Path(out).resolve() == Path(root).resolve()
    except OSError:
        return True
