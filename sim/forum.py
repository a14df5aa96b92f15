"""Cross-organisation forums: deliberation, not an oracle (MODEL.md step 5; Ansell & Gash 2008).

**Who meets.** Each leader convenes a forum this step with probability equal to its
``convening``. If any does, every other organisation attends with probability
``convening + (1 - convening) * trust * max(0, 1 - need)``: its own inclination to
convene, or else its trust in the convenors times the time its work leaves free.
With at least two organisations present, the forum meets; each sends
``forum_delegates`` of its active professionals, who spend ``forum_time`` there.

**What it knows.** Proposals that their organisations' decision rule refers to the
forum form the agenda, in an order weighted by the proposing organisation's power
(Choi & Robertson 2014), at most ``forum_capacity`` per meeting; the rest are not
discussed. A proposal is judged only on what is voiced in the meeting (hidden
profiles; Stasser & Titus 1985): the proposer's own knowledge, plus every affected
decision that an attendee who understands it mentions, each with probability
``forum_mention`` times that attendee's trust in the organisations present.

**How it decides.** Each delegate reads the voiced effects against its own
organisation's goal (its mandate on its own decisions, and the shared value), with
its own judgement noise, pulled towards the proposer's judgement by
``forum_anchoring`` (early convergence). An organisation votes for a proposal when
its delegates' mean reading is positive; the forum adopts by ``forum_rule``: a
power-weighted majority, a majority, a two-thirds supermajority or consensus.
Owners that voted for a change have consented to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.params import LeadershipParams


@dataclass
class Meeting:
    """One step's forum.

    Attributes:
        held: Whether a forum met this step.
        convenors: ``(O,)`` organisations whose leader convened.
        attending: ``(O,)`` organisations present.
        delegates: ``(D,)`` professionals present.
        delegate_org: ``(D,)`` their organisations.
        voiced: ``(N,)`` decisions voiced in the meeting (filled by :func:`deliberate`).
        discussed: Proposals discussed.
        adopted: Proposals adopted.
    """

    held: bool
    convenors: np.ndarray
    attending: np.ndarray
    delegates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    delegate_org: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    voiced: np.ndarray | None = None
    discussed: int = 0
    adopted: int = 0

    @classmethod
    def none(cls, n_orgs: int) -> Meeting:
        """No forum this step."""
        z = np.zeros(n_orgs, dtype=bool)
        return cls(held=False, convenors=z, attending=z.copy())


def convene(
    convening: np.ndarray,
    trust: np.ndarray,
    need: np.ndarray,
    members: list[np.ndarray],
    lp: LeadershipParams,
    rng: np.random.Generator,
) -> Meeting:
    """Decide whether a forum meets, who attends and who is delegated.

    Args:
        convening: ``(O,)`` leaders' convening behaviour.
        trust: ``(O, O)`` trust between organisations.
        need: ``(O,)`` share of an active member's time its organisation's work needs.
        members: Active professionals of each organisation.
        lp: Leadership parameters (delegates per organisation).
        rng: The forum's generator (a fixed number of draws per step).
    """
    n_orgs = len(convening)
    draws = rng.random((2, n_orgs))
    convenors = draws[0] < convening
    if not convenors.any():
        return Meeting.none(n_orgs)
    others = convenors[None, :] & ~np.eye(n_orgs, dtype=bool)
    trust_in_convenors = np.where(others.any(axis=1),
                                  (trust * others).sum(axis=1) / np.maximum(others.sum(axis=1), 1), 1.0)
    p = convening + (1.0 - convening) * trust_in_convenors * np.clip(1.0 - need, 0.0, 1.0)
    attending = (convenors | (draws[1] < p)) & np.array([len(m) > 0 for m in members])
    if attending.sum() < 2:
        return Meeting(held=False, convenors=convenors, attending=np.zeros(n_orgs, dtype=bool))
    delegates, delegate_org = [], []
    for o in np.flatnonzero(attending):
        pick = members[o][np.argsort(rng.random(len(members[o])))[: lp.forum_delegates]]
        delegates.append(pick)
        delegate_org.append(np.full(len(pick), o))
    return Meeting(held=True, convenors=convenors, attending=attending, delegates=np.concatenate(delegates),
                   delegate_org=np.concatenate(delegate_org))


def agenda(org: np.ndarray, power: np.ndarray, capacity: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of the proposals discussed, in power-weighted random order (at most ``capacity``)."""
    keys = rng.random(len(org)) ** (1.0 / power[org])
    return np.argsort(-keys, kind="stable")[:capacity]


def deliberate(
    meeting: Meeting,
    who: np.ndarray,
    org: np.ndarray,
    contrib: np.ndarray,
    mandate: np.ndarray,
    judged: np.ndarray,
    base_contrib: np.ndarray,
    base_mandate: np.ndarray,
    understood: np.ndarray,
    skill: np.ndarray,
    trust: np.ndarray,
    goal: np.ndarray,
    power: np.ndarray,
    org_masks: np.ndarray,
    noise: float,
    lp: LeadershipParams,
    information: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Discuss and decide the proposals referred to the forum.

    Args:
        meeting: The forum of this step (``held`` must be True).
        who, org, contrib, mandate, judged: The referred proposals' proposers, their
            organisations, shared and mandate contributions under each, and the
            proposers' own judgements.
        base_contrib, base_mandate: Contributions under the current configuration.
        understood: ``(P, N)`` what each professional understands.
        skill: ``(P,)`` judgement skill.
        trust: ``(O, O)`` trust between organisations.
        goal: ``(O,)`` goal orientations (weight on the own mandate).
        power: ``(O,)`` relative power.
        org_masks: ``(O, N)`` decisions owned by each organisation.
        noise: Judgement noise at skill 0.
        lp: Leadership parameters (capacity, mention, rule, anchoring).
        information: Pool what attendees voice (off: the proposer's reading only).
        rng: The forum's generator.

    Returns:
        ``(adopted, discussed, agreed)``: ``(A,)``, ``(A,)`` and ``(A, O)`` bool, the last
        the organisations that voted for each proposal.
    """
    a, n_orgs = len(who), len(goal)
    adopted = np.zeros(a, dtype=bool)
    discussed = np.zeros(a, dtype=bool)
    agreed = np.zeros((a, n_orgs), dtype=bool)
    n = understood.shape[1]
    meeting.voiced = np.zeros(n, dtype=bool)
    if a == 0:
        return adopted, discussed, agreed
    rows = agenda(org, power, lp.forum_capacity, rng)
    discussed[rows] = True
    d_s = contrib[rows] - base_contrib[None, :]
    d_m = mandate[rows] - base_mandate[None, :]
    relevant = (d_s != 0) | (d_m != 0)
    voiced = understood[who[rows]].copy()
    dele, dele_org = meeting.delegates, meeting.delegate_org
    mention = rng.random((len(rows), len(dele), n))
    if information:
        present = meeting.attending
        others = present[None, :] & ~np.eye(n_orgs, dtype=bool)
        t_org = (trust * others).sum(axis=1) / np.maximum(others.sum(axis=1), 1)
        q = lp.forum_mention * t_org[dele_org]
        voiced |= (understood[dele][None, :, :] & (mention < q[None, :, None])).any(axis=1)
    voiced &= relevant
    meeting.voiced = voiced.any(axis=0)
    shared_seen = (d_s * voiced).sum(axis=1) / n
    own = org_masks[dele_org]  # (D, N)
    mandate_seen = (d_m * voiced) @ own.T / own.sum(axis=1)[None, :]  # (C, D)
    g = goal[dele_org][None, :]
    reading = g * mandate_seen + (1.0 - g) * shared_seen[:, None]
    reading = reading + rng.normal(0.0, 1.0, reading.shape) * (noise * (1.0 - skill[dele]))[None, :]
    reading = (1.0 - lp.forum_anchoring) * reading + lp.forum_anchoring * judged[rows][:, None]
    votes = np.zeros((len(rows), n_orgs))
    np.add.at(votes.T, dele_org, reading.T)
    counts = np.bincount(dele_org, minlength=n_orgs)
    present = counts > 0
    yes = (votes > 0) & present[None, :]
    n_present = present.sum()
    if lp.forum_rule == "power":
        decided = (yes * power[None, :]).sum(axis=1) > 0.5 * power[present].sum()
    elif lp.forum_rule == "majority":
        decided = yes.sum(axis=1) > 0.5 * n_present
    elif lp.forum_rule == "supermajority":
        decided = yes.sum(axis=1) >= (2.0 / 3.0) * n_present - 1e-12
    else:  # consensus
        decided = yes.sum(axis=1) == n_present
    adopted[rows] = decided
    agreed[rows] = yes
    meeting.discussed += len(rows)
    meeting.adopted += int(decided.sum())
    return adopted, discussed, agreed
