"""Outcome metrics: named pure functions of the model state, and run summaries.

Every function in :func:`model_reporters` takes the model and returns one value;
the model's :class:`Recorder` calls each once per step (and once before the
first step, as step 0). :func:`summarise` turns one replication's time series
into its final and aggregate outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from sim.model import GovernanceModel

VOICE_COUNTS = ("made", "raised", "adopted")


def empty_step_counts() -> dict[str, int]:
    """Zeroed counters of proposals by background, filled during a step."""
    counts = {f"{k}_{g}": 0 for k in VOICE_COUNTS for g in ("minority", "majority")}
    for key in ("adopted_cross_boundary", "answered", "unanswered", "dismissed", "consent_refused"):
        counts[key] = 0
    return counts


# ---------------------------------------------------------------- problem outcomes
def public_value(model: GovernanceModel) -> float:
    """Collective performance (mean contribution) divided by the landscape's global optimum."""
    return model.public_value_raw / model.optimum


def public_value_raw(model: GovernanceModel) -> float:
    """Collective performance: mean contribution over all N decisions, in [0, 1]."""
    return float(model.contrib.sum()) / len(model.contrib)


def optimum(model: GovernanceModel) -> float:
    """Global optimum of the current landscape (exact, or a lower-bound estimate)."""
    return float(model.optimum)


def org_performance_mean(model: GovernanceModel) -> float:
    """Mean of organisations' own performance (mean contribution of their decisions)."""
    return float(model.org_performance.sum()) / model.n_orgs


def org_performance_sd(model: GovernanceModel) -> float:
    """Spread (population sd) of organisations' own performance."""
    perf = model.org_performance
    return float(np.sqrt(((perf - perf.sum() / len(perf)) ** 2).sum() / len(perf)))


def _public_staff(model: GovernanceModel) -> int:
    return max(int((~model.external[model.home_org]).sum()), 1)


def mandate_performance_mean(model: GovernanceModel) -> float:
    """Mean of organisations' performance on their own mandates (their own decisions)."""
    return float(model.mandate_performance.sum()) / model.n_orgs


def production(model: GovernanceModel) -> float:
    """Counted production per public professional this step: served demand, value and failure work alike.

    In units of one rested professional's full-time output.
    """
    return model.production_per_capita


def value_work(model: GovernanceModel) -> float:
    """Served value demand per public professional this step."""
    return float(model.work.value_work.sum()) / model.params.workforce.productivity / _public_staff(model)


def failure_work(model: GovernanceModel) -> float:
    """Served failure demand per public professional this step (work a solved problem would not bring)."""
    return float(model.work.failure_work.sum()) / model.params.workforce.productivity / _public_staff(model)


def workload(model: GovernanceModel) -> float:
    """Mean over public organisations of the share of an active member's time their demand needs."""
    public = ~model.external
    return float(np.minimum(model.work.need[public], 10.0).mean()) if public.any() else 0.0


def backlog_share(model: GovernanceModel) -> float:
    """Share of this step's demand (over all organisations) left unserved."""
    demand = float(model.work.demand.sum())
    return float(demand - model.work.served.sum()) / demand if demand > 0 else 0.0


def problem_time(model: GovernanceModel) -> float:
    """Mean share of time active professionals spend on the shared problem."""
    n_active = int((model.burnout_left == 0).sum())
    return float(model.problem_time.sum()) / n_active if n_active else 0.0


def forum_time(model: GovernanceModel) -> float:
    """Mean share of time active professionals spend in cross-boundary forums."""
    n_active = int((model.burnout_left == 0).sum())
    return float(model.forum_time.sum()) / n_active if n_active else 0.0


# ---------------------------------------------------------------- proposals and voice
def proposals_made(model: GovernanceModel) -> int:
    """Proposals professionals judged worth making this step."""
    return model.counts["made_minority"] + model.counts["made_majority"]


def proposals_raised(model: GovernanceModel) -> int:
    """Proposals raised (voiced) this step."""
    return model.counts["raised_minority"] + model.counts["raised_majority"]


def proposals_adopted(model: GovernanceModel) -> int:
    """Proposals enacted this step."""
    return model.counts["adopted_minority"] + model.counts["adopted_majority"]


def proposals_unanswered(model: GovernanceModel) -> int:
    """Raised proposals this step that nobody answered and that were not enacted (futility)."""
    return model.counts["unanswered"]


def proposals_dismissed(model: GovernanceModel) -> int:
    """Raised proposals this step rejected with a dismissive answer."""
    return model.counts["dismissed"]


def consent_refused(model: GovernanceModel) -> int:
    """Adopted proposals this step that another organisation refused consent to."""
    return model.counts["consent_refused"]


def adopted_cross_boundary(model: GovernanceModel) -> int:
    """Enacted proposals this step that changed another organisation's decisions."""
    return model.counts["adopted_cross_boundary"]


def _per_capita(model: GovernanceModel, key: str, minority: bool) -> float:
    size = model.n_minority if minority else model.n_professionals - model.n_minority
    label = "minority" if minority else "majority"
    return model.cumulative[f"{key}_{label}"] / size if size else float("nan")


def raised_minority_pc(model: GovernanceModel) -> float:
    """Proposals raised so far per minority-background professional."""
    return _per_capita(model, "raised", True)


def raised_majority_pc(model: GovernanceModel) -> float:
    """Proposals raised so far per majority-background professional."""
    return _per_capita(model, "raised", False)


def adopted_minority_pc(model: GovernanceModel) -> float:
    """Proposals adopted so far per minority-background professional."""
    return _per_capita(model, "adopted", True)


def adopted_majority_pc(model: GovernanceModel) -> float:
    """Proposals adopted so far per majority-background professional."""
    return _per_capita(model, "adopted", False)


def _ratio(a: float, b: float) -> float:
    return a / b if b and np.isfinite(a) and np.isfinite(b) else float("nan")


def voice_equity(model: GovernanceModel) -> float:
    """Raised proposals per capita, minority over majority (1 = equal voice)."""
    return _ratio(raised_minority_pc(model), raised_majority_pc(model))


def adoption_equity(model: GovernanceModel) -> float:
    """Adopted proposals per capita, minority over majority (1 = equal influence)."""
    return _ratio(adopted_minority_pc(model), adopted_majority_pc(model))


def heuristic_diversity(model: GovernanceModel) -> float:
    """Diversity of the heuristics of this step's contributors.

    The expected share of positions at which two contributors' effective step-size
    tuples differ (Hong & Page's distance; sizes taken modulo N, as the search walks
    the ring of N decisions), for two drawn with replacement: the mean over positions
    of the Gini-Simpson index. 0 when fewer than two contributed.
    """
    who = model.contributors  # distinct: a professional makes at most one proposal per step
    if len(who) < 2:
        return 0.0
    steps = model.heuristic_steps[who] % model.landscape.n  # sizes act modulo the ring of N decisions
    k = steps.shape[1]
    counts = np.bincount((steps + (np.arange(k) * (steps.max() + 1))[None, :]).ravel())
    share = counts / len(who)
    return 1.0 - float((share**2).sum()) / k


def safety(model: GovernanceModel) -> float:
    """Mean psychological safety of all professionals."""
    return float(model.safety.sum()) / model.n_professionals


def safety_minority(model: GovernanceModel) -> float:
    """Mean psychological safety of minority-background professionals."""
    n = model.n_minority
    return float(model.safety @ model.minority_weight) / n if n else float("nan")


def safety_majority(model: GovernanceModel) -> float:
    """Mean psychological safety of majority-background professionals."""
    n = model.n_professionals - model.n_minority
    return (float(model.safety.sum()) - float(model.safety @ model.minority_weight)) / n if n else float("nan")


def efficacy(model: GovernanceModel) -> float:
    """Mean voice efficacy of all professionals."""
    return float(model.efficacy.sum()) / model.n_professionals


# ---------------------------------------------------------------- forums
def forum_held(model: GovernanceModel) -> int:
    """1 if a cross-organisation forum met this step."""
    return int(model.meeting.held)


def forum_attendance(model: GovernanceModel) -> int:
    """Organisations present at this step's forum (0 if none met)."""
    return int(model.meeting.attending.sum()) if model.meeting.held else 0


def forum_discussed(model: GovernanceModel) -> int:
    """Proposals the forum discussed this step."""
    return model.meeting.discussed


def forum_adopted(model: GovernanceModel) -> int:
    """Proposals the forum adopted this step (before consent of absent owners)."""
    return model.meeting.adopted


# ---------------------------------------------------------------- trust and network
def mean_trust(model: GovernanceModel) -> float:
    """Mean trust between distinct organisations (off-diagonal mean)."""
    o = model.n_orgs
    if o < 2:
        return 1.0
    return float((model.trust.sum() - np.trace(model.trust)) / (o * (o - 1)))


def tie_trust(model: GovernanceModel) -> float:
    """Mean trust on ties between professionals."""
    return float(model.network.trust.mean()) if len(model.network.trust) else float("nan")


def cross_boundary_ties(model: GovernanceModel) -> float:
    """Share of ties that connect professionals working in different organisations."""
    e = model.network.edges
    if len(e) == 0:
        return 0.0
    return float((model.org_of[e[:, 0]] != model.org_of[e[:, 1]]).sum()) / len(e)


# ---------------------------------------------------------------- people
def role_strain(model: GovernanceModel) -> float:
    """Mean role strain: distance between own orientation and organisation's expectation."""
    return float(model.strain.sum()) / model.n_professionals


def energy(model: GovernanceModel) -> float:
    """Mean energy (well-being) of all professionals."""
    return float(model.energy.sum()) / model.n_professionals


def burnout_rate(model: GovernanceModel) -> float:
    """Share of professionals burnt out (inactive) at the end of the step."""
    return float((model.burnout_left > 0).sum()) / model.n_professionals


def new_burnouts(model: GovernanceModel) -> int:
    """Professionals who burnt out this step."""
    return model.burnouts_this_step


def informal_leader_share(model: GovernanceModel) -> float:
    """Share of professionals whose standing makes them informal leaders."""
    threshold = model.params.workforce.informal_leader_threshold
    return float((model.standing >= threshold).sum()) / model.n_professionals


def understood_share(model: GovernanceModel) -> float:
    """Mean share of the N decisions a professional understands."""
    return float(model.understood.sum()) / model.understood.size


def skill_mean(model: GovernanceModel) -> float:
    """Mean judgement skill."""
    return float(model.skill.sum()) / model.n_professionals


def surge_deployed(model: GovernanceModel) -> int:
    """Professionals working away from their home organisation (surge reserve)."""
    return int((model.org_of != model.home_org).sum())


def realised_cross_boundary(model: GovernanceModel) -> float:
    """Share of all dependencies of the landscape that fall on another organisation's decisions."""
    return model.landscape.realised_cross_boundary()


def mandate_correlation(model: GovernanceModel) -> float:
    """Realised correlation between contribution and mandate tables."""
    return model.landscape.realised_mandate_correlation()


def power_spread(model: GovernanceModel) -> float:
    """Gini coefficient of the organisations' power (0 = equal)."""
    return model.power_gini


def situational_choice(model: GovernanceModel) -> str:
    """Style chosen this step by situational leaders (most common; empty if none)."""
    chosen = sorted(a for a, s in zip(model.active_style, model.styles, strict=True) if s.adaptive)
    if not chosen:
        return ""
    return max(dict.fromkeys(chosen), key=chosen.count)  # most common; ties: first in name order


_REPORTERS: tuple[Callable[[Any], Any], ...] = (
    public_value, public_value_raw, optimum, org_performance_mean, org_performance_sd, mandate_performance_mean,
    production, value_work, failure_work, workload, backlog_share, problem_time, forum_time,
    proposals_made, proposals_raised, proposals_adopted, proposals_unanswered, proposals_dismissed,
    consent_refused, adopted_cross_boundary,
    raised_minority_pc, raised_majority_pc, adopted_minority_pc, adopted_majority_pc, voice_equity,
    adoption_equity, safety, safety_minority, safety_majority, efficacy, heuristic_diversity,
    forum_held, forum_attendance, forum_discussed, forum_adopted,
    mean_trust, tie_trust, cross_boundary_ties, role_strain, energy,
    burnout_rate, new_burnouts, informal_leader_share, understood_share, skill_mean, surge_deployed,
    situational_choice, realised_cross_boundary, mandate_correlation, power_spread,
)

METRICS: tuple[str, ...] = tuple(f.__name__ for f in _REPORTERS)
"""Names of the per-step metrics, in column order."""


def model_reporters() -> dict[str, Callable[[Any], Any]]:
    """Model-level reporters for Mesa's DataCollector, by metric name."""
    return {f.__name__: f for f in _REPORTERS}


class Recorder:
    """Collects every model reporter each step; agent reporters through Mesa's DataCollector on request.

    Mesa's DataCollector deep-copies every value it records; our reporters return
    fresh scalars, so model-level values are recorded directly (a third of the cost
    of a step at the default size). The interface follows Mesa's: ``collect``,
    ``model_vars``, ``get_model_vars_dataframe`` and ``get_agent_vars_dataframe``.
    """

    def __init__(self, collect_agents: bool = False) -> None:
        """Create an empty recorder; ``collect_agents`` adds per-professional records."""
        self._functions = _REPORTERS
        self.model_vars: dict[str, list[Any]] = {f.__name__: [] for f in _REPORTERS}
        self._columns = [self.model_vars[f.__name__] for f in _REPORTERS]
        self._agents: Any = None
        if collect_agents:
            import mesa

            self._agents = mesa.DataCollector(agent_reporters=agent_reporters())

    def collect(self, model: GovernanceModel) -> None:
        """Record every metric of the model's current state."""
        for column, function in zip(self._columns, self._functions, strict=True):
            column.append(function(model))
        if self._agents is not None:
            self._agents.collect(model)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """Model-level metrics, a row per collection (step 0, 1, ...)."""
        return pd.DataFrame(self.model_vars)

    def get_agent_vars_dataframe(self) -> pd.DataFrame:
        """Agent-level records of professionals (requires ``run.collect_agents``)."""
        if self._agents is None:
            raise ValueError("agent data was not collected: set run.collect_agents=true")
        return self._agents.get_agent_vars_dataframe()


def agent_reporters() -> dict[str, Callable[[Any], Any]]:
    """Agent-level reporters for professionals (organisations report None), collected on request."""
    names = ("energy", "skill", "role", "role_strain", "standing", "burnt_out")

    def reporter(name: str) -> Callable[[Any], Any]:
        def report(agent: Any) -> Any:
            return getattr(agent, name, None) if hasattr(agent, "burnt_out") else None

        report.__name__ = name
        report.__doc__ = f"Professional's {name.replace('_', ' ')}."
        return report

    return {name: reporter(name) for name in names}


# ---------------------------------------------------------------- summaries
def auc(values: np.ndarray) -> float:
    """Area under a per-step curve, as the mean over steps 1..T (so comparable across T)."""
    values = np.asarray(values, dtype=float)
    return float(values[1:].mean()) if len(values) > 1 else float(values[0])


def steps_to_fraction(values: np.ndarray, fraction: float = 0.9) -> int:
    """First step at which a curve reaches ``fraction`` of its final value."""
    values = np.asarray(values, dtype=float)
    target = fraction * values[-1]
    return int(np.argmax(values >= target - 1e-12))


def shock_response(values: np.ndarray, shock_log: list[dict[str, float]], recover: float = 0.95) -> dict[str, float]:
    """Drop at the first shock and steps until public value regains ``recover`` of its pre-shock level.

    Args:
        values: Normalised public value per step (index = step).
        shock_log: The model's shock records (``step``, ``before``, ``after``).
        recover: Share of the pre-shock value counted as recovered.

    Returns:
        ``shock_drop`` (pre-shock minus immediate post-shock value) and
        ``shock_recovery_steps`` (NaN if no shock or never recovered).
    """
    if not shock_log:
        return {"shock_drop": float("nan"), "shock_recovery_steps": float("nan")}
    first = shock_log[0]
    step = int(first["step"])
    after = np.asarray(values, dtype=float)[step:]
    hit = np.flatnonzero(after >= recover * first["before"] - 1e-12)
    return {
        "shock_drop": float(first["before"] - first["after"]),
        "shock_recovery_steps": float(hit[0]) if len(hit) else float("nan"),
    }


SUMMARY_FINAL = (
    "public_value", "public_value_raw", "org_performance_mean", "org_performance_sd", "mean_trust",
    "cross_boundary_ties", "role_strain", "energy", "burnout_rate", "voice_equity", "adoption_equity",
    "informal_leader_share", "understood_share", "skill_mean",
)


def summarise(ts: pd.DataFrame, shock_log: list[dict[str, float]]) -> dict[str, float]:
    """Final and aggregate outcomes of one replication from its time series (index = step)."""
    pv = ts["public_value"].to_numpy()
    out: dict[str, float] = {f"final_{m}": float(ts[m].iloc[-1]) for m in SUMMARY_FINAL}
    out["public_value_auc"] = auc(pv)
    out["steps_to_90"] = steps_to_fraction(pv, 0.9)
    out["production_mean"] = float(ts["production"].iloc[1:].mean())
    out["burnout_rate_mean"] = float(ts["burnout_rate"].iloc[1:].mean())
    out["burnouts_total"] = int(ts["new_burnouts"].sum())
    out["proposals_adopted_total"] = int(ts["proposals_adopted"].sum())
    out["heuristic_diversity_mean"] = float(ts["heuristic_diversity"].iloc[1:].mean())
    out.update(shock_response(pv, shock_log))
    return out
