"""Search: professionals propose changes to the decisions they understand.

Each professional carries a search heuristic in the sense of Hong & Page (2004):
an ordered tuple of ``k`` step sizes from ``1..l`` plus a search radius. It
walks over the decisions it understands (in decision order, cyclically): at
each attempt it moves its pointer by the next step size and proposes to flip
the decision there and, for a radius above one, the decisions further steps on.

A proposal is judged by the professional's effective role (MODEL.md step 3):
an expert by the contributions of its own domain, a competitor by its own
organisation's performance, a partner by the collective outcome as far as it
can see (the decisions it understands). Judgement is noisy: the noise sd is
``noise * (1 - skill)``. All proposals of a step are built and scored in one
numpy batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.landscape import NKLandscape
from sim.roles import COMPETITOR, EXPERT, PARTNER


@dataclass
class Proposals:
    """The proposals of one step, one row each.

    Attributes:
        who: Proposing professional of each proposal, ``(A,)``.
        org: Organisation the proposer works in this step, ``(A,)``.
        flips: ``(A, N)`` bool mask of decisions the proposal changes.
        gain_domain: True gain over the proposer's domain, ``(A,)``.
        gain_own_org: True gain in its organisation's performance, ``(A,)``.
        gain_understood: True gain over the decisions it understands, ``(A,)``.
        gain_collective: True gain in public value (for bookkeeping, not judgement).
        contrib: ``(A, N)`` contributions under each proposal.
        judged: The proposer's noisy, role-weighted judgement, ``(A,)``.
    """

    who: np.ndarray
    org: np.ndarray
    flips: np.ndarray
    gain_domain: np.ndarray
    gain_own_org: np.ndarray
    gain_understood: np.ndarray
    gain_collective: np.ndarray
    contrib: np.ndarray
    judged: np.ndarray

    def __len__(self) -> int:
        return len(self.who)

    def subset(self, rows: np.ndarray) -> Proposals:
        """The proposals at ``rows``."""
        return Proposals(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def ordered_known(understood: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Understood decisions of each professional, first in decision order.

    Returns:
        ``(known, n_known)``: ``(P, N)`` indices whose first ``n_known[p]`` entries are
        the decisions professional ``p`` understands, and their counts.
    """
    known = np.argsort(~understood, axis=1, kind="stable")
    return known, understood.sum(axis=1)


def make_flips(
    who: np.ndarray,
    known: np.ndarray,
    n_known: np.ndarray,
    pointer: np.ndarray,
    steps: np.ndarray,
    radius: np.ndarray,
    attempt: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply each proposer's heuristic once.

    Args:
        who: Proposing professionals, ``(A,)``.
        known, n_known: From :func:`ordered_known` for all professionals.
        pointer: Current position of every professional in its known list.
        steps: ``(P, k)`` step sizes.
        radius: ``(P,)`` decisions flipped per proposal.
        attempt: ``(P,)`` attempt counter, selecting the step size to use.
        n: Number of decisions.

    Returns:
        ``(flips, new_pointer)``: ``(A, N)`` bool masks and the proposers' pointers.
    """
    a = len(who)
    k = steps.shape[1]
    nk = np.maximum(n_known[who], 1)
    pos = pointer[who].copy()
    flips = np.zeros((a, n), dtype=bool)
    rows = np.arange(a)
    r_max = int(radius[who].max()) if a else 0
    first_pos = None
    for r in range(r_max):
        step = steps[who, (attempt[who] + r) % k]
        pos = (pos + step) % nk
        if first_pos is None:
            first_pos = pos.copy()
        use = radius[who] > r
        flips[rows[use], known[who[use], pos[use]]] = True
    if first_pos is None:
        first_pos = pos
    return flips, first_pos


def score_proposals(
    landscape: NKLandscape,
    config: np.ndarray,
    base_contrib: np.ndarray,
    who: np.ndarray,
    org: np.ndarray,
    flips: np.ndarray,
    domain: np.ndarray,
    understood: np.ndarray,
    org_masks: np.ndarray,
    roles: np.ndarray,
    skill: np.ndarray,
    noise: float,
    rng: np.random.Generator,
) -> Proposals:
    """Score a batch of proposals and form each proposer's judgement.

    Args:
        landscape: The problem.
        config: Current configuration, ``(N,)``.
        base_contrib: Contributions under ``config``, ``(N,)``.
        who, org: Proposer and its organisation for each proposal.
        flips: ``(A, N)`` decisions each proposal changes.
        domain, understood: ``(P, N)`` masks of all professionals.
        org_masks: ``(O, N)`` decisions owned by each organisation.
        roles: ``(P, 3)`` effective roles.
        skill: ``(P,)`` judgement skill.
        noise: Judgement noise at skill 0.
        rng: Generator of the run.

    Returns:
        The scored proposals.
    """
    candidate = config[None, :] ^ flips.astype(np.uint8)
    contrib = landscape.contributions(candidate)
    delta = contrib - base_contrib[None, :]

    def masked_mean(mask: np.ndarray) -> np.ndarray:
        return (delta * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)

    g_dom = masked_mean(domain[who])
    g_org = masked_mean(org_masks[org])
    g_und = masked_mean(understood[who])
    g_all = delta.mean(axis=1)
    w = roles[who]
    true_view = w[:, EXPERT] * g_dom + w[:, COMPETITOR] * g_org + w[:, PARTNER] * g_und
    judged = true_view + rng.normal(0.0, 1.0, len(who)) * noise * (1.0 - skill[who])
    return Proposals(who=who, org=org, flips=flips, gain_domain=g_dom, gain_own_org=g_org,
                     gain_understood=g_und, gain_collective=g_all, contrib=contrib, judged=judged)
