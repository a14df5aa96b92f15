"""Docking: the engine's problem, search and network code set up as three published models.

Axtell, Axelrod, Epstein & Cohen (1996) call it docking: configure a model to
match another's setup and compare the results. Each study below uses govsim's
own machinery, not a separate toy:

- ``nk`` — Kauffman (1993), Levinthal (1997): :class:`sim.landscape.NKLandscape`
  with its exact enumeration, ``local_optima`` and one-bit ``adaptive_walks``;
- ``lazer_friedman`` — Lazer & Friedman (2007): the same NK landscape searched
  by agents tied by :func:`sim.network.build_network` (linear, full, small-world,
  random), who copy a better neighbour or else explore one bit;
- ``hong_page`` — Hong & Page (2004): the ring problem of :mod:`sim.ring`,
  searched with step-size heuristics of the form professionals carry.

Each study function takes :class:`DockingParams` and a seed sequence and returns
tidy frames: one row per landscape (and round, for ``lazer_friedman``).
Landscape ``r`` of every condition is drawn from the same spawned seed, so
conditions are compared on identical problems (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.landscape import NKLandscape, bits_to_int
from sim.network import build_network
from sim.params import (
    NETWORK_STRUCTURES,
    ConfigError,
    NetworkParams,
    _check_choice,
    _check_range,
    _check_unit,
)
from sim.ring import RingProblem, ability, all_heuristics, diversity, group_value
from sim.runner import seed_label

STUDIES = ("nk", "lazer_friedman", "hong_page")
"""Published models the engine docks with, by config name."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DockingParams:
    """Setup of a docking study (the ``docking`` config section).

    Attributes:
        study: ``nk``, ``lazer_friedman`` or ``hong_page``.
        landscapes: Independent problems (landscapes or rings) per condition.
        N: Decisions of the NK landscape (``nk``, ``lazer_friedman``).
        K: Interdependencies per decision (``nk``, ``lazer_friedman``).
        walks: Adaptive walks from random starts per landscape (``nk``).
        agents: Number of agents (``lazer_friedman``).
        network: Network structure (``lazer_friedman``): linear, full, small_world, random.
        degree: Ties per agent of small-world and random networks (``lazer_friedman``).
        rewiring: Watts-Strogatz rewiring probability (``lazer_friedman``, small_world).
        rounds: Rounds of imitation and exploration (``lazer_friedman``).
        power: Exponent on the normalised score, to spread the distribution (``lazer_friedman``).
        ring_size: Solutions on the ring (``hong_page``).
        ring_max: Values on the ring are uniform on ``[0, ring_max]`` (``hong_page``).
        k: Step sizes per heuristic (``hong_page``).
        l: Largest step size (``hong_page``); the pool is every ordered ``k``-tuple from ``1..l``.
        group_sizes: Sizes of the best and random groups compared (``hong_page``).
    """

    study: str = "nk"
    landscapes: int = 100
    N: int = 12
    K: int = 2
    walks: int = 100
    agents: int = 100
    network: str = "linear"
    degree: int = 4
    rewiring: float = 0.1
    rounds: int = 100
    power: float = 8.0
    ring_size: int = 2000
    ring_max: float = 100.0
    k: int = 3
    l: int = 12  # noqa: E741 - Hong & Page's name
    group_sizes: tuple[int, ...] = field(default=(10, 20))

    def __post_init__(self) -> None:
        _check_choice("docking.study", self.study, STUDIES)
        _check_range("docking.landscapes", self.landscapes, 1, 100_000, integer=True)
        _check_range("docking.N", self.N, 1, 22, integer=True)
        _check_range("docking.K", self.K, 0, None, integer=True)
        if self.K >= self.N:
            raise ConfigError("docking.K", self.K, f"must be smaller than docking.N={self.N}")
        _check_range("docking.walks", self.walks, 1, 1_000_000, integer=True)
        _check_range("docking.agents", self.agents, 2, 100_000, integer=True)
        _check_choice("docking.network", self.network, NETWORK_STRUCTURES)
        _check_range("docking.degree", self.degree, 2, 1000, integer=True)
        _check_unit("docking.rewiring", self.rewiring)
        _check_range("docking.rounds", self.rounds, 1, 100_000, integer=True)
        _check_range("docking.power", self.power, 0.0, None, low_open=True)
        _check_range("docking.ring_size", self.ring_size, 2, 1_000_000, integer=True)
        _check_range("docking.ring_max", self.ring_max, 0.0, None, low_open=True)
        _check_range("docking.k", self.k, 1, None, integer=True)
        _check_range("docking.l", self.l, 1, 60, integer=True)
        if self.k > self.l:
            raise ConfigError("docking.k", self.k, f"must not exceed docking.l={self.l}")
        if self.l >= self.ring_size:
            raise ConfigError("docking.l", self.l, f"must be smaller than docking.ring_size={self.ring_size}")
        if isinstance(self.group_sizes, (str, bytes)) or not isinstance(self.group_sizes, (tuple, list)) \
                or not self.group_sizes:
            raise ConfigError("docking.group_sizes", self.group_sizes, "must be a non-empty list of integers")
        pool = int(np.prod(np.arange(self.l - self.k + 1, self.l + 1)))
        for size in self.group_sizes:
            _check_range("docking.group_sizes", size, 1, pool, integer=True)


def build_docking(config: dict[str, Any]) -> DockingParams:
    """Typed docking parameters from the plain ``docking`` config section.

    Raises:
        ConfigError: On an unknown key or a bad value.
    """
    if not isinstance(config, Mapping):
        raise ConfigError("docking", config, "must be a mapping of docking parameters")
    known = set(DockingParams.__dataclass_fields__)
    for key in config:
        if key not in known:
            raise ConfigError(f"docking.{key}", config[key], "unknown key; keys: " + ", ".join(sorted(known)))
    values = dict(config)
    sizes = values.get("group_sizes")
    if isinstance(sizes, Sequence) and not isinstance(sizes, (str, bytes)):
        values["group_sizes"] = tuple(sizes)
    return DockingParams(**values)


def labels(params: DockingParams) -> dict[str, Any]:
    """Parameter columns of a study's result rows."""
    if params.study == "nk":
        return {"docking": "nk", "N": params.N, "K": params.K}
    if params.study == "lazer_friedman":
        return {"docking": "lazer_friedman", "network": params.network, "N": params.N, "K": params.K,
                "agents": params.agents}
    return {"docking": "hong_page", "l": params.l, "k": params.k}


# ---------------------------------------------------------------------------- Kauffman / Levinthal
def nk_landscape_stats(params: DockingParams, rng: np.random.Generator) -> dict[str, float]:
    """Local optima and adaptive-walk outcomes of one NK landscape.

    Walks start from ``params.walks`` uniformly random configurations and move to a
    randomly chosen improving one-bit neighbour until none improves (Levinthal 1997).
    """
    land = NKLandscape(params.N, params.K, rng)
    best, best_config = land.optimum()
    fit = land.all_fitness()
    optima = land.local_optima()
    starts = rng.integers(0, 2, size=(params.walks, params.N), dtype=np.uint8)
    ends = land.adaptive_walks(starts, rng=rng)
    end_codes = bits_to_int(ends)
    best_code = int(bits_to_int(best_config[None, :])[0])
    return {
        "local_optima": float(len(optima)),
        "walk_fitness": float(land.fitness(ends).mean() / best),
        "walk_fitness_raw": float(land.fitness(ends).mean()),
        "walk_reaches_optimum": float((end_codes == best_code).mean()),
        "local_optimum_fitness": float(fit[optima].mean() / best),
        "global_optimum": float(best),
    }


# ---------------------------------------------------------------------------- Lazer & Friedman
def _neighbour_matrix(indptr: np.ndarray, neighbours: np.ndarray, n: int) -> np.ndarray:
    """Neighbour ids padded with ``-1`` into an ``(n, max degree)`` matrix."""
    deg = np.diff(indptr)
    width = max(int(deg.max()) if n else 0, 1)
    mat = np.full((n, width), -1, dtype=np.int64)
    col = np.arange(len(neighbours)) - np.repeat(indptr[:-1], deg)
    mat[np.repeat(np.arange(n), deg), col] = neighbours
    return mat


def lazer_friedman_run(params: DockingParams, rng: np.random.Generator) -> pd.DataFrame:
    """One landscape of Lazer & Friedman's parallel problem solving, round by round.

    Every round, synchronously, each agent looks at its neighbours' current
    solutions: if the best of them scores higher than its own, it copies that
    solution exactly (the lowest id wins ties); otherwise it explores by flipping one
    random decision and keeps the change if it scores higher. The score is fitness
    divided by the global optimum, raised to ``params.power``.

    Returns:
        A row per round ``0..rounds``: mean score, mean normalised fitness, share of
        agents at the global optimum and number of distinct solutions.
    """
    # separate streams, so every network sees the same landscape, starts and exploration draws
    land_rng, net_rng, agent_rng = rng.spawn(3)
    land = NKLandscape(params.N, params.K, land_rng)
    best, _ = land.optimum()
    net = build_network(
        NetworkParams(structure=params.network, degree=min(params.degree, params.agents - 1),
                      rewiring=params.rewiring),
        np.zeros(params.agents, dtype=np.int64), net_rng)
    nbr = _neighbour_matrix(net.indptr, net.neighbours, params.agents)
    x = agent_rng.integers(0, 2, size=(params.agents, params.N), dtype=np.uint8)
    rows = np.arange(params.agents)
    records = []
    for t in range(params.rounds + 1):
        fit = land.fitness(x)
        norm = fit / best
        records.append({"step": t, "score": float((norm ** params.power).mean()), "fitness": float(norm.mean()),
                        "at_optimum": float((norm >= 1 - 1e-12).mean()),
                        "distinct_solutions": float(len(np.unique(bits_to_int(x))))})
        if t == params.rounds:
            break
        nfit = np.where(nbr >= 0, fit[np.maximum(nbr, 0)], -np.inf)
        pick = np.argmax(nfit, axis=1)
        best_nbr = nbr[rows, pick]
        copy = nfit[rows, pick] > fit
        new = x.copy()
        new[copy] = x[best_nbr[copy]]
        explore = np.flatnonzero(~copy)
        bit = agent_rng.integers(0, params.N, size=len(explore))
        trial = x[explore].copy()
        trial[np.arange(len(explore)), bit] ^= 1
        keep = land.fitness(trial) > fit[explore]
        new[explore[keep]] = trial[keep]
        x = new
    return pd.DataFrame.from_records(records)


# ---------------------------------------------------------------------------- Hong & Page
def hong_page_ring(params: DockingParams, rng: np.random.Generator) -> list[dict[str, float]]:
    """Best-versus-random groups on one ring, for every group size.

    The pool holds every heuristic (ordered ``k``-tuple of distinct step sizes from
    ``1..l``); each is scored by its ability on this ring. The best group is the
    ``g`` most able (ties broken by pool order), the random group ``g`` drawn without
    replacement from the pool; both search in relay in the order of their ranks.
    """
    ring = RingProblem(params.ring_size, params.ring_max, rng)
    pool = all_heuristics(params.k, params.l)
    scores = ability(ring.values, pool)
    ranked = np.argsort(-scores, kind="stable")
    out = []
    for size in params.group_sizes:
        best_idx = ranked[:size]
        rand_idx = np.sort(rng.choice(len(pool), size=size, replace=False))
        rand_idx = rand_idx[np.argsort(-scores[rand_idx], kind="stable")]
        best_v = group_value(ring.values, pool[best_idx])
        rand_v = group_value(ring.values, pool[rand_idx])
        out.append({
            "group_size": int(size),
            "best_group": best_v,
            "random_group": rand_v,
            "random_minus_best": rand_v - best_v,
            "random_wins": float(rand_v > best_v),
            "best_diversity": diversity(pool[best_idx]),
            "random_diversity": diversity(pool[rand_idx]),
            "best_agent_ability": float(scores[ranked[0]]),
            "best_group_ability": float(scores[best_idx].mean()),
            "random_group_ability": float(scores[rand_idx].mean()),
            "pool_ability": float(scores.mean()),
            "ring_optimum": ring.optimum,
        })
    return out


# ---------------------------------------------------------------------------- driver
def run_docking(
    params: DockingParams, seed: int, progress: Progress | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a docking study over ``params.landscapes`` independent problems.

    Args:
        params: The study's setup.
        seed: Experiment seed; landscape ``r`` uses ``SeedSequence(seed).spawn(landscapes)[r]``.
        progress: Called as ``progress(done, total)`` after each landscape.

    Returns:
        ``(timeseries, summary)``: rows per landscape x round (``step``; a single
        step 0 for the static studies) and rows per landscape with the final values.
    """
    seqs = np.random.SeedSequence(seed).spawn(params.landscapes)
    base = labels(params)
    ts_rows: list[pd.DataFrame] = []
    summary_rows: list[dict[str, Any]] = []
    for r, seq in enumerate(seqs):
        rng = np.random.default_rng(seq)
        ident = {"replication": r, "seed": seed_label(seq)}
        if params.study == "nk":
            row = {**base, **ident, **nk_landscape_stats(params, rng)}
            summary_rows.append(row)
            ts_rows.append(pd.DataFrame([{**row, "step": 0}]))
        elif params.study == "lazer_friedman":
            run = lazer_friedman_run(params, rng)
            frame = run.assign(**base, **ident)
            ts_rows.append(frame)
            early = min(10, params.rounds)
            summary_rows.append({**base, **ident, "final_score": float(run["score"].iloc[-1]),
                                 f"score_round_{early}": float(run["score"].iloc[early]),
                                 "mean_score": float(run["score"].mean()),
                                 "final_fitness": float(run["fitness"].iloc[-1]),
                                 "final_at_optimum": float(run["at_optimum"].iloc[-1]),
                                 "final_distinct_solutions": float(run["distinct_solutions"].iloc[-1])})
        else:
            for row in hong_page_ring(params, rng):
                size = row.pop("group_size")
                full = {**base, "group_size": size, **ident, **row}
                summary_rows.append(full)
                ts_rows.append(pd.DataFrame([{**full, "step": 0}]))
        if progress is not None:
            progress(r + 1, params.landscapes)
    summary = pd.DataFrame.from_records(summary_rows)
    timeseries = pd.concat(ts_rows, ignore_index=True)
    lead = [*summary.columns[: summary.columns.get_loc("seed") + 1], "step"]
    timeseries = timeseries[lead + [c for c in timeseries.columns if c not in lead]]
    return timeseries, summary
