"""Leadership mixes: one choice of style (and, optionally, leader behaviour) per organisation.

A *mix* is a flat mapping from lever names to values: ``"<organisation>.style"`` to one of the
styles and ``"<organisation>.<behaviour field>"`` to a value in [0, 1] (for instance
``{"police.style": "facilitative", "police.convening": 0.8}``). :class:`MixSpace` says which levers
a search may set; :func:`apply_mix` writes a mix into a model config; :func:`evaluate` runs a
mix for a set of replications with :func:`sim.runner.run_replication`, the runner every govsim
job uses.

Replications are numbered children of ``numpy.random.SeedSequence(run.seed)``: replication ``r``
of every mix sees the same landscape, workforce, network and events (common random numbers), so
mixes are compared on identical problems. A search uses replications ``0 .. R-1``; fresh
re-evaluations of chosen mixes use :data:`REEVALUATION_START` onwards, a disjoint set.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sim.params import STYLES, Behaviour, ConfigError, build_params
from sim.runner import fresh, run_replication

BEHAVIOUR_FIELDS = tuple(f.name for f in dataclasses.fields(Behaviour))
REEVALUATION_START = 1000
"""First replication index of fresh re-evaluations; searches may use replications below it."""

Mix = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class MixSpace:
    """The levers a search may set, per organisation.

    Attributes:
        organisations: Names of the organisations whose leadership is chosen.
        styles: Styles each may take (empty: the style stays as configured).
        behaviours: Behaviour fields set per organisation, each in [0, 1] (empty: none).
    """

    organisations: tuple[str, ...]
    styles: tuple[str, ...] = STYLES
    behaviours: tuple[str, ...] = ()

    def validate(self, known_organisations: Sequence[str]) -> None:
        """Check the space against the case's organisations; raises :class:`ConfigError`."""
        if not self.organisations:
            raise ConfigError("optimise.space.organisations", [], "needs at least one organisation")
        for name in self.organisations:
            if name not in known_organisations:
                raise ConfigError("optimise.space.organisations", name, "not an organisation of this case; "
                                  "its organisations: " + ", ".join(known_organisations))
        if len(set(self.organisations)) != len(self.organisations):
            raise ConfigError("optimise.space.organisations", list(self.organisations), "names must be unique")
        for style in self.styles:
            if style not in STYLES:
                raise ConfigError("optimise.space.styles", style, "allowed: " + ", ".join(STYLES))
        for name in self.behaviours:
            if name not in BEHAVIOUR_FIELDS:
                raise ConfigError("optimise.space.behaviours", name, "allowed: " + ", ".join(BEHAVIOUR_FIELDS))
        if not self.styles and not self.behaviours:
            raise ConfigError("optimise.space", {"styles": [], "behaviours": []},
                              "nothing to choose: give styles, behaviours or both")

    @property
    def levers(self) -> list[str]:
        """Lever names in a fixed order: per organisation its style, then its behaviours."""
        out = []
        for org in self.organisations:
            if self.styles:
                out.append(f"{org}.style")
            out.extend(f"{org}.{b}" for b in self.behaviours)
        return out

    @property
    def size(self) -> float:
        """Number of mixes (``inf`` when behaviours are searched)."""
        return math.inf if self.behaviours else float(len(self.styles) ** len(self.organisations))

    def grid(self) -> Iterator[Mix]:
        """Every mix of styles, in a fixed order (the space must have no behaviour levers)."""
        if self.behaviours:
            raise ValueError("a space with continuous behaviour levers has no grid")
        for combo in itertools.product(self.styles, repeat=len(self.organisations)):
            yield {f"{org}.style": style for org, style in zip(self.organisations, combo, strict=True)}

    def check(self, mix: Mapping[str, Any]) -> Mix:
        """The mix with its values checked against the space; raises :class:`ConfigError`."""
        levers = self.levers
        extra = sorted(set(mix) - set(levers))
        if extra:
            raise ConfigError("mix", extra[0], "not a lever of this space; levers: " + ", ".join(levers))
        out: Mix = {}
        for lever in levers:
            if lever not in mix:
                raise ConfigError("mix", lever, "missing: every lever needs a value")
            value = mix[lever]
            if lever.endswith(".style"):
                if value not in self.styles:
                    raise ConfigError(lever, value, "allowed: " + ", ".join(self.styles))
            else:
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
                    raise ConfigError(lever, value, "must be a number in [0, 1]")
                value = float(value)
            out[lever] = value
        return out


def apply_mix(config: Mapping[str, Any], mix: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a model config with each organisation's style and behaviour set by ``mix``."""
    out = copy.deepcopy(dict(config))
    orgs = out.setdefault("scenario", {}).get("organisations")
    if not orgs:
        raise ConfigError("scenario.organisations", orgs, "a mix needs the case's organisations listed")
    by_name = {o["name"]: o for o in orgs}
    for lever, value in mix.items():
        org, _, what = lever.partition(".")
        if org not in by_name:
            raise ConfigError("mix", lever, "unknown organisation; organisations: " + ", ".join(by_name))
        if what == "style":
            by_name[org]["leadership"] = value
        else:
            behaviour = dict(by_name[org].get("behaviour") or {})
            behaviour[what] = float(value)
            by_name[org]["behaviour"] = behaviour
    return out


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """Seed sequence of replication ``index``: child ``index`` of ``SeedSequence(seed)``.

    The same as :func:`sim.runner.replication_seeds` gives for ``index`` (children are
    independent of how many are spawned), so replication ``r`` here is replication ``r``
    of an ordinary govsim job with the same seed.
    """
    return np.random.SeedSequence(seed, spawn_key=(index,))


def evaluate(config: Mapping[str, Any], mix: Mapping[str, Any], replications: Sequence[int],
             outcomes: Sequence[str]) -> list[dict[str, float]]:
    """Run ``mix`` on ``replications`` (indices) of ``config``; one dict of ``outcomes`` per replication.

    Raises:
        ConfigError: the mix makes an invalid config.
        KeyError: an outcome is not a summary outcome of a run.
    """
    params = build_params(apply_mix(config, mix))
    rows = []
    for r in replications:
        _, summary, _ = run_replication(params, r, fresh(replication_seed(params.run.seed, r)))
        rows.append({name: float(summary[name]) for name in outcomes})
    return rows


def evaluate_rows(config: Mapping[str, Any], mixes: Sequence[Mapping[str, Any]], replications: Sequence[int],
                  outcomes: Sequence[str]) -> list[dict[str, Any]]:
    """Tidy rows (levers, ``replication``, outcomes) of ``mixes`` run on ``replications``."""
    rows = []
    for mix in mixes:
        for r, values in zip(replications, evaluate(config, mix, replications, outcomes), strict=True):
            rows.append({**mix, "replication": int(r), **values})
    return rows
