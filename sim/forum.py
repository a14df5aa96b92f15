"""Cross-organisation forums: slow, costly deliberation, not an oracle (Ansell & Gash 2008).

**The queue.** Proposals that their organisation's decision rule refers to the network wait
in one queue; a proposal lapses unanswered after ``forum_patience`` steps. Under
``participant`` or ``nao`` governance the queue is worked through in forum meetings; under
``lead_organisation`` governance the lead's leader works through it every step (see
:mod:`sim.leadership`).

**When and who meets.** A forum can meet only on forum dates, every ``forum_interval`` steps
(collaborative inertia; Huxham & Vangen 2005). On a date, under ``participant`` governance
each leader convenes with probability equal to its ``convening``; under ``nao`` the network
administrative organisation convenes on every date; under ``lead_organisation`` only the
lead's leader convenes (a meeting for ties, learning and small wins: the lead decides).
Every other organisation attends with probability
``convening + (1 - convening) * trust * interest * max(0, 1 - need)``: its own inclination, or
else its trust in the convenors (in its partners, when the NAO convenes), times its interest
(the share of the queue that touches decisions its own depend on), times the time its work
leaves free. With at least two organisations present, the forum meets; each sends
``forum_delegates`` of its active professionals, who spend ``forum_time`` there plus
``forum_party_time`` per party beyond two.

**What it gets through.** A meeting of ``p`` parties whose mean trust in each other is ``t``
discusses at most ``forum_capacity / (1 + forum_party_delay (p - 2)(1 - t))`` items (rounded
at random): time to decision grows with the number of parties and falls with trust. Items of
attending organisations form the agenda, in an order weighted by the proposing organisation's
power (Choi & Robertson 2014); under ``nao`` governance the NAO's attention also bounds it.

**What it knows and how it decides.** A proposal is discussed on what is voiced (hidden
profiles; Stasser & Titus 1985): the proposer explains what it understands, and every
attendee voices each affected decision it understands with probability ``forum_mention``
times its trust in the organisations present. Each delegate reads the proposal through the
one information model (:func:`sim.information.read`) over what it understands plus what was
voiced, for its organisation's goal, pulled towards the proposer's judgement by
``forum_anchoring`` (early convergence). An organisation votes for a proposal when its
delegates' mean reading is positive (pooled noisy readings, not an exact value); the forum
adopts by ``forum_rule``: a power-weighted majority, a majority, a two-thirds supermajority or
consensus, which can block. Owners that voted for a change have consented to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.information import Readers, goal_weights
from sim.params import LeadershipParams
from sim.search import Proposals


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
        capacity: Items the meeting could get through (parties and trust).
        waited: Total steps the discussed proposals had waited in the queue.
    """

    held: bool
    convenors: np.ndarray
    attending: np.ndarray
    delegates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    delegate_org: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    voiced: np.ndarray | None = None
    discussed: int = 0
    adopted: int = 0
    capacity: int = 0
    waited: int = 0

    @classmethod
    def none(cls, n_orgs: int) -> Meeting:
        """No forum this step."""
        z = np.zeros(n_orgs, dtype=bool)
        return cls(held=False, convenors=z, attending=z.copy())


@dataclass
class Queue:
    """Proposals referred to the network and not yet decided.

    Attributes:
        who, org, flips, judged: The proposals' proposers, organisations, changes and the
            proposers' own judgements when they made them.
        since: ``(Q,)`` step at which each was referred.
    """

    who: np.ndarray
    org: np.ndarray
    flips: np.ndarray
    judged: np.ndarray
    since: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Queue:
        """An empty queue for ``n`` decisions."""
        i = np.zeros(0, dtype=np.int64)
        return cls(i, i.copy(), np.zeros((0, n), dtype=bool), np.zeros(0), i.copy())

    def __len__(self) -> int:
        return len(self.who)

    def add(self, props: Proposals, step: int) -> None:
        """Append ``props``, referred at ``step``."""
        self.who = np.concatenate([self.who, props.who])
        self.org = np.concatenate([self.org, props.org])
        self.flips = np.concatenate([self.flips, props.flips])
        self.judged = np.concatenate([self.judged, props.judged])
        self.since = np.concatenate([self.since, np.full(len(props), step, dtype=np.int64)])

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the items where ``mask`` is True."""
        self.who, self.org, self.flips = self.who[mask], self.org[mask], self.flips[mask]
        self.judged, self.since = self.judged[mask], self.since[mask]


def party_capacity(capacity: int, parties: int, trust: float, delay: float, draw: float) -> int:
    """Items a meeting of ``parties`` with mean mutual ``trust`` gets through (random rounding)."""
    expected = capacity / (1.0 + delay * max(parties - 2, 0) * (1.0 - trust))
    return int(np.floor(expected + draw))


def convene(
    convening: np.ndarray,
    trust: np.ndarray,
    need: np.ndarray,
    interest: np.ndarray,
    members: list[np.ndarray],
    lp: LeadershipParams,
    rng: np.random.Generator,
    convened_by_network: bool = False,
) -> Meeting:
    """Decide whether a forum meets on this forum date, who attends and who is delegated.

    Args:
        convening: ``(O,)`` leaders' convening behaviour (zero for those who may not convene).
        trust: ``(O, O)`` trust between organisations.
        need: ``(O,)`` share of an active member's time its organisation's work needs.
        interest: ``(O,)`` share of the queue that touches decisions each organisation depends on.
        members: Active professionals of each organisation.
        lp: Leadership parameters (delegates per organisation).
        rng: The forum's generator (a fixed number of draws per date).
        convened_by_network: A network administrative organisation convenes (no leader needs to).
    """
    n_orgs = len(convening)
    draws = rng.random((2, n_orgs))
    convenors = draws[0] < convening
    if not convenors.any() and not convened_by_network:
        return Meeting.none(n_orgs)
    others = ~np.eye(n_orgs, dtype=bool)
    if not convened_by_network:
        others &= convenors[None, :]
    trust_in_convenors = np.where(others.any(axis=1),
                                  (trust * others).sum(axis=1) / np.maximum(others.sum(axis=1), 1), 1.0)
    p = convening + (1.0 - convening) * trust_in_convenors * interest * np.clip(1.0 - need, 0.0, 1.0)
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
    return np.argsort(-keys, kind="stable")[: max(capacity, 0)]


Reader = Callable[[Proposals, Readers, np.ndarray], np.ndarray]
"""The model's reading function: ``read(proposals, readers, draws)`` (see :func:`sim.information.read`)."""


def deliberate(
    meeting: Meeting,
    items: Proposals,
    understood: np.ndarray,
    skill: np.ndarray,
    strain: np.ndarray,
    trust: np.ndarray,
    goal: np.ndarray,
    power: np.ndarray,
    affected: np.ndarray,
    capacity: int,
    lp: LeadershipParams,
    information: bool,
    read: Reader,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Discuss and decide queued proposals of attending organisations.

    Args:
        meeting: The forum of this step (``held`` must be True).
        items: The eligible queued proposals, scored against the current configuration.
        understood: ``(P, N)`` what each professional understands.
        skill, strain: ``(P,)`` judgement skill and role strain.
        trust: ``(O, O)`` trust between organisations.
        goal: ``(O,)`` goal orientations (weight on the own mandate).
        power: ``(O,)`` relative power.
        affected: ``(A, N)`` decisions whose contributions each proposal's changes touch (its changed
            decisions and those that depend on them: the problem's structure, not its values).
        capacity: Items this meeting can get through.
        lp: Leadership parameters (mention, rule, anchoring).
        information: Pool what attendees voice (off: the proposer's explanation only).
        read: The model's reading function.
        rng: The forum's generator.

    Returns:
        ``(adopted, discussed, agreed)``: ``(A,)``, ``(A,)`` and ``(A, O)`` bool, the last
        the organisations that voted for each proposal.
    """
    a, n_orgs = len(items), len(goal)
    adopted = np.zeros(a, dtype=bool)
    discussed = np.zeros(a, dtype=bool)
    agreed = np.zeros((a, n_orgs), dtype=bool)
    n = understood.shape[1]
    meeting.voiced = np.zeros(n, dtype=bool)
    if a == 0 or capacity <= 0:
        return adopted, discussed, agreed
    rows = agenda(items.org, power, capacity, rng)
    discussed[rows] = True
    part = items.subset(rows)
    dele, dele_org = meeting.delegates, meeting.delegate_org
    c, d = len(rows), len(dele)
    mention = rng.random((c, d, n))
    relevant = affected[rows]
    voiced = understood[part.who].copy()
    if information:
        present = meeting.attending
        others = present[None, :] & ~np.eye(n_orgs, dtype=bool)
        t_org = (trust * others).sum(axis=1) / np.maximum(others.sum(axis=1), 1)
        q = lp.forum_mention * t_org[dele_org]
        voiced |= (understood[dele][None, :, :] & (mention < q[None, :, None])).any(axis=1)
    voiced &= relevant  # what is said in the meeting is about what the proposal changes
    meeting.voiced = voiced.any(axis=0)
    pairs = np.repeat(np.arange(c), d)
    delegate = np.tile(dele, c)
    d_org = np.tile(dele_org, c)
    readers = Readers(org=d_org, seen=understood[delegate] | voiced[pairs], domain=np.zeros((c * d, n), dtype=bool),
                      weights=goal_weights(goal[d_org]), skill=skill[delegate], strain=strain[delegate])
    reading = read(part.subset(pairs), readers, rng.normal(0.0, 1.0, c * d)).reshape(c, d)
    reading = (1.0 - lp.forum_anchoring) * reading + lp.forum_anchoring * part.judged[:, None]
    votes = np.zeros((c, n_orgs))
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
    meeting.discussed += c
    meeting.adopted += int(decided.sum())
    return adopted, discussed, agreed
