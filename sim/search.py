"""Search: professionals propose changes to the decisions they understand (docs/ODD.md, schedule step 3).

Each professional carries a search heuristic in the sense of Hong & Page (2004):
an ordered tuple of ``k`` step sizes from ``1..l`` plus a search radius. Its
pointer walks the ring of all ``N`` decisions: at each attempt it moves by the
next step size and proposes to flip the first decision it understands at or
after that position; for a radius above one it moves on by the following step
sizes and flips again. So every step size it carries changes where it searches
(sizes collapse only modulo ``N``), and what it understands bounds what it can
change.

A proposal is judged by the professional's effective role through the one information
model (:mod:`sim.information`): an expert by the contributions of its own domain, a
competitor by its own organisation's mandate, a partner by the collective outcome as far
as it can see (the decisions it understands), all with noise that grows with distance and
role strain and falls with skill. All proposals of a step are built and scored in one
numpy batch; each professional's noise is one draw of a fixed-size vector, so
common random numbers stay aligned between conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.information import masked_mean
from sim.landscape import NKLandscape


@dataclass
class Proposals:
    """The proposals of one step, one row each.

    Attributes:
        who: Proposing professional of each proposal, ``(A,)``.
        org: Organisation the proposer works in this step, ``(A,)``.
        flips: ``(A, N)`` bool mask of decisions the proposal changes.
        gain_domain: True gain over the proposer's domain, ``(A,)``.
        gain_own_org: True gain in the shared contributions of its organisation's decisions.
        gain_mandate: True gain in its organisation's mandate performance, ``(A,)``.
        gain_understood: True gain over the decisions it understands, ``(A,)``.
        gain_collective: True gain in public value (for bookkeeping, not judgement).
        contrib: ``(A, N)`` shared contributions under each proposal.
        mandate: ``(A, N)`` mandate contributions under each proposal.
        judged: The proposer's noisy, role-weighted judgement, ``(A,)``.
    """

    who: np.ndarray
    org: np.ndarray
    flips: np.ndarray
    gain_domain: np.ndarray
    gain_own_org: np.ndarray
    gain_mandate: np.ndarray
    gain_understood: np.ndarray
    gain_collective: np.ndarray
    contrib: np.ndarray
    mandate: np.ndarray
    judged: np.ndarray

    def __len__(self) -> int:
        return len(self.who)

    def subset(self, rows: np.ndarray) -> Proposals:
        """The proposals at ``rows``."""
        return Proposals(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))

    def assign(self, rows: np.ndarray, other: Proposals) -> None:
        """Replace the proposals at ``rows`` by ``other``'s, in place (judgements are kept)."""
        for f in self.__dataclass_fields__:
            if f != "judged":
                getattr(self, f)[rows] = getattr(other, f)

    @classmethod
    def concat(cls, parts: list[Proposals]) -> Proposals:
        """The proposals of ``parts``, one after the other."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))

    @classmethod
    def empty(cls, n: int) -> Proposals:
        """No proposals, for ``n`` decisions."""
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, n), dtype=bool),
                   z, z, z, z, z, np.zeros((0, n)), np.zeros((0, n)), z)


def next_understood(understood: np.ndarray) -> np.ndarray:
    """For each professional and ring position, the first understood decision at or after it.

    Args:
        understood: ``(P, N)`` mask; every row has at least one True.

    Returns:
        ``(P, N)`` decision indices.
    """
    p, n = understood.shape
    pos = np.where(np.tile(understood, 2), np.arange(2 * n)[None, :], 4 * n)
    suffix_min = np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1]
    return (suffix_min[:, :n] % n).astype(np.int64)


def make_flips(
    who: np.ndarray,
    nxt: np.ndarray,
    pointer: np.ndarray,
    steps: np.ndarray,
    radius: np.ndarray,
    attempt: np.ndarray,
    n: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply each proposer's heuristic once.

    Args:
        who: Proposing professionals, ``(A,)``.
        nxt: ``(P, N)`` from :func:`next_understood`.
        pointer: Current ring position of every professional.
        steps: ``(P, k)`` step sizes.
        radius: ``(P,)`` decisions flipped per proposal.
        attempt: ``(P,)`` attempt counter, selecting the step size to use.
        n: Number of decisions.

    Returns:
        ``(flips, new_pointer)``: ``(A, N)`` bool masks and the proposers' new positions
        (the first decision each flipped).
    """
    a = len(who)
    k = steps.shape[1]
    pos = pointer[who].copy()
    flips = np.zeros((a, n), dtype=bool)
    rows = np.arange(a)
    r_max = int(radius[who].max()) if a else 0
    first = pos
    for r in range(r_max):
        step = steps[who, (attempt[who] + r) % k]
        pos = nxt[who, (pos + step) % n]
        if r == 0:
            first = pos.copy()
        use = radius[who] > r
        flips[rows[use], pos[use]] = True
    return flips, first


def score_proposals(
    landscape: NKLandscape,
    config: np.ndarray,
    base_contrib: np.ndarray,
    base_mandate: np.ndarray,
    who: np.ndarray,
    org: np.ndarray,
    flips: np.ndarray,
    domain: np.ndarray,
    understood: np.ndarray,
    org_masks: np.ndarray,
) -> Proposals:
    """Score a batch of proposals: what each would do to every contribution (for bookkeeping).

    The proposers' judgements are left at zero: the model forms them through the one
    information model (:func:`sim.information.read`), as it does every other reading.

    Args:
        landscape: The problem.
        config: Current configuration, ``(N,)``.
        base_contrib, base_mandate: Shared and mandate contributions under ``config``.
        who, org: Proposer and its organisation for each proposal.
        flips: ``(A, N)`` decisions each proposal changes.
        domain, understood: ``(P, N)`` masks of all professionals.
        org_masks: ``(O, N)`` decisions owned by each organisation.

    Returns:
        The scored proposals.
    """
    candidate = config[None, :] ^ flips.astype(np.uint8)
    contrib, mandate = landscape.both_contributions(candidate)
    delta = contrib - base_contrib[None, :]
    own = org_masks[org]
    g_org = masked_mean(delta, own)
    g_man = g_org if mandate is contrib else masked_mean(mandate - base_mandate[None, :], own)
    return Proposals(who=who, org=org, flips=flips, gain_domain=masked_mean(delta, domain[who]), gain_own_org=g_org,
                     gain_mandate=g_man, gain_understood=masked_mean(delta, understood[who]),
                     gain_collective=delta.mean(axis=1), contrib=contrib, mandate=mandate, judged=np.zeros(len(who)))
