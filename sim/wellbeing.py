"""Work and well-being (docs/ODD.md, schedule steps 2 and 7): demand, time, production, energy, burnout.

**Demand** (per organisation, in units of one professional's full-time output):
value demand ``base_demand`` per member, plus failure demand (Seddon 2008)
``failure_demand`` per member and per unit of its clients' unmet need (the share of
the shared performance of its own decisions in the optimal configuration that the
current configuration misses: a poorly solved shared problem brings clients back,
following the dependency structure, since each contribution depends on other
organisations' decisions), plus a crisis load after a shock, plus the backlog
carried over. External partners have no production demand.

**Time**: a delegate to a forum spends ``forum_time`` there (more with more parties), and
everyone spends ``learning_time`` times the leader's investment in learning on learning. Of the rest, the leader's
``autonomy`` is the room a professional may use at its discretion (the shared
problem); if routine time does not cover the work needed per active member (demand
over the efficiency-weighted capacity of who is present, so absent colleagues' work
lands on the others), the leader's ``pressure`` is the share of the shortfall that
must come out of that room; of the rest, professionals make up a share ``duty`` of
their own accord. Production time is what the work needs, at most what is left.

**Output** is production time times productivity times efficiency
(``1 - exhaustion_cost * (1 - energy)``). Served demand is at most the demand; the
rest is backlog, of which ``backlog_decay`` leaves each step. Served output is split
into value work and failure work in proportion to the demand: targets that count
both can rise while value falls (Bevan & Hood 2006).

**Energy** follows job demands against job resources (Bakker & Demerouti 2007).
Demands: the work needed per active member, forum time, role strain, surge
deployment, and the part of a production shortfall that pressure enforces.
Resources: autonomy, the leader's support and trust on one's ties; they buffer
demands (``buffering``) and drive recovery. Burnt-out ties drain energy
(contagion; Bakker, Le Blanc & Schaufeli 2005). Below ``burnout_threshold`` a
professional burns out and is absent for ``burnout_duration`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.params import WorkforceParams


@dataclass
class Work:
    """What the work of one step looked like.

    Attributes:
        demand: ``(O,)`` demand on each organisation (output units).
        failure: ``(O,)`` failure-demand part of it.
        need: ``(O,)`` share of an active member's time the demand needs.
        served: ``(O,)`` demand served.
        problem: ``(P,)`` time on the shared problem.
        production: ``(P,)`` time on production.
        shortfall: ``(P,)`` production time needed but not given.
    """

    demand: np.ndarray
    failure: np.ndarray
    need: np.ndarray
    served: np.ndarray
    problem: np.ndarray
    production: np.ndarray
    shortfall: np.ndarray

    @property
    def value_work(self) -> np.ndarray:
        """Served output that answered value demand, per organisation."""
        share = np.divide(self.failure, self.demand, out=np.zeros_like(self.demand), where=self.demand > 0)
        return self.served * (1.0 - share)

    @property
    def failure_work(self) -> np.ndarray:
        """Served output that answered failure demand, per organisation."""
        return self.served - self.value_work


def efficiency(energy: np.ndarray, wf: WorkforceParams) -> np.ndarray:
    """Output per unit of production time relative to a rested professional."""
    return 1.0 - wf.exhaustion_cost * (1.0 - energy)


def org_demand(
    headcount: np.ndarray, unmet: np.ndarray, crisis: float, backlog: np.ndarray, external: np.ndarray,
    wf: WorkforceParams, failure_on: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Demand on each organisation and its failure part, in output units.

    Args:
        headcount: ``(O,)`` home members of each organisation.
        unmet: ``(O,)`` its clients' unmet need in [0, 1] (see the module docstring).
        crisis: Crisis load this step, as a share of capacity.
        backlog: ``(O,)`` demand carried over.
        external: ``(O,)`` external partners (no production demand).
        wf: Workforce parameters.
        failure_on: The failure-demand mechanism is on.
    """
    scale = headcount * wf.productivity
    failure = scale * wf.failure_demand * unmet if failure_on else np.zeros_like(scale)
    demand = scale * (wf.base_demand + crisis) + failure + backlog
    return np.where(external, 0.0, demand), np.where(external, 0.0, failure)


def allocate_time(
    need: np.ndarray, autonomy: np.ndarray, pressure: np.ndarray, forum_time: np.ndarray, duty: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time on the shared problem and on production for each professional.

    Args:
        need: ``(P,)`` share of time its organisation's work needs per active member.
        autonomy, pressure: ``(P,)`` its leader's behaviour.
        forum_time: ``(P,)`` time away from work this step (in a forum, learning).
        duty: Share of a shortfall made up of one's own accord.

    Returns:
        ``(problem, production, shortfall)``, each ``(P,)``; problem + production <= 1 - forum.
    """
    free = 1.0 - forum_time
    room = autonomy * free
    shortfall = np.maximum(0.0, need - (free - room))
    made_up = 1.0 - (1.0 - pressure) * (1.0 - duty)
    problem = room - made_up * np.minimum(shortfall, room)
    production = np.minimum(free - problem, need)
    return problem, production, np.maximum(0.0, need - production)


def job_demands(
    need: np.ndarray, forum_time: np.ndarray, strain: np.ndarray, deployed: np.ndarray, pressure: np.ndarray,
    shortfall: np.ndarray, wf: WorkforceParams,
) -> np.ndarray:
    """Job demands of each professional this step (JD-R)."""
    return need + forum_time + wf.strain_load * strain + wf.deployment_load * deployed + pressure * shortfall


def update_energy(
    energy: np.ndarray,
    demands: np.ndarray,
    resources: np.ndarray,
    burnt_ties: np.ndarray,
    resilience: np.ndarray,
    wf: WorkforceParams,
    draws: np.ndarray,
) -> np.ndarray:
    """Energy after one step, in [0, 1].

    ``E + recovery (recovery_base + (1 - recovery_base) R)(1 - E) - drain D (1 - buffering R) E / resilience
    - contagion B E + energy_noise * draw``, with ``R`` resources, ``D`` demands and ``B`` the
    share of burnt-out ties.
    """
    restore = wf.energy_recovery * (wf.recovery_base + (1.0 - wf.recovery_base) * resources)
    drain = wf.energy_drain * demands * (1.0 - wf.buffering * resources) / resilience
    new = energy + restore * (1.0 - energy) - drain * energy - wf.contagion * burnt_ties * energy
    return np.clip(new + wf.energy_noise * draws, 0.0, 1.0)


def burn_out(
    energy: np.ndarray,
    burnout_left: np.ndarray,
    active: np.ndarray,
    demands: np.ndarray,
    resources: np.ndarray,
    burnt_ties: np.ndarray,
    resilience: np.ndarray,
    wf: WorkforceParams,
    draws: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Energy after a step, burnout of the exhausted and return of the recovered.

    Absent professionals carry no demands and recover with full resources;
    ``burnout_left`` counts down in place, and a professional who returns comes back
    with energy of at least ``return_energy``.

    Returns:
        ``(energy, new_burnouts)``.
    """
    out = ~active
    demands = np.where(out, 0.0, demands)
    resources = np.where(out, 1.0, resources)
    energy = update_energy(energy, demands, resources, np.where(out, 0.0, burnt_ties), resilience, wf, draws)
    burnout_left[out] -= 1
    back = out & (burnout_left == 0)
    energy[back] = np.maximum(energy[back], wf.return_energy)
    new_burnout = active & (energy < wf.burnout_threshold)
    burnout_left[new_burnout] = max(wf.burnout_duration, 0)
    return energy, int(new_burnout.sum())
