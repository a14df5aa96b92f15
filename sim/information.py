"""One information model for every decision-maker (the fair contest; docs/ODD.md).

Proposers, formal leaders, forum delegates, informal leaders and a lead organisation all read
a proposal's effect through :func:`read`, and nothing else in the model turns a proposal into a
judgement. A reader sees only the decisions it *understands* (its profession and what it has
learnt; for a formal leader, its organisation's decisions; what a proposer explains or a forum
voices is added by the caller), and its reading is noisy:

- **What it weighs** is its interest, three views in units of contribution per decision seen:
  the shared contributions of its professional domain (expert), its organisation's mandate on
  the organisation's own decisions (its measured performance), and the shared contributions of
  everything it sees (the collective outcome as far as it can see). A professional weighs them
  by its effective role, an organisation's representative (leader, delegate, lead) by the
  organisation's goal orientation.
- **How well it reads** falls with distance: the sd of its error is
  ``noise * (1 - skill) * d * (1 + strain_noise * strain)``, where ``d`` is the root mean square
  over the changed decisions it sees of ``1 + distance_noise * (1 - trust in the owner)``: 1 for
  its own organisation's decisions (trust in oneself is 1), little more for trusted partners',
  most for the rest. A reader who sees none of the decisions a proposal changes reads exactly
  nothing (0): it cannot misread what it cannot see.

So nobody reads the exact shared value, and rules differ only in *who* reads, *on what* they
see, how readings are *aggregated*, *when* and at *what cost* (see :mod:`sim.leadership`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Readers:
    """Who reads each (proposal, reader) pair, one row per pair.

    Attributes:
        org: ``(M,)`` organisation the reader speaks for (its trust sets the distance).
        seen: ``(M, N)`` decisions the reader sees in this proposal.
        domain: ``(M, N)`` its professional domain (empty for a formal leader).
        weights: ``(M, 3)`` weights on the domain, mandate and shared views.
        skill: ``(M,)`` judgement skill in [0, 1].
        strain: ``(M,)`` role strain (0 for formal leaders).
    """

    org: np.ndarray
    seen: np.ndarray
    domain: np.ndarray
    weights: np.ndarray
    skill: np.ndarray
    strain: np.ndarray


def masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Row means of ``values`` over ``mask`` (0 where the mask is empty)."""
    return (values * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)


def true_views(delta_shared: np.ndarray, delta_mandate: np.ndarray, readers: Readers,
               own: np.ndarray) -> np.ndarray:
    """``(M, 3)`` the exact domain, mandate and shared views of what each reader sees (before noise)."""
    seen = readers.seen
    return np.column_stack([
        masked_mean(delta_shared, readers.domain & seen),
        masked_mean(delta_mandate, own & seen),
        masked_mean(delta_shared, seen),
    ])


def distance(delta_shared: np.ndarray, delta_mandate: np.ndarray, readers: Readers, trust_to_owner: np.ndarray,
             distance_noise: float) -> np.ndarray:
    """``(M,)`` noise multiplier: rms over the changed decisions seen of ``1 + distance_noise (1 - trust)``.

    0 where the reader sees none of the changed decisions.
    """
    changed = readers.seen & ((delta_shared != 0) | (delta_mandate != 0))
    far = (1.0 + distance_noise * (1.0 - trust_to_owner)) ** 2
    n = changed.sum(axis=1)
    return np.sqrt((far * changed).sum(axis=1) / np.maximum(n, 1))


def read(
    delta_shared: np.ndarray,
    delta_mandate: np.ndarray,
    readers: Readers,
    own: np.ndarray,
    trust_to_owner: np.ndarray,
    noise: float,
    distance_noise: float,
    strain_noise: float,
    draws: np.ndarray,
) -> np.ndarray:
    """Each reader's noisy reading of a proposal's effect on its interest.

    Args:
        delta_shared: ``(M, N)`` change of each decision's shared contribution under the proposal.
        delta_mandate: ``(M, N)`` change of each decision's mandate contribution.
        readers: The readers, one row per pair.
        own: ``(M, N)`` decisions owned by the reader's organisation.
        trust_to_owner: ``(M, N)`` the reader's organisation's trust in each decision's owner
            (1 for its own decisions).
        noise: Judgement noise at skill 0 (``workforce.noise``).
        distance_noise: ``leadership.distance_noise``.
        strain_noise: ``workforce.strain_noise`` (0 when role socialisation is off).
        draws: ``(M,)`` standard normal draws.

    Returns:
        ``(M,)`` readings; positive means the reader sees a gain for its interest.
    """
    exact = (true_views(delta_shared, delta_mandate, readers, own) * readers.weights).sum(axis=1)
    sd = noise * (1.0 - readers.skill) * (1.0 + strain_noise * readers.strain)
    sd = sd * distance(delta_shared, delta_mandate, readers, trust_to_owner, distance_noise)
    return exact + draws * sd


def goal_weights(goal: np.ndarray) -> np.ndarray:
    """``(M, 3)`` view weights of an organisation's representative.

    Its goal orientation ``g`` on the mandate and ``1 - g`` on the shared view (no professional
    domain of its own).
    """
    return np.column_stack([np.zeros_like(goal), goal, 1.0 - goal])
