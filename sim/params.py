"""Typed, validated parameters of one simulation run.

Every parameter of the model lives in one of the frozen dataclasses below. Each
checks its own values in ``__post_init__`` and raises :class:`ConfigError`
naming the field (as a dotted path), the value given and what is allowed, so a
bad sweep fails before any run starts. :func:`build_params` turns the plain
nested mapping of a config file into these classes and rejects unknown keys.

The package never imports Hydra or OmegaConf: callers pass plain dicts.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STYLES = (
    "directive",
    "transactional",
    "facilitative",
    "shared",
    "situational",
    "laissez_faire",
)
"""Leadership styles the model knows, by config name."""

NETWORK_STRUCTURES = ("siloed", "small_world", "random", "linear", "full")
"""Collaboration network structures the model knows, by config name."""

ORGANISATION_KINDS = ("public", "external")
"""Kinds of organisation: public bodies, or external partners in co-creation."""

PROBLEM_TYPES = ("nk",)
"""Problem types the model can run."""


class ConfigError(ValueError):
    """A parameter value that is not allowed.

    Attributes:
        field: Dotted path of the offending field, e.g. ``problem.K``.
        value: The value that was given.
        allowed: Plain-language description of what is allowed.
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field}={value!r} is not allowed: {allowed}")


def _check_range(
    path: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    integer: bool = False,
    low_open: bool = False,
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "an integer" if integer else "a number"
        raise ConfigError(path, value, f"must be {kind}")
    if integer and not float(value).is_integer():
        raise ConfigError(path, value, "must be an integer")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(path, value, "must be a finite number")
    lo_txt = "-inf" if low is None else f"{low:g}"
    hi_txt = "inf" if high is None else f"{high:g}"
    bracket = "(" if low_open else "["
    allowed = f"must lie in {bracket}{lo_txt}, {hi_txt}]"
    if low is not None and (value < low or (low_open and value == low)):
        raise ConfigError(path, value, allowed)
    if high is not None and value > high:
        raise ConfigError(path, value, allowed)


def _check_unit(path: str, value: Any) -> None:
    _check_range(path, value, 0.0, 1.0)


def _check_choice(path: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(path, value, "must be one of " + ", ".join(choices))


def _check_weights(path: str, weights: Mapping[str, float], names: Sequence[str]) -> None:
    if set(weights) != set(names):
        raise ConfigError(path, dict(weights), "needs exactly the keys " + ", ".join(names))
    for name in names:
        _check_unit(f"{path}.{name}", weights[name])
    total = sum(weights[n] for n in names)
    if abs(total - 1.0) > 1e-6:
        raise ConfigError(path, dict(weights), f"weights must sum to 1 (they sum to {total:g})")


MAX_DECISION_WEIGHT = 1e6
"""Largest relative decision weight (weights are relative; a bound keeps their sum finite)."""
MEMORY_ENV = "GOVSIM_MAX_JOB_MEMORY_GB"
"""Environment variable that sets the memory limit per job in GiB (default: half the machine's memory)."""


def landscape_memory(n: int, k: int, exact_optimum_max_n: int) -> int:
    """Bytes one job's landscape needs, estimated before anything is allocated.

    The contribution tables and the mandate tables hold ``N x 2^(K+1)`` float64 values
    each; a turbulence or shock redraw allocates at most as much again. An exact optimum enumerates ``2^N``
    configurations (sums, fitness, local-optimum flags and codes, about 32 bytes each).
    """
    tables = 3 * n * (1 << (k + 1)) * 8
    enumeration = (1 << n) * 32 if n <= exact_optimum_max_n else 0
    return tables + enumeration


def memory_limit() -> int:
    """Memory one job may use, in bytes: ``GOVSIM_MAX_JOB_MEMORY_GB``, else half the physical memory."""
    value = os.environ.get(MEMORY_ENV)
    if value:
        try:
            return int(float(value) * 2**30)
        except ValueError:
            raise ConfigError(MEMORY_ENV, value, "must be a number of GiB") from None
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - platforms without sysconf
        return 8 * 2**30


def _gib(nbytes: int) -> str:
    return f"{nbytes / 2**30:.3g} GiB" if nbytes >= 2**28 else f"{nbytes / 2**20:.3g} MiB"


ROLE_NAMES = ("expert", "competitor", "partner")
RESOURCE_NAMES = ("autonomy", "support", "ties")
DEFAULT_RESOURCE_WEIGHTS = {"autonomy": 1.0, "support": 1.0, "ties": 1.0}
"""Relative weights of a professional's job resources (assumption: equal)."""
PARADIGM_NAMES = ("tpa", "npm", "npg")


@dataclass(frozen=True)
class ProblemParams:
    """The shared problem: an NK landscape (Kauffman 1993; Levinthal 1997).

    Attributes:
        type: ``nk``, the policy landscape.
        N: Number of binary policy decisions.
        K: Interdependencies of each decision (0 <= K < N).
        cross_boundary: Share of each decision's dependencies on decisions owned by
            other organisations (0 = silos, 1 = wicked).
        turbulence: Per-step probability that a decision's contribution table is redrawn.
        shocks: Scheduled shocks as ``{step, share}`` mappings: at ``step`` the
            contribution tables of a ``share`` of the decisions are redrawn.
        mandate_correlation: Correlation between each decision's contribution to the
            shared public value and to its owner's own mandate (1 = mandates agree with
            the shared outcome; 0 = unrelated).
        exact_optimum_max_n: Largest N whose global optimum is found by enumeration;
            above it the optimum is estimated by the best of many adaptive walks.
    """

    type: str = "nk"
    N: int = 16
    K: int = 3
    cross_boundary: float = 0.5
    turbulence: float = 0.0
    shocks: tuple[Shock, ...] = ()
    mandate_correlation: float = 0.5
    exact_optimum_max_n: int = 22

    def __post_init__(self) -> None:
        _check_choice("problem.type", self.type, PROBLEM_TYPES)
        _check_range("problem.N", self.N, 1, 30, integer=True)
        _check_range("problem.K", self.K, 0, None, integer=True)
        if self.K >= self.N:
            raise ConfigError("problem.K", self.K, f"must be smaller than problem.N={self.N}")
        _check_unit("problem.cross_boundary", self.cross_boundary)
        _check_unit("problem.turbulence", self.turbulence)
        _check_unit("problem.mandate_correlation", self.mandate_correlation)
        _check_range("problem.exact_optimum_max_n", self.exact_optimum_max_n, 1, 24, integer=True)
        need, limit = landscape_memory(self.N, self.K, self.exact_optimum_max_n), memory_limit()
        if need > limit:
            raise ConfigError("problem.K", self.K, (
                f"with problem.N={self.N} the landscape needs about {_gib(need)} (N x 2^(K+1) contribution values"
                f"{' plus the 2^N enumeration of the exact optimum' if self.N <= self.exact_optimum_max_n else ''})"
                f", over the limit of {_gib(limit)} per job; lower problem.K or problem.N (or raise {MEMORY_ENV})"))
        for i, shock in enumerate(self.shocks):
            if not isinstance(shock, Shock):
                raise ConfigError(f"problem.shocks[{i}]", shock, "must be a mapping {step, share}")


@dataclass(frozen=True)
class Shock:
    """A scheduled shock: a crisis redraws part of the landscape.

    Attributes:
        step: Step at which the shock happens (1 = first step).
        share: Share of decisions whose contribution tables are redrawn.
    """

    step: int
    share: float = 0.5

    def __post_init__(self) -> None:
        _check_range("problem.shocks.step", self.step, 1, None, integer=True)
        _check_unit("problem.shocks.share", self.share)


@dataclass(frozen=True)
class OrganisationSpec:
    """One organisation of a scenario.

    Attributes:
        name: Display name, e.g. ``police``.
        size: Number of professionals.
        decision_weight: Relative share of the N decisions this organisation owns.
        paradigm: Governance paradigm mix ``{tpa, npm, npg}`` that sets the role
            expectations on its staff; ``None`` takes the role mix's orientation.
        leadership: Style of its formal leader; ``None`` takes ``leadership.style``.
        behaviour: Values of its leader's behaviour that differ from the style's profile,
            e.g. ``{pressure: 0.85, autonomy: 0.2}`` (see :class:`Behaviour`).
        goal_orientation: Weight its leader puts on the organisation's own mandate
            against the shared outcome, in [0, 1]; ``None`` takes the scenario's.
        power: Resource weight that shapes whose view prevails; ``None`` = its size.
        kind: ``public`` or ``external`` (citizens, firms, non-profits).
    """

    name: str
    size: int = 25
    decision_weight: float = 1.0
    paradigm: Mapping[str, float] | None = None
    leadership: str | None = None
    behaviour: Mapping[str, float] | None = None
    goal_orientation: float | None = None
    power: float | None = None
    kind: str = "public"

    def validate(self, path: str) -> None:
        """Check values; ``path`` is this organisation's dotted config path."""
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"{path}.name", self.name, "must be a non-empty string")
        _check_range(f"{path}.size", self.size, 1, 100_000, integer=True)
        _check_range(f"{path}.decision_weight", self.decision_weight, 0.0, MAX_DECISION_WEIGHT, low_open=True)
        if self.paradigm is not None:
            _check_weights(f"{path}.paradigm", self.paradigm, PARADIGM_NAMES)
        if self.leadership is not None:
            _check_choice(f"{path}.leadership", self.leadership, STYLES)
        if self.behaviour is not None:
            if not isinstance(self.behaviour, Mapping):
                raise ConfigError(f"{path}.behaviour", self.behaviour, "must be a mapping of behaviour values")
            known = [f.name for f in dataclasses.fields(Behaviour)]
            for key, value in self.behaviour.items():
                if key not in known:
                    raise ConfigError(f"{path}.behaviour.{key}", value, "unknown key; known keys: " + ", ".join(known))
                _check_unit(f"{path}.behaviour.{key}", value)
        if self.goal_orientation is not None:
            _check_unit(f"{path}.goal_orientation", self.goal_orientation)
        if self.power is not None:
            _check_range(f"{path}.power", self.power, 0.0, 1e6, low_open=True)
        _check_choice(f"{path}.kind", self.kind, ORGANISATION_KINDS)


def _default_orgs() -> tuple[OrganisationSpec, ...]:
    return tuple(OrganisationSpec(name=f"org{i + 1}", size=50) for i in range(4))


@dataclass(frozen=True)
class ScenarioParams:
    """The organisations sharing the problem.

    Attributes:
        name: Scenario name.
        description: Short narrative of the case (shown in reports and the demo).
        source: The document the case comes from.
        organisations: The organisations, in order; decisions are assigned in blocks
            in this order.
        minority_share: Share of professionals with a minority background.
        surge_reserve: Share of each organisation's staff in a surge reserve that is
            moved to the hardest-hit organisations after a shock.
        surge_targets: Largest share of the organisations that receive the surge reserve
            (those whose own performance fell most; at least one).
        surge_duration: Steps a surge deployment lasts before staff return home; also
            the steps over which a shock's extra workload fades.
        shock_workload: Extra demand right after a shock (crisis, remote-work strain), as a
            share of each organisation's full-time capacity, fading linearly over
            ``surge_duration`` steps.
        goal_orientation: Weight leaders put on their organisation's own mandate against
            the shared outcome, for organisations that do not set their own.
    """

    name: str = "default"
    description: str = ""
    source: str = ""
    organisations: tuple[OrganisationSpec, ...] = field(default_factory=_default_orgs)
    minority_share: float = 0.2
    surge_reserve: float = 0.0
    surge_targets: float = 1 / 3
    surge_duration: int = 12
    shock_workload: float = 0.0
    goal_orientation: float = 0.5

    def __post_init__(self) -> None:
        if not self.organisations:
            raise ConfigError("scenario.organisations", [], "needs at least one organisation")
        names = [o.name for o in self.organisations]
        for i, org in enumerate(self.organisations):
            org.validate(f"scenario.organisations[{i}]")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError("scenario.organisations", dupes, "organisation names must be unique")
        _check_range("scenario.minority_share", self.minority_share, 0.0, 0.5)
        _check_unit("scenario.surge_reserve", self.surge_reserve)
        _check_range("scenario.surge_targets", self.surge_targets, 0.0, 1.0, low_open=True)
        _check_range("scenario.surge_duration", self.surge_duration, 1, None, integer=True)
        _check_range("scenario.shock_workload", self.shock_workload, 0.0, 10.0)
        _check_unit("scenario.goal_orientation", self.goal_orientation)

    @property
    def n_professionals(self) -> int:
        """Total number of professionals over all organisations."""
        return sum(o.size for o in self.organisations)


@dataclass(frozen=True)
class RoleParams:
    """The mix of role orientations among professionals (van Gestel).

    Attributes:
        name: Name of the role mix.
        orientation: Mean weights ``{expert, competitor, partner}`` of professionals'
            own role orientation.
        concentration: Dirichlet concentration around that mean (higher = more alike).
        conformity: Weight of the organisation's role expectation in a professional's
            effective role (0 = own orientation only, 1 = expectation only).
    """

    name: str = "balanced"
    orientation: Mapping[str, float] = field(
        default_factory=lambda: {"expert": 1 / 3, "competitor": 1 / 3, "partner": 1 / 3}
    )
    concentration: float = 10.0
    conformity: float = 0.5

    def __post_init__(self) -> None:
        _check_weights("roles.orientation", self.orientation, ROLE_NAMES)
        _check_range("roles.concentration", self.concentration, 0.0, 10_000, low_open=True)
        _check_unit("roles.conformity", self.conformity)


@dataclass(frozen=True)
class Behaviour:
    """What a formal leader does (docs/ODD.md, schedule step 1); any style may take any values.

    A style is a profile over these behaviours plus its decision rule (see
    :mod:`sim.leadership`). They are actions, not climates: psychological safety,
    trust, workload, energy and production are state that these actions and the
    situation move. All values lie in [0, 1].

    Attributes:
        autonomy: Room staff get to spend their time at their own discretion
            (decision latitude; Karasek 1979), used for the shared problem.
        pressure: How hard production targets are enforced: the share of a production
            shortfall that staff must make up from their discretionary time.
        incentive: Weight of contingent reward on the organisation's own measured
            performance (Bass 1985): pulls the role expected of staff towards the
            market-competitor role.
        convening: Chance per step that the leader convenes a cross-organisation forum.
        responsiveness: Chance that the leader hears and answers a raised proposal
            (Detert & Burris 2007).
        openness: Chance that the answer to speaking up is appreciative rather than
            dismissive (Edmondson 1999; Detert & Burris 2007).
        support: Social support of staff, a job resource (Bakker & Demerouti 2007).
        learning: Investment in learning (communities of practice, practice).
        brokering: Chance that the leader brokers another organisation's consent to a
            cross-boundary change proposed by its staff (Provan & Kenis 2008).
    """

    autonomy: float
    pressure: float
    incentive: float
    convening: float
    responsiveness: float
    openness: float
    support: float
    learning: float
    brokering: float

    def validate(self, path: str) -> None:
        """Check every value lies in [0, 1]."""
        for f in dataclasses.fields(self):
            _check_unit(f"{path}.{f.name}", getattr(self, f.name))

    def replace(self, **changes: float) -> Behaviour:
        """A copy with some behaviours changed."""
        return dataclasses.replace(self, **changes)


BEHAVIOUR_FIELDS: tuple[str, ...] = (
    "autonomy", "pressure", "incentive", "convening", "responsiveness", "openness", "support", "learning",
    "brokering",
)
"""Names of the behaviours, in column order."""

DEFAULT_BEHAVIOURS: dict[str, Behaviour] = {
    "directive": Behaviour(autonomy=0.2, pressure=0.6, incentive=0.0, convening=0.0, responsiveness=0.6,
                           openness=0.4, support=0.3, learning=0.3, brokering=1.0),
    "transactional": Behaviour(autonomy=0.3, pressure=0.8, incentive=0.5, convening=0.0, responsiveness=0.5,
                               openness=0.5, support=0.2, learning=0.2, brokering=1.0),
    "facilitative": Behaviour(autonomy=0.5, pressure=0.4, incentive=0.0, convening=0.8, responsiveness=0.8,
                              openness=0.8, support=0.5, learning=0.5, brokering=1.0),
    "shared": Behaviour(autonomy=0.8, pressure=0.3, incentive=0.0, convening=0.2, responsiveness=0.8,
                        openness=0.8, support=0.6, learning=0.8, brokering=1.0),
    "situational": Behaviour(autonomy=0.5, pressure=0.5, incentive=0.0, convening=0.2, responsiveness=0.7,
                             openness=0.6, support=0.5, learning=0.5, brokering=1.0),
    "laissez_faire": Behaviour(autonomy=0.9, pressure=0.0, incentive=0.0, convening=0.0, responsiveness=0.0,
                               openness=0.0, support=0.0, learning=0.0, brokering=0.0),
}
"""Default behaviour profile of each style (assumption, after the descriptions of each style in
the design brief and its sources; docs/ODD.md); a config may override any value. A situational leader acts with the
profile of the style it chooses; its own row applies to nothing."""

FORUM_RULES = ("power", "majority", "supermajority", "consensus")
"""How a forum aggregates its attendees' votes."""

DEFAULT_ATTENTION_COSTS: dict[str, float] = {
    "autonomy": 0.0, "pressure": 0.15, "incentive": 0.1, "convening": 0.3, "responsiveness": 0.15,
    "openness": 0.1, "support": 0.2, "learning": 0.1, "brokering": 0.1,
}
"""Leader attention each behaviour takes per step at full strength (assumption; a share of one leader's step).

Member-facing behaviours (pressure, incentive, responsiveness, openness, support, learning)
scale with span of control (``headcount / span_reference``); convening (preparing and chairing
a forum) and brokering (negotiating other organisations' consent) do not. Autonomy costs no
attention: its price is production time (see :mod:`sim.wellbeing`)."""

GOVERNANCE_MODES = ("participant", "lead_organisation", "nao")
"""Modes of network governance (Provan & Kenis 2008): shared participant governance, a lead
organisation, or a network administrative organisation."""


@dataclass(frozen=True)
class LeadershipParams:
    """Leadership styles of the organisations' formal leaders, and their forums.

    Attributes:
        style: Style of every organisation that does not name its own.
        behaviours: Behaviour profile of each style (defaults in :data:`DEFAULT_BEHAVIOURS`).
        leader_capacity: Most proposals a formal leader deciding alone (directive) can
            weigh and adopt per step (limited attention; Simon 1947).
        leader_skill: Judgement skill of formal leaders in [0, 1].
        forum_capacity: Most proposals a forum can discuss per meeting.
        forum_delegates: Professionals each attending organisation sends to a forum.
        forum_time: Share of a step a delegate spends in the forum.
        forum_mention: Chance that an attendee who knows a relevant fact voices it, at
            full trust in the other attendees (information sampling; Stasser & Titus 1985).
        forum_rule: ``power``, ``majority``, ``supermajority`` or ``consensus``.
        forum_anchoring: Weight attendees put on the proposer's own judgement instead
            of their own reading (early convergence).
        forum_tie_rate: Chance that two delegates of different organisations who meet
            in a forum form a tie.
        forum_learning: Chance that a delegate learns one decision voiced in a meeting.
        stagnation_window: Steps without improvement that a situational leader calls stagnation.
        shock_drop: Fall since the last step, in normalised public value or relative to
            the organisation's own performance, that it calls a shock.
        low_trust: Mean trust below which it calls trust low.
        burnout_alarm: Burnout rate above which it calls burnout.
        backlog_alarm: Share of its demand left unserved above which it calls a backlog.
        readiness: Mean energy (and skill) of its staff above which, after a calm
            ``stagnation_window``, it delegates (Hersey & Blanchard 1969).
        hysteresis: A situational leader leaves the position a signal called for only when
            that signal has fallen below ``(1 - hysteresis)`` of its alarm (no flapping).
        attention: Attention of a formal leader per step (1 = a leader's whole step), the
            budget its behaviours, reading proposals and convening draw on (Simon 1947).
        span_reference: Headcount at which member-facing behaviours cost what
            ``attention_cost`` says; a larger span of control costs proportionally more
            (assumption: chosen, before any comparison of styles, so that the default profiles
            ask about a leader's whole attention at the default size of 50; managerial work is
            always full, Mintzberg 1973).
        attention_cost: Attention each behaviour takes per step at full strength
            (:data:`DEFAULT_ATTENTION_COSTS`). When the behaviours together need more than
            ``attention``, each is carried out only in proportion (the leader cannot do it all).
        read_attention: Attention a leader spends per proposal it reads, decides or refers.
        forum_interval: Steps between the dates on which a forum can meet; proposals referred
            in between wait in its queue (collaborative inertia; Huxham & Vangen 2005).
        forum_patience: Steps a referred proposal waits in the queue before it lapses unanswered.
        forum_party_delay: How much each further party slows a meeting down at zero trust: a
            meeting of ``p`` parties with mean trust ``t`` gets through
            ``forum_capacity / (1 + forum_party_delay (p - 2)(1 - t))`` items (Ansell & Gash 2008).
        forum_party_time: Extra share of a step each delegate spends per party beyond two
            (coordination costs grow with the number of parties).
        distance_noise: Extra judgement noise, as a multiple, on decisions owned by another
            organisation, scaled by ``1 - trust`` in it: a reader knows its own organisation best,
            trusted partners next, the rest least (assumption).
        role_pull: How far what a leader does pulls the role its staff feel expected to play
            (targets and incentives the competitor, convening and brokering the partner,
            direction the expert), in [0, 1] (assumption, after van Gestel).
        socialisation: Share of the distance professionals' own role orientations move per
            step towards the felt expectation, held back by their training (they settle at
            ``roles.conformity`` of the way from their trained orientation; assumption).
    """

    style: str = "directive"
    behaviours: Mapping[str, Behaviour] = field(default_factory=lambda: dict(DEFAULT_BEHAVIOURS))
    leader_capacity: int = 1
    leader_skill: float = 0.6
    forum_capacity: int = 6
    forum_delegates: int = 2
    forum_time: float = 0.2
    forum_mention: float = 0.6
    forum_rule: str = "power"
    forum_anchoring: float = 0.2
    forum_tie_rate: float = 0.03
    forum_learning: float = 0.3
    stagnation_window: int = 8
    shock_drop: float = 0.05
    low_trust: float = 0.35
    burnout_alarm: float = 0.1
    backlog_alarm: float = 0.15
    readiness: float = 0.75
    hysteresis: float = 0.3
    attention: float = 1.0
    span_reference: int = 25
    attention_cost: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_ATTENTION_COSTS))
    read_attention: float = 0.05
    forum_interval: int = 3
    forum_patience: int = 6
    forum_party_delay: float = 0.5
    forum_party_time: float = 0.05
    distance_noise: float = 1.0
    role_pull: float = 0.3
    socialisation: float = 0.02

    def __post_init__(self) -> None:
        _check_choice("leadership.style", self.style, STYLES)
        for name, behaviour in self.behaviours.items():
            _check_choice("leadership.behaviours", name, STYLES)
            behaviour.validate(f"leadership.behaviours.{name}")
        missing = [s for s in STYLES if s not in self.behaviours]
        if missing:
            raise ConfigError("leadership.behaviours", sorted(self.behaviours),
                              "needs every style: " + ", ".join(STYLES))
        _check_range("leadership.leader_capacity", self.leader_capacity, 1, 1000, integer=True)
        _check_unit("leadership.leader_skill", self.leader_skill)
        _check_range("leadership.forum_capacity", self.forum_capacity, 1, 1000, integer=True)
        _check_range("leadership.forum_delegates", self.forum_delegates, 1, 100, integer=True)
        _check_unit("leadership.forum_time", self.forum_time)
        _check_unit("leadership.forum_mention", self.forum_mention)
        _check_choice("leadership.forum_rule", self.forum_rule, FORUM_RULES)
        _check_unit("leadership.forum_anchoring", self.forum_anchoring)
        _check_unit("leadership.forum_tie_rate", self.forum_tie_rate)
        _check_unit("leadership.forum_learning", self.forum_learning)
        _check_range("leadership.stagnation_window", self.stagnation_window, 1, None, integer=True)
        _check_unit("leadership.shock_drop", self.shock_drop)
        _check_unit("leadership.low_trust", self.low_trust)
        _check_unit("leadership.burnout_alarm", self.burnout_alarm)
        _check_unit("leadership.backlog_alarm", self.backlog_alarm)
        _check_unit("leadership.readiness", self.readiness)
        _check_unit("leadership.hysteresis", self.hysteresis)
        _check_range("leadership.attention", self.attention, 0.0, 100.0)
        _check_range("leadership.span_reference", self.span_reference, 1, 100_000, integer=True)
        if not isinstance(self.attention_cost, Mapping) or set(self.attention_cost) != set(BEHAVIOUR_FIELDS):
            raise ConfigError("leadership.attention_cost", self.attention_cost,
                              "needs exactly the keys " + ", ".join(BEHAVIOUR_FIELDS))
        for key in BEHAVIOUR_FIELDS:
            _check_range(f"leadership.attention_cost.{key}", self.attention_cost[key], 0.0, 10.0)
        _check_range("leadership.read_attention", self.read_attention, 0.0, 10.0)
        _check_range("leadership.forum_interval", self.forum_interval, 1, 1000, integer=True)
        _check_range("leadership.forum_patience", self.forum_patience, 0, 1000, integer=True)
        _check_range("leadership.forum_party_delay", self.forum_party_delay, 0.0, 100.0)
        _check_unit("leadership.forum_party_time", self.forum_party_time)
        _check_range("leadership.distance_noise", self.distance_noise, 0.0, 100.0)
        _check_unit("leadership.role_pull", self.role_pull)
        _check_unit("leadership.socialisation", self.socialisation)


@dataclass(frozen=True)
class NetworkParams:
    """The collaboration network between professionals (Lazer & Friedman 2007).

    Attributes:
        structure: ``siloed``, ``small_world``, ``random``, ``linear`` or ``full``.
        degree: Mean number of ties per professional (siloed, small_world, random).
        rewiring: Watts-Strogatz rewiring probability (small_world); in ``siloed``, the
            number of bridging ties added between organisations, as a share of the ties
            within them.
        initial_trust: Trust between organisations and on ties at the start.
        governance: Mode of network governance (Provan & Kenis 2008). ``participant``: the
            partners govern together, any leader may convene a forum, which decides by
            ``leadership.forum_rule``. ``lead_organisation``: one partner's leader decides
            network matters (referred proposals, and the consent to cross-boundary changes)
            at once, within its attention. ``nao``: a network administrative organisation, a
            facilitator with its own attention, convenes the forum on every forum date, and
            the partners pay for it.
        lead: Name of the lead organisation (``lead_organisation`` mode); empty: the most
            powerful organisation.
        nao_attention: Attention of the network administrative organisation per step.
        nao_levy: Share of each public organisation's production capacity that pays for the
            network administrative organisation.
    """

    structure: str = "small_world"
    degree: int = 6
    rewiring: float = 0.1
    initial_trust: float = 0.5
    governance: str = "participant"
    lead: str = ""
    nao_attention: float = 1.0
    nao_levy: float = 0.02

    def __post_init__(self) -> None:
        _check_choice("network.structure", self.structure, NETWORK_STRUCTURES)
        _check_range("network.degree", self.degree, 2, 1000, integer=True)
        _check_unit("network.rewiring", self.rewiring)
        _check_unit("network.initial_trust", self.initial_trust)
        _check_choice("network.governance", self.governance, GOVERNANCE_MODES)
        if not isinstance(self.lead, str):
            raise ConfigError("network.lead", self.lead, "must be an organisation's name (or empty)")
        _check_range("network.nao_attention", self.nao_attention, 0.0, 100.0)
        _check_unit("network.nao_levy", self.nao_levy)


@dataclass(frozen=True)
class WorkforceParams:
    """Professionals: expertise, search, judgement, work, energy, voice, learning.

    Attributes:
        domain_size: Decisions in a profession's domain.
        extra_understood: Further decisions each professional understands at the start.
        skill_mean: Mean judgement skill in [0, 1]; noise sd is ``noise * (1 - skill)``.
        skill_sd: Spread of skill between professionals.
        noise: Judgement noise of a professional with skill 0.
        heuristic_k: Step sizes per search heuristic (Hong & Page's k).
        heuristic_l: Largest step size (Hong & Page's l).
        radius_max: Largest number of decisions one proposal changes.
        productivity: Output per unit of production time at full efficiency.
        duty: Share of a production shortfall professionals make up from their
            discretionary time of their own accord, without target pressure (public
            service motivation; Perry & Wise 1990).
        base_demand: Value demand on an organisation per step, as a share of its staff's
            full-time capacity.
        failure_demand: Extra demand per unit of its clients' unmet need (the share of the
            optimal performance of its own decisions that the current configuration
            misses), as a share of capacity: failure demand (Seddon 2008).
        backlog_decay: Share of unserved demand that leaves the queue each step (clients
            give up or go elsewhere); the rest carries over.
        exhaustion_cost: Share of efficiency lost at zero energy (exhaustion lowers
            performance; Bakker & Demerouti 2007).
        energy_drain: Energy lost per unit of (buffered) job demand per step.
        energy_recovery: Energy restored per step at full resources.
        recovery_base: Share of recovery that needs no job resources (rest).
        buffering: How far job resources buffer job demands (Bakker & Demerouti 2007).
        motivation: Weight of engagement (energy times resources) in whether a
            professional with time for the shared problem actually searches (JD-R's
            motivational path).
        energy_noise: Sd of the random change of energy per step (good and bad days).
        contagion: Extra energy drain per step at a full share of burnt-out ties
            (burnout contagion; Bakker, Le Blanc & Schaufeli 2005).
        strain_load: Job demand per unit of role strain.
        strain_noise: Extra judgement noise per unit of role strain, as a multiple (a
            professional torn between roles judges worse; assumption).
        deployment_load: Job demand of working away from home on surge deployment.
        burnout_threshold: Energy below which a professional burns out.
        burnout_duration: Steps a burnt-out professional is absent.
        return_energy: Energy with which a professional returns from burnout (at least).
        initial_energy: Mean energy at the start (uniform within ``initial_energy_spread``).
        initial_energy_spread: Half-width of the uniform spread of initial energy.
        resilience_sd: Log-scale spread of resilience (a divisor of energy drain).
        learning_rate: Chance per step of learning a decision from a trusted tie, at
            full investment in learning.
        practice_gain: Skill gained per step of search (practice), at full investment in
            learning, scaled by ``1 - skill``.
        resource_weights: Weights of the leader's autonomy, the leader's support and trust on
            one's ties in a professional's job resources (JD-R; equal weights: assumption).
        learning_time: Share of a step each professional spends on learning (training,
            communities of practice) at full investment in learning: time that neither the
            shared problem nor production gets (assumption).
        majority_voice: Propensity of a majority-background professional to raise a
            proposal at full psychological safety, efficacy and energy.
        minority_voice: The same for a minority-background professional.
        voice_energy: Energy below which the propensity to speak up falls in proportion.
        initial_safety: Psychological safety each professional starts with.
        initial_efficacy: Voice efficacy each professional starts with.
        safety_gain: Share of the distance to full safety gained after an appreciative
            answer to speaking up (Edmondson 1999).
        safety_loss: Share of safety lost after a dismissive answer.
        vicarious: Weight with which colleagues tied to a proposer in its organisation
            take the answer it got into their own safety (safety is a shared belief of a
            team; Edmondson 1999).
        efficacy_gain: Share of the distance to full efficacy gained when a raised
            proposal is answered or enacted.
        efficacy_loss: Share of efficacy lost when a raised proposal goes unanswered
            (futility; Morrison 2014).
        status_discount: Chance that a decision-maker overlooks a raised proposal of a
            minority-background professional (status; Berger, Cohen & Zelditch 1972).
        standing_base: Standing gained per step by a professional of full skill whose
            ties trust it fully.
        standing_gain: Informal leadership standing gained per adopted proposal.
        standing_decay: Share of standing lost per step.
        informal_leader_threshold: Standing at which a professional is an informal leader.
        baseline_problem_time: Share of time on the shared problem when the time
            allocation mechanism is switched off (neutral replacement).
    """

    domain_size: int = 3
    extra_understood: int = 2
    skill_mean: float = 0.6
    skill_sd: float = 0.15
    noise: float = 0.05
    heuristic_k: int = 3
    heuristic_l: int = 6
    radius_max: int = 2
    productivity: float = 1.0
    duty: float = 0.5
    base_demand: float = 0.5
    failure_demand: float = 1.0
    backlog_decay: float = 0.5
    exhaustion_cost: float = 0.5
    energy_drain: float = 0.04
    energy_recovery: float = 0.06
    recovery_base: float = 0.4
    buffering: float = 0.5
    motivation: float = 0.5
    energy_noise: float = 0.02
    contagion: float = 0.05
    strain_load: float = 1.0
    strain_noise: float = 0.5
    deployment_load: float = 0.3
    burnout_threshold: float = 0.15
    burnout_duration: int = 6
    return_energy: float = 0.5
    initial_energy: float = 0.85
    initial_energy_spread: float = 0.15
    resilience_sd: float = 0.25
    learning_rate: float = 0.2
    practice_gain: float = 0.01
    learning_time: float = 0.05
    resource_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RESOURCE_WEIGHTS))
    majority_voice: float = 0.9
    minority_voice: float = 0.6
    voice_energy: float = 0.5
    initial_safety: float = 0.7
    initial_efficacy: float = 0.7
    safety_gain: float = 0.05
    safety_loss: float = 0.15
    vicarious: float = 0.5
    efficacy_gain: float = 0.05
    efficacy_loss: float = 0.05
    status_discount: float = 0.2
    standing_base: float = 0.04
    standing_gain: float = 0.25
    standing_decay: float = 0.05
    informal_leader_threshold: float = 0.6
    baseline_problem_time: float = 0.3

    def __post_init__(self) -> None:
        _check_range("workforce.domain_size", self.domain_size, 1, 30, integer=True)
        _check_range("workforce.extra_understood", self.extra_understood, 0, 30, integer=True)
        _check_unit("workforce.skill_mean", self.skill_mean)
        _check_range("workforce.skill_sd", self.skill_sd, 0.0, 1.0)
        _check_range("workforce.noise", self.noise, 0.0, 10.0)
        _check_range("workforce.heuristic_k", self.heuristic_k, 1, 10, integer=True)
        _check_range("workforce.heuristic_l", self.heuristic_l, 1, 100, integer=True)
        if self.heuristic_k > self.heuristic_l:
            raise ConfigError(
                "workforce.heuristic_k", self.heuristic_k, f"must not exceed workforce.heuristic_l={self.heuristic_l}"
            )
        _check_range("workforce.radius_max", self.radius_max, 1, 10, integer=True)
        _check_range("workforce.productivity", self.productivity, 0.0, 100.0, low_open=True)
        _check_range("workforce.base_demand", self.base_demand, 0.0, 2.0)
        _check_range("workforce.failure_demand", self.failure_demand, 0.0, 5.0)
        _check_range("workforce.resilience_sd", self.resilience_sd, 0.0, 2.0)
        _check_range("workforce.strain_load", self.strain_load, 0.0, 10.0)
        _check_range("workforce.strain_noise", self.strain_noise, 0.0, 10.0)
        _check_range("workforce.deployment_load", self.deployment_load, 0.0, 10.0)
        for name in ("backlog_decay", "exhaustion_cost", "energy_drain", "energy_recovery", "recovery_base",
                     "buffering", "motivation", "energy_noise", "contagion", "burnout_threshold", "return_energy",
                     "initial_energy", "initial_energy_spread", "duty", "vicarious", "learning_rate", "practice_gain",
                     "majority_voice", "learning_time",
                     "minority_voice", "voice_energy", "initial_safety", "initial_efficacy", "safety_gain",
                     "safety_loss", "efficacy_gain", "efficacy_loss", "status_discount", "standing_decay",
                     "standing_base", "baseline_problem_time"):
            _check_unit(f"workforce.{name}", getattr(self, name))
        if not isinstance(self.resource_weights, Mapping) or set(self.resource_weights) != set(RESOURCE_NAMES):
            raise ConfigError("workforce.resource_weights", self.resource_weights,
                              "needs exactly the keys " + ", ".join(RESOURCE_NAMES))
        for key in RESOURCE_NAMES:
            _check_unit(f"workforce.resource_weights.{key}", self.resource_weights[key])
        if sum(self.resource_weights.values()) <= 0:
            raise ConfigError("workforce.resource_weights", dict(self.resource_weights), "needs a positive weight")
        _check_range("workforce.burnout_duration", self.burnout_duration, 0, None, integer=True)
        _check_range("workforce.standing_gain", self.standing_gain, 0.0, 100.0)
        _check_range("workforce.informal_leader_threshold", self.informal_leader_threshold, 0.0, 1000.0,
                     low_open=True)


@dataclass(frozen=True)
class TrustParams:
    """How trust between organisations moves (docs/ODD.md, schedule steps 5-6).

    Help and harm count alike: an organisation moves its trust in another by the
    effect of that organisation's changes on its own goal as it perceives it (with
    attribution noise), and forgives over time.

    Attributes:
        harm_loss: Trust lost per unit of perceived harm to the organisation's goal.
        help_gain: Trust gained per unit of perceived help to its goal.
        attribution_noise: Sd of the error with which an organisation perceives the
            effect of another's changes on it.
        forum_gain: Share of the distance to full (or zero) trust moved between
            organisations that met in a forum whose decisions served (or hurt) them
            (small wins; Ansell & Gash 2008).
        tie_adjustment: Rate at which tie trust moves towards trust between the
            professionals' organisations (or, within one, their psychological safety).
        forgiveness: Rate per step at which trust between organisations drifts back
            towards ``network.initial_trust``.
    """

    harm_loss: float = 1.0
    help_gain: float = 1.0
    attribution_noise: float = 0.01
    forum_gain: float = 0.05
    tie_adjustment: float = 0.2
    forgiveness: float = 0.01

    def __post_init__(self) -> None:
        _check_range("trust.harm_loss", self.harm_loss, 0.0, 100.0)
        _check_range("trust.help_gain", self.help_gain, 0.0, 100.0)
        _check_range("trust.attribution_noise", self.attribution_noise, 0.0, 1.0)
        _check_unit("trust.forum_gain", self.forum_gain)
        _check_unit("trust.tie_adjustment", self.tie_adjustment)
        _check_unit("trust.forgiveness", self.forgiveness)


MECHANISMS: tuple[str, ...] = (
    "decision_rules", "time_allocation", "forum_information", "forum_trust", "mandates", "failure_demand",
    "voice_dynamics", "consent", "wellbeing", "learning", "status", "incentives", "attention",
    "collaborative_inertia", "role_socialisation",
)
"""Mechanisms with an off switch, in the order of :class:`MechanismParams`."""


@dataclass(frozen=True)
class MechanismParams:
    """Off switches of the mechanisms, each with a named neutral replacement (ablation).

    With every switch off the model is independent local search on the shared
    landscape: every professional with time searches and enacts what it judges an
    improvement, and no style has any channel left (see docs/mechanisms.md).

    Attributes:
        decision_rules: Styles' decision rules; off: every proposer decides its own proposal.
        time_allocation: Demand, targets and autonomy allocate time; off: everyone spends
            ``workforce.baseline_problem_time`` on the shared problem, no forums meet.
        forum_information: Forums pool what attendees voice; off: only what the proposer
            understands is voiced (each delegate still reads it with its own goal and noise).
        forum_trust: Forums move trust by their results; off: they do not.
        mandates: Organisations have own mandates; off: each mandate is the shared value.
        failure_demand: A poorly solved problem adds demand; off: demand is value demand.
        voice_dynamics: Answers move safety and efficacy; off: both stay at their start.
        consent: Changes to others' decisions need consent; off: all consent is given.
        wellbeing: Job demands and resources move energy; off: energy stays, no burnout.
        learning: Learning from ties, forums and practice; off: nobody learns.
        status: Status discount of minority proposals; off: none.
        incentives: Contingent reward pulls expected roles; off: it does not.
        attention: Leaders' attention is limited and behaviours draw on it; off: unlimited.
        collaborative_inertia: Forums meet only on forum dates, slow down with more parties
            and less trust, and cost delegates more time per party; off: a forum can meet
            every step and gets through its whole capacity.
        role_socialisation: What leaders do pulls the felt role expectation, orientations
            drift towards it and strain clouds judgement; off: the paradigm mix (and
            incentives) alone set the expectation, orientations stay, strain adds no noise.
    """

    decision_rules: bool = True
    time_allocation: bool = True
    forum_information: bool = True
    forum_trust: bool = True
    mandates: bool = True
    failure_demand: bool = True
    voice_dynamics: bool = True
    consent: bool = True
    wellbeing: bool = True
    learning: bool = True
    status: bool = True
    incentives: bool = True
    attention: bool = True
    collaborative_inertia: bool = True
    role_socialisation: bool = True

    def __post_init__(self) -> None:
        for name in MECHANISMS:
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"mechanisms.{name}", getattr(self, name), "must be true or false")

    @classmethod
    def all_off(cls) -> MechanismParams:
        """Every mechanism switched off (the documented baseline)."""
        return cls(**{name: False for name in MECHANISMS})


@dataclass(frozen=True)
class RunParams:
    """How long and how often to run.

    Attributes:
        steps: Steps (rounds, about a month each) per replication.
        replications: Replications per parameter point.
        seed: Experiment seed; replication seeds are spawned from it.
        collect_agents: Also collect agent-level data every step (written to ``agents.parquet``).
    """

    steps: int = 200
    replications: int = 10
    seed: int = 12345
    collect_agents: bool = False

    def __post_init__(self) -> None:
        _check_range("run.steps", self.steps, 1, 1_000_000, integer=True)
        _check_range("run.replications", self.replications, 1, 1_000_000, integer=True)
        _check_range("run.seed", self.seed, 0, 2**63 - 1, integer=True)
        if not isinstance(self.collect_agents, bool):
            raise ConfigError("run.collect_agents", self.collect_agents, "must be true or false")


@dataclass(frozen=True)
class ModelParams:
    """Everything one run of the model needs."""

    problem: ProblemParams = field(default_factory=ProblemParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    roles: RoleParams = field(default_factory=RoleParams)
    leadership: LeadershipParams = field(default_factory=LeadershipParams)
    network: NetworkParams = field(default_factory=NetworkParams)
    workforce: WorkforceParams = field(default_factory=WorkforceParams)
    trust: TrustParams = field(default_factory=TrustParams)
    mechanisms: MechanismParams = field(default_factory=MechanismParams)
    run: RunParams = field(default_factory=RunParams)

    def __post_init__(self) -> None:
        n_orgs = len(self.scenario.organisations)
        if self.problem.type == "nk" and self.problem.N < n_orgs:
            raise ConfigError(
                "problem.N", self.problem.N, f"must be at least the number of organisations ({n_orgs})"
            )
        for shock in self.problem.shocks:
            if shock.step > self.run.steps:
                raise ConfigError("problem.shocks.step", shock.step, f"must be at most run.steps={self.run.steps}")
        if self.problem.type == "nk":
            self._check_cross_boundary()
        if self.network.structure in ("siloed", "small_world", "random"):
            n = self.scenario.n_professionals
            if self.network.degree >= n:
                raise ConfigError("network.degree", self.network.degree,
                                  f"must be smaller than the number of professionals ({n})")

    def _check_cross_boundary(self) -> None:
        from sim.landscape import external_counts, realisable_cross_boundary, split_decisions

        owner = split_decisions(np.array([o.decision_weight for o in self.scenario.organisations]), self.problem.N)
        if external_counts(owner, self.problem.K, self.problem.cross_boundary) is None:
            span = realisable_cross_boundary(owner, self.problem.K)
            sizes = np.bincount(owner)
            where = f"only [{span[0]:.3g}, {span[1]:.3g}]" if span else "no share"
            raise ConfigError("problem.cross_boundary", self.problem.cross_boundary,
                              f"{where} can be realised with K={self.problem.K} and N={self.problem.N} decisions "
                              f"owned {min(sizes)} to {max(sizes)} per organisation (an organisation needs at least "
                              f"K+1 decisions for a share of 0)")

    def owners(self) -> np.ndarray:
        """Owning organisation of each decision (blocks in organisation order, by weight)."""
        from sim.landscape import split_decisions

        return split_decisions(np.array([o.decision_weight for o in self.scenario.organisations]), self.problem.N)

    def behaviour_of(self, org_index: int, style: str | None = None) -> Behaviour:
        """Behaviour of the leader of ``org_index`` acting in ``style`` (default: its own).

        The style's profile, with the organisation's own ``behaviour`` values on top.
        """
        spec = self.scenario.organisations[org_index]
        base = self.leadership.behaviours[style or self.style_of(org_index)]
        return base.replace(**spec.behaviour) if spec.behaviour else base

    def goal_of(self, org_index: int) -> float:
        """Goal orientation of ``org_index``: weight on its own mandate."""
        own = self.scenario.organisations[org_index].goal_orientation
        return self.scenario.goal_orientation if own is None else own

    def style_of(self, org_index: int) -> str:
        """Leadership style of the organisation at ``org_index``."""
        own = self.scenario.organisations[org_index].leadership
        return own if own is not None else self.leadership.style


# --------------------------------------------------------------------------- building

_SECTIONS: dict[str, type] = {
    "problem": ProblemParams,
    "scenario": ScenarioParams,
    "roles": RoleParams,
    "leadership": LeadershipParams,
    "network": NetworkParams,
    "workforce": WorkforceParams,
    "trust": TrustParams,
    "mechanisms": MechanismParams,
    "run": RunParams,
}


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # cached: validating a large sweep calls this per point


def _coerce_int(path: str, value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _build(cls: type, data: Any, path: str) -> Any:
    """Build dataclass ``cls`` from mapping ``data``, rejecting unknown keys."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(path, data, f"must be a mapping of {cls.__name__} fields")
    hints = _field_types(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{path}.{unknown[0]}", data[unknown[0]], "unknown key; known keys: " + ", ".join(names))
    kwargs: dict[str, Any] = {}
    for name in names:
        if name not in data:
            continue
        kwargs[name] = _convert(hints[name], data[name], f"{path}.{name}")
    try:
        obj = cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(path, dict(data), f"incomplete: {exc}") from None
    return obj


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            raise ConfigError(path, value, "must not be empty")
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, path)
    if dataclasses.is_dataclass(hint):
        if hint is Shock and isinstance(value, Mapping):
            return _build(Shock, value, path)
        return _build(hint, value, path)
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ConfigError(path, value, "must be a list")
        return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (Mapping, dict) or hint is Mapping:
        if not isinstance(value, Mapping):
            raise ConfigError(path, value, "must be a mapping")
        vtype = args[1] if len(args) == 2 else Any
        if path.endswith("behaviours"):
            return _merge_behaviours(value, path)
        for suffix, defaults in (("attention_cost", DEFAULT_ATTENTION_COSTS),
                                 ("resource_weights", DEFAULT_RESOURCE_WEIGHTS)):
            if path.endswith(suffix):  # a partial mapping keeps the other defaults
                unknown = sorted(set(value) - set(defaults))
                if unknown:
                    raise ConfigError(f"{path}.{unknown[0]}", value[unknown[0]],
                                      "unknown key; known keys: " + ", ".join(defaults))
                return {**defaults, **{str(k): v for k, v in value.items()}}
        return {str(k): _convert(vtype, v, f"{path}.{k}") for k, v in value.items()}
    if hint is int:
        return _coerce_int(path, value)
    if hint is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # a YAML number used as a name, e.g. 2020
        if not isinstance(value, str):
            raise ConfigError(path, value, "must be a string")
    return value


def _merge_behaviours(value: Mapping[str, Any], path: str) -> dict[str, Behaviour]:
    """Behaviour profiles: the defaults with the given values of any style replaced."""
    merged = dict(DEFAULT_BEHAVIOURS)
    for style, given in value.items():
        if style not in STYLES:
            raise ConfigError(f"{path}.{style}", given, "unknown style; styles: " + ", ".join(STYLES))
        if isinstance(given, Behaviour):
            merged[style] = given
            continue
        if not isinstance(given, Mapping):
            raise ConfigError(f"{path}.{style}", given, "must be a mapping of behaviour values")
        unknown = sorted(set(given) - set(BEHAVIOUR_FIELDS))
        if unknown:
            raise ConfigError(f"{path}.{style}.{unknown[0]}", given[unknown[0]],
                              "unknown key; known keys: " + ", ".join(BEHAVIOUR_FIELDS))
        merged[style] = DEFAULT_BEHAVIOURS[style].replace(**given)
    return merged


def build_params(config: Mapping[str, Any]) -> ModelParams:
    """Build validated :class:`ModelParams` from a nested plain mapping.

    Args:
        config: Mapping with any of the sections ``problem``, ``scenario``, ``roles``,
            ``leadership``, ``network``, ``workforce``, ``trust``, ``mechanisms``, ``run``. Missing
            sections and keys take their defaults.

    Returns:
        The validated parameters.

    Raises:
        ConfigError: If a key is unknown or a value is not allowed.
    """
    if not isinstance(config, Mapping):
        raise ConfigError("config", config, "must be a mapping of sections")
    unknown = sorted(set(config) - set(_SECTIONS))
    if unknown:
        raise ConfigError(unknown[0], config[unknown[0]], "unknown section; sections: " + ", ".join(_SECTIONS))
    kwargs = {name: _build(cls, config[name], name) for name, cls in _SECTIONS.items() if name in config}
    return ModelParams(**kwargs)


def params_to_dict(params: Any) -> Any:
    """Plain nested dict/list form of parameters (JSON-serialisable)."""
    if dataclasses.is_dataclass(params):
        return {f.name: params_to_dict(getattr(params, f.name)) for f in dataclasses.fields(params)}
    if isinstance(params, Mapping):
        return {str(k): params_to_dict(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [params_to_dict(v) for v in params]
    return params
