"""Time allocation and well-being (MODEL.md steps 2 and 7).

Time: a professional spends ``forum`` time in cross-boundary forums (the
leader's convening), ``problem = autonomy * (1 - pressure) * (1 - forum)`` on the
shared problem, and the rest on production, which counts in its organisation's
production metric (the performance-management view). External partners have no
production target.

Energy follows ``dE = restore * (1 - E) - demand * E`` plus small noise, with
``restore = energy_recovery * (0.4 + 0.3 * autonomy + 0.3 * support)`` (rest plus
supportive leadership) and ``demand = energy_drain * workload / resilience``,
``workload = pressure + 2 * forum + role_strain + extra`` (``extra``: crisis load
and surge deployment). Below ``burnout_threshold`` a professional burns out and
is inactive for ``burnout_duration`` steps, recovering meanwhile, then returns.
"""

from __future__ import annotations

import numpy as np

from sim.params import WorkforceParams


def allocate_time(autonomy: np.ndarray, pressure: np.ndarray, forum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares of time on the shared problem and on production.

    Returns:
        ``(problem, production)`` arrays, each in [0, 1], summing with ``forum`` to 1.
    """
    problem = autonomy * (1.0 - pressure) * (1.0 - forum)
    production = 1.0 - forum - problem
    return problem, production


def workload(pressure: np.ndarray, forum: np.ndarray, strain: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Workload of each professional this step."""
    return pressure + 2.0 * forum + strain + extra


def update_energy(
    energy: np.ndarray,
    load: np.ndarray,
    autonomy: np.ndarray,
    support: np.ndarray,
    resilience: np.ndarray,
    drain: float,
    recovery: float,
    rng: np.random.Generator,
    noise: float = 0.02,
) -> np.ndarray:
    """Energy after one step, in [0, 1]."""
    restore = recovery * (0.4 + 0.3 * autonomy + 0.3 * support)
    demand = drain * load / resilience
    new = energy + restore * (1.0 - energy) - demand * energy + rng.normal(0.0, noise, len(energy))
    return np.clip(new, 0.0, 1.0)


def burn_out(
    energy: np.ndarray,
    burnout_left: np.ndarray,
    active: np.ndarray,
    load: np.ndarray,
    autonomy: np.ndarray,
    support: np.ndarray,
    resilience: np.ndarray,
    wf: WorkforceParams,
    rng: np.random.Generator,
) -> tuple[np.ndarray, int]:
    """Energy after a step, burnout of the exhausted and return of the recovered.

    Burnt-out professionals carry no load and recover with full autonomy and support;
    ``burnout_left`` counts down in place, and a professional who returns comes back
    with energy of at least one half.

    Returns:
        ``(energy, new_burnouts)``.
    """
    out = ~active
    load = np.where(out, 0.0, load)
    aut = np.where(out, 1.0, autonomy)
    sup = np.where(out, 1.0, support)
    energy = update_energy(energy, load, aut, sup, resilience, wf.energy_drain, wf.energy_recovery, rng)
    burnout_left[out] -= 1
    back = out & (burnout_left == 0)
    energy[back] = np.maximum(energy[back], 0.5)
    new_burnout = active & (energy < wf.burnout_threshold)
    burnout_left[new_burnout] = max(wf.burnout_duration, 0)
    return energy, int(new_burnout.sum())
