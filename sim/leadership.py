"""Leadership styles: what a formal leader does, as small strategy classes registered by name.

A style is a **behaviour profile** (:class:`sim.params.Behaviour`: autonomy, target
pressure, incentives, convening, responsiveness and openness to voice, support,
learning, brokering of consent; defaults in :data:`sim.params.DEFAULT_BEHAVIOURS`,
any value may be overridden) plus a **decision rule**, which lives in its class.
The behaviours act through the mechanisms (time, voice, forums, consent, energy,
learning); the rule decides which raised proposals are adopted:

- ``directive`` (hierarchy, TPA): the leader hears a proposal with probability
  ``responsiveness`` (less a status discount), reads it against its organisation's
  goal over its own decisions with its own judgement noise, and adopts at most
  ``leader_capacity`` of the best it reads as gains.
- ``transactional`` (NPM): the heard proposals whose *measured* effect on the
  organisation's goal indicator (exact, but only over its own decisions) is positive
  are adopted.
- ``facilitative`` (network leadership; Ansell & Gash 2008): heard proposals are
  referred to the cross-organisation forum when one meets and the organisation
  attends (:mod:`sim.forum`); otherwise they wait unanswered.
- ``shared`` / distributed: a proposal within the proposer's professional domain is
  decided by the proposer; one outside it is referred to the proposer's
  highest-standing tie who is an informal leader, who reads it over what it
  understands; without one it goes unanswered.
- ``situational``: diagnoses its organisation each step and acts as the style the
  diagnosis calls for, with that style's behaviour profile ("positie kiezen").
- ``laissez_faire``: abdication, not empowerment (Skogstad et al. 2007): nobody
  answers; whoever made a proposal enacts it, unchecked.

A change to another organisation's decision also needs that organisation's consent
(:mod:`sim.trust`), whatever the style.
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
    """

    adopted: np.ndarray
    answered: np.ndarray
    agreed: np.ndarray

    @classmethod
    def blank(cls, a: int, n_orgs: int) -> Verdict:
        """Nothing adopted, nothing answered."""
        return cls(np.zeros(a, dtype=bool), np.zeros(a, dtype=bool), np.zeros((a, n_orgs), dtype=bool))


def proposer_decides(props: Proposals, n_orgs: int) -> Verdict:
    """Every raised proposal is enacted by its proposer; nobody answers (the neutral rule)."""
    verdict = Verdict.blank(len(props), n_orgs)
    verdict.adopted[:] = True
    return verdict


def goal_reading(model: GovernanceModel, props: Proposals) -> np.ndarray:
    """Effect of each proposal on its organisation's goal, over the organisation's own decisions."""
    g = model.goal[props.org]
    return g * props.gain_mandate + (1.0 - g) * props.gain_own_org


class LeadershipStyle:
    """Base class: the hooks a style may override."""

    name: ClassVar[str] = ""
    adaptive: ClassVar[bool] = False

    def active(self, model: GovernanceModel, org: int) -> str:
        """Name of the style whose behaviour and decision rule apply this step."""
        return self.name

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """What becomes of ``props`` (raised in organisations led in this style)."""
        raise NotImplementedError


@register
class Directive(LeadershipStyle):
    """Hierarchical (TPA): the leader weighs what it hears and adopts the best few."""

    name = "directive"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Adopt up to ``leader_capacity`` heard proposals per organisation the leader reads as gains."""
        verdict = Verdict.blank(len(props), model.n_orgs)
        heard = model.hear(props)
        if not heard.any():
            return verdict
        lp = model.params.leadership
        noise = model.params.workforce.noise * (1.0 - lp.leader_skill)
        view = goal_reading(model, props) + model.streams["decision"].normal(0.0, 1.0, len(props)) * noise
        view = np.where(heard, view, -np.inf)
        order = np.lexsort((-view, props.org))  # by organisation, best reading first
        rank = np.arange(len(order)) - np.searchsorted(props.org[order], props.org[order])
        top = order[rank < lp.leader_capacity]
        verdict.adopted[top[view[top] > 0]] = True
        verdict.answered[:] = heard
        return verdict


@register
class Transactional(LeadershipStyle):
    """Performance management (NPM): adopt what the indicator says raises the organisation's goal."""

    name = "transactional"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Adopt every heard proposal with a positive measured effect on the goal indicator."""
        verdict = Verdict.blank(len(props), model.n_orgs)
        heard = model.hear(props)
        verdict.adopted[:] = heard & (goal_reading(model, props) > 1e-12)
        verdict.answered[:] = heard
        return verdict


@register
class Facilitative(LeadershipStyle):
    """Network leadership (Ansell & Gash 2008): refer proposals to the cross-organisation forum."""

    name = "facilitative"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Refer heard proposals to this step's forum, if it meets and the organisation attends."""
        verdict = Verdict.blank(len(props), model.n_orgs)
        meeting = model.meeting
        if not meeting.held:
            return verdict
        referred = np.flatnonzero(model.hear(props) & meeting.attending[props.org])
        if len(referred) == 0:
            return verdict
        model.referred_to_forum = model.referred_to_forum + len(referred)
        adopted, discussed, agreed = model.deliberate(props.subset(referred))
        verdict.adopted[referred] = adopted
        verdict.answered[referred] = discussed
        verdict.agreed[referred] = agreed
        return verdict


@register
class Shared(LeadershipStyle):
    """Shared / distributed: experts decide on their own domain; informal leaders on the rest."""

    name = "shared"

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:
        """Proposers enact in-domain proposals; others go to the proposer's informal leader."""
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
        view = model.understood[leader]
        delta = props.contrib[refer] - model.contrib[None, :]
        seen = (delta * view).sum(axis=1) / np.maximum(view.sum(axis=1), 1)
        noise = model.params.workforce.noise * (1.0 - model.skill[leader])
        judged = seen + model.streams["decision"].normal(0.0, 1.0, len(refer)) * noise
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
        self.calm_since = 0

    def active(self, model: GovernanceModel, org: int) -> str:
        """Diagnose the organisation and return the style chosen for this step.

        In order of priority: a shock (normalised public value, or own performance
        relative to its level, fell by at least ``shock_drop`` since the last step)
        calls for ``directive``; burnout above ``burnout_alarm`` for ``shared``
        (autonomy and support); a backlog above ``backlog_alarm`` of its demand for
        ``transactional`` (targets); low trust in the other organisations for
        ``facilitative``; stagnation (no gain in own performance for
        ``stagnation_window`` steps) for ``facilitative`` and then ``shared`` in
        turn; and a calm ``stagnation_window`` with staff whose energy and skill
        exceed ``readiness`` for ``laissez_faire`` (delegating). Without a signal
        the current choice is kept.
        """
        lp = model.params.leadership
        d = model.diagnose(org)
        calm = False
        if d["drop"] >= lp.shock_drop:
            self.choice = "directive"
        elif d["burnout"] > lp.burnout_alarm:
            self.choice = "shared"
        elif d["backlog"] > lp.backlog_alarm:
            self.choice = "transactional"
        elif d["trust"] < lp.low_trust:
            self.choice = "facilitative"
        elif d["stagnant"]:
            self.choice = "facilitative" if self.choice != "facilitative" else "shared"
        else:
            calm = True
        self.calm_since = self.calm_since + 1 if calm else 0
        if self.calm_since >= lp.stagnation_window and d["ready"]:
            self.choice = "laissez_faire"
        return self.choice

    def decide(self, model: GovernanceModel, props: Proposals) -> Verdict:  # pragma: no cover
        """Never called: the chosen style decides."""
        raise RuntimeError("situational leadership decides through the style it chose")


assert set(REGISTRY) == set(STYLES), "every configured style needs a strategy class"
