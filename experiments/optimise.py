"""``govsim-optimise``: search the best leadership mix of a case with Optuna, ask and tell.

A trial is one *mix* (each organisation's style and, optionally, its leader's behaviour levers;
see :mod:`experiments.mixes`) run for ``optimise.replications`` replications on common random
numbers (replications ``0 .. R-1`` of ``run.seed``, the same for every trial), with the runner
every govsim job uses. Its objective values are the means over those replications.

Why a command of its own rather than a Hydra sweeper: an optimiser decides each batch of trials
from the results so far, and a trial is a mix, not a job worth a folder. Through Hydra's launcher
every trial would recompose a config and start a job; driven directly, a trial costs one dict copy,
a validation and its model runs, in one pool of worker processes kept for the whole search
(``benchmarks/bench_sweep.py`` holds the loop to the sweep's overhead bound). The config is still
composed by Hydra from the same groups, so ``govsim-optimise experiment=optimise_mix problem.K=2``
reads like ``govsim``.

Determinism and resume: the study lives in ``study.journal`` (Optuna's JournalStorage with a
JournalFileBackend) in the output folder. Trials are planned as numbered *slots*; slot ``s`` asks
with a sampler seeded from ``(optimise.seed, s)`` (a resumed seeded sampler would not continue its
random state), batches of ``optimise.batch`` slots are asked, run in parallel and told in slot
order, so the trials do not depend on the number of workers. On resume, trials left RUNNING are
marked FAIL (``interrupted``), which every sampler here ignores, and their slots are asked again:
with the same seed and the same history they draw the same parameters (a warning says if not);
the study ends when every planned slot has a finished trial. A trial whose run raises is FAIL and the study
goes on. An objective that is undefined in a replication (voice equity when nobody speaks up) is
never a failure: the mean is over the replications where it is defined, and the share where it is
not is a constraint (``optimise.undefined: constraint``, infeasible when above 0) or ignored
(``value``); with no defined replication the told value is ``optimise.undefined_value``.

After the search, the final mix is chosen on fresh replications (indices from
:data:`experiments.mixes.REEVALUATION_START`, disjoint from the search's): with one objective the
``optimise.choose`` best trials are raced by sequential halving on at most ``optimise.selection_runs``
runs (:func:`race`; ``optimise.selection: halving``) or each run on ``optimise.reevaluate``
replications (``all``, also what several objectives do with the Pareto-optimal trials). When
``optimise.robustness.points`` > 0 the candidates are run over a Latin hypercube of the case's
uncertain parameters.
``govsim-report <folder>`` reports them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Collection, Container, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.mixes import REEVALUATION_START, MixSpace, apply_mix, evaluate
from experiments.provenance import provenance
from experiments.sweep import FolderLock, SweepRefused, write_json
from sim.params import STYLES, ConfigError, build_params

log = logging.getLogger("govsim.optimise")

OBJECTIVES: dict[str, str] = {
    "gap_closed_auc": "maximize",
    "public_value_auc": "maximize",
    "window_public_value_gap_closed": "maximize",
    "final_public_value_gap_closed": "maximize",
    "production_mean": "maximize",
    "window_energy": "maximize",
    "window_mean_trust": "maximize",
    "window_voice_equity": "maximize",
    "window_adoption_equity": "maximize",
    "burnout_rate_mean": "minimize",
    "person_steps_lost": "minimize",
    "steps_to_half_gap": "minimize",
}
"""Outcomes a search may target, with the direction that is better."""

FAULT_ENV = "GOVSIM_OPTIMISE_FAULT"
"""Fault injection for tests of resume: ``kill:<slot>`` kills the search's own process with SIGKILL right
after it has asked slot ``<slot>`` (its batch left RUNNING, as a power cut would leave it);
``raise:<slot>`` makes every run of that slot's trial raise."""

SAMPLERS = ("auto", "tpe", "random", "nsga3", "nsga2")
SELECTIONS = ("auto", "all", "halving")
UNDEFINED = ("constraint", "value")
FOLDER_FILES = ("optimise.json", "study.journal", "trials.parquet", "reevaluation.parquet", "chosen.json")


@dataclasses.dataclass(frozen=True)
class Settings:
    """The ``optimise`` section, validated.

    Attributes:
        objectives: Outcomes to optimise (see :data:`OBJECTIVES`).
        smallest_effect: Smallest effect of interest per objective, in its units.
        space: The levers searched.
        trials: Planned trials (slots) over the whole study, resumes included.
        budget: Most model runs the search may use (0: no limit besides ``trials``); trials
            that repeat a mix already run cost none.
        replications: Replications per trial (common random numbers).
        batch: Trials asked together and run in parallel (part of the design: results do not
            depend on ``workers``).
        workers: Worker processes (0: one per core).
        sampler: ``auto`` (TPE for one objective, NSGA-III for several), ``tpe``, ``random``,
            ``nsga3`` or ``nsga2``.
        seed: Seed of the sampler; slot ``s`` samples with a seed from ``(seed, s)``.
        startup: Random trials before TPE models the results (TPE only).
        multivariate: TPE models the levers jointly (Optuna's multivariate TPE) rather than
            one by one (Optuna's default).
        avoid_repeats: TPE proposes the best of its candidates that has not been run yet (its
            acquisition is ranked over whole mixes, so this needs ``multivariate``); only when every
            candidate was run does it repeat one (and the next slot explores, see :func:`search`).
        population: Population size (NSGA-II/III only).
        choose: Best trials (distinct mixes) the final mix is chosen from (single objective) /
            largest front re-evaluated (several).
        surrogate: Further candidates (one objective; with several it is not used): the mixes a
            surrogate fitted to every complete trial predicts best, run or not, that are not among
            the ``choose`` best trials (:func:`candidates`). 0: none.
        surrogate_pool: Mixes the surrogate ranks when the space has behaviour levers (seeded
            draws; a space of styles alone ranks every mix up to this many, else draws as many).
        reevaluate: Fresh replications per re-evaluated mix (selection ``all``).
        selection: How the final mix is chosen from the candidates on fresh replications: ``all``
            (every candidate on ``reevaluate`` replications, the best mean wins), ``halving``
            (sequential halving, Karnin, Koren & Somekh 2013: in each of ceil(log2 n) rounds every
            remaining candidate gets an equal share of the round's ``selection_runs`` / rounds
            runs and the better half goes on; one objective only), or ``auto`` (``halving`` for
            one objective, ``all`` for several).
        selection_runs: Most fresh runs sequential halving may use.
        undefined: ``constraint`` or ``value`` (see the module docstring).
        undefined_value: Value told for an objective undefined in every replication.
        robustness: ``points``, ``replications``, ``seed`` and ``parameters`` (dotted key to
            ``[low, high]``) of the Latin hypercube the chosen mixes are run over.
    """

    objectives: tuple[str, ...]
    smallest_effect: Mapping[str, float]
    space: MixSpace
    trials: int
    budget: int
    replications: int
    batch: int
    workers: int
    sampler: str
    seed: int
    startup: int
    multivariate: bool
    avoid_repeats: bool
    population: int
    choose: int
    surrogate: int
    surrogate_pool: int
    reevaluate: int
    selection: str
    selection_runs: int
    undefined: str
    undefined_value: float
    robustness: Mapping[str, Any]

    @property
    def directions(self) -> list[str]:
        """Optuna directions of the objectives."""
        return [OBJECTIVES[o] for o in self.objectives]

    @property
    def sampler_kind(self) -> str:
        """The sampler used (``auto`` resolved)."""
        if self.sampler != "auto":
            return self.sampler
        return "tpe" if len(self.objectives) == 1 else "nsga3"

    @property
    def surrogate_used(self) -> int:
        """The surrogate's candidates: ``surrogate`` with one objective, none with several."""
        return self.surrogate if len(self.objectives) == 1 else 0

    @property
    def candidate_count(self) -> int:
        """Most candidates the final mix is chosen from (one objective: best trials and the surrogate's)."""
        return self.choose + self.surrogate_used

    @property
    def selection_kind(self) -> str:
        """The selection used (``auto`` resolved)."""
        if self.selection != "auto":
            return self.selection
        return "halving" if len(self.objectives) == 1 else "all"


def _int(path: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(path, value, f"must be an integer in [{low}, {high}]")
    return value


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, value, "must be true or false")
    return value


def settings_from(section: Mapping[str, Any] | None, organisations: Sequence[str]) -> Settings:
    """Validate the ``optimise`` section against the case's organisations.

    Raises:
        ConfigError: naming the field, the value and what is allowed.
    """
    if not section:
        raise ConfigError("optimise", section, "missing: give an optimisation experiment, e.g. experiment=optimise_mix")
    s = dict(section)
    known = {f.name for f in dataclasses.fields(Settings)}
    for key in s:
        if key not in known:
            raise ConfigError(f"optimise.{key}", s[key], "unknown key; keys: " + ", ".join(sorted(known)))
    objectives = s.get("objectives")
    if isinstance(objectives, str):
        objectives = [objectives]
    if not objectives or not isinstance(objectives, Sequence):
        raise ConfigError("optimise.objectives", objectives, "give one or more of: " + ", ".join(OBJECTIVES))
    for name in objectives:
        if name not in OBJECTIVES:
            raise ConfigError("optimise.objectives", name, "allowed: " + ", ".join(OBJECTIVES))
    if len(set(objectives)) != len(objectives):
        raise ConfigError("optimise.objectives", list(objectives), "each objective once")
    effects = dict(s.get("smallest_effect") or {})
    for name in objectives:
        value = effects.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(f"optimise.smallest_effect.{name}", value,
                              "must be a positive number in the outcome's units (needed for every objective)")
    space_cfg = dict(s.get("space") or {})
    for key in space_cfg:
        if key not in ("organisations", "styles", "behaviours"):
            raise ConfigError(f"optimise.space.{key}", space_cfg[key],
                              "unknown key; keys: organisations, styles, behaviours")
    styles = space_cfg.get("styles")
    space = MixSpace(tuple(space_cfg.get("organisations") or organisations),
                     STYLES if styles is None else tuple(styles), tuple(space_cfg.get("behaviours") or ()))
    space.validate(organisations)
    sampler = s.get("sampler", "auto")
    if sampler not in SAMPLERS:
        raise ConfigError("optimise.sampler", sampler, "allowed: " + ", ".join(SAMPLERS))
    selection = s.get("selection", "all")
    if selection not in SELECTIONS:
        raise ConfigError("optimise.selection", selection, "allowed: " + ", ".join(SELECTIONS))
    undefined = s.get("undefined", "constraint")
    if undefined not in UNDEFINED:
        raise ConfigError("optimise.undefined", undefined, "allowed: " + ", ".join(UNDEFINED))
    undefined_value = s.get("undefined_value", 0.0)
    if isinstance(undefined_value, bool) or not isinstance(undefined_value, int | float) \
            or not math.isfinite(undefined_value):
        raise ConfigError("optimise.undefined_value", undefined_value, "must be a finite number")
    robustness = dict(s.get("robustness") or {})
    for key in robustness:
        if key not in ("points", "replications", "seed", "parameters"):
            raise ConfigError(f"optimise.robustness.{key}", robustness[key],
                              "unknown key; keys: points, replications, seed, parameters")
    out = Settings(
        objectives=tuple(objectives),
        smallest_effect={k: float(effects[k]) for k in objectives},
        space=space,
        trials=_int("optimise.trials", s.get("trials", 100), 1, 1_000_000),
        budget=_int("optimise.budget", s.get("budget", 0), 0, 10**12),
        replications=_int("optimise.replications", s.get("replications", 2), 1, REEVALUATION_START),
        batch=_int("optimise.batch", s.get("batch", 2), 1, 1024),
        workers=_int("optimise.workers", s.get("workers", 0), 0, 4096),
        sampler=sampler,
        seed=_int("optimise.seed", s.get("seed", 0), 0, 2**63 - 1),
        startup=_int("optimise.startup", s.get("startup", 10), 0, 1_000_000),
        multivariate=_bool("optimise.multivariate", s.get("multivariate", True)),
        avoid_repeats=_bool("optimise.avoid_repeats", s.get("avoid_repeats", True)),
        population=_int("optimise.population", s.get("population", 24), 2, 100_000),
        choose=_int("optimise.choose", s.get("choose", 5), 1, 1000),
        surrogate=_int("optimise.surrogate", s.get("surrogate", 0), 0, 1000),
        surrogate_pool=_int("optimise.surrogate_pool", s.get("surrogate_pool", 20_000), 1, 200_000),
        reevaluate=_int("optimise.reevaluate", s.get("reevaluate", 30), 2, 100_000),
        selection=selection,
        selection_runs=_int("optimise.selection_runs", s.get("selection_runs", 90), 1, 10_000_000),
        undefined=undefined,
        undefined_value=float(undefined_value),
        robustness={
            "points": _int("optimise.robustness.points", robustness.get("points", 0), 0, 100_000),
            "replications": _int("optimise.robustness.replications", robustness.get("replications", 1), 1, 1000),
            "seed": _int("optimise.robustness.seed", robustness.get("seed", 0), 0, 2**63 - 1),
            "parameters": dict(robustness.get("parameters") or {}),
        },
    )
    if out.avoid_repeats and out.sampler_kind == "tpe" and not out.multivariate:
        raise ConfigError("optimise.avoid_repeats", True, "needs optimise.multivariate=true (TPE must rank whole mixes "
                          "to skip those already run); set optimise.avoid_repeats=false for independent TPE")
    if out.selection == "halving" and len(out.objectives) > 1:
        raise ConfigError("optimise.selection", "halving", "races candidates on one objective; with several "
                          "objectives use all (or auto)")
    if out.selection_kind == "halving":
        n = out.candidate_count
        rounds = _rounds(n)
        if out.selection_runs < n * rounds:
            raise ConfigError("optimise.selection_runs", out.selection_runs,
                              f"sequential halving over {n} candidates (optimise.choose + optimise.surrogate) needs "
                              f"at least {n * rounds} runs, one per candidate in each of its {rounds} rounds")
    if out.robustness["points"] and not out.robustness["parameters"]:
        raise ConfigError("optimise.robustness.parameters", {},
                          "give the uncertain parameters (dotted key: [low, high])")
    return out


# ---------------------------------------------------------------------------------------- samplers
def slot_seed(seed: int, slot: int) -> int:
    """The sampler seed of slot ``slot``: from ``SeedSequence([seed, slot])``."""
    return int(np.random.SeedSequence([seed, slot]).generate_state(1, np.uint32)[0])


def make_sampler(settings: Settings, slot: int, visited: Collection[str] = ()) -> Any:
    """A fresh sampler for ``slot``, seeded from ``(settings.seed, slot)``.

    ``visited`` holds the keys (:func:`_key`) of the mixes already run or about to run in the batch;
    with ``avoid_repeats``, TPE proposes none of them unless all its candidates are among them.
    """
    import warnings

    import optuna

    seed = slot_seed(settings.seed, slot)
    kind = settings.sampler_kind
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "tpe":
        cls = _tpe_avoiding(settings.space, frozenset(visited)) if settings.avoid_repeats \
            else optuna.samplers.TPESampler
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # multivariate TPE is marked experimental
            return cls(seed=seed, n_startup_trials=settings.startup, multivariate=settings.multivariate,
                       constant_liar=True)
    from optuna.samplers._lazy_random_state import LazyRandomState
    from optuna.samplers._nsgaiii._elite_population_selection_strategy import (
        NSGAIIIElitePopulationSelectionStrategy,
    )
    from optuna.samplers.nsgaii._elite_population_selection_strategy import NSGAIIElitePopulationSelectionStrategy

    # Optuna selects a generation's parents once (then caches them): with the sampler's own random
    # state (NSGA-III's niching), so a resumed search, whose parents are cached, would draw its
    # children from another random state; and in selection order the first time but in trial order
    # from the cache. The selection draws from a random state of its own here, and parents come in
    # trial order, always: a resumed search asks what an uninterrupted one asks.
    if kind == "nsga3":
        select = NSGAIIIElitePopulationSelectionStrategy(
            population_size=settings.population,
            rng=LazyRandomState(int(np.random.SeedSequence([settings.seed, slot, 1]).generate_state(1)[0])))
        cls = optuna.samplers.NSGAIIISampler
    else:
        select = NSGAIIElitePopulationSelectionStrategy(population_size=settings.population)
        cls = optuna.samplers.NSGAIISampler

    def in_trial_order(study: Any, population: list[Any]) -> list[Any]:
        return sorted(select(study, population), key=lambda t: t.number)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the strategy argument is marked experimental
        return cls(seed=seed, population_size=settings.population, elite_population_selection_strategy=in_trial_order)


def _tpe_avoiding(space: MixSpace, visited: frozenset[str]) -> type:
    """Optuna's TPE whose acquisition skips candidate mixes in ``visited``.

    TPE draws its candidates (24 by default) from the density of the good trials and proposes the one
    with the highest ratio of good to bad density. With few good trials on a categorical space that
    is the incumbent, over and over: in the proof (docs/optimisation.md) independent TPE repeated a
    mix on about half its trials. Here a candidate already run gets an acquisition of minus infinity,
    so TPE proposes its best new candidate; if every candidate was run, the ranking is left as it is.
    Only whole-mix candidates (multivariate TPE) are masked; the masking draws no random numbers.
    """
    import optuna

    dists = distributions(space)
    levers = tuple(space.levers)

    class AvoidingTPESampler(optuna.samplers.TPESampler):
        def _compute_acquisition_func(self, samples: dict[str, np.ndarray], mpe_below: Any,
                                      mpe_above: Any) -> np.ndarray:
            values = super()._compute_acquisition_func(samples, mpe_below, mpe_above)
            if not visited or set(samples) != set(levers):
                return values
            run = np.array([_key({lever: dists[lever].to_external_repr(float(samples[lever][i]))
                                  for lever in levers}) in visited for i in range(values.size)])
            return values if run.all() else np.where(run, -np.inf, values)

    return AvoidingTPESampler


def distributions(space: MixSpace) -> dict[str, Any]:
    """Optuna distributions of the levers, in lever order."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    out: dict[str, Any] = {}
    for lever in space.levers:
        out[lever] = CategoricalDistribution(list(space.styles)) if lever.endswith(".style") \
            else FloatDistribution(0.0, 1.0)
    return out


# -------------------------------------------------------------------------------------- evaluation
def run_one(config: Mapping[str, Any], mix: Mapping[str, Any], replication: int,
            outcomes: Sequence[str]) -> dict[str, Any]:
    """One model run of a mix; a raised error is returned as ``{"error": ...}`` (the trial fails)."""
    try:
        return evaluate(config, mix, [replication], outcomes)[0]
    except Exception as exc:  # noqa: BLE001 - a crashed run fails its trial, the study goes on
        return {"error": f"{type(exc).__name__}: {exc}"}


def aggregate(runs: Sequence[Mapping[str, Any]], settings: Settings) -> dict[str, Any]:
    """A trial's told values and attributes from its runs (in replication order)."""
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        return {"error": errors[0]}
    values, attrs = [], {}
    undefined = 0.0
    for name in settings.objectives:
        x = np.array([r[name] for r in runs], dtype=float)
        ok = np.isfinite(x)
        share = 1.0 - ok.mean()
        undefined = max(undefined, share)
        value = float(x[ok].mean()) if ok.any() else settings.undefined_value
        values.append(value)
        attrs[f"value_{name}"] = value
        attrs[f"defined_{name}"] = float(ok.mean())
        attrs[f"runs_{name}"] = [float(v) if np.isfinite(v) else None for v in x]
    attrs["undefined_share"] = float(undefined) if settings.undefined == "constraint" else 0.0
    return {"values": values, "attrs": attrs}


class Evaluator:
    """Runs model runs in one pool of worker processes kept for the whole search."""

    def __init__(self, config: Mapping[str, Any], outcomes: Sequence[str], workers: int) -> None:
        """Keep the config; ``workers`` 0 means one per core."""
        from joblib import cpu_count

        self.config = dict(config)
        self.outcomes = list(outcomes)
        self.workers = workers or cpu_count()
        self._pool: Any = None
        if self.workers > 1:  # a pool of its own, forked from a server that has imported the model once
            from experiments.sweep import start_workers, worker_env, worker_pool

            context = start_workers(worker_env(self.workers), preload="experiments.mix_worker")
            self._pool = worker_pool(self.workers, context)  # workers and server die with this process

    def close(self) -> None:
        """Stop the pool's workers and their server."""
        if self._pool is not None:
            from experiments.sweep import stop_workers

            self._pool.shutdown(wait=True)
            self._pool = None
            stop_workers()

    def submit(self, tasks: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], int]]) -> Callable[[], list[dict]]:
        """Queue ``(config, mix, replication)`` tasks; returns a call that waits for their results, in task order.

        Tasks are taken by whichever worker is free, in queue order, so runs queued by the next
        batch start as soon as a worker finishes its last run of this one. Without a pool (one
        worker) the runs are made when the results are asked for.
        """
        if self._pool is None:
            return lambda: [run_one(cfg, mix, r, self.outcomes) for cfg, mix, r in tasks]
        futures = [self._pool.submit(run_one, cfg, mix, r, self.outcomes) for cfg, mix, r in tasks]
        return lambda: [f.result() for f in futures]

    def run(self, tasks: Sequence[tuple[Mapping[str, Any], Mapping[str, Any], int]]) -> list[dict[str, Any]]:
        """Results of ``(config, mix, replication)`` tasks, in task order."""
        return self.submit(tasks)()

    def __call__(self, tasks: Sequence[tuple[Mapping[str, Any], int]]) -> list[dict[str, Any]]:
        """Results of ``(mix, replication)`` tasks of the search's config, in task order."""
        return self.search_submit(tasks)()

    def search_submit(self, tasks: Sequence[tuple[Mapping[str, Any], int]]) -> Callable[[], list[dict[str, Any]]]:
        """:meth:`submit` for ``(mix, replication)`` tasks of the search's config."""
        return self.submit([(self.config, mix, r) for mix, r in tasks])


# ------------------------------------------------------------------------------------------ search
def _mix_of(params: Mapping[str, Any], space: MixSpace) -> dict[str, Any]:
    return {lever: params[lever] for lever in space.levers}


def _fail_interrupted(study: Any) -> dict[int, dict[str, Any]]:
    """Mark trials a killed search left unfinished FAIL (``interrupted``); their slots' parameters, to compare."""
    from optuna.trial import TrialState

    again: dict[int, dict[str, Any]] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        study._storage.set_trial_user_attr(t._trial_id, "interrupted", True)
        study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        slot = t.user_attrs.get("slot")
        if slot is not None and t.params:
            again[int(slot)] = dict(t.params)
    return again


def _finished(study: Any) -> list[Any]:
    """Trials that ended by themselves (complete, or failed by a crash; not interrupted)."""
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
            if "slot" in t.user_attrs and not t.user_attrs.get("interrupted")]


def _injected_fault(kind: str, slot: int) -> bool:
    """Whether :data:`FAULT_ENV` injects ``kind`` at ``slot`` (``kill`` does not return)."""
    import os
    import signal

    for item in os.environ.get(FAULT_ENV, "").split(","):
        what, _, where = item.strip().partition(":")
        if what == kind and where == str(slot):
            if kind.startswith("kill"):
                os.kill(os.getpid(), signal.SIGKILL)
            return True
    return False


def _unvisited(settings: Settings, slot: int, visited: set[str]) -> dict[str, Any] | None:
    """A mix of styles not run yet, uniformly at random with the slot's seed (``None`` if all were run)."""
    rng = np.random.default_rng(slot_seed(settings.seed, slot))
    levers = settings.space.levers
    styles = list(settings.space.styles)
    total = len(styles) ** len(levers)
    if total <= 100_000:  # the k-th unvisited mix in grid order, found by its index, not by listing the grid
        digit = {style: i for i, style in enumerate(styles)}
        weights = len(styles) ** np.arange(len(levers) - 1, -1, -1)
        seen = np.zeros(total, dtype=bool)
        for key in visited:
            mix = json.loads(key)
            seen[sum(int(w) * digit[mix[lever]] for w, lever in zip(weights, levers, strict=True))] = True
        left = np.flatnonzero(~seen)
        if not len(left):
            return None
        index = int(left[int(rng.integers(len(left)))])
        return {lever: styles[index // int(w) % len(styles)] for w, lever in zip(weights, levers, strict=True)}
    for _ in range(1000):  # a large space: rejection sampling finds an unvisited mix at once
        mix = {lever: styles[int(rng.integers(len(styles)))] for lever in levers}
        if _key(mix) not in visited:
            return mix
    return None


def _key(mix: Mapping[str, Any]) -> str:
    return json.dumps(mix, sort_keys=True)


def _view_hiding(study: Any, hidden: set[int]) -> Callable[..., list[Any]]:
    """``study._get_trials`` as the sampler must see it when a batch is asked.

    The trials of ``hidden`` slots (the batch still running in an uninterrupted search) appear as
    RUNNING, with their parameters and no values.
    """
    import copy

    from optuna.trial import TrialState

    real = type(study)._get_trials.__get__(study)

    def get_trials(deepcopy: bool = True, states: Container[Any] | None = None, use_cache: bool = False) -> list[Any]:
        out = []
        for t in real(deepcopy=False, states=None, use_cache=False):
            if t.state in (TrialState.COMPLETE, TrialState.FAIL) and t.user_attrs.get("slot") in hidden \
                    and not t.user_attrs.get("interrupted"):
                t = copy.copy(t)
                t.state, t._values, t.datetime_complete = TrialState.RUNNING, None, None
            if states is None or t.state in states:
                out.append(copy.deepcopy(t) if deepcopy else t)
        return out

    return get_trials


def search(study: Any, settings: Settings, evaluator: Evaluator,
           progress: Callable[[int, int], None] | None = None) -> None:
    """Ask, run and tell the study's remaining planned slots, batch by batch, in slot order.

    Slot ``s`` belongs to batch ``s // batch`` whatever happened before, so a resumed search asks
    its slots with the same history as an uninterrupted one. The batches overlap by one: batch
    ``k`` is asked, and its runs queued, while batch ``k - 1`` is still running; then batch ``k - 1``
    is told. The workers never wait for the main process to tell and ask, and a batch's slowest run
    does not hold the next batch back. So the sampler asks batch ``k`` knowing every batch up to
    ``k - 2`` and batch ``k - 1`` as running (TPE's constant liar); a resumed search shows the sampler
    batch ``k - 1`` as running too, even when it was told before the interruption (see
    :func:`_view_hiding`), so its history does not depend on when the search was killed.

    A mix already run (in an earlier trial, in the running batch or earlier in the batch) is not run
    again: on the same replications its runs would repeat to the bit, so the trial is told the earlier
    values (``duplicate_of``) and costs no model run; the sampler sees the repeat as an observation, and,
    in a space of styles, the next slot tries a mix not run yet, drawn uniformly with that slot's seed
    (``explore``), so a sampler that has settled keeps exploring instead of spending its trials on
    repeats. The search ends after ``trials`` slots, or before the slot that would take its runs past
    ``budget``.
    """
    from optuna.trial import TrialState

    again = _fail_interrupted(study)
    finished = _finished(study)
    done = {int(t.user_attrs["slot"]) for t in finished}
    seen: dict[str, Any] = {}  # mix -> the finished trial that ran it
    for t in sorted(finished, key=lambda t: t.user_attrs["slot"]):
        if "duplicate_of" not in t.user_attrs:
            seen.setdefault(_key(_mix_of(t.params, settings.space)), t)
    runs = settings.replications * sum(1 for t in finished if "duplicate_of" not in t.user_attrs)
    repeats = {int(t.user_attrs["slot"]) for t in finished if "duplicate_of" in t.user_attrs}
    dists = distributions(settings.space)
    reps = list(range(settings.replications))
    pending: dict[str, Any] | None = None  # the batch running: asked, queued, not told yet

    def tell(batch: dict[str, Any]) -> None:
        """Wait for ``batch``'s runs and tell its trials, in slot order."""
        results = batch["collect"]()
        order, asked, to_run = batch["order"], batch["asked"], batch["to_run"]
        outcome_of: dict[str, dict[str, Any]] = {}
        for i, k in enumerate(order):
            runs_k = results[i * len(reps):(i + 1) * len(reps)]
            if _injected_fault("raise", to_run[k][0]):
                runs_k = [{"error": f"RuntimeError: fault injected by {FAULT_ENV}"}] * len(reps)
            outcome_of[k] = aggregate(runs_k, settings)
        seconds = (time.perf_counter() - batch["began"]) / max(len(order), 1)
        for slot, trial, key in asked:
            if key in outcome_of:
                outcome = outcome_of[key]
                trial.set_user_attr("duration_s", round(seconds, 3) if to_run[key][0] == slot else 0.0)
            else:  # a mix run by an earlier trial: its values, no run
                earlier = seen[key]
                outcome = ({"error": earlier.user_attrs.get("error", "failed")} if earlier.state == TrialState.FAIL
                           else {"values": list(earlier.values),
                                 "attrs": {k: v for k, v in earlier.user_attrs.items()
                                           if k.startswith(("value_", "defined_", "runs_")) or k == "undefined_share"}})
                trial.set_user_attr("duration_s", 0.0)
            if "error" in outcome:
                trial.set_user_attr("error", outcome["error"])
                study.tell(trial, state=TrialState.FAIL)
                log.warning("trial %d (slot %d) failed: %s", trial.number, slot, outcome["error"])
            else:
                for name, value in outcome["attrs"].items():
                    trial.set_user_attr(name, value)
                if settings.undefined == "constraint":  # feasible when no objective was undefined in a replication
                    trial.set_constraint("undefined_share", outcome["attrs"]["undefined_share"])
                study.tell(trial, outcome["values"])
            done.add(slot)
            _injected_fault("kill_told", slot)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
            if t.user_attrs.get("slot") in batch["slots"] and "duplicate_of" not in t.user_attrs \
                    and not t.user_attrs.get("interrupted"):
                seen.setdefault(_key(_mix_of(t.params, settings.space)), t)
        if progress:
            progress(len(done), settings.trials)

    if progress:
        progress(len(done), settings.trials)
    for start in range(0, settings.trials, settings.batch):
        slots = [s for s in range(start, min(start + settings.batch, settings.trials)) if s not in done]
        if not slots:
            continue
        previous = range(max(start - settings.batch, 0), start)  # the batch running while this one is asked
        running = pending["to_run"] if pending else {}
        asked, to_run = [], {}
        study._get_trials = _view_hiding(study, set(previous))
        try:
            for slot in slots:
                if settings.budget and runs + settings.replications * (len(to_run) + 1) > settings.budget:
                    break
                visited = set(seen) | set(running) | set(to_run)
                study.sampler = make_sampler(settings, slot, visited)
                explore = slot - 1 in repeats and settings.space.styles and not settings.space.behaviours
                if explore:  # the sampler repeated itself: this slot tries a mix not run yet
                    fresh_mix = _unvisited(settings, slot, visited)
                    if fresh_mix is not None:
                        study.enqueue_trial(fresh_mix, user_attrs={"slot": slot, "explore": True},
                                            skip_if_exists=False)
                trial = study.ask(dists)
                trial.set_user_attr("slot", slot)
                mix = _mix_of(trial.params, settings.space)
                if slot in again and again[slot] != trial.params:
                    log.warning("slot %d asked other parameters than before the interruption: %s, was %s",
                                slot, trial.params, again[slot])
                key = _key(mix)
                if key in seen:
                    trial.set_user_attr("duplicate_of", int(seen[key].user_attrs["slot"]))
                    repeats.add(slot)
                elif key in running or key in to_run:
                    trial.set_user_attr("duplicate_of", (running.get(key) or to_run[key])[0])
                    repeats.add(slot)
                else:
                    to_run[key] = (slot, mix)
                asked.append((slot, trial, key))
                _injected_fault("kill", slot)
        finally:
            del study._get_trials  # the instance attribute goes; the study's own method is back
        if asked:
            order = list(to_run)
            runs += settings.replications * len(order)
            tasks = [(to_run[k][1], r) for k in order for r in reps]
            batch = {"slots": set(slots), "asked": asked, "to_run": to_run, "order": order,
                     "began": time.perf_counter(), "collect": evaluator.search_submit(tasks)}
        if pending:
            tell(pending)
        pending = batch if asked else None
        if len(asked) < len(slots):  # the budget is spent
            break
    if pending:
        tell(pending)


# ------------------------------------------------------------------------------------------ tables
def trials_table(study: Any, settings: Settings) -> pd.DataFrame:
    """One row per trial: slot, state, levers, values, defined shares, feasibility."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        row: dict[str, Any] = {"number": t.number, "slot": t.user_attrs.get("slot", -1), "state": t.state.name,
                               "interrupted": bool(t.user_attrs.get("interrupted", False)),
                               "error": t.user_attrs.get("error"),
                               "duplicate_of": t.user_attrs.get("duplicate_of", -1),
                               "explore": bool(t.user_attrs.get("explore", False))}
        row.update({lever: t.params.get(lever) for lever in settings.space.levers})
        for name in settings.objectives:
            row[f"value_{name}"] = t.user_attrs.get(f"value_{name}", math.nan)
            row[f"defined_{name}"] = t.user_attrs.get(f"defined_{name}", math.nan)
        row["feasible"] = t.state.name == "COMPLETE" and t.user_attrs.get("undefined_share", 0.0) <= 0
        row["duration_s"] = t.user_attrs.get("duration_s", math.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Rows of ``values`` not dominated by another row (directions per column)."""
    v = np.asarray(values, dtype=float) * np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    keep = np.ones(len(v), dtype=bool)
    for i in range(len(v)):
        dominated = (v <= v[i]).all(axis=1) & (v < v[i]).any(axis=1)
        keep[i] = not dominated.any()
    return keep


def _features(mixes: pd.DataFrame, space: MixSpace) -> np.ndarray:
    """The surrogate's design matrix.

    Per style lever one indicator per style; per behaviour lever its centred value and that
    squared (so a best value inside [0, 1] can be predicted).
    """
    cols = []
    for lever in space.levers:
        if lever.endswith(".style"):
            values = mixes[lever].to_numpy()
            cols += [(values == style).astype(float) for style in space.styles]
        else:
            x = mixes[lever].to_numpy(dtype=float) - 0.5
            cols += [x, x * x - 1.0 / 12.0]
    return np.column_stack(cols)


def surrogate_pool(settings: Settings) -> pd.DataFrame:
    """The mixes the surrogate ranks.

    Every mix of a space of styles alone (up to ``surrogate_pool`` mixes), else
    ``surrogate_pool`` mixes drawn uniformly with a generator seeded from
    ``(optimise.seed, "surrogate")``.
    """
    space = settings.space
    if not space.behaviours and space.size <= settings.surrogate_pool:
        return pd.DataFrame(list(space.grid()), columns=space.levers)
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, int.from_bytes(b"surrogate", "little")]))
    n, out = settings.surrogate_pool, {}
    for lever in space.levers:
        if lever.endswith(".style"):
            out[lever] = np.asarray(space.styles, dtype=object)[rng.integers(len(space.styles), size=n)]
        else:
            out[lever] = rng.random(n)
    return pd.DataFrame(out, columns=space.levers)


def surrogate_predict(trials: pd.DataFrame, mixes: pd.DataFrame, settings: Settings) -> np.ndarray:
    """The surrogate's prediction of the objective (one) for ``mixes``.

    A Bayesian ridge regression (scikit-learn's ``BayesianRidge``: the noise and the prior spread of
    the coefficients both estimated from the trials by maximising the evidence, MacKay 1992) of the
    trial values, each mix once (repeats carry no new runs), on :func:`_features`: additive in the
    levers, the simplest model that pools what every trial says about each lever value. A trial's
    value is the mean of a few noisy runs; the surrogate ranks a mix by what all trials with its
    lever values showed, so a mix that looked good by luck ranks lower and a good mix never run can
    rank high (recommending by a model's mean rather than by the best noisy observation, as noisy
    Bayesian optimisation does; Picheny, Wagner & Ginsbourger 2013).
    """
    from sklearn.linear_model import BayesianRidge

    name = settings.objectives[0]
    fit = trials[trials["feasible"] & (trials["duplicate_of"] < 0)]
    y = fit[f"value_{name}"].to_numpy(dtype=float)
    X = _features(fit, settings.space)
    keep = np.isfinite(y)
    X, y = X[keep], y[keep]
    if len(y) < 2:  # nothing to pool: no prediction, so no proposal
        return np.full(len(mixes), np.nan)
    model = BayesianRidge().fit(X, y)
    return model.predict(_features(mixes, settings.space))


def candidates(trials: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Distinct mixes to re-evaluate: the best feasible trials, or the Pareto-optimal ones.

    With one objective and ``optimise.surrogate`` = k > 0, the ``choose`` best trials are followed
    by the k mixes the surrogate predicts best among :func:`surrogate_pool` and the trials' mixes
    that are not candidates already (column ``source``: ``trial`` or ``surrogate``; a surrogate's
    mix the search never ran has slot and number -1; ``predicted`` holds the surrogate's value for
    every candidate).
    """
    ok = trials[trials["feasible"]].copy()
    if ok.empty:
        return ok
    levers = settings.space.levers
    cols = [f"value_{o}" for o in settings.objectives]
    sign = [-1.0 if d == "maximize" else 1.0 for d in settings.directions]
    ok["_key"] = sum(s * ok[c] for s, c in zip(sign, cols, strict=True))
    ok = ok.sort_values(["_key", "number"]).drop_duplicates(subset=levers, keep="first")
    if len(settings.objectives) == 1:
        best = ok.head(settings.choose).drop(columns="_key").assign(source="trial")
        if not settings.surrogate_used:
            return best
        pool = pd.concat([ok[levers], surrogate_pool(settings)], ignore_index=True)
        pool["_mix"] = [_key(m) for m in pool[levers].to_dict("records")]
        pool = pool.drop_duplicates("_mix", keep="first")
        pool["predicted"] = surrogate_predict(trials, pool, settings)
        pool = pool[np.isfinite(pool["predicted"])]
        taken = {_key(m) for m in best[levers].to_dict("records")}
        order = np.argsort(sign[0] * pool["predicted"].to_numpy(), kind="stable")
        picked = pool.iloc[order]
        picked = picked[~picked["_mix"].isin(taken)].head(settings.surrogate_used)
        run = ok.assign(_mix=[_key(m) for m in ok[levers].to_dict("records")]).set_index("_mix")
        rows = []
        for mix_key, row in picked.set_index("_mix").iterrows():
            if mix_key in run.index:  # a trial's mix: keep its trial (slot, value) for the report
                rows.append({**run.loc[mix_key].drop("_key").to_dict(), "source": "surrogate"})
            else:
                rows.append({**{lever: row[lever] for lever in levers}, "number": -1, "slot": -1,
                             "source": "surrogate"})
        out = pd.concat([best, pd.DataFrame(rows)], ignore_index=True)
        predicted = dict(zip(pool["_mix"], pool["predicted"], strict=True))  # every candidate is in the pool
        out["predicted"] = [predicted.get(_key(m), np.nan) for m in out[levers].to_dict("records")]
        return out
    front = ok[pareto_mask(ok[cols].to_numpy(), settings.directions)]
    if len(front) > settings.choose:  # evenly spread along the first objective
        front = front.sort_values(cols[0])
        front = front.iloc[np.unique(np.linspace(0, len(front) - 1, settings.choose).round().astype(int))]
    return front.drop(columns="_key")


def _run_fresh(mixes: pd.DataFrame, settings: Settings, evaluator: Any, ids: Sequence[int], start: int, count: int,
               round_: int) -> list[dict[str, Any]]:
    """Mixes ``ids`` (row positions of ``mixes``) on fresh replications ``start .. start + count - 1``."""
    levers = settings.space.levers
    reps = range(REEVALUATION_START + start, REEVALUATION_START + start + count)
    tasks, keys = [], []
    for mix_id in ids:
        row = mixes.iloc[mix_id]
        mix = {lever: row[lever] for lever in levers}
        for r in reps:
            tasks.append((mix, r))
            keys.append({"mix_id": mix_id, "trial": int(row.get("slot", -1)), **mix, "replication": r,
                         "round": round_, **({"source": row["source"]} if "source" in row else {})})
    results = evaluator(tasks)
    rows = []
    for key, res in zip(keys, results, strict=True):
        if "error" in res:
            raise RuntimeError(f"re-evaluation of mix {key['mix_id']} failed: {res['error']}")
        rows.append({**key, **res})
    return rows


def reevaluate(mixes: pd.DataFrame, settings: Settings, evaluator: Any, outcomes: Sequence[str]) -> pd.DataFrame:
    """Each mix on ``settings.reevaluate`` fresh replications (common random numbers across mixes)."""
    return pd.DataFrame(_run_fresh(mixes, settings, evaluator, range(len(mixes)), 0, settings.reevaluate, 0))


def _rounds(n: int) -> int:
    """Rounds of sequential halving over ``n`` candidates: ceil(log2 n), at least one."""
    return max(1, math.ceil(math.log2(n)))


def halving_schedule(n: int, runs: int) -> list[tuple[int, int]]:
    """Sequential halving over ``n`` candidates with at most ``runs`` runs (Karnin, Koren & Somekh 2013).

    Returns:
        Per round, ``(candidates, runs each)``: the round's candidates each get ``runs //
        (candidates * rounds)`` further runs, then the better ``ceil(candidates / 2)`` go on.
        Runs the schedule leaves over (at most one per candidate and round) are not used.
    """
    rounds, left, plan = _rounds(n), n, []
    for _ in range(rounds):
        plan.append((left, runs // (left * rounds)))
        left = math.ceil(left / 2)
    return plan


def race(mixes: pd.DataFrame, settings: Settings, evaluator: Any) -> pd.DataFrame:
    """Sequential halving over ``mixes`` (in rank order) on fresh replications, by the one objective.

    Every candidate of a round has had the same replications so far and gets the same next ones
    (common random numbers throughout); candidates are ranked by their mean over all their fresh
    replications so far (replications where the objective is undefined left out; none defined
    ranks last), ties to the better-ranked trial. Returns the rows of every run, with ``round``.
    """
    name, sign = settings.objectives[0], (1.0 if settings.directions[0] == "maximize" else -1.0)
    alive, done, rows = list(range(len(mixes))), 0, []
    for round_, (_, each) in enumerate(halving_schedule(len(mixes), settings.selection_runs)):
        rows += _run_fresh(mixes, settings, evaluator, alive, done, each, round_)
        done += each
        frame = pd.DataFrame(rows)
        means = frame[frame["mix_id"].isin(alive)].groupby("mix_id")[name].mean()
        score = {m: sign * means.get(m, np.nan) for m in alive}
        ranked = sorted(alive, key=lambda m: (-score[m] if np.isfinite(score[m]) else np.inf, m))
        alive = ranked[:math.ceil(len(alive) / 2)]
    return pd.DataFrame(rows)


def choose(reeval: pd.DataFrame, settings: Settings) -> dict[str, Any]:
    """The final mix (single objective: best re-evaluated mean) and the re-evaluated front.

    With one objective the final mix is the best mean among the mixes run on the most fresh
    replications (under sequential halving, the last round's candidates; otherwise all).
    """
    means = reeval.groupby("mix_id")[list(settings.objectives)].mean()
    ids = [int(i) for i in means.index]
    if len(settings.objectives) == 1:
        name = settings.objectives[0]
        runs = reeval.groupby("mix_id")["replication"].count()
        finalists = means.loc[runs[runs == runs.max()].index, name]
        best = finalists.idxmax() if settings.directions[0] == "maximize" else finalists.idxmin()
        return {"final": int(best), "candidates": ids, "front": [int(best)]}
    mask = pareto_mask(means.to_numpy(), settings.directions)
    return {"final": None, "candidates": ids, "front": [i for i, m in zip(ids, mask, strict=True) if m]}


def robustness_spec(settings: Settings) -> dict[str, Any]:
    """The Latin hypercube of the robustness check, as a sensitivity section of one block."""
    return {"method": "lhs", "seed": settings.robustness["seed"], "samples": settings.robustness["points"],
            "parameters": settings.robustness["parameters"], "blocks": 1, "block": 0}


def check_robustness(model_cfg: Mapping[str, Any], settings: Settings) -> None:
    """Build every point of the robustness check now, so a bad parameter stops the command before the search.

    Raises:
        ConfigError: Naming the bad parameter (or range) and what is allowed.
    """
    if not settings.robustness["points"]:
        return
    from experiments.sensitivity import points

    try:
        points(model_cfg, robustness_spec(settings))
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError("optimise.robustness.parameters", settings.robustness["parameters"], first) from None


def robustness(mixes: pd.DataFrame, config: Mapping[str, Any], settings: Settings,
               evaluator: Evaluator) -> pd.DataFrame:
    """The mixes over a Latin hypercube of uncertain parameters (common random numbers across mixes)."""
    from experiments.sensitivity import points

    pts = points(config, robustness_spec(settings))
    levers = settings.space.levers
    reps = list(range(REEVALUATION_START, REEVALUATION_START + settings.robustness["replications"]))
    keys, tasks = [], []
    for mix_id, (_, row) in enumerate(mixes.iterrows()):
        mix = {lever: row[lever] for lever in levers}
        for row_idx, cfg, labels in pts:
            build_params(apply_mix(cfg, mix))  # every point is valid before any run
            for r in reps:
                tasks.append((cfg, mix, r))
                keys.append({"mix_id": mix_id, "point": row_idx,
                             **{k: v for k, v in labels.items() if k != "sample_row"}, "replication": r})
    results = evaluator.run(tasks)
    return pd.DataFrame([{**key, **res} for key, res in zip(keys, results, strict=True)])


# ------------------------------------------------------------------------------------------ folder
def outcomes_of(settings: Settings) -> list[str]:
    """Outcomes recorded per run: the objectives first, then the four headline outcomes."""
    extra = ["gap_closed_auc", "production_mean", "burnout_rate_mean", "window_voice_equity"]
    return [*settings.objectives, *(o for o in extra if o not in settings.objectives)]


def digest(record: Mapping[str, Any]) -> str:
    """Hash of what decides an optimisation's trials: the model config and the ``optimise`` section."""
    text = json.dumps({"config": record["config"], "optimise": record["optimise"]}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


JOURNAL_GRACE_SECONDS = 10
"""Optuna's grace period for the journal's lock file: a lock not renewed for this long is broken."""


class JournalDamaged(Exception):
    """A line of ``study.journal`` other than the last cannot be read (one line, exit code 2)."""


def repair_journal(path: Path) -> str | None:
    """Drop a truncated or unreadable last line of an Optuna journal (what a kill while writing leaves).

    Optuna appends each batch of its log lines with one write; a process killed during that write
    leaves a last line without its newline (or with one but cut JSON). Optuna would read past it and
    fail with a ``JSONDecodeError`` once the next line is appended after it. That last line recorded
    nothing complete, so it is cut off here, before the study is opened.

    Returns:
        A warning saying what was dropped, or None if the journal was whole (or does not exist).

    Raises:
        JournalDamaged: If a line before the last cannot be read.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: empty when the journal ends with a whole line
    for number, line in enumerate(lines, start=1):
        try:
            json.loads(line)
        except ValueError:
            if number < len(lines):
                raise JournalDamaged(f"{path} is damaged at line {number} of {len(lines)} (not JSON); it cannot "
                                     "be resumed: choose another --out") from None
            tail, lines = line + b"\n" + tail, lines[:-1]
            break
    if not tail:
        return None
    keep = sum(len(line) + 1 for line in lines)
    with open(path, "r+b") as fh:
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    return (f"ignored the truncated last line of {path.name} ({len(tail)} bytes, as left by a kill while it was "
            "written); the trial it began is run again")


def open_study(folder: Path, settings: Settings, name: str) -> Any:
    """The study in ``folder/study.journal``, created or loaded; the caller holds the folder's lock.

    The journal and its lock file are named by absolute paths (a relative lock target left by a kill
    resolved nowhere, and Optuna then waited for it for ever). Under the folder's lock no other
    process writes the journal, so a lock file found now was left by a killed process and is removed;
    a truncated last line is dropped (:func:`repair_journal`).
    """
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = (folder / "study.journal").absolute()
    stale = journal.with_name(journal.name + ".lock")
    if stale.is_symlink() or stale.exists():
        stale.unlink()
        log.warning("removed %s, left by an optimisation that was killed", stale.name)
    warning = repair_journal(journal)
    if warning:
        log.warning(warning)
    lock = JournalFileOpenLock(str(journal), grace_period=JOURNAL_GRACE_SECONDS)
    storage = JournalStorage(JournalFileBackend(str(journal), lock_obj=lock))
    return optuna.create_study(storage=storage, study_name=name, directions=settings.directions,
                               sampler=make_sampler(settings, 0), load_if_exists=True)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def optimise(model_cfg: Mapping[str, Any], settings: Settings, folder: Path, record: Mapping[str, Any],
             show_progress: bool = True) -> dict[str, Any]:
    """Run (or resume) the optimisation in ``folder``; returns the final ``optimise.json`` record.

    Raises:
        SweepRefused: another process writes into the folder, or it holds another optimisation.
    """
    started = time.perf_counter()
    folder = folder.absolute()
    folder.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(folder)
    lock.acquire()
    try:
        meta_path = folder / "optimise.json"
        record = dict(record)
        record["digest"] = digest(record)
        if meta_path.exists():
            old = json.loads(meta_path.read_text())
            if old.get("digest") != record["digest"]:
                raise SweepRefused(f"{folder} holds another optimisation (different config or optimise section); "
                                   "choose another --out")
            log.info("resuming the optimisation in %s", folder)
        record["status"] = "running"
        write_json(record, meta_path)
        study = open_study(folder, settings, str(record.get("experiment", "optimise")))
        evaluator = Evaluator(model_cfg, outcomes_of(settings), settings.workers)
        try:
            bar = None
            if show_progress:
                from tqdm import tqdm

                bar = tqdm(total=settings.trials, unit="trial", desc="optimise", file=sys.stderr)

            def progress(done: int, total: int) -> None:
                if bar is not None:
                    bar.n = done
                    bar.refresh()

            search(study, settings, evaluator, progress)
            if bar is not None:
                bar.close()
            trials = trials_table(study, settings)
            _atomic_parquet(trials, folder / "trials.parquet")
            chosen_trials = candidates(trials, settings)
            if chosen_trials.empty:
                raise RuntimeError("no feasible completed trial to re-evaluate")
            if settings.selection_kind == "halving":
                log.info("racing %d mixes by sequential halving on at most %d fresh runs", len(chosen_trials),
                         settings.selection_runs)
                reeval = race(chosen_trials, settings, evaluator)
            else:
                log.info("re-evaluating %d mixes on %d fresh replications", len(chosen_trials), settings.reevaluate)
                reeval = reevaluate(chosen_trials, settings, evaluator, outcomes_of(settings))
            _atomic_parquet(reeval, folder / "reevaluation.parquet")
            chosen = choose(reeval, settings)
            write_json(chosen, folder / "chosen.json")
            runs_robust = 0
            if settings.robustness["points"]:
                front = reeval.drop_duplicates("mix_id").set_index("mix_id").loc[chosen["candidates"]]
                robust = robustness(front.reset_index(drop=True), model_cfg, settings, evaluator)
                _atomic_parquet(robust, folder / "robustness.parquet")
                runs_robust = len(robust)
        finally:
            evaluator.close()
        ran = trials["state"].isin(["COMPLETE", "FAIL"]) & (trials["duplicate_of"] < 0)  # interrupted ones too
        runs_search = int(ran.sum()) * settings.replications
        record.update({
            "status": "complete",
            "runs_search": runs_search,
            "runs_reevaluation": len(reeval),
            "runs_robustness": runs_robust,
            "runs_used": runs_search + len(reeval),
            "trials_complete": int((trials["state"] == "COMPLETE").sum()),
            "trials_failed": int(((trials["state"] == "FAIL") & ~trials["interrupted"]).sum()),
            "trials_interrupted": int(trials["interrupted"].sum()),
            "provenance": provenance(started),
        })
        write_json(record, meta_path)
        return record
    finally:
        lock.release()


def experiment_of(overrides: Sequence[str]) -> str:
    """The experiment named by ``overrides`` (``optimise_mix`` when none is)."""
    for o in overrides:
        key, _, value = o.partition("=")
        if key.lstrip("+~") == "experiment":
            return value
    return "optimise_mix"


def compose(overrides: Sequence[str]) -> dict[str, Any]:
    """The resolved config of ``overrides`` (``experiment=optimise_mix`` unless an experiment is given)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from omegaconf import OmegaConf

    from experiments.run import CONFIG_DIR

    overrides = list(overrides)
    if not any(o.split("=", 1)[0].lstrip("+~") == "experiment" for o in overrides):
        overrides.insert(0, "experiment=optimise_mix")
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = hydra_compose("config", overrides=overrides)
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return container


def prepare(container: Mapping[str, Any], experiment: str = "optimise") -> tuple[dict[str, Any], Settings,
                                                                                dict[str, Any]]:
    """Model config, settings and the record of an optimisation, all validated before any run.

    Raises:
        ConfigError: naming the field, the value and what is allowed.
    """
    from experiments.run import model_sections

    container = dict(container)
    section = container.pop("optimise", None)
    container.pop("hydra", None)
    from experiments.guard import check_names, check_size

    model_cfg = model_sections(container)
    check_names(model_cfg)
    params = build_params(model_cfg)
    check_size(params, container)  # one run's size; the search makes optimise.trials x replications of them
    orgs = [o.name for o in params.scenario.organisations]
    settings = settings_from(section, orgs)
    check_robustness(model_cfg, settings)
    for lever in settings.space.levers:  # every value of every lever makes a valid model
        if lever.endswith(".style"):
            for style in settings.space.styles:
                build_params(apply_mix(model_cfg, {lever: style}))
        else:
            for value in (0.0, 1.0):
                build_params(apply_mix(model_cfg, {lever: value}))
    record = {
        "kind": "optimisation",
        "experiment": experiment,
        "case": params.scenario.name,
        "objectives": [{"name": o, "direction": OBJECTIVES[o], "smallest_effect": settings.smallest_effect[o]}
                       for o in settings.objectives],
        "levers": settings.space.levers,
        "trials_planned": settings.trials,
        "budget": settings.budget,
        "replications": settings.replications,
        "reevaluate": settings.reevaluate,
        "selection": settings.selection_kind,
        "selection_runs": settings.selection_runs if settings.selection_kind == "halving" else None,
        "surrogate": settings.surrogate_used,
        "reevaluation_start": REEVALUATION_START,
        "sampler": settings.sampler_kind,
        "seed": settings.seed,
        "run_seed": params.run.seed,
        "steps": params.run.steps,
        "optimise": section,
        "config": model_cfg,
        "report": container.get("report"),
    }
    return model_cfg, settings, record


def default_folder(record: Mapping[str, Any]) -> Path:
    """``outputs/optimise/<experiment>/<time>_<pid>-<hex>``: unique per invocation."""
    import os
    import secrets

    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    return Path("outputs") / "optimise" / str(record["experiment"]) / f"{stamp}_{os.getpid()}-{secrets.token_hex(3)}"


def main(argv: list[str] | None = None) -> int:
    """The ``govsim-optimise`` command."""
    from experiments.guard import OneLineParser

    parser = OneLineParser(
        prog="govsim-optimise",
        description="Search the best leadership mix of a case (Optuna, ask and tell); "
                    "config overrides as for govsim, e.g. optimise.trials=200 scenario=safety_network")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (default experiment: optimise_mix)")
    parser.add_argument("--out", type=Path, help="output folder; give an existing one to resume it")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="govsim-optimise: %(message)s")
    logging.getLogger("MESA").setLevel(logging.WARNING)
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from experiments.guard import check_group_overrides
    from experiments.run import CONFIG_DIR
    from experiments.sweep import hydra_error_line

    try:
        check_group_overrides(args.overrides, CONFIG_DIR)
        model_cfg, settings, record = prepare(compose(args.overrides), experiment_of(args.overrides))
    except ConfigError as err:
        print(f"govsim-optimise: invalid config: {err}", file=sys.stderr)
        return 2
    except (HydraException, OmegaConfBaseException) as err:
        print(f"govsim-optimise: {hydra_error_line(err)}", file=sys.stderr)
        return 2
    folder = args.out or default_folder(record)
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # /dev/null, a path under /proc, a file, no permission
        from experiments.sweep import describe_os_error

        print(f"govsim-optimise: --out {folder}: {describe_os_error(err) if err.errno else err}; nothing was run",
              file=sys.stderr)
        return 2
    try:
        final = optimise(model_cfg, settings, folder, record, show_progress=not args.quiet)
    except (SweepRefused, JournalDamaged) as err:
        print(f"govsim-optimise: {err}", file=sys.stderr)
        return 2
    print(f"govsim-optimise: {final['trials_complete']} trials complete, {final['trials_failed']} failed, "
          f"{final['runs_used']} model runs; results in {folder}")
    print(f"govsim-optimise: report: govsim-report {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
