"""Leadership styles: small strategy classes registered by name (MODEL.md step 5).

Each style sets the climate of its organisation (autonomy, target pressure,
convening, learning, safety, support; see :data:`sim.params.DEFAULT_CLIMATES`)
and decides which raised proposals are adopted. They differ in mechanism:

- ``directive``: the formal leader judges raised proposals by its own limited
  view (its organisation's decisions, with its own judgement noise) and adopts
  at most the single best one.
- ``transactional``: every raised proposal that raises the organisation's own
  measured performance is adopted; incentives pull staff's effective role
  towards the competitor role in proportion to target pressure.
- ``facilitative``: convenes one forum with every other facilitative
  organisation; proposals are judged by pooled knowledge (the union of what the
  proposers understand, with noise shrinking with the number of participants)
  against the collective outcome; the forum adopts up to ``forum_capacity``
  proposals per convening organisation; owners present in the forum consent
  more readily; meeting time costs production and builds trust.
- ``shared``: a proposal within the proposer's professional domain is decided by
  the proposer; one outside it is referred to the proposer's highest-standing
  tie who is an informal leader, who judges it by what it understands.
- ``situational``: diagnoses its organisation each step (shock, burnout, low
  trust, stagnation) and switches to the style that fits, recording its choice.
- ``laissez_faire``: every raised proposal is enacted, unchecked.

A change to another organisation's decision always needs that organisation's
consent (see :mod:`sim.trust`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.params import STYLES, Climate
from sim.roles import COMPETITOR
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


class LeadershipStyle:
    """Base class: the hooks a style may override."""

    name: ClassVar[str] = ""
    forum: ClassVar[bool] = False
    adaptive: ClassVar[bool] = False

    def active(self, model: GovernanceModel, org: int) -> str:
        """Name of the style whose climate and decision rule apply this step."""
        return self.name

    def climate(self, model: GovernanceModel) -> Climate:
        """This style's climate, from the run's parameters."""
        return model.params.leadership.climates[self.name]

    def role_pull(self, roles: np.ndarray, pressure: np.ndarray) -> np.ndarray:
        """Adjust staff's effective roles (default: unchanged)."""
        return roles

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:
        """Which of ``props`` (raised in organisations led in this style) are adopted."""
        raise NotImplementedError


@register
class Directive(LeadershipStyle):
    """Hierarchical (TPA): the leader picks at most one proposal per organisation."""

    name = "directive"

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:
        """Adopt each organisation's best proposal as its leader sees it, if positive."""
        skill = model.params.leadership.leader_skill
        noise = model.params.workforce.noise * (1.0 - skill)
        view = props.gain_own_org + model.rng.normal(0.0, 1.0, len(props)) * noise
        adopted = np.zeros(len(props), dtype=bool)
        if len(props) == 0:
            return adopted
        order = np.lexsort((-view, props.org))  # by organisation, best view first
        first = order[np.r_[True, props.org[order][1:] != props.org[order][:-1]]]
        adopted[first[view[first] > 0]] = True
        return adopted


@register
class Transactional(LeadershipStyle):
    """Performance management (NPM): adopt what raises own measured performance."""

    name = "transactional"

    def role_pull(self, roles: np.ndarray, pressure: np.ndarray) -> np.ndarray:
        """Incentives on own performance pull roles towards the competitor role."""
        pull = 0.5 * pressure[:, None]
        target = np.zeros_like(roles)
        target[:, COMPETITOR] = 1.0
        return (1.0 - pull) * roles + pull * target

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:
        """Adopt every proposal with a positive measured own-organisation gain."""
        return props.gain_own_org > 1e-12


@register
class Facilitative(LeadershipStyle):
    """Network leadership (Ansell & Gash 2008): a cross-organisation forum."""

    name = "facilitative"
    forum = True

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:
        """Judge pooled proposals against the collective outcome with pooled knowledge."""
        if len(props) == 0:
            return np.zeros(0, dtype=bool)
        pooled_view = model.understood[np.unique(props.who)].any(axis=0)
        delta = props.contrib - model.contrib[None, :]
        seen = (delta * pooled_view).sum(axis=1) / max(int(pooled_view.sum()), 1)
        participants = len(np.unique(props.who))
        mean_skill = float(model.skill[props.who].mean())
        noise = model.params.workforce.noise * (1.0 - mean_skill) / np.sqrt(participants)
        judged = seen + model.rng.normal(0.0, 1.0, len(props)) * noise
        capacity = model.params.leadership.forum_capacity * len(np.unique(props.org))
        order = np.argsort(-judged, kind="stable")[:capacity]
        adopted = np.zeros(len(props), dtype=bool)
        adopted[order[judged[order] > 0]] = True
        return adopted


@register
class Shared(LeadershipStyle):
    """Shared / distributed: experts decide on their own decisions; informal leaders coordinate."""

    name = "shared"

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:
        """Adopt in-domain proposals; refer others to the proposer's informal leader."""
        in_domain = ~(props.flips & ~model.domain[props.who]).any(axis=1)
        adopted = in_domain.copy()
        refer = np.flatnonzero(~in_domain)
        if len(refer) == 0:
            return adopted
        leader = model.informal_leader_of(props.who[refer])
        has = leader >= 0
        refer, leader = refer[has], leader[has]
        if len(refer) == 0:
            return adopted
        view = model.understood[leader]
        delta = props.contrib[refer] - model.contrib[None, :]
        seen = (delta * view).sum(axis=1) / np.maximum(view.sum(axis=1), 1)
        noise = model.params.workforce.noise * (1.0 - model.skill[leader])
        judged = seen + model.rng.normal(0.0, 1.0, len(refer)) * noise
        adopted[refer[judged > 0]] = True
        return adopted


@register
class LaissezFaire(LeadershipStyle):
    """No leadership: whoever made a proposal enacts it."""

    name = "laissez_faire"

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:
        """Adopt everything raised."""
        return np.ones(len(props), dtype=bool)


@register
class Situational(LeadershipStyle):
    """Adaptive: diagnose the state and choose a position ("positie kiezen")."""

    name = "situational"
    adaptive = True

    def __init__(self) -> None:
        self.choice = "shared"

    def active(self, model: GovernanceModel, org: int) -> str:
        """Diagnose the organisation and return the style chosen for this step.

        In order of priority: a shock (normalised public value, or own performance
        relative to its level, fell by at least ``shock_drop`` since the last step,
        shocks of this step included) calls for ``directive``; burnout above
        ``burnout_alarm`` for ``shared`` (autonomy and support); low trust towards
        the other organisations for ``facilitative``; stagnation (no gain in own
        performance for ``stagnation_window`` steps) for ``facilitative``. Without a
        signal the current choice is kept.
        """
        lp = model.params.leadership
        diagnosis = model.diagnose(org)
        if diagnosis["drop"] >= lp.shock_drop:
            self.choice = "directive"
        elif diagnosis["burnout"] > lp.burnout_alarm:
            self.choice = "shared"
        elif diagnosis["trust"] < lp.low_trust:
            self.choice = "facilitative"
        elif diagnosis["stagnant"]:
            self.choice = "facilitative" if self.choice != "facilitative" else "shared"
        return self.choice

    def decide(self, model: GovernanceModel, props: Proposals) -> np.ndarray:  # pragma: no cover
        """Never called: the chosen style decides."""
        raise RuntimeError("situational leadership decides through the style it chose")


assert set(REGISTRY) == set(STYLES), "every configured style needs a strategy class"
