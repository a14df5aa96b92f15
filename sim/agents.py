"""The Mesa agents: organisations and professionals.

For speed the model keeps the state of all professionals in numpy arrays and
runs each mechanism over the whole population at once (see the mechanism
modules: :mod:`sim.search`, :mod:`sim.voice`, :mod:`sim.leadership`,
:mod:`sim.trust`, :mod:`sim.wellbeing`, :mod:`sim.learning`). The agents are
views onto those arrays: every attribute reads (and where it makes sense,
writes) the model's state, so ``model.agents_by_type[Professional]`` is a
normal Mesa AgentSet that can be selected, sorted and inspected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.roles import ROLE_LABELS

if TYPE_CHECKING:
    from sim.model import GovernanceModel


class Organisation(mesa.Agent):
    """An organisation: owns decisions, sets role expectations, has a formal leader."""

    model: GovernanceModel

    def __init__(self, model: GovernanceModel, index: int, name: str, kind: str) -> None:
        """Create the view on organisation ``index``."""
        super().__init__(model)
        self.index = index
        self.name = name
        self.kind = kind

    @property
    def decisions(self) -> np.ndarray:
        """Indices of the decisions this organisation owns."""
        return np.flatnonzero(self.model.landscape.owner == self.index)

    @property
    def paradigm(self) -> dict[str, float]:
        """Governance paradigm mix (TPA, NPM, NPG) = role expectation on staff."""
        return dict(zip(("tpa", "npm", "npg"), map(float, self.model.expectation[self.index]), strict=True))

    @property
    def style(self) -> str:
        """Configured leadership style of its formal leader."""
        return self.model.style_names[self.index]

    @property
    def active_style(self) -> str:
        """Style in force this step (differs from ``style`` under situational leadership)."""
        return self.model.active_style[self.index]

    @property
    def behaviour(self) -> dict[str, float]:
        """What its leader does this step (autonomy, pressure, convening, ...)."""
        from sim.params import BEHAVIOUR_FIELDS

        return dict(zip(BEHAVIOUR_FIELDS, map(float, self.model.behaviour[self.index]), strict=True))

    @property
    def pressure(self) -> float:
        """Production-target pressure in [0, 1] this step."""
        return float(self.model.b("pressure")[self.index])

    @property
    def goal_orientation(self) -> float:
        """Weight its leader puts on its own mandate against the shared outcome."""
        return float(self.model.goal[self.index])

    @property
    def power(self) -> float:
        """Relative power (1 = the mean)."""
        return float(self.model.power[self.index])

    @property
    def mandate_performance(self) -> float:
        """Mean mandate contribution over its own decisions."""
        return float(self.model.mandate_performance[self.index])

    @property
    def demand(self) -> float:
        """Demand on it this step (output units), failure demand included."""
        return float(self.model.work.demand[self.index])

    @property
    def performance(self) -> float:
        """Mean contribution over its own decisions."""
        return float(self.model.org_performance[self.index])

    @property
    def production(self) -> float:
        """Demand served this step per home member."""
        members = max(int((self.model.home_org == self.index).sum()), 1)
        return float(self.model.work.served[self.index]) / members

    @property
    def trust(self) -> np.ndarray:
        """Its trust towards every organisation (row of the trust matrix)."""
        return self.model.trust[self.index]

    @property
    def members(self) -> list[Professional]:
        """Professionals working in it this step."""
        return [self.model.professionals[i] for i in np.flatnonzero(self.model.org_of == self.index)]


class Professional(mesa.Agent):
    """A professional: profession, heuristic, skill, role orientation, energy, voice."""

    model: GovernanceModel

    def __init__(self, model: GovernanceModel, index: int) -> None:
        """Create the view on professional ``index``."""
        super().__init__(model)
        self.index = index

    @property
    def organisation(self) -> Organisation:
        """Organisation it works in this step (its host while on surge deployment)."""
        return self.model.organisations[int(self.model.org_of[self.index])]

    @property
    def home_organisation(self) -> Organisation:
        """Organisation it belongs to."""
        return self.model.organisations[int(self.model.home_org[self.index])]

    @property
    def profession(self) -> int:
        """Profession id (first decision of its domain window)."""
        return int(self.model.profession[self.index])

    @property
    def understood(self) -> np.ndarray:
        """Indices of the decisions it understands."""
        return np.flatnonzero(self.model.understood[self.index])

    @property
    def heuristic(self) -> tuple[int, ...]:
        """Its search heuristic: step sizes (Hong & Page)."""
        return tuple(int(s) for s in self.model.heuristic_steps[self.index])

    @property
    def skill(self) -> float:
        """Judgement skill in [0, 1]."""
        return float(self.model.skill[self.index])

    @property
    def orientation(self) -> dict[str, float]:
        """Its own role orientation."""
        return dict(zip(ROLE_LABELS, map(float, self.model.orientation[self.index]), strict=True))

    @property
    def effective_role(self) -> dict[str, float]:
        """Role weights it acts on this step."""
        return dict(zip(ROLE_LABELS, map(float, self.model.effective[self.index]), strict=True))

    @property
    def role(self) -> str:
        """Dominant effective role."""
        return ROLE_LABELS[int(np.argmax(self.model.effective[self.index]))]

    @property
    def role_strain(self) -> float:
        """Distance between own orientation and its organisation's expectation."""
        return float(self.model.strain[self.index])

    @property
    def energy(self) -> float:
        """Energy (well-being) in [0, 1]."""
        return float(self.model.energy[self.index])

    @property
    def burnt_out(self) -> bool:
        """Whether it is inactive through burnout."""
        return bool(self.model.burnout_left[self.index] > 0)

    @property
    def safety(self) -> float:
        """Psychological safety in [0, 1]."""
        return float(self.model.safety[self.index])

    @property
    def efficacy(self) -> float:
        """Voice efficacy in [0, 1]."""
        return float(self.model.efficacy[self.index])

    @property
    def minority(self) -> bool:
        """Whether it has a minority background."""
        return bool(self.model.minority[self.index])

    @property
    def standing(self) -> float:
        """Informal leadership standing."""
        return float(self.model.standing[self.index])

    @property
    def informal_leader(self) -> bool:
        """Whether its standing makes it an informal leader."""
        return bool(self.model.standing[self.index] >= self.model.params.workforce.informal_leader_threshold)
