"""GovernanceModel: wiring of the problem, the organisations, the workforce and one step.

One step is one round (about a month) of MODEL.md: leaders set the climate,
professionals allocate time, search, raise proposals, leaders decide, the new
configuration is scored and trust updated, energy and learning change, and the
metrics are collected. Each mechanism lives in the module named after it; this
module only wires them.

Randomness: one seed per run. It is split with ``numpy.random.SeedSequence``
into a *world* stream (landscape and its turbulence and shocks, the workforce,
the network) and a *dynamics* stream (everything agents do). Two runs with the
same seed but different leadership styles therefore face the same problem, the
same workforce and the same shocks (common random numbers).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import crisis, learning, metrics, trust, voice, wellbeing
from sim.agents import Organisation, Professional
from sim.landscape import NKLandscape
from sim.leadership import LeadershipStyle, get_style
from sim.network import build_network
from sim.params import ModelParams, RoleParams, WorkforceParams
from sim.roles import effective_roles, role_strain
from sim.search import Proposals, make_flips, ordered_known, score_proposals

SeedLike = int | np.random.SeedSequence
CLIMATE_FIELDS = ("autonomy", "pressure", "convening", "learning", "safety", "support")


def split_decisions(weights: np.ndarray, n: int) -> np.ndarray:
    """Owner of each of ``n`` decisions: blocks in organisation order, sized by weight.

    Every organisation owns at least one decision (largest-remainder rounding).
    """
    o = len(weights)
    share = weights / weights.sum() * (n - o)
    counts = np.floor(share).astype(int) + 1
    rest = n - counts.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[:rest]] += 1
    return np.repeat(np.arange(o), counts)


def draw_heuristics(
    minority: np.ndarray, wf: WorkforceParams, rng: np.random.Generator
) -> np.ndarray:
    """Step-size heuristics ``(P, k)``: ``k`` distinct sizes from ``1..l``.

    Backgrounds bring different perspectives: the majority favours small steps
    (weight ``l + 1 - s``), the minority large ones (weight ``s``).
    """
    sizes = np.arange(1, wf.heuristic_l + 1, dtype=float)
    weights = np.where(minority[:, None], sizes[None, :], (wf.heuristic_l + 1 - sizes)[None, :])
    keys = np.log(rng.random((len(minority), wf.heuristic_l))) / weights  # weighted sampling w/o replacement
    top = np.argsort(-keys, axis=1, kind="stable")[:, : wf.heuristic_k]
    return (top + 1).astype(np.int64)


def draw_orientations(n: int, roles: RoleParams, rng: np.random.Generator) -> np.ndarray:
    """Own role orientations ``(P, 3)`` from a Dirichlet around the role mix."""
    mean = np.array([roles.orientation["expert"], roles.orientation["competitor"], roles.orientation["partner"]])
    alpha = np.maximum(mean, 1e-3) * roles.concentration
    return rng.dirichlet(alpha, size=n)


class GovernanceModel(mesa.Model):
    """Collaborative governance of a shared problem by organisations and professionals.

    Attributes:
        params: The validated parameters.
        landscape: The shared NK problem.
        config: Current configuration of the N decisions (0/1).
        organisations: Organisation agents, by index.
        professionals: Professional agents, by index.
        network: Collaboration network between professionals.
        trust: ``(O, O)`` trust between organisations.
        datacollector: Recorder of the metrics of :mod:`sim.metrics` (Mesa's interface).
    """

    def __init__(self, params: ModelParams | None = None, rng: SeedLike = 0) -> None:
        """Build the world from ``params`` and one seed.

        Args:
            params: Parameters (defaults if ``None``).
            rng: The run's seed, an int or a ``numpy.random.SeedSequence``.
        """
        seq = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(int(rng))
        world_seq, dynamics_seq = seq.spawn(2)
        land_seq, pop_seq, net_seq = world_seq.spawn(3)
        super().__init__(rng=np.random.default_rng(dynamics_seq))
        self.params = params = params if params is not None else ModelParams()
        self.seed_sequence = seq
        orgs = params.scenario.organisations
        self.n_orgs = n_orgs = len(orgs)
        wf = params.workforce
        pop_rng = np.random.default_rng(pop_seq)

        # --- the problem
        owner = split_decisions(np.array([o.decision_weight for o in orgs]), params.problem.N)
        self.landscape = NKLandscape(params.problem.N, params.problem.K, np.random.default_rng(land_seq),
                                     owner=owner, cross_boundary=params.problem.cross_boundary,
                                     exact_optimum_max_n=params.problem.exact_optimum_max_n)
        n = params.problem.N
        self.config = self.landscape.rng.integers(0, 2, n, dtype=np.uint8)
        self.org_masks = np.zeros((n_orgs, n), dtype=bool)
        self.org_masks[owner, np.arange(n)] = True
        self.shock_steps = {s.step: s.share for s in params.problem.shocks}

        # --- organisations
        mix = params.roles.orientation
        default_paradigm = np.array([mix["expert"], mix["competitor"], mix["partner"]])
        self.expectation = np.array([
            [o.paradigm["tpa"], o.paradigm["npm"], o.paradigm["npg"]] if o.paradigm else default_paradigm
            for o in orgs])
        self.external = np.array([o.kind == "external" for o in orgs])
        self.style_names = [params.style_of(i) for i in range(n_orgs)]
        self.styles: list[LeadershipStyle] = [get_style(s) for s in self.style_names]
        self.active_style = [getattr(s, "choice", s.name) for s in self.styles]
        self.org_pressure = np.zeros(n_orgs)
        t0 = params.network.initial_trust
        self.trust = np.full((n_orgs, n_orgs), t0)
        np.fill_diagonal(self.trust, 1.0)

        # --- professionals, ordered by organisation
        sizes = np.array([o.size for o in orgs])
        self.n_professionals = p = int(sizes.sum())
        self.home_org = np.repeat(np.arange(n_orgs), sizes)
        self.org_of = self.home_org.copy()
        self.minority = pop_rng.random(p) < params.scenario.minority_share
        self.n_minority = int(self.minority.sum())
        self.orientation = draw_orientations(p, params.roles, pop_rng)
        d = min(wf.domain_size, n)
        own_pick = np.array([pop_rng.choice(np.flatnonzero(owner == o)) for o in self.home_org])
        start = np.clip(own_pick - pop_rng.integers(0, d, p), 0, n - d)
        self.profession = start
        self.domain = (np.arange(n)[None, :] >= start[:, None]) & (np.arange(n)[None, :] < (start + d)[:, None])
        self.understood = self.domain.copy()
        extra = min(wf.extra_understood, n)
        if extra:
            keys = pop_rng.random((p, n)) + self.domain  # prefer decisions outside the domain
            pick = np.argsort(keys, axis=1)[:, :extra]
            self.understood[np.repeat(np.arange(p), extra), pick.ravel()] = True
        self.heuristic_steps = draw_heuristics(self.minority, wf, pop_rng)
        self.radius = pop_rng.integers(1, wf.radius_max + 1, p)
        self.skill = np.clip(pop_rng.normal(wf.skill_mean, wf.skill_sd, p), 0.0, 1.0)
        self.energy = pop_rng.uniform(0.7, 1.0, p)
        self.resilience = np.clip(pop_rng.lognormal(0.0, 0.25, p), 0.5, 2.0)
        self.reserve = pop_rng.random(p) < params.scenario.surge_reserve
        self.pointer = pop_rng.integers(0, n, p)
        self.attempt = np.zeros(p, dtype=np.int64)
        self.standing = np.zeros(p)
        self.burnout_left = np.zeros(p, dtype=np.int64)
        self.surge_due = np.full(p, -1, dtype=np.int64)
        self.known, self.n_known = ordered_known(self.understood)

        # --- network
        self.network = build_network(params.network, self.home_org, np.random.default_rng(net_seq))

        # --- Mesa agents (views onto the arrays above)
        self.organisations = [Organisation(self, i, o.name, o.kind) for i, o in enumerate(orgs)]
        self.professionals = [Professional(self, i) for i in range(p)]

        # --- per-step state read by metrics
        self.contrib = self.landscape.contributions(self.config)[0]
        self.optimum = self.landscape.optimum()[0]
        self.org_performance = self._org_performance(self.contrib)
        self.effective = effective_roles(self.orientation, self.expectation[self.org_of], params.roles.conformity)
        self.strain = role_strain(self.orientation, self.expectation[self.org_of])
        self.problem_time = np.zeros(p)
        self.forum_time = np.zeros(p)
        self.org_production = np.zeros(n_orgs)
        self.production_per_capita = 0.0
        self.counts = metrics.empty_step_counts()
        self.cumulative = metrics.empty_step_counts()
        self.contributors = np.zeros(0, dtype=np.int64)
        self.enacted: Proposals | None = None
        self.burnouts_this_step = 0
        self.shock_log: list[dict[str, float]] = []
        self.pv_history = [self.public_value]
        self.org_perf_history = [self.org_performance.copy()]
        self.org_last_gain = np.zeros(n_orgs, dtype=np.int64)
        self.org_best = self.org_performance.copy()
        self.crisis_load_until = -1
        self.crisis_started = -1
        self.choice_counts = {s: 0 for s in ("directive", "transactional", "facilitative", "shared",
                                             "laissez_faire")}

        climates = params.leadership.climates
        self._climate_vectors = {name: np.array([getattr(c, f) for f in CLIMATE_FIELDS])
                                 for name, c in climates.items()}
        self._spec_pressure = np.array([np.nan if o.pressure is None else o.pressure for o in orgs])
        self._spec_autonomy = np.array([np.nan if o.autonomy is None else o.autonomy for o in orgs])
        self._roles_key: tuple | None = None

        self.datacollector = metrics.Recorder(collect_agents=params.run.collect_agents)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ views
    @property
    def public_value(self) -> float:
        """Collective performance, normalised by the global optimum."""
        return float(self.contrib.mean() / self.optimum)

    @property
    def public_value_raw(self) -> float:
        """Collective performance: mean contribution over all decisions."""
        return float(self.contrib.mean())

    @property
    def active(self) -> np.ndarray:
        """Professionals not burnt out."""
        return self.burnout_left == 0

    def _org_performance(self, contrib: np.ndarray) -> np.ndarray:
        return (self.org_masks * contrib[None, :]).sum(axis=1) / self.org_masks.sum(axis=1)

    def informal_leader_of(self, who: np.ndarray) -> np.ndarray:
        """Highest-standing informal leader among each professional's ties (``-1`` if none)."""
        threshold = self.params.workforce.informal_leader_threshold
        net = self.network
        out = np.full(len(who), -1, dtype=np.int64)
        for row, i in enumerate(who):
            ties = net.neighbours[net.indptr[i]:net.indptr[i + 1]]
            if len(ties) == 0:
                continue
            best = ties[np.argmax(self.standing[ties])]
            if self.standing[best] >= threshold and self.burnout_left[best] == 0:
                out[row] = best
        return out

    def diagnose(self, org: int) -> dict[str, float]:
        """What a situational leader of ``org`` sees at the start of a step.

        ``drop`` is the fall since the end of the last step, so a shock or turbulence of
        this step shows at once: the larger of the fall in normalised public value and
        the relative fall in the organisation's own performance (both shares, over the
        same window). Then the burnout rate of its home staff, its mean trust in the
        other organisations, and whether its own performance has stagnated.
        """
        lp = self.params.leadership
        before_org = float(self.org_perf_history[-1][org])
        own_drop = (before_org - float(self.org_performance[org])) / before_org if before_org > 0 else 0.0
        drop = max(self.pv_history[-1] - self.public_value, own_drop)
        members = self.home_org == org
        others = np.arange(self.n_orgs) != org
        return {
            "drop": float(drop),
            "burnout": float((self.burnout_left[members] > 0).mean()),
            "trust": float(self.trust[org, others].mean()) if others.any() else 1.0,
            "stagnant": bool(self.steps - self.org_last_gain[org] >= lp.stagnation_window),
        }

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """One round, in the order of the ODD schedule."""
        self.counts = metrics.empty_step_counts()
        self._landscape_events(self.steps)
        self.leaders_act()            # 1
        self.allocate_time()          # 2
        made = self.search()          # 3
        raised = self.raise_voice(made)  # 4
        enacted = self.decide(raised)    # 5-6
        self._count_voice(made, raised, enacted)
        self.update_wellbeing()       # 7
        self.learn(enacted)           # 8
        self.record()                 # 9

    def leaders_act(self) -> None:
        """Step 1: each leader (situational ones diagnose first) sets its organisation's climate."""
        t = self.steps
        for o, style in enumerate(self.styles):
            chosen = style.active(self, o)
            if chosen != self.active_style[o]:
                self.org_last_gain[o] = t  # give a new position time to work
            self.active_style[o] = chosen
            if style.adaptive:
                self.choice_counts[chosen] += 1
        org_climate = np.array([self._climate_vectors[s] for s in self.active_style])
        autonomy_o, pressure_o, convening_o, learning_o, safety_o, support_o = org_climate.T
        pressure_o = np.where(np.isnan(self._spec_pressure), pressure_o, self._spec_pressure)
        pressure_o = np.where(self.external, 0.0, pressure_o)
        autonomy_o = np.where(np.isnan(self._spec_autonomy), autonomy_o, self._spec_autonomy)
        self.org_pressure = pressure_o
        self.climate_o = (autonomy_o, pressure_o, convening_o, learning_o, safety_o, support_o)
        of = self.org_of
        key = (tuple(self.active_style), of.tobytes())
        if key != self._roles_key:  # effective roles change only with styles or postings
            expectation = self.expectation[of]
            roles = effective_roles(self.orientation, expectation, self.params.roles.conformity)
            for o, name in enumerate(self.active_style):
                style = get_style_cached(name)
                if type(style).role_pull is not LeadershipStyle.role_pull:
                    members = of == o
                    roles[members] = style.role_pull(roles[members], pressure_o[of[members]])
            self.effective = roles
            self.strain = role_strain(self.orientation, expectation)
            self._roles_key = key

    def allocate_time(self) -> None:
        """Step 2: time on forums, on the shared problem and on production."""
        autonomy_o, pressure_o, convening_o = self.climate_o[:3]
        wf = self.params.workforce
        of = self.org_of
        active = self.active
        forum_share = convening_o[of]
        problem, production = wellbeing.allocate_time(autonomy_o[of], pressure_o[of], forum_share)
        self.problem_time = np.where(active, problem, 0.0)
        self.forum_time = np.where(active, forum_share, 0.0)
        output = np.where(active & ~self.external[of], production, 0.0) * wf.productivity
        headcount = np.maximum(np.bincount(of, minlength=self.n_orgs), 1)
        self.org_production = np.bincount(of, output, self.n_orgs) / headcount
        public_staff = max(int((~self.external[of]).sum()), 1)
        self.production_per_capita = float(output.sum() / public_staff)

    def search(self) -> Proposals:
        """Step 3: professionals with time for the problem propose changes and judge them."""
        params, wf, rng, of = self.params, self.params.workforce, self.rng, self.org_of
        who = np.flatnonzero(self.active & (rng.random(self.n_professionals) < self.problem_time))
        flips, new_pointer = make_flips(who, self.known, self.n_known, self.pointer, self.heuristic_steps,
                                        self.radius, self.attempt, params.problem.N)
        self.pointer[who] = new_pointer
        self.attempt[who] += 1
        props = score_proposals(self.landscape, self.config, self.contrib, who, of[who], flips, self.domain,
                                self.understood, self.org_masks, self.effective, self.skill, wf.noise, rng)
        made = props.subset(np.flatnonzero(props.judged > 0))
        self.contributors = made.who
        learning.practise(self.skill, who, self.climate_o[3][of], wf.practice_gain)
        return made

    def raise_voice(self, made: Proposals) -> Proposals:
        """Step 4: which proposals are raised."""
        wf = self.params.workforce
        raised_mask = voice.raise_voice(self.climate_o[4][made.org], self.minority[made.who], self.energy[made.who],
                                        wf.majority_voice, wf.minority_voice, self.rng)
        return made.subset(np.flatnonzero(raised_mask))

    def decide(self, raised: Proposals) -> Proposals:
        """Steps 5-6: decision by style, consent, conflicts; enact, score, update trust."""
        adopted, in_forum, forum_orgs = self._decide(raised)
        cand = raised.subset(np.flatnonzero(adopted))
        ok = trust.consent(cand.flips, cand.org, self.landscape.owner, self.trust, in_forum[adopted], forum_orgs,
                           self.rng)
        cand = cand.subset(np.flatnonzero(ok))
        enacted, enacted_forum = self._resolve_conflicts(cand, in_forum[adopted][ok])
        self.enacted = enacted
        self._enact(enacted, enacted_forum, forum_orgs, self.climate_o[4])
        return enacted

    def update_wellbeing(self) -> None:
        """Step 7: workload against resources moves energy; burnout and return."""
        params, wf, t, of = self.params, self.params.workforce, self.steps, self.org_of
        autonomy_o, pressure_o, support_o = self.climate_o[0], self.climate_o[1], self.climate_o[5]
        extra = np.zeros(self.n_professionals)
        if self.crisis_load_until >= t:
            span = params.scenario.surge_duration
            extra += params.scenario.shock_workload * (self.crisis_load_until - t + 1) / span
        extra += 0.3 * (of != self.home_org)
        load = wellbeing.workload(pressure_o[of], self.forum_time, self.strain, extra)
        active = self.active
        self.energy, self.burnouts_this_step = wellbeing.burn_out(
            self.energy, self.burnout_left, active, load, autonomy_o[of], support_o[of], self.resilience, wf, self.rng)

    def learn(self, enacted: Proposals) -> None:
        """Step 8: learning from trusted ties; informal standing."""
        wf, of = self.params.workforce, self.org_of
        learnt = learning.learn_from_ties(self.understood, self.active, self.climate_o[3][of], wf.learning_rate,
                                          self.network, self.effective, self.profession, of, self.rng)
        if len(learnt):
            self.known[learnt], self.n_known[learnt] = ordered_known(self.understood[learnt])
        mean_tie = self.network.mean_tie_trust()
        self.standing = (1.0 - wf.standing_decay) * self.standing + wf.standing_base * self.skill * mean_tie
        np.add.at(self.standing, enacted.who, wf.standing_gain)

    def record(self) -> None:
        """Step 9: histories for diagnosis, then the metrics."""
        t = self.steps
        self.pv_history.append(self.public_value)
        self.org_perf_history.append(self.org_performance.copy())
        improved = self.org_performance > self.org_best + 1e-12
        self.org_last_gain[improved] = t
        self.org_best = np.maximum(self.org_best, self.org_performance)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ pieces of a step
    def _landscape_events(self, t: int) -> None:
        """Turbulence, scheduled shocks, surge deployment and return."""
        land = self.landscape
        due = np.flatnonzero(self.surge_due == t)
        if len(due):
            crisis.return_surge(self.org_of, self.home_org, due)
            self.surge_due[due] = -1
        redraw = crisis.turbulence_redraws(land.n, self.params.problem.turbulence, land.rng)
        shock = t in self.shock_steps
        if shock:
            before_pv, before_org = self.public_value, self.org_performance.copy()
            redraw = np.union1d(redraw, crisis.shock_redraws(land.n, self.shock_steps[t], land.rng))
        if len(redraw) == 0:
            return
        land.redraw(redraw)
        self.contrib = land.contributions(self.config)[0]
        self.optimum = land.optimum()[0]
        self.org_performance = self._org_performance(self.contrib)
        if shock:
            self.shock_log.append({"step": t, "before": before_pv, "after": self.public_value})
            span = self.params.scenario.surge_duration
            self.crisis_load_until = t + span - 1
            targets = crisis.hardest_hit(before_org - self.org_performance)
            moved = crisis.deploy_surge(self.org_of, self.home_org, self.reserve, targets, self.active)
            self.surge_due[moved] = t + span

    def _decide(self, raised: Proposals) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply each active style's decision rule to the proposals raised under it."""
        adopted = np.zeros(len(raised), dtype=bool)
        in_forum = np.zeros(len(raised), dtype=bool)
        forum_orgs = np.array([get_style_cached(s).forum for s in self.active_style])
        styles_now = np.array(self.active_style)[raised.org] if len(raised) else np.array([], dtype=str)
        for name in dict.fromkeys(self.active_style):
            rows = np.flatnonzero(styles_now == name)
            if len(rows) == 0:
                continue
            style = get_style_cached(name)
            adopted[rows] = style.decide(self, raised.subset(rows))
            in_forum[rows] = style.forum
        return adopted, in_forum, forum_orgs

    def _resolve_conflicts(self, cand: Proposals, forum: np.ndarray) -> tuple[Proposals, np.ndarray]:
        """Keep non-overlapping proposals, best judged first (changes of one round are enacted together)."""
        if len(cand) <= 1:
            return cand, forum
        order = np.argsort(-cand.judged, kind="stable")
        used = np.zeros(cand.flips.shape[1], dtype=bool)
        keep = []
        for i in order:
            f = cand.flips[i]
            if not (used & f).any():
                used |= f
                keep.append(i)
        keep_arr = np.sort(np.array(keep, dtype=np.int64))
        return cand.subset(keep_arr), forum[keep_arr]

    def _enact(self, enacted: Proposals, forum: np.ndarray, forum_orgs: np.ndarray, safety_o: np.ndarray) -> None:
        """Apply enacted changes, score them and update trust between organisations and on ties."""
        n_orgs = self.n_orgs
        tp = self.params.trust
        changes_by_org = np.zeros((n_orgs, self.landscape.n), dtype=bool)
        np.logical_or.at(changes_by_org, enacted.org, enacted.flips)
        if len(enacted):
            self.config = self.config ^ changes_by_org.any(axis=0).astype(np.uint8)
            self.contrib = self.landscape.contributions(self.config)[0]
            self.org_performance = self._org_performance(self.contrib)
        effects = trust.org_effects(self.landscape, self.config, changes_by_org, n_orgs)
        touched = (self.org_masks.astype(np.int64) @ changes_by_org.T.astype(np.int64)) > 0  # [a, b]: b touched a
        forum_by = np.zeros(n_orgs, dtype=bool)
        forum_by[np.unique(enacted.org[forum])] = True
        shared = touched | (forum_orgs[:, None] & forum_by[None, :])
        np.fill_diagonal(shared, False)
        meeting = forum_orgs if forum_orgs.sum() > 1 else np.zeros(n_orgs, dtype=bool)
        self.trust = trust.update_trust(self.trust, effects, shared, meeting, tp.harm_loss, tp.help_gain,
                                        tp.forum_gain, tp.forgiveness, self.params.network.initial_trust)
        self.network.trust = trust.update_tie_trust(self.network.trust, self.network.edges, self.org_of,
                                                    self.trust, safety_o, tp.tie_adjustment)
        self.counts["adopted_cross_boundary"] = int(
            (enacted.flips & ~self.org_masks[enacted.org]).any(axis=1).sum()) if len(enacted) else 0

    def _count_voice(self, made: Proposals, raised: Proposals, enacted: Proposals) -> None:
        c = self.counts
        for label, props in (("made", made), ("raised", raised), ("adopted", enacted)):
            minority = self.minority[props.who]
            c[f"{label}_minority"] = int(minority.sum())
            c[f"{label}_majority"] = int((~minority).sum())
        for key, value in c.items():
            self.cumulative[key] += value


_STYLE_CACHE: dict[str, LeadershipStyle] = {}


def get_style_cached(name: str) -> LeadershipStyle:
    """A shared stateless instance of a concrete style (never ``situational``)."""
    if name not in _STYLE_CACHE:
        _STYLE_CACHE[name] = get_style(name)
    return _STYLE_CACHE[name]
