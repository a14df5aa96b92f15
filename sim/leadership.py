"""Leadership styles: what a formal leader does, as small strategy classes registered by name.

A style is a **behaviour profile** (:class:`sim.params.Behaviour`: autonomy, target
pressure, incentives, convening, responsiveness and openness to voice, support,
learning, brokering of consent; defaults in :data:`sim.params.DEFAULT_BEHAVIOURS`,
any value may be overridden) plus a **decision rule**, which lives in its class.
The behaviours act through the mechanisms (time, voice, forums, consent, energy,
learning) and each has a price (leader attention, staff time or production; see
:mod:`sim.params` ``attention_cost``). Every rule reads proposals through the one
information model (:mod:`sim.information`); the rules differ only in these declared ways:

- directive: the formal leader decides, on its own reading (its organisation's decisions plus
  the proposer's explanation), taking the best reading or a coordinated package read as one
  change, at once, at most ``leader_capacity`` per step; reading costs attention.
- transactional: the formal leader decides, on its indicators (its organisation's decisions
  only), adopting every positive reading, at once; reading costs attention.
- facilitative: the network decides (a forum, or a lead organisation), on the delegates'
  readings (what each understands plus what is voiced) aggregated as votes of the
  organisations' mean readings by ``forum_rule`` (or the lead's own reading), at the next
  forum date (or at once by the lead); forum capacity falls with parties and distrust,
  delegates spend time, referral costs attention.
- shared: the proposer decides in its own domain, an informal leader outside it, on one
  reading (what it understands plus the proposer's explanation), at once, at no cost of the
  formal leader's attention.
- laissez_faire: the proposer decides on its own judgement, at once, at no cost.
- situational: as the rule of the style it chooses.

- ``directive`` (hierarchy, TPA): the leader hears a proposal with probability
  ``responsiveness`` (less a status discount) and as far as its attention allows, reads it
  against its organisation's goal, adopts at most ``leader_capacity`` of the best it reads as
  gains, and can enact a coordinated pair of changes at once; it releases surge staff at once.
- ``transactional`` (NPM): heard proposals that its indicators (a reading over its own
  decisions only) show as gains are adopted.
- ``facilitative`` (network leadership; Ansell & Gash 2008): heard proposals are referred
  to the network's queue (:mod:`sim.forum`) and decided there later.
- ``shared`` / distributed: a proposal within the proposer's professional domain is
  decided by the proposer; one outside it is referred to the proposer's
  highest-standing tie who is an informal leader, who reads it over what it
  understands and what the proposer explains; without one it goes unanswered.
- ``situational``: diagnoses its organisation each step from several signals, with
  hysteresis, and acts as the style the diagnosis calls for, with that style's behaviour
  profile and rule ("positie kiezen").
- ``laissez_faire``: abdication, not empowerment (Skogstad et al. 2007): nobody
  answers; whoever made a proposal enacts it, unchecked.

A change to another organisation's decision also needs that organisation's consent
(:mod:`sim.trust`), whatever the style; under a lead organisation, the lead's leader decides
instead (``network.governance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.params import STYLES
from sim.search import Proposals

if TYPE_CHECKING:
    from sim.model import GovernanceModel

REGISTRY: dict[str, type[LeadershipStyle]] = {}


def register(cls: type[LeadershipStyle]) -> type[LeadershipStyle]:
    """Class decorator adding a style to :data:`REGISTRY` under ``cls.name``."""
    REGISTRY[cls.name] = cls
    return cls


def get_style(name: str) -> LeadershipStyle:
    """A new instance of the style called ``name``.

    Raises:
        KeyError: If no style has that name; the message lists the valid names.
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown leadership style {name!r}; valid: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]()


@dataclass
class Verdict:
    """What became of each raised proposal under a decision rule.

    Attributes:
        adopted: ``(A,)`` adopted (still subject to consent).
        answered: ``(A,)`` a decision-maker other than the proposer answered it.
        agreed: ``(A, O)`` organisations that already agreed to it (in a forum).
        amended: The proposals as the rule amended them (a leader extending a change), or None.
    """

    adopted: np.ndarray
    answered: np.ndarray
    agreed: np.ndarray
    amended: Proposals | None = None

    @classmethod
    def blank(cls, a: int, n_orgs: int) -> Verdict:
        """Nothing adopted, nothing answered."""
        return cls(np.zeros(a, dtype=bool), np.zeros(a, dtype=bool), np.zeros((a, n_orgs), dtype=bool))


def proposer_decides(props: Proposals, n_orgs: int) -> Verdict:
    """Every raised proposal is enacted by its proposer; nobody answers (the neutral rule)."""
    verdict = Verdict.blank(len(props), n_orgs)
    verdict.adopted[:] = True
    return verdict


class LeadershipStyle:
    """Base class: the hooks a style may override.

    Attributes:
        redeploys: How the rule releases surge-reserve staff after a shock: ``at_once`` (the
            leader orders it within its authority), ``by_forum`` (at the next forum the
            organisation attends) or ``voluntary`` (each member decides, more readily the more
            it sees itself as a network partner).
    """

    name: ClassVar[str] = ""
    adaptive: ClassVar[bool] = False
    redeploys: ClassVar[str] = "voluntary"

    def active(self, model: GovernanceModel, org: int) -> str:
        """Name of the style whose behaviour and decision rule apply this step."""
        return self.name

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """What becomes of ``props`` (raised in organisations led in this style)."""
        raise NotImplementedError


def adopt_best(props: Proposals, reading: np.ndarray, heard: np.ndarray, capacity: int) -> np.ndarray:
    """Rows of the at most ``capacity`` heard proposals per organisation read as the largest gains (> 0)."""
    view = np.where(heard, reading, -np.inf)
    order = np.lexsort((-view, props.org))  # by organisation, best reading first
    rank = np.arange(len(order)) - np.searchsorted(props.org[order], props.org[order])
    top = order[rank < capacity]
    return top[view[top] > 0]


@register
class Directive(LeadershipStyle):
    """Hierarchical (TPA): the leader reads what it hears and adopts the best, or a coordinated package."""

    name = "directive"
    redeploys = "at_once"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Adopt up to ``leader_capacity`` heard proposals per organisation the leader reads as gains.

        The leader reads each heard proposal (its organisation's decisions plus what the
        proposer explains). Within its authority it can also coordinate changes: it reads the
        package of its two best-read, non-overlapping heard proposals as a whole and adopts both
        when the package reads better than the best single one (and as a gain); and it reads each
        proposal it adopts extended by one more change of its own organisation's decisions,
        enacting the best extension that reads better than the proposal alone. Every extra
        reading costs attention. No single proposer, and no vote on separate items, makes such
        multi-decision changes.
        """
        verdict = Verdict.blank(len(props), model.n_orgs)
        heard = model.hear(props)
        if not heard.any():
            return verdict
        rows = np.flatnonzero(heard)
        reading = np.full(len(props), -np.inf)
        reading[rows] = model.leader_reading(props.subset(rows), model.understood[props.who[rows]])
        chosen = adopt_best(props, reading, heard, model.params.leadership.leader_capacity)
        verdict.adopted[chosen] = True
        verdict.adopted[model.packages(props, reading, heard)] = True
        verdict.amended = model.extend(props, chosen, reading)
        verdict.answered[:] = heard
        return verdict


@register
class Transactional(LeadershipStyle):
    """Performance management (NPM): adopt what the organisation's indicators read as a gain."""

    name = "transactional"
    redeploys = "at_once"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Adopt every heard proposal whose reading over the organisation's own decisions is positive.

        The indicators cover only the organisation's own decisions: the leader reads each heard
        proposal there and nowhere else (the proposer's explanation does not count).
        """
        verdict = Verdict.blank(len(props), model.n_orgs)
        heard = model.hear(props)
        rows = np.flatnonzero(heard)
        if len(rows):
            nothing = np.zeros((len(rows), model.landscape.n), dtype=bool)
            verdict.adopted[rows] = model.leader_reading(props.subset(rows), nothing) > 0
        verdict.answered[:] = heard
        return verdict


@register
class Facilitative(LeadershipStyle):
    """Network leadership (Ansell & Gash 2008): refer proposals to the network's queue."""

    name = "facilitative"
    redeploys = "by_forum"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Refer heard proposals to the network (a forum, or the lead organisation) and wait.

        Nothing is decided here: the network decides queued proposals when it meets (or, under
        a lead organisation, when the lead reads them); see :meth:`GovernanceModel.network_decides`.
        """
        verdict = Verdict.blank(len(props), model.n_orgs)
        verdict.answered[:] = model.hear(props)  # taken up: referred, with an answer to come
        model.refer(props.subset(np.flatnonzero(verdict.answered)))
        return verdict


@register
class Shared(LeadershipStyle):
    """Shared / distributed: experts decide on their own domain; informal leaders on the rest."""

    name = "shared"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Proposers enact in-domain proposals; others go to the proposer's informal leader.

        The informal leader reads the proposal through the one information model, over what it
        understands and what the proposer explains, by its own effective role.
        """
        verdict = Verdict.blank(len(props), model.n_orgs)
        in_domain = ~(props.flips & ~model.domain[props.who]).any(axis=1)
        verdict.adopted[:] = in_domain
        refer = np.flatnonzero(~in_domain)
        if len(refer) == 0:
            return verdict
        leader = model.informal_leader_of(props.who[refer])
        has = leader >= 0
        refer, leader = refer[has], leader[has]
        if len(refer) == 0:
            return verdict
        part = props.subset(refer)
        judged = model.professional_reading(part, leader, model.understood[part.who])
        verdict.adopted[refer[judged > 0]] = True
        verdict.answered[refer] = True
        return verdict


@register
class LaissezFaire(LeadershipStyle):
    """Abdication: nobody answers; whoever made a proposal enacts it."""

    name = "laissez_faire"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Every raised proposal is enacted by its proposer."""
        return proposer_decides(props, model.n_orgs)


@register
class Situational(LeadershipStyle):
    """Adaptive: diagnose the state and choose a position ("positie kiezen"; Hersey & Blanchard 1969)."""

    name = "situational"
    adaptive = True

    def __init__(self) -> None:
        self.choice = "shared"
        self.reason = ""
        self.calm_since = 0
        self.since = 0
        self.anchor = 0.0

    def active(self, model: GovernanceModel, org: int) -> str:
        """Diagnose the organisation from several signals and return the style chosen for this step.

        Alarms, in order of priority (each read from the organisation's own indicators, not
        the shared value): its own performance fell by at least ``shock_drop`` of its level
        since the last step (a shock) calls for ``directive``; burnout above
        ``burnout_alarm`` for ``shared`` (autonomy and support); a backlog above
        ``backlog_alarm`` of its demand for ``transactional`` (targets); mean trust in the
        other organisations below ``low_trust`` for ``facilitative``. A position an alarm
        called for is kept, with hysteresis, until the signal has eased: after a shock until
        own performance is back within ``shock_drop (1 - hysteresis)`` of where it was (at
        most ``stagnation_window`` steps), otherwise until the signal is below
        ``(1 - hysteresis)`` of its alarm (trust: above ``(1 + hysteresis)`` of ``low_trust``).
        Without an alarm, stagnation (no gain in own performance for ``stagnation_window``
        steps) calls for ``facilitative`` and then ``shared`` in turn, and a calm
        ``stagnation_window`` with staff whose energy and skill exceed ``readiness`` for
        ``laissez_faire`` (delegating). Without any signal the current choice is kept.
        """
        lp = model.params.leadership
        h = lp.hysteresis
        d = model.diagnose(org)
        alarms = (
            ("shock", "directive", d["drop"] >= lp.shock_drop),
            ("burnout", "shared", d["burnout"] > lp.burnout_alarm),
            ("backlog", "transactional", d["backlog"] > lp.backlog_alarm),
            ("trust", "facilitative", d["trust"] < lp.low_trust),
        )
        easing = {
            "shock": d["performance"] < self.anchor * (1.0 - lp.shock_drop * (1.0 - h))
            and self.since < lp.stagnation_window,
            "burnout": d["burnout"] > lp.burnout_alarm * (1.0 - h),
            "backlog": d["backlog"] > lp.backlog_alarm * (1.0 - h),
            "trust": d["trust"] < lp.low_trust * (1.0 + h),
        }
        fired = next(((reason, style) for reason, style, on in alarms if on), None)
        calm = False
        if fired is not None:
            if fired[0] == "shock":
                self.anchor = d["before"]
            if fired[0] != self.reason:
                self.since = 0
            self.reason, self.choice = fired
        elif easing.get(self.reason, False):
            pass  # hold the position until its signal has eased
        elif d["stagnant"]:
            self.reason = "stagnation"
            self.choice = "facilitative" if self.choice != "facilitative" else "shared"
        else:
            self.reason = ""
            calm = True
        self.since += 1
        self.calm_since = self.calm_since + 1 if calm else 0
        if self.calm_since >= lp.stagnation_window and d["ready"]:
            self.choice = "laissez_faire"
        return self.choice

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:  # pragma: no cover
        """Never called: the chosen style decides."""
        raise RuntimeError("situational leadership decides through the style it chose")


assert set(REGISTRY) == set(STYLES), "every configured style needs a strategy class"
