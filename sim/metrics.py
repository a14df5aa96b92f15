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


def public_value_gap_closed(model: GovernanceModel) -> float:
    """Share of the gap between a random configuration and the optimum that is closed.

    ``(raw - random mean) / (optimum - random mean)``: 0 is the exact mean fitness of
    uniformly random configurations of the current landscape, 1 the global optimum;
    negative below the random mean. Unlike the optimum-normalised value (which starts
    near 0.65 for a random configuration), differences use the whole scale.
    """
    random_mean = model.landscape.random_mean()
    gap = float(model.optimum) - random_mean
    return (model.public_value_raw - random_mean) / gap if gap > 0 else float("nan")


def served_share(model: GovernanceModel) -> float:
    """Share of this step's demand on the public organisations that was served (1 with no demand)."""
    demand = float(model.work.demand.sum())
    return float(model.work.served.sum()) / demand if demand > 0 else 1.0


def value_delivered(model: GovernanceModel) -> float:
    """Public value delivered to clients: the shared solution's quality for the clients actually served.

    Public value (optimum-normalised) times the share of demand served: a client who is not
    served gets nothing from a good policy (after the societal-value seed's "maatschappelijke
    meerwaarde" for clients reached). The headline outcome beside public value.
    """
    return public_value(model) * served_share(model)


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


def network_queue(model: GovernanceModel) -> int:
    """Proposals waiting in the network's queue at the end of the step."""
    return len(model.queue)


def network_wait(model: GovernanceModel) -> float:
    """Mean steps the proposals the network decided this step had waited (NaN if it decided none)."""
    return model.network_wait / model.network_decided if model.network_decided else float("nan")


def proposals_lapsed(model: GovernanceModel) -> int:
    """Referred proposals that lapsed unanswered in the queue this step."""
    return model.lapsed


def attention_load(model: GovernanceModel) -> float:
    """Mean over leaders of the attention their behaviours asked for, as a share of what they have."""
    attention = model.params.leadership.attention
    return float(model.attention_demand.mean() / attention) if attention > 0 else float("nan")


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
    forum_held, forum_attendance, forum_discussed, forum_adopted, network_queue, network_wait, proposals_lapsed,
    attention_load, served_share, value_delivered,
    mean_trust, tie_trust, cross_boundary_ties, role_strain, energy,
    burnout_rate, new_burnouts, informal_leader_share, understood_share, skill_mean, surge_deployed,
    situational_choice, realised_cross_boundary, mandate_correlation, power_spread,
    public_value_gap_closed,
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
WINDOW_SHARE = 0.1
"""Window of the ``window_*`` outcomes: the mean over the last 10 % of steps (at least one step)."""
SPEED_SHARE = 0.5
"""``steps_to_half_gap``: steps until half of the gap between the start and the optimum is closed."""
RECOVERY_TOLERANCE = 0.05
"""A shocked run has recovered when its gap closed is within this of its no-shock twin's ..."""
RECOVERY_SUSTAIN = 5
"""... for this many consecutive steps."""


def auc(values: np.ndarray) -> float:
    """Area under a per-step curve, as the mean over steps 1..T (so comparable across T)."""
    values = np.asarray(values, dtype=float)
    return float(values[1:].mean()) if len(values) > 1 else float(values[0])


def window_steps(steps: int, share: float = WINDOW_SHARE) -> int:
    """Number of final steps averaged by the ``window_*`` outcomes (at least one)."""
    return max(1, int(np.ceil(share * steps)))


def steps_to_fraction(values: np.ndarray, fraction: float = SPEED_SHARE) -> tuple[int, bool]:
    """Steps until a curve closes ``fraction`` of the gap between its start and 1 (the optimum).

    The target, ``v0 + fraction * (1 - v0)`` with ``v0`` the value at step 0, is fixed
    before the run: it does not depend on where the run ends, so a run that stagnates
    is never fast. A run that never reaches it (including one that never improves) is
    censored at its horizon.

    Args:
        values: Public value as the share of the gap closed, per step (index = step).
        fraction: Share of the remaining gap to close.

    Returns:
        ``(steps, censored)``: the first step at or above the target, or the horizon
        (the last step) with ``censored=True`` when the target is never reached.
    """
    values = np.asarray(values, dtype=float)
    horizon = len(values) - 1
    start = values[0]
    target = start + fraction * (1.0 - start)
    hit = np.flatnonzero(values[1:] >= target - 1e-12)
    if len(hit) == 0 or not np.isfinite(start):
        return horizon, True
    return int(hit[0]) + 1, False


def shock_response(values: np.ndarray, twin: np.ndarray | None, shock_log: list[dict[str, float]],
                   tolerance: float = RECOVERY_TOLERANCE, sustain: int = RECOVERY_SUSTAIN) -> dict[str, float]:
    """Drop at the first shock and recovery against a no-shock twin run on the same seed.

    Both series are public value as the share of the gap closed. The drop is the twin's
    value minus the shocked run's at the shock step. A run has recovered ``T`` steps
    after the shock when, from then on for ``sustain`` consecutive steps, it is within
    ``tolerance`` of its twin. The horizon ``H`` is the last ``T`` that can still be
    confirmed before the run ends; a run that never recovers is censored at ``H`` and
    kept (its restricted time ``min(T, H)`` is ``H``). A run whose drop is at most
    ``tolerance`` has no drop to recover from and is reported separately.

    Args:
        values: The shocked run's gap closed per step (index = step).
        twin: The no-shock twin's gap closed per step, or None (no shock).
        shock_log: The model's shock records (``step``, ...).
        tolerance: Gap-closed distance to the twin counted as recovered.
        sustain: Consecutive steps that must be within ``tolerance``.

    Returns:
        ``shock_drop``, ``shock_recovery_steps`` (restricted: ``min(T, H)``),
        ``shock_recovery_censored`` (1 when never recovered within the horizon),
        ``shock_no_drop`` (1 when the drop is at most ``tolerance``),
        ``shock_horizon`` (``H``) and ``shock_area_lost`` (the twin's gap closed minus the run's,
        summed from the shock to the end: the area lost against the twin); all NaN without a shock.
    """
    keys = ("shock_drop", "shock_recovery_steps", "shock_recovery_censored", "shock_no_drop", "shock_horizon",
            "shock_area_lost")
    if not shock_log or twin is None:
        return dict.fromkeys(keys, float("nan"))
    step = int(shock_log[0]["step"])
    values, twin = np.asarray(values, dtype=float), np.asarray(twin, dtype=float)
    gap = twin[step:] - values[step:]
    horizon = max(len(gap) - sustain, 0)
    drop = float(gap[0])
    out = {"shock_drop": drop, "shock_horizon": float(horizon), "shock_area_lost": float(gap.sum())}
    if drop <= tolerance:
        return {**out, "shock_recovery_steps": float("nan"), "shock_recovery_censored": float("nan"),
                "shock_no_drop": 1.0}
    within = gap <= tolerance
    run = np.convolve(within.astype(int), np.ones(sustain, dtype=int), mode="valid") == sustain
    hit = np.flatnonzero(run[: horizon + 1])
    if len(hit):
        return {**out, "shock_recovery_steps": float(hit[0]), "shock_recovery_censored": 0.0, "shock_no_drop": 0.0}
    return {**out, "shock_recovery_steps": float(horizon), "shock_recovery_censored": 1.0, "shock_no_drop": 0.0}


SUMMARY_FINAL = (
    "value_delivered", "public_value", "public_value_gap_closed", "public_value_raw", "org_performance_mean",
    "org_performance_sd",
    "mean_trust", "cross_boundary_ties", "role_strain", "energy", "burnout_rate", "voice_equity", "adoption_equity",
    "informal_leader_share", "understood_share", "skill_mean",
)
"""Metrics summarised by their last step (``final_*``) and by the mean over the window (``window_*``)."""


def summarise(ts: pd.DataFrame, shock_log: list[dict[str, float]], n_professionals: int | None = None,
              twin: pd.DataFrame | None = None) -> dict[str, float]:
    """Final and aggregate outcomes of one replication from its time series (index = step).

    Args:
        ts: The replication's metrics, a row per step 0..T.
        shock_log: The model's shock records.
        n_professionals: Headcount, for person-steps lost to burnout (NaN if None).
        twin: Time series of the no-shock twin run on the same seed (runs with shocks).

    Returns:
        ``final_*`` (last step) and ``window_*`` (mean over the last
        :data:`WINDOW_SHARE` of steps) of :data:`SUMMARY_FINAL`, areas under the
        curve, the speed metric with its censoring indicator, production, burnout
        (mean rate, any burnout, person-steps lost), and the shock response.
    """
    metrics = [m for m in SUMMARY_FINAL if m in ts]
    steps = len(ts) - 1
    w = window_steps(steps)
    out: dict[str, float] = {f"final_{m}": float(ts[m].iloc[-1]) for m in metrics}
    out.update({f"window_{m}": float(ts[m].iloc[-w:].mean()) for m in metrics})
    out["public_value_auc"] = auc(ts["public_value"].to_numpy())
    if "value_delivered" in ts:
        out["value_delivered_auc"] = auc(ts["value_delivered"].to_numpy())
    gap = ts["public_value_gap_closed"].to_numpy(dtype=float) if "public_value_gap_closed" in ts else None
    if gap is not None:
        out["gap_closed_auc"] = auc(gap)
        speed, censored = steps_to_fraction(gap, SPEED_SHARE)
        out["steps_to_half_gap"] = float(speed)
        out["steps_to_half_gap_censored"] = float(censored)
    out["production_mean"] = float(ts["production"].iloc[1:].mean())
    out["burnout_rate_mean"] = float(ts["burnout_rate"].iloc[1:].mean())
    out["burnouts_total"] = int(ts["new_burnouts"].sum())
    out["any_burnout"] = float(out["burnouts_total"] > 0)
    out["person_steps_lost"] = (float(round(ts["burnout_rate"].iloc[1:].sum() * n_professionals))
                                if n_professionals is not None else float("nan"))
    out["proposals_adopted_total"] = int(ts["proposals_adopted"].sum())
    out["heuristic_diversity_mean"] = float(ts["heuristic_diversity"].iloc[1:].mean())
    twin_gap = None
    if twin is not None and "public_value_gap_closed" in twin:
        twin_gap = twin["public_value_gap_closed"].to_numpy(dtype=float)
    out.update(shock_response(gap if gap is not None else ts["public_value"].to_numpy(), twin_gap, shock_log))
    return out
