"""Trust between organisations: consent, help and harm, forums (docs/ODD.md, schedule steps 5-6).

``trust[a, b]`` is organisation ``a``'s trust in organisation ``b``, in [0, 1].

**Consent.** A change to a decision owned by another organisation needs its
consent. An owner that voted for the change in a forum has given it. Otherwise the
proposer's leader brokers it with probability ``brokering`` and the owner consents
with probability ``trust[owner, proposer's organisation]``; unbrokered, the proposer
must ask through its own ties, and the owner consents with probability equal to the
highest trust on the proposer's ties into that organisation (0 without one). There
is no style-specific shortcut: a forum helps only by the votes cast in it.

**Help and harm, symmetrically.** After the step each organisation's enacted
changes are reverted one at a time to measure their effect on every other
organisation's goal (its goal orientation times its mandate performance plus the
rest times the shared contributions of its own decisions). An organisation
perceives the effect of another's changes only when they touch a decision its own
decisions depend on, and then with attribution noise; trust moves by ``help_gain``
per unit of perceived help and ``harm_loss`` per unit of perceived harm, and drifts
back to its initial level at rate ``forgiveness``.

**Forums.** Organisations that met in a forum whose enacted decisions served an
attendee's goal (a small win, as it perceives it) move their mutual trust up by
``forum_gain`` of the distance to 1; decisions that hurt it move it down by
``forum_gain`` of its level (Ansell & Gash 2008).

Trust on ties between professionals drifts towards the trust between their
organisations, or, within one organisation, towards the two professionals' mean
psychological safety.
"""

from __future__ import annotations

import numpy as np

from sim.network import Network


def touched_owners(flips: np.ndarray, proposer_org: np.ndarray, owner: np.ndarray, n_orgs: int) -> np.ndarray:
    """``(A, O)``: other organisations whose decisions each proposal changes."""
    touched = np.zeros((len(flips), n_orgs), dtype=bool)
    rows, cols = np.nonzero(flips)
    touched[rows, owner[cols]] = True
    touched[np.arange(len(flips)), proposer_org] = False
    return touched


def contact_trust(who: np.ndarray, network: Network, org_of: np.ndarray, n_orgs: int) -> np.ndarray:
    """``(A, O)``: highest trust on each professional's ties into each organisation (0 if none)."""
    out = np.zeros((len(who), n_orgs))
    for row, i in enumerate(who):
        lo, hi = network.indptr[i], network.indptr[i + 1]
        if hi > lo:
            np.maximum.at(out[row], org_of[network.neighbours[lo:hi]], network.trust[network.edge_of[lo:hi]])
    return out


def consent(
    touched: np.ndarray,
    proposer_org: np.ndarray,
    trust: np.ndarray,
    agreed: np.ndarray,
    brokered: np.ndarray,
    contact: np.ndarray | None,
    draws: np.ndarray,
) -> np.ndarray:
    """Whether every other owner touched by each proposal consents.

    Args:
        touched: ``(A, O)`` from :func:`touched_owners`.
        proposer_org: ``(A,)`` organisation of each proposer.
        trust: ``(O, O)`` trust matrix.
        agreed: ``(A, O)`` owners that already agreed (voted for it in a forum).
        brokered: ``(A,)`` the proposer's leader brokers consent.
        contact: ``(A, O)`` from :func:`contact_trust` (needed where not brokered).
        draws: ``(A, O)`` uniform draws.

    Returns:
        ``(A,)`` bool: the proposal may be enacted.
    """
    p = trust[:, proposer_org].T
    if contact is not None:
        p = np.where(brokered[:, None], p, contact)
    need = touched & ~agreed
    return ~(need & (draws >= p)).any(axis=1)


def goal_performance(shared: np.ndarray, mandate: np.ndarray, org_masks: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Each organisation's goal: ``goal * mandate + (1 - goal) * shared`` over its own decisions.

    Args:
        shared, mandate: ``(M, N)`` contributions of ``M`` configurations.
        org_masks: ``(O, N)`` decisions owned by each organisation.
        goal: ``(O,)`` goal orientations.

    Returns:
        ``(M, O)`` goal performance.
    """
    counts = org_masks.sum(axis=1)
    s = shared @ org_masks.T / counts
    m = s if mandate is shared else mandate @ org_masks.T / counts
    return goal * m + (1.0 - goal) * s


def effects(
    landscape, new_config: np.ndarray, groups: np.ndarray, org_masks: np.ndarray, goal: np.ndarray
) -> np.ndarray:
    """Effect of each group of changes on each organisation's goal.

    Args:
        landscape: The problem (an :class:`~sim.landscape.NKLandscape`).
        new_config: Configuration after the step, ``(N,)``.
        groups: ``(G, N)`` bool: decisions changed by each group (an organisation, a forum).
        org_masks: ``(O, N)`` decisions owned by each organisation.
        goal: ``(O,)`` goal orientations.

    Returns:
        ``(O, G)`` array ``E`` with ``E[a, g]`` the change in ``a``'s goal due to group ``g``.
    """
    configs = np.vstack([new_config[None, :], new_config[None, :] ^ groups.astype(np.uint8)])
    shared, mandate = landscape.both_contributions(configs)
    perf = goal_performance(shared, mandate, org_masks, goal)
    return (perf[0][None, :] - perf[1:]).T


def update_trust(
    trust: np.ndarray,
    perceived: np.ndarray,
    help_gain: float,
    harm_loss: float,
    forgiveness: float,
    baseline: float,
) -> np.ndarray:
    """New trust after a step's perceived effects (``perceived[a, b]``: b's effect on a).

    Returns:
        The updated ``(O, O)`` trust, clipped to [0, 1], diagonal unchanged.
    """
    new = trust + forgiveness * (baseline - trust) + help_gain * np.maximum(perceived, 0.0) \
        + harm_loss * np.minimum(perceived, 0.0)
    np.fill_diagonal(new, np.diag(trust))
    return np.clip(new, 0.0, 1.0)


def forum_trust(trust: np.ndarray, attended: np.ndarray, served: np.ndarray, rate: float) -> np.ndarray:
    """Trust among forum attendees after its decisions served (``+1``) or hurt (``-1``) each.

    Args:
        trust: ``(O, O)`` trust.
        attended: ``(O,)`` organisations that attended.
        served: ``(O,)`` sign of the perceived effect of the forum's decisions on each.
        rate: ``forum_gain``.
    """
    pair = attended[:, None] & attended[None, :]
    np.fill_diagonal(pair, False)
    up = pair & (served[:, None] > 0)
    down = pair & (served[:, None] < 0)
    new = np.where(up, trust + rate * (1.0 - trust), trust)
    return np.clip(np.where(down, new - rate * new, new), 0.0, 1.0)


def update_tie_trust(
    tie_trust: np.ndarray, edges: np.ndarray, org_of: np.ndarray, trust: np.ndarray, safety: np.ndarray,
    rate: float,
) -> np.ndarray:
    """Move trust on ties towards trust between the organisations (within one: mean safety).

    Args:
        tie_trust: ``(E,)`` trust on ties.
        edges: ``(E, 2)`` tie endpoints.
        org_of: ``(P,)`` organisation of each professional.
        trust: ``(O, O)`` trust between organisations.
        safety: ``(P,)`` psychological safety of each professional.
        rate: Adjustment rate in [0, 1].

    Returns:
        ``(E,)`` new tie trust in [0, 1].
    """
    i, j = edges[:, 0], edges[:, 1]
    a, b = org_of[i], org_of[j]
    target = np.where(a == b, 0.5 * (safety[i] + safety[j]), 0.5 * (trust[a, b] + trust[b, a]))
    return np.clip(tie_trust + rate * (target - tie_trust), 0.0, 1.0)
