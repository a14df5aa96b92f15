"""Role expectations and role orientations (van Gestel; docs/ODD.md).

Three roles: *expert* (Traditional Public Administration), *market competitor*
(New Public Management) and *network partner* (New Public Governance). An
organisation's governance paradigm mix ``(tpa, npm, npg)`` is the role
expectation it places on its staff, in the same order as the roles. A
professional's own orientation may differ; its effective role blends the two,
and the distance between them is role strain.
"""

from __future__ import annotations

import numpy as np

EXPERT, COMPETITOR, PARTNER = 0, 1, 2
ROLE_LABELS = ("expert", "competitor", "partner")


def effective_roles(orientation: np.ndarray, expectation: np.ndarray, conformity: float) -> np.ndarray:
    """Blend own orientation with the organisation's expectation.

    Args:
        orientation: ``(P, 3)`` own role weights.
        expectation: ``(P, 3)`` role weights expected by each professional's organisation.
        conformity: Weight of the expectation in [0, 1].

    Returns:
        ``(P, 3)`` effective role weights (rows sum to 1).
    """
    return (1.0 - conformity) * orientation + conformity * expectation


def felt_expectation(paradigm: np.ndarray, incentive: np.ndarray) -> np.ndarray:
    """Role expected of staff: the organisation's paradigm, pulled by contingent reward.

    Rewards on the organisation's own measured performance (Bass 1985) pull the
    expected role towards the market-competitor role in proportion to ``incentive``.

    Args:
        paradigm: ``(P, 3)`` role weights expected by each professional's organisation.
        incentive: ``(P,)`` incentive on own performance of each professional's leader.

    Returns:
        ``(P, 3)`` felt role expectation (rows sum to 1).
    """
    target = np.zeros_like(paradigm)
    target[:, COMPETITOR] = 1.0
    return (1.0 - incentive[:, None]) * paradigm + incentive[:, None] * target


def led_expectation(felt: np.ndarray, direction: np.ndarray, targets: np.ndarray, partnering: np.ndarray,
                    pull: float) -> np.ndarray:
    """Role expected of staff, pulled further by what their leader does (van Gestel; assumption).

    Direction (little autonomy) calls for the expert who follows the rules, targets and
    incentives for the market competitor, convening and brokering for the network partner.
    Each of the three signals, in [0, 1], moves ``pull`` times itself of the expectation to its
    role (together at most all of it), so a leader who does none of these leaves the
    expectation as it was.

    Args:
        felt: ``(O, 3)`` expectation from the paradigm mix (and incentives).
        direction, targets, partnering: ``(O,)`` the three signals.
        pull: ``leadership.role_pull`` in [0, 1].

    Returns:
        ``(O, 3)`` expectation (rows sum to 1).
    """
    signal = np.column_stack([direction, targets, partnering]) * pull
    signal = signal / np.maximum(signal.sum(axis=1, keepdims=True), 1.0)
    return (1.0 - signal.sum(axis=1, keepdims=True)) * felt + signal


def role_strain(orientation: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """Total-variation distance between orientation and expectation, in [0, 1]."""
    return 0.5 * np.abs(orientation - expectation).sum(axis=1)


def dominant_role(weights: np.ndarray) -> np.ndarray:
    """Index of the largest role weight of each professional."""
    return np.argmax(weights, axis=1)


def sharing_probability(
    giver_roles: np.ndarray, same_profession: np.ndarray, same_org: np.ndarray
) -> np.ndarray:
    """Chance that a professional shares what it knows with a tie.

    An expert shares within its profession, a competitor only inside its own
    organisation (it guards information from rival organisations), a partner with
    anyone. The chance is the role-weighted mix of these rules.

    Args:
        giver_roles: ``(M, 3)`` effective roles of the givers.
        same_profession: ``(M,)`` whether giver and receiver share a profession.
        same_org: ``(M,)`` whether they work in the same organisation.

    Returns:
        ``(M,)`` probabilities in [0, 1].
    """
    return (
        giver_roles[:, EXPERT] * same_profession
        + giver_roles[:, COMPETITOR] * same_org
        + giver_roles[:, PARTNER]
    )
