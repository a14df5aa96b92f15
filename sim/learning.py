"""Learning (docs/ODD.md, schedule step 8): communities of practice and practice.

Each active professional, with probability ``learning_rate * investment`` (the
leader's investment in learning), turns to a random tie. If the tie is active,
trusted (a draw against the tie's trust) and willing to share (by its role:
see :func:`sim.roles.sharing_probability`), the professional learns one decision
the tie understands and it does not. Forum delegates may
learn a decision voiced in the meeting (shared understanding; Ansell & Gash 2008).
Learning only ever adds understood decisions. Searching improves judgement: skill rises by
``practice_gain * investment * (1 - skill)`` per step in which a professional searched.
"""

from __future__ import annotations

import numpy as np

from sim.network import Network
from sim.roles import sharing_probability


def learn_from_ties(
    understood: np.ndarray,
    active: np.ndarray,
    investment: np.ndarray,
    learning_rate: float,
    network: Network,
    roles: np.ndarray,
    profession: np.ndarray,
    org_of: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Let professionals learn decisions from ties, in place.

    Args:
        understood: ``(P, N)`` mask, updated in place (only ever set to True).
        active: ``(P,)`` not burnt out.
        investment: ``(P,)`` learning investment of each professional's leader.
        learning_rate: Chance to learn per step at full investment.
        network: Collaboration network.
        roles: ``(P, 3)`` effective roles.
        profession: ``(P,)`` profession ids.
        org_of: ``(P,)`` current organisation.
        rng: Generator of the run.

    Returns:
        The professionals who learnt a decision (each learns at most one per step).
    """
    p = len(active)
    tries = active & (rng.random(p) < learning_rate * investment)
    learners = np.flatnonzero(tries)
    if len(learners) == 0:
        return learners
    tie, edge = network.random_neighbour(learners, rng)
    ok = tie >= 0
    learners, tie, edge = learners[ok], tie[ok], edge[ok]
    ok = active[tie] & (rng.random(len(tie)) < network.trust[edge])
    share = sharing_probability(roles[tie], profession[tie] == profession[learners], org_of[tie] == org_of[learners])
    ok &= rng.random(len(tie)) < share
    learners, tie = learners[ok], tie[ok]
    new = understood[tie] & ~understood[learners]
    has_new = new.any(axis=1)
    learners, new = learners[has_new], new[has_new]
    if len(learners) == 0:
        return learners
    pick = np.argmax(np.where(new, rng.random(new.shape), -1.0), axis=1)
    understood[learners, pick] = True
    return learners


def learn_in_forum(
    understood: np.ndarray, delegates: np.ndarray, voiced: np.ndarray, chance: float, rng: np.random.Generator
) -> np.ndarray:
    """Delegates learn one decision voiced in the meeting that they did not understand, in place.

    Returns:
        The delegates who learnt a decision.
    """
    draws = rng.random((len(delegates), len(voiced) + 1))
    if len(delegates) == 0 or not voiced.any():
        return np.zeros(0, dtype=np.int64)
    new = voiced[None, :] & ~understood[delegates]
    ok = new.any(axis=1) & (draws[:, -1] < chance)
    learners, new = delegates[ok], new[ok]
    if len(learners) == 0:
        return learners
    pick = np.argmax(np.where(new, draws[ok, :-1], -1.0), axis=1)
    understood[learners, pick] = True
    return learners


def practise(skill: np.ndarray, proposers: np.ndarray, investment: np.ndarray, gain: float) -> None:
    """Raise the skill of professionals who searched this step (``proposers``), in place."""
    skill[proposers] += gain * investment[proposers] * (1.0 - skill[proposers])
