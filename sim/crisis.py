"""Turbulence, shocks and the surge reserve.

Turbulence redraws each decision's contribution table with probability
``problem.turbulence`` per step. A scheduled shock (a crisis) redraws a given
share of the decisions at once and adds a crisis workload that fades over
``scenario.surge_duration`` steps. After a shock, members of the surge reserve
(a share of every organisation's staff; those not burnt out) are moved to the
organisations whose own performance fell most (at most ``scenario.surge_targets`` of
them), where they add their time and what they understand to the host's capacity, and return
home ``surge_duration`` steps after the shock; headcount is conserved throughout. *When* a
member leaves is its home organisation's decision rule's (``redeploys`` in
:mod:`sim.leadership`): at once when the leader orders it, at the next forum the
organisation attends when the network must agree, or when the member volunteers (more
readily the more it sees itself as a network partner); a late mover helps for less of the
crisis.
"""

from __future__ import annotations

import numpy as np


def turbulence_redraws(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Decisions whose tables turbulence redraws this step."""
    if rate <= 0.0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(rng.random(n) < rate)


def shock_redraws(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Decisions a shock of the given share redraws (at least one if share > 0)."""
    count = int(round(share * n))
    if share > 0 and count == 0:
        count = 1
    return np.sort(rng.choice(n, size=count, replace=False))


def hardest_hit(drop: np.ndarray, share: float) -> np.ndarray:
    """Organisations whose performance fell, largest fall first (at most ``share`` of all, at least one)."""
    fell = np.flatnonzero(drop > 0)
    if len(fell) == 0:
        return fell
    keep = max(1, int(np.ceil(len(drop) * share)))
    return fell[np.argsort(-drop[fell], kind="stable")][:keep]


def plan_surge(
    org_of: np.ndarray, home_org: np.ndarray, reserve: np.ndarray, targets: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reserve members to send and where: as :func:`deploy_surge`, without moving anyone yet.

    Returns:
        ``(movers, destination)``.
    """
    if len(targets) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    movers = np.flatnonzero(reserve & active & (org_of == home_org) & ~np.isin(home_org, targets))
    return movers, targets[np.arange(len(movers)) % len(targets)]


def deploy_surge(
    org_of: np.ndarray, home_org: np.ndarray, reserve: np.ndarray, targets: np.ndarray, active: np.ndarray
) -> np.ndarray:
    """Move reserve members not already in a target organisation to the targets, round-robin.

    Members who are burnt out (``active`` False) stay home.

    Returns:
        Indices of the professionals moved (``org_of`` is updated in place).
    """
    movers, destination = plan_surge(org_of, home_org, reserve, targets, active)
    org_of[movers] = destination
    return movers


def return_surge(org_of: np.ndarray, home_org: np.ndarray, due: np.ndarray) -> np.ndarray:
    """Send the professionals in ``due`` home; returns them."""
    org_of[due] = home_org[due]
    return due
