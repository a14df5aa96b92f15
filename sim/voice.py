"""Voice: whether a professional raises a proposal it has made (MODEL.md step 4).

The chance of raising rises with psychological safety (set by the leader's
climate) and energy, and is lower for professionals of a minority background:
with safety ``s``, a professional of background voice ``v`` (``majority_voice``
or ``minority_voice``) raises with probability ``(s + (1 - s) * v) * min(1, 2 * energy)``.
Full safety gives every background the same voice.
"""

from __future__ import annotations

import numpy as np


def raise_probability(
    safety: np.ndarray, minority: np.ndarray, energy: np.ndarray, majority_voice: float, minority_voice: float
) -> np.ndarray:
    """Chance each proposer raises its proposal.

    Args:
        safety: Psychological safety of each proposer's organisation, ``(A,)``.
        minority: Whether each proposer has a minority background, ``(A,)``.
        energy: Each proposer's energy in [0, 1], ``(A,)``.
        majority_voice: Voice of the majority when safety is zero.
        minority_voice: Voice of the minority when safety is zero.

    Returns:
        ``(A,)`` probabilities in [0, 1].
    """
    base = np.where(minority, minority_voice, majority_voice)
    return (safety + (1.0 - safety) * base) * np.minimum(1.0, 2.0 * energy)


def raise_voice(
    safety: np.ndarray, minority: np.ndarray, energy: np.ndarray, majority_voice: float, minority_voice: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw which proposals are raised; see :func:`raise_probability`."""
    p = raise_probability(safety, minority, energy, majority_voice, minority_voice)
    return rng.random(len(p)) < p
