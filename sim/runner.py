"""Run replications of one parameter point into tidy tables (Hydra-free).

Replication seeds are spawned from the experiment seed with
``numpy.random.SeedSequence(seed).spawn(replications)``, so a whole sweep is
reproducible from one number and every replication is independent. Replication
``r`` of every parameter point gets the same seed, so conditions are compared on
identical problems and workforces (common random numbers).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics import METRICS, summarise
from sim.model import GovernanceModel
from sim.params import ModelParams

Progress = Callable[[int, int, float], None]


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Independent seed sequences of the replications of an experiment seed."""
    return np.random.SeedSequence(seed).spawn(replications)


def seed_label(seq: np.random.SeedSequence) -> int:
    """A 63-bit integer that identifies a replication's seed sequence."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def run_replication(
    params: ModelParams, replication: int, seq: np.random.SeedSequence | None = None
) -> tuple[pd.DataFrame, dict[str, Any], GovernanceModel]:
    """Run one replication for ``params.run.steps`` steps.

    Args:
        params: Parameters of the run.
        replication: Replication index (selects the seed if ``seq`` is None).
        seq: Seed sequence of this replication.

    Returns:
        ``(timeseries, summary, model)``: a frame with one row per step (0..T) and a
        column per metric, the summary outcomes, and the finished model. When the
        parameters schedule shocks, a no-shock twin on the same seed is run as well,
        and the recovery outcomes are measured against it (see
        :func:`sim.metrics.shock_response`).
    """
    if seq is None:
        seq = replication_seeds(params.run.seed, replication + 1)[replication]
    model, ts = _simulate(params, fresh(seq))
    twin = None
    if params.problem.shocks:  # recovery is measured against the same run without the shock
        _, twin = _simulate(no_shock_twin(params), fresh(seq))
    summary = summarise(ts.set_index("step"), model.shock_log, model.n_professionals,
                        None if twin is None else twin.set_index("step"))
    return ts, summary, model


def fresh(seq: np.random.SeedSequence) -> np.random.SeedSequence:
    """A copy of ``seq`` with no children spawned yet (a model spawns its streams from the sequence it gets)."""
    return np.random.SeedSequence(entropy=seq.entropy, spawn_key=seq.spawn_key, pool_size=seq.pool_size)


def no_shock_twin(params: ModelParams) -> ModelParams:
    """The same parameters without scheduled shocks (the twin a shocked run is compared with)."""
    return dataclasses.replace(params, problem=dataclasses.replace(params.problem, shocks=()))


def _simulate(params: ModelParams, seq: np.random.SeedSequence) -> tuple[GovernanceModel, pd.DataFrame]:
    model = GovernanceModel(params, rng=seq)
    for _ in range(params.run.steps):
        model.step()
    ts = model.datacollector.get_model_vars_dataframe()
    ts.index.name = "step"
    return model, ts.reset_index()


def run_point(
    params: ModelParams,
    labels: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    agents: list[pd.DataFrame] | None = None,
    final: Callable[[int, GovernanceModel], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run all replications of one parameter point.

    Args:
        params: Parameters of the point.
        labels: Parameter columns (name -> value) to put on every row.
        progress: Called as ``progress(done, total, seconds)`` after each replication.
        agents: With ``run.collect_agents``, receives each replication's agent records
            (a row per professional x step, with the label columns, ``replication`` and ``seed``).
        final: Called as ``final(replication, model)`` with each finished model (e.g. to record its
            final network).

    Returns:
        ``(timeseries, summary)``: a row per replication x step, and a row per
        replication; both start with the label columns, ``replication`` and ``seed``.
    """
    import time

    labels = dict(labels or {})
    seqs = replication_seeds(params.run.seed, params.run.replications)
    frames, rows = [], []
    start = time.perf_counter()
    for r, seq in enumerate(seqs):
        ts, summary, model = run_replication(params, r, seq)
        head = {**labels, "replication": r, "seed": seed_label(seq)}
        if agents is not None and params.run.collect_agents:
            records = model.datacollector.get_agent_vars_dataframe().reset_index()
            records = records.rename(columns={"Step": "step", "AgentID": "agent"}).dropna(subset=["energy"])
            records = records.astype({"step": "int64", "burnt_out": bool})
            agents.append(records.assign(**head)[[*head, *records.columns]])
        if final is not None:
            final(r, model)
        ts = ts.assign(**head)[[*head, "step", *METRICS]]
        frames.append(ts)
        rows.append({**head, **summary})
        if progress is not None:
            progress(r + 1, len(seqs), time.perf_counter() - start)
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows)
