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

    The contribution tables hold ``N x 2^(K+1)`` float64 values; a turbulence or shock
    redraw allocates at most as much again. An exact optimum enumerates ``2^N``
    configurations (sums, fitness, local-optimum flags and codes, about 32 bytes each).
    """
    tables = 2 * n * (1 << (k + 1)) * 8
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
        exact_optimum_max_n: Largest N whose global optimum is found by enumeration;
            above it the optimum is estimated by the best of many adaptive walks.
    """

    type: str = "nk"
    N: int = 16
    K: int = 4
    cross_boundary: float = 0.5
    turbulence: float = 0.0
    shocks: tuple[Shock, ...] = ()
    exact_optimum_max_n: int = 22

    def __post_init__(self) -> None:
        _check_choice("problem.type", self.type, PROBLEM_TYPES)
        _check_range("problem.N", self.N, 1, 30, integer=True)
        _check_range("problem.K", self.K, 0, None, integer=True)
        if self.K >= self.N:
            raise ConfigError("problem.K", self.K, f"must be smaller than problem.N={self.N}")
        _check_unit("problem.cross_boundary", self.cross_boundary)
        _check_unit("problem.turbulence", self.turbulence)
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
        pressure: Production-target pressure in [0, 1]; ``None`` takes the style's.
        autonomy: Room to deviate from routine production for the shared problem (e.g.
            working to the spirit of the rule) in [0, 1]; ``None`` takes the style's.
        kind: ``public`` or ``external`` (citizens, firms, non-profits).
    """

    name: str
    size: int = 25
    decision_weight: float = 1.0
    paradigm: Mapping[str, float] | None = None
    leadership: str | None = None
    pressure: float | None = None
    autonomy: float | None = None
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
        if self.pressure is not None:
            _check_unit(f"{path}.pressure", self.pressure)
        if self.autonomy is not None:
            _check_unit(f"{path}.autonomy", self.autonomy)
        _check_choice(f"{path}.kind", self.kind, ORGANISATION_KINDS)


def _default_orgs() -> tuple[OrganisationSpec, ...]:
    return tuple(OrganisationSpec(name=f"org{i + 1}") for i in range(8))


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
        surge_duration: Steps a surge deployment lasts before staff return home; also
            the steps over which a shock's extra workload fades.
        shock_workload: Extra workload on everyone right after a shock (crisis,
            remote-work strain), fading linearly over ``surge_duration`` steps.
    """

    name: str = "default"
    description: str = ""
    source: str = ""
    organisations: tuple[OrganisationSpec, ...] = field(default_factory=_default_orgs)
    minority_share: float = 0.2
    surge_reserve: float = 0.0
    surge_duration: int = 12
    shock_workload: float = 0.0

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
        _check_range("scenario.surge_duration", self.surge_duration, 1, None, integer=True)
        _check_range("scenario.shock_workload", self.shock_workload, 0.0, 10.0)

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
class Climate:
    """What a leadership style does to the working climate (MODEL.md step 1).

    All values lie in [0, 1].

    Attributes:
        autonomy: Room professionals get to spend time on the shared problem.
        pressure: Production-target pressure.
        convening: Share of staff time in cross-boundary forums.
        learning: Investment in learning.
        safety: Psychological safety (inclusion).
        support: Support for well-being.
    """

    autonomy: float
    pressure: float
    convening: float
    learning: float
    safety: float
    support: float

    def validate(self, path: str) -> None:
        """Check every value lies in [0, 1]."""
        for f in dataclasses.fields(self):
            _check_unit(f"{path}.{f.name}", getattr(self, f.name))


DEFAULT_CLIMATES: dict[str, Climate] = {
    "directive": Climate(autonomy=0.2, pressure=0.6, convening=0.0, learning=0.3, safety=0.3, support=0.3),
    "transactional": Climate(autonomy=0.4, pressure=0.8, convening=0.0, learning=0.2, safety=0.4, support=0.2),
    "facilitative": Climate(autonomy=0.6, pressure=0.4, convening=0.15, learning=0.6, safety=0.7, support=0.6),
    "shared": Climate(autonomy=0.8, pressure=0.4, convening=0.05, learning=0.8, safety=0.7, support=0.6),
    "situational": Climate(autonomy=0.5, pressure=0.5, convening=0.05, learning=0.5, safety=0.6, support=0.5),
    "laissez_faire": Climate(autonomy=0.9, pressure=0.2, convening=0.0, learning=0.0, safety=0.3, support=0.0),
}
"""Default climate of each style; a config may override any value of any style."""


@dataclass(frozen=True)
class LeadershipParams:
    """Leadership styles of the organisations' formal leaders.

    Attributes:
        style: Style of every organisation that does not name its own.
        climates: Climate of each style (defaults in :data:`DEFAULT_CLIMATES`).
        forum_capacity: Most proposals a facilitative forum adopts per step.
        leader_skill: Judgement skill of formal leaders (directive) in [0, 1].
        stagnation_window: Steps without improvement the situational style calls stagnation.
        shock_drop: Fall since the last step, in normalised public value or relative to
            the organisation's own performance, that it calls a shock.
        low_trust: Mean trust below which it calls trust low.
        burnout_alarm: Burnout rate above which it calls burnout.
    """

    style: str = "directive"
    climates: Mapping[str, Climate] = field(default_factory=lambda: dict(DEFAULT_CLIMATES))
    forum_capacity: int = 3
    leader_skill: float = 0.6
    stagnation_window: int = 8
    shock_drop: float = 0.05
    low_trust: float = 0.35
    burnout_alarm: float = 0.15

    def __post_init__(self) -> None:
        _check_choice("leadership.style", self.style, STYLES)
        for name, climate in self.climates.items():
            _check_choice("leadership.climates", name, STYLES)
            climate.validate(f"leadership.climates.{name}")
        missing = [s for s in STYLES if s not in self.climates]
        if missing:
            raise ConfigError("leadership.climates", sorted(self.climates), "needs every style: " + ", ".join(STYLES))
        _check_range("leadership.forum_capacity", self.forum_capacity, 1, 1000, integer=True)
        _check_unit("leadership.leader_skill", self.leader_skill)
        _check_range("leadership.stagnation_window", self.stagnation_window, 1, None, integer=True)
        _check_unit("leadership.shock_drop", self.shock_drop)
        _check_unit("leadership.low_trust", self.low_trust)
        _check_unit("leadership.burnout_alarm", self.burnout_alarm)


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
    """

    structure: str = "small_world"
    degree: int = 6
    rewiring: float = 0.1
    initial_trust: float = 0.5

    def __post_init__(self) -> None:
        _check_choice("network.structure", self.structure, NETWORK_STRUCTURES)
        _check_range("network.degree", self.degree, 2, 1000, integer=True)
        _check_unit("network.rewiring", self.rewiring)
        _check_unit("network.initial_trust", self.initial_trust)


@dataclass(frozen=True)
class WorkforceParams:
    """Professionals: expertise, search, judgement, energy, learning, voice.

    Attributes:
        domain_size: Decisions in a profession's domain.
        extra_understood: Further decisions each professional understands at the start.
        skill_mean: Mean judgement skill in [0, 1]; noise sd is ``noise * (1 - skill)``.
        skill_sd: Spread of skill between professionals.
        noise: Judgement noise of a professional with skill 0.
        heuristic_k: Step sizes per search heuristic (Hong & Page's k).
        heuristic_l: Largest step size (Hong & Page's l).
        radius_max: Largest number of decisions one proposal changes.
        productivity: Production per unit of production time.
        energy_drain: Energy lost per unit of workload per step.
        energy_recovery: Energy restored per unit of autonomy and support per step.
        burnout_threshold: Energy below which a professional burns out.
        burnout_duration: Steps a burnt-out professional is inactive.
        learning_rate: Chance per step of learning a decision from a trusted tie, at
            full investment in learning.
        practice_gain: Skill gained per step of search (practice), at full investment in
            learning, scaled by ``1 - skill``.
        majority_voice: Chance a majority-background professional raises a proposal
            when psychological safety is zero.
        minority_voice: The same for a minority-background professional.
        standing_base: Standing gained per step by a professional of full skill whose
            ties trust it fully.
        standing_gain: Informal leadership standing gained per adopted proposal.
        standing_decay: Share of standing lost per step.
        informal_leader_threshold: Standing at which a professional is an informal leader.
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
    energy_drain: float = 0.04
    energy_recovery: float = 0.03
    burnout_threshold: float = 0.15
    burnout_duration: int = 6
    learning_rate: float = 0.2
    practice_gain: float = 0.01
    majority_voice: float = 0.8
    minority_voice: float = 0.3
    standing_base: float = 0.04
    standing_gain: float = 0.25
    standing_decay: float = 0.05
    informal_leader_threshold: float = 0.6

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
        _check_range("workforce.productivity", self.productivity, 0.0, 100.0)
        for name in ("energy_drain", "energy_recovery", "burnout_threshold", "learning_rate", "practice_gain",
                     "majority_voice", "minority_voice", "standing_decay", "standing_base"):
            _check_unit(f"workforce.{name}", getattr(self, name))
        _check_range("workforce.burnout_duration", self.burnout_duration, 0, None, integer=True)
        _check_range("workforce.standing_gain", self.standing_gain, 0.0, 100.0)
        _check_range("workforce.informal_leader_threshold", self.informal_leader_threshold, 0.0, 1000.0,
                     low_open=True)


@dataclass(frozen=True)
class TrustParams:
    """How trust between organisations moves (MODEL.md steps 5-6).

    Attributes:
        harm_loss: Trust lost by an organisation hurt by another's change, per unit of
            its own (raw, mean-contribution) performance lost.
        help_gain: Trust gained from a shared change that helped, per unit gained.
        forum_gain: Trust gained per step between organisations meeting in a forum.
        tie_adjustment: Rate at which tie trust moves towards trust between the
            professionals' organisations.
        forgiveness: Rate per step at which trust between organisations drifts back
            towards ``network.initial_trust`` (harm is slowly forgotten).
    """

    harm_loss: float = 1.0
    help_gain: float = 1.0
    forum_gain: float = 0.02
    tie_adjustment: float = 0.2
    forgiveness: float = 0.01

    def __post_init__(self) -> None:
        _check_range("trust.harm_loss", self.harm_loss, 0.0, 100.0)
        _check_range("trust.help_gain", self.help_gain, 0.0, 100.0)
        _check_unit("trust.forum_gain", self.forum_gain)
        _check_unit("trust.tie_adjustment", self.tie_adjustment)
        _check_unit("trust.forgiveness", self.forgiveness)


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
        if self.network.structure in ("siloed", "small_world", "random"):
            n = self.scenario.n_professionals
            if self.network.degree >= n:
                raise ConfigError("network.degree", self.network.degree,
                                  f"must be smaller than the number of professionals ({n})")

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
        if path.endswith("climates"):
            merged = dict(DEFAULT_CLIMATES)
            for style, climate in value.items():
                if style not in STYLES:
                    raise ConfigError(f"{path}.{style}", climate, "unknown style; styles: " + ", ".join(STYLES))
                base = dataclasses.asdict(DEFAULT_CLIMATES[style])
                if not isinstance(climate, Mapping):
                    raise ConfigError(f"{path}.{style}", climate, "must be a mapping of climate values")
                unknown = sorted(set(climate) - set(base))
                if unknown:
                    raise ConfigError(f"{path}.{style}.{unknown[0]}", climate[unknown[0]],
                                      "unknown key; known keys: " + ", ".join(base))
                base.update(climate)
                merged[style] = Climate(**base)
            return merged
        return {str(k): _convert(vtype, v, f"{path}.{k}") for k, v in value.items()}
    if hint is int:
        return _coerce_int(path, value)
    if hint is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # a YAML number used as a name, e.g. 2020
        if not isinstance(value, str):
            raise ConfigError(path, value, "must be a string")
    return value


def build_params(config: Mapping[str, Any]) -> ModelParams:
    """Build validated :class:`ModelParams` from a nested plain mapping.

    Args:
        config: Mapping with any of the sections ``problem``, ``scenario``, ``roles``,
            ``leadership``, ``network``, ``workforce``, ``trust``, ``run``. Missing
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
