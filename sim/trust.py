"""Trust between organisations: consent, harm, reciprocity, forums (MODEL.md steps 5-6).

``trust[a, b]`` is organisation ``a``'s trust in organisation ``b``, in [0, 1].
A change to a decision owned by another organisation needs its consent, given
with probability ``trust[owner, proposer_org]`` (``sqrt`` of it when both meet in
a forum, so consent comes more readily there). After the step, each
organisation's changes are reverted one at a time to measure their effect on
every other organisation's performance: harm lowers the harmed organisation's
trust in the changer; a shared change that helped raises it (reciprocity); harm is
slowly forgotten (trust drifts back to its initial level at rate ``forgiveness``).
Meeting in a forum raises trust between all organisations present. Trust on
ties between professionals drifts towards the trust between their organisations.
"""

from __future__ import annotations

import numpy as np

from sim.landscape import NKLandscape


def consent(
    flips: np.ndarray,
    proposer_org: np.ndarray,
    owner: np.ndarray,
    trust: np.ndarray,
    in_forum: np.ndarray,
    forum_orgs: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Whether every other owner touched by each proposal consents.

    Args:
        flips: ``(A, N)`` decisions each proposal changes.
        proposer_org: ``(A,)`` organisation of each proposer.
        owner: ``(N,)`` owner of each decision.
        trust: ``(O, O)`` trust matrix.
        in_forum: ``(A,)`` whether the proposal was adopted by a forum.
        forum_orgs: ``(O,)`` whether each organisation sat in the forum.
        rng: Generator of the run.

    Returns:
        ``(A,)`` bool: the proposal may be enacted.
    """
    n_orgs = trust.shape[0]
    touched = np.zeros((len(flips), n_orgs), dtype=bool)
    rows, cols = np.nonzero(flips)
    touched[rows, owner[cols]] = True
    touched[np.arange(len(flips)), proposer_org] = False
    p = trust[:, proposer_org].T.copy()
    forum_pair = in_forum[:, None] & forum_orgs[None, :]
    p = np.where(forum_pair, np.sqrt(p), p)
    agree = rng.random(p.shape) < p
    return ~(touched & ~agree).any(axis=1)


def org_effects(
    landscape: NKLandscape, new_config: np.ndarray, changes_by_org: np.ndarray, n_orgs: int
) -> np.ndarray:
    """Effect of each organisation's enacted changes on each organisation's performance.

    Args:
        landscape: The problem.
        new_config: Configuration after the step, ``(N,)``.
        changes_by_org: ``(O, N)`` bool: decisions changed by each organisation's proposals.
        n_orgs: Number of organisations.

    Returns:
        ``(O, O)`` array ``E`` with ``E[a, b]`` the change in ``a``'s performance due to ``b``.
    """
    active = np.flatnonzero(changes_by_org.any(axis=1))
    effects = np.zeros((n_orgs, n_orgs))
    if len(active) == 0:
        return effects
    reverted = new_config[None, :] ^ changes_by_org[active].astype(np.uint8)
    configs = np.vstack([new_config[None, :], reverted])
    perf = landscape.owner_performance(configs, n_orgs)
    effects[:, active] = (perf[0][None, :] - perf[1:]).T
    return effects


def update_trust(
    trust: np.ndarray,
    effects: np.ndarray,
    shared_by_org: np.ndarray,
    forum_orgs: np.ndarray,
    harm_loss: float,
    help_gain: float,
    forum_gain: float,
    forgiveness: float = 0.0,
    baseline: float = 0.5,
) -> np.ndarray:
    """New trust matrix after a step's effects.

    Args:
        trust: ``(O, O)`` current trust.
        effects: ``(O, O)`` from :func:`org_effects`.
        shared_by_org: ``(O, O)`` bool: ``[a, b]`` when ``b`` changed decisions owned by
            ``a`` or adopted them in a forum with ``a`` (a shared change).
        forum_orgs: ``(O,)`` organisations in this step's forum.
        harm_loss, help_gain, forum_gain, forgiveness: Rates from :class:`sim.params.TrustParams`.
        baseline: Trust level that forgiveness drifts back to.

    Returns:
        The updated ``(O, O)`` trust, clipped to [0, 1], diagonal unchanged.
    """
    harm = np.minimum(effects, 0.0)
    help_ = np.where(shared_by_org, np.maximum(effects, 0.0), 0.0)
    new = trust + forgiveness * (baseline - trust) + harm_loss * harm + help_gain * help_
    meet = forum_orgs[:, None] & forum_orgs[None, :]
    new = new + forum_gain * meet * (1.0 - new)
    np.fill_diagonal(new, np.diag(trust))
    return np.clip(new, 0.0, 1.0)


def update_tie_trust(
    tie_trust: np.ndarray, edges: np.ndarray, org_of: np.ndarray, trust: np.ndarray, safety: np.ndarray,
    rate: float,
) -> np.ndarray:
    """Move trust on ties towards the trust between the two organisations.

    Within an organisation the target is its psychological safety.

    Args:
        tie_trust: ``(E,)`` trust on ties.
        edges: ``(E, 2)`` tie endpoints.
        org_of: ``(P,)`` organisation of each professional.
        trust: ``(O, O)`` trust between organisations.
        safety: ``(O,)`` psychological safety of each organisation.
        rate: Adjustment rate in [0, 1].

    Returns:
        ``(E,)`` new tie trust in [0, 1].
    """
    a, b = org_of[edges[:, 0]], org_of[edges[:, 1]]
    target = np.where(a == b, safety[a], 0.5 * (trust[a, b] + trust[b, a]))
    return np.clip(tie_trust + rate * (target - tie_trust), 0.0, 1.0)
