"""What a class can see of the mechanisms, read from the model's counts and told in one sentence.

Read after every step, summed over a stretch of steps (a round, a year).

Everything here is read from what :class:`~sim.GovernanceModel` exposes after a step (its ``meeting``,
``counts``, ``work``, ``trust``, ``org_performance``, ``energy`` and ``home_org``); nothing is a
number written into a text. When the model changes (another engineer's information model, costs of
behaviours, forum cadence), the panels and sentences follow it.

What the model does not expose per organisation is marked as such: consent refused is a count per
step for the whole network (not per organisation that refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .texts import Texts

LOW_TRUST = 0.4
"""Trust below which the sentence names it as the reason a partner stayed away (the scale is 0 to 1)."""


@dataclass
class StepReading:
    """One step's mechanisms, per organisation where the model gives them per organisation."""

    failure_work: np.ndarray  # (O,) served output that answered failure demand
    value_work: np.ndarray  # (O,) served output that answered value demand
    held: bool  # a forum met
    convenors: np.ndarray  # (O,) bool
    attending: np.ndarray  # (O,) bool
    consent_refused: int  # proposals refused consent (the whole network)
    adopted: int  # proposals the forum adopted


def read_step(model: Any) -> StepReading:
    """The mechanisms of the step the model has just run."""
    meeting = model.meeting
    work = model.work
    return StepReading(
        failure_work=np.asarray(work.failure_work, dtype=float).copy(),
        value_work=np.asarray(work.value_work, dtype=float).copy(),
        held=bool(meeting.held),
        convenors=np.asarray(meeting.convenors, dtype=bool).copy(),
        attending=np.asarray(meeting.attending, dtype=bool).copy(),
        consent_refused=int(model.counts.get("consent_refused", 0)),
        adopted=int(getattr(meeting, "adopted", 0) or 0),
    )


@dataclass
class Tally:
    """Mechanisms summed over a stretch of steps (a round of the classroom, the demo's last year)."""

    n_orgs: int
    steps: int = 0
    failure_work: np.ndarray = field(init=False)
    value_work: np.ndarray = field(init=False)
    forums: int = 0
    convened: np.ndarray = field(init=False)  # (O,) forums each organisation convened (that met)
    called: np.ndarray = field(init=False)  # (O,) steps each organisation called a forum (met or not)
    attended: np.ndarray = field(init=False)  # (O,) forums each organisation attended
    consent_refused: int = 0
    adopted: int = 0

    def __post_init__(self) -> None:
        """Zeroed sums."""
        self.failure_work = np.zeros(self.n_orgs)
        self.value_work = np.zeros(self.n_orgs)
        self.convened = np.zeros(self.n_orgs, dtype=int)
        self.called = np.zeros(self.n_orgs, dtype=int)
        self.attended = np.zeros(self.n_orgs, dtype=int)

    def add(self, reading: StepReading) -> None:
        """Add one step."""
        self.steps += 1
        self.failure_work += reading.failure_work
        self.value_work += reading.value_work
        self.called += reading.convenors
        if reading.held:
            self.forums += 1
            self.convened += reading.convenors
            self.attended += reading.attending
        self.consent_refused += reading.consent_refused
        self.adopted += reading.adopted

    @classmethod
    def of(cls, readings: list[StepReading], n_orgs: int) -> Tally:
        """The sum of ``readings``."""
        tally = cls(n_orgs)
        for reading in readings:
            tally.add(reading)
        return tally

    def failure_share(self) -> np.ndarray:
        """(O,) share of each organisation's served work that was failure work (0 when it served nothing)."""
        total = self.failure_work + self.value_work
        return np.divide(self.failure_work, total, out=np.zeros(self.n_orgs), where=total > 0)

    def network_failure_share(self) -> float:
        """Share of all served work that was failure work."""
        total = float(self.failure_work.sum() + self.value_work.sum())
        return float(self.failure_work.sum()) / total if total > 0 else 0.0


def org_state(model: Any) -> dict[str, list[float]]:
    """Each organisation's own performance (share of its optimum) and its staff's mean energy, now."""
    heads = np.maximum(np.bincount(model.home_org, minlength=model.n_orgs), 1)
    energy = np.bincount(model.home_org, model.energy, model.n_orgs) / heads
    own = np.divide(model.org_performance, model.optimal_performance, out=np.zeros(model.n_orgs),
                    where=model.optimal_performance > 0)
    return {"own": [float(v) for v in own.round(4)], "energy": [float(v) for v in energy.round(4)]}


def panel(model: Any, tally: Tally) -> dict[str, Any]:
    """The numbers of a mechanism panel: per organisation and for the network (plain data for pages)."""
    return {
        "steps": tally.steps,
        "forums": tally.forums,
        "convened": tally.convened.tolist(),
        "called": tally.called.tolist(),
        "attended": tally.attended.tolist(),
        "consent_refused": tally.consent_refused,
        "adopted": tally.adopted,
        "failure_share": [float(v) for v in tally.failure_share().round(4)],
        "failure_work": [float(v) for v in tally.failure_work.round(3)],
        "value_work": [float(v) for v in tally.value_work.round(3)],
        "network_failure_share": round(tally.network_failure_share(), 4),
        "trust": [[float(v) for v in row] for row in np.asarray(model.trust).round(2)],
        **org_state(model),
    }


def _names(texts: Texts, orgs: list[str], which: np.ndarray) -> str:
    from .charts import org_name

    names = [org_name(texts, orgs[o]) for o in np.flatnonzero(which)]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" {texts('mechanisms.and')} " + names[-1]


def sentence(model: Any, tally: Tally, orgs: list[str], texts: Texts, before: float | None = None) -> str:
    """One sentence of what happened in a stretch of steps, from the counts alone.

    Who convened the forum and who stayed away (with the trust between them when it is low), or that
    no forum met; then proposals refused consent and the share of failure work (and whether it rose
    or fell since ``before``, the share of the stretch before).
    """
    from .charts import org_name

    n = tally.n_orgs
    if tally.steps == 0:
        return texts("mechanisms.sentence.nothing_yet")
    if tally.forums == 0 and tally.called.any():
        caller = int(np.argmax(tally.called))
        first = texts("mechanisms.sentence.forum_unattended", convenor=org_name(texts, orgs[caller]),
                      called=int(tally.called[caller]))
    elif tally.forums == 0 or not tally.convened.any():
        first = texts("mechanisms.sentence.no_forum")
    else:
        convenor = int(np.argmax(tally.convened))
        away = (tally.attended * 2 < tally.forums) & (np.arange(n) != convenor)
        lead = org_name(texts, orgs[convenor])
        if away.any():
            absent = int(np.flatnonzero(away)[np.argmin(np.asarray(model.trust)[np.flatnonzero(away), convenor])])
            level = float(np.asarray(model.trust)[absent, convenor])
            why = texts("mechanisms.sentence.low_trust", trust=texts.number(level, 2)) if level < LOW_TRUST else ""
            first = texts("mechanisms.sentence.forum_absent", convenor=lead, absent=_names(texts, orgs, away),
                          forums=tally.forums, steps=tally.steps) + why
        else:
            first = texts("mechanisms.sentence.forum_all", convenor=lead, forums=tally.forums, steps=tally.steps)
    share = tally.network_failure_share()
    trend = ""
    if before is not None and abs(share - before) >= 0.005:
        trend = texts("mechanisms.sentence.up" if share > before else "mechanisms.sentence.down",
                      change=texts.number(abs(share - before) * 100, 0))
    second = texts("mechanisms.sentence.work", refused=tally.consent_refused, failure=texts.percent(share),
                   trend=trend)
    text = f"{first}; {second}."
    return text[:1].upper() + text[1:]


__all__ = ["LOW_TRUST", "StepReading", "Tally", "org_state", "panel", "read_step", "sentence"]
