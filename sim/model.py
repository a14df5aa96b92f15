"""GovernanceModel: wiring of the problem, the organisations, the workforce and one step.

One step is one round (about a month) of the ODD schedule, one method per phase:
leaders act, time is allocated, professionals search, raise proposals, leaders
decide (with consent), the new configuration is scored and trust updated, energy
changes, professionals learn, and the metrics are collected. Each mechanism lives
in the module named after it; this module wires them.

Randomness: one seed per run. It is split with ``numpy.random.SeedSequence``
into a *world* stream (landscape, its turbulence and shocks, the mandates' own noise,
the workforce, the network) and one *dynamics* stream per mechanism (``model.streams``). Two runs
with the same seed but different leadership face the same problem, workforce and
shocks (common random numbers); and because every mechanism draws from its own
stream, mostly in vectors of a fixed size per step, the draws of one mechanism
stay aligned between conditions when another mechanism's draws differ.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim import crisis, forum, information, learning, metrics, trust, voice, wellbeing
from sim.agents import Organisation, Professional
from sim.information import Readers, goal_weights
from sim.landscape import NKLandscape
from sim.leadership import LeadershipStyle, Verdict, get_style, proposer_decides
from sim.network import build_network
from sim.params import BEHAVIOUR_FIELDS, STYLES, ModelParams, RoleParams, WorkforceParams
from sim.roles import PARTNER, effective_roles, felt_expectation, led_expectation, role_strain
from sim.search import Proposals, make_flips, next_understood, score_proposals

SeedLike = int | np.random.SeedSequence
STREAMS = ("forum", "search", "voice", "decision", "consent", "trust", "wellbeing", "learning", "crisis")
"""Named random streams of the dynamics, one per mechanism."""


def draw_heuristics(minority: np.ndarray, wf: WorkforceParams, rng: np.random.Generator) -> np.ndarray:
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
    """Own role orientations ``(P, 3)`` from a Dirichlet around the role mix (a zero weight: a tiny one)."""
    mean = np.array([roles.orientation["expert"], roles.orientation["competitor"], roles.orientation["partner"]])
    alpha = np.maximum(mean * roles.concentration, np.finfo(float).tiny)
    return rng.dirichlet(alpha, size=n)


class GovernanceModel(mesa.Model):
    """Collaborative governance of a shared problem by organisations and professionals.

    Attributes:
        params: The validated parameters.
        landscape: The shared NK problem (with each owner's mandate tables).
        config: Current configuration of the N decisions (0/1).
        organisations: Organisation agents, by index.
        professionals: Professional agents, by index.
        network: Collaboration network between professionals.
        trust: ``(O, O)`` trust between organisations.
        safety, efficacy: ``(P,)`` psychological safety and voice efficacy.
        energy: ``(P,)`` energy (well-being).
        behaviour: ``(O, 9)`` behaviour of each organisation's leader this step (as carried out,
            after attention is rationed); ``intended``: as its profile and overrides ask.
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
        super().__init__(rng=np.random.default_rng(dynamics_seq))
        self.params = params if params is not None else ModelParams()
        self.seed_sequence = seq
        land_seq, pop_seq, net_seq, mandate_seq = world_seq.spawn(4)
        self.streams = {name: np.random.default_rng(s)
                        for name, s in zip(STREAMS, dynamics_seq.spawn(len(STREAMS)), strict=True)}
        self._build_problem(np.random.default_rng(land_seq), np.random.default_rng(mandate_seq))
        self._build_organisations()
        self._build_workforce(np.random.default_rng(pop_seq))
        self.network = build_network(self.params.network, self.home_org, np.random.default_rng(net_seq))
        self.organisations = [Organisation(self, i, o.name, o.kind)
                              for i, o in enumerate(self.params.scenario.organisations)]
        self.professionals = [Professional(self, i) for i in range(self.n_professionals)]
        self._init_state()
        self.datacollector = metrics.Recorder(collect_agents=self.params.run.collect_agents)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ building
    def _build_problem(self, rng: np.random.Generator, mandate_rng: np.random.Generator) -> None:
        p = self.params.problem
        owner = self.params.owners()
        mandate = p.mandate_correlation if self.params.mechanisms.mandates else 1.0
        self.landscape = NKLandscape(p.N, p.K, rng, owner=owner, cross_boundary=p.cross_boundary,
                                     exact_optimum_max_n=p.exact_optimum_max_n, mandate_correlation=mandate,
                                     mandate_rng=mandate_rng)
        self.config = rng.integers(0, 2, p.N, dtype=np.uint8)
        self.n_orgs = int(owner.max()) + 1
        self.org_masks = np.zeros((self.n_orgs, p.N), dtype=bool)
        self.org_masks[owner, np.arange(p.N)] = True
        self._org_weights = self.org_masks / self.org_masks.sum(axis=1, keepdims=True)  # mean over own decisions
        deps = np.zeros((p.N, p.N), dtype=bool)
        deps[np.repeat(np.arange(p.N), p.K + 1), self.landscape.deps.ravel()] = True
        self.org_depends = (self.org_masks.astype(np.int64) @ deps.astype(np.int64)) > 0  # [a, j]: a depends on j
        self.depends_on = deps.astype(np.int64)  # [i, j]: decision i's contribution depends on decision j
        self.shock_steps = {s.step: s.share for s in p.shocks}

    def _build_organisations(self) -> None:
        params = self.params
        orgs = params.scenario.organisations
        mix = params.roles.orientation
        default_paradigm = np.array([mix["expert"], mix["competitor"], mix["partner"]])
        self.expectation = np.array([
            [o.paradigm["tpa"], o.paradigm["npm"], o.paradigm["npg"]] if o.paradigm else default_paradigm
            for o in orgs])
        self.external = np.array([o.kind == "external" for o in orgs])
        self.style_names = [params.style_of(i) for i in range(self.n_orgs)]
        self.styles: list[LeadershipStyle] = [get_style(s) for s in self.style_names]
        self.active_style = [s.choice if s.adaptive else s.name for s in self.styles]  # type: ignore[attr-defined]
        self.goal = np.array([params.goal_of(i) for i in range(self.n_orgs)])
        weight = np.array([float(o.size) if o.power is None else o.power for o in orgs])
        self.power = weight / weight.mean()
        p = np.sort(self.power)
        n = len(p)
        self.power_gini = float((2 * np.arange(1, n + 1) - n - 1) @ p / (n * p.sum())) if n > 1 else 0.0
        self._behaviour_cache: dict[tuple[int, str], np.ndarray] = {}
        self.behaviour_override: list[dict[str, float]] = [{} for _ in range(self.n_orgs)]
        self.trust = np.full((self.n_orgs, self.n_orgs), params.network.initial_trust)
        np.fill_diagonal(self.trust, 1.0)
        names = [o.name for o in orgs]
        lead = params.network.lead
        self.lead = names.index(lead) if lead in names else int(np.argmax(self.power))
        self.headcount = np.array([float(o.size) for o in orgs])
        costs = params.leadership.attention_cost
        member_facing = ("pressure", "incentive", "responsiveness", "openness", "support", "learning")
        span = self.headcount / params.leadership.span_reference
        self._attention_cost = np.array([costs[f] * (span if f in member_facing else np.ones(self.n_orgs))
                                         for f in BEHAVIOUR_FIELDS]).T  # (O, 9)

    def _build_workforce(self, rng: np.random.Generator) -> None:
        params, wf = self.params, self.params.workforce
        n = params.problem.N
        sizes = np.array([o.size for o in params.scenario.organisations])
        self.n_professionals = p = int(sizes.sum())
        self.home_org = np.repeat(np.arange(self.n_orgs), sizes)
        self.org_of = self.home_org.copy()
        self.minority = rng.random(p) < params.scenario.minority_share
        self.n_minority = int(self.minority.sum())
        self.minority_weight = self.minority.astype(float)
        self.orientation = draw_orientations(p, params.roles, rng)
        self.trained = self.orientation.copy()
        d = min(wf.domain_size, n)
        owner = self.landscape.owner
        own_pick = np.array([rng.choice(np.flatnonzero(owner == o)) for o in self.home_org])
        start = np.clip(own_pick - rng.integers(0, d, p), 0, n - d)
        self.profession = start
        cols = np.arange(n)[None, :]
        self.domain = (cols >= start[:, None]) & (cols < (start + d)[:, None])
        self.understood = self.domain.copy()
        extra = min(wf.extra_understood, n)
        if extra:
            keys = rng.random((p, n)) + self.domain  # prefer decisions outside the domain
            pick = np.argsort(keys, axis=1)[:, :extra]
            self.understood[np.repeat(np.arange(p), extra), pick.ravel()] = True
        self.heuristic_steps = draw_heuristics(self.minority, wf, rng)
        self.radius = rng.integers(1, wf.radius_max + 1, p)
        self.skill = np.clip(rng.normal(wf.skill_mean, wf.skill_sd, p), 0.0, 1.0)
        lo, hi = wf.initial_energy - wf.initial_energy_spread, wf.initial_energy + wf.initial_energy_spread
        self.energy = np.clip(rng.uniform(lo, hi, p), 0.0, 1.0)
        self.resilience = np.exp(rng.normal(0.0, wf.resilience_sd, p))
        self.reserve = rng.random(p) < params.scenario.surge_reserve
        self.pointer = rng.integers(0, n, p)

    def _init_state(self) -> None:
        p, wf = self.n_professionals, self.params.workforce
        self.attempt = np.zeros(p, dtype=np.int64)
        self.standing = np.zeros(p)
        self.burnout_left = np.zeros(p, dtype=np.int64)
        self.surge_due = np.full(p, -1, dtype=np.int64)
        self.safety = np.full(p, wf.initial_safety)
        self.efficacy = np.full(p, wf.initial_efficacy)
        self.next_known = next_understood(self.understood)
        self.contrib, self.mandate = self.landscape.both_contributions(self.config)
        self.contrib, self.mandate = self.contrib[0], self.mandate[0]
        self._set_optimum()
        self.org_performance = self._org_performance(self.contrib)
        self.backlog = np.zeros(self.n_orgs)
        self.need = np.full(self.n_orgs, wf.base_demand)
        self.behaviour = np.zeros((self.n_orgs, len(BEHAVIOUR_FIELDS)))
        self.attention_demand = np.zeros(self.n_orgs)
        self.read_budget = np.full(self.n_orgs, np.inf)
        self.reads_wanted = np.zeros(self.n_orgs)
        self.reads_expected = np.zeros(self.n_orgs)
        self.meeting = forum.Meeting.none(self.n_orgs)
        self.queue = forum.Queue.empty(self.params.problem.N)
        self.surge_pending = np.zeros(p, dtype=bool)
        self.surge_target = np.full(p, -1, dtype=np.int64)
        self._set_behaviour()
        self._set_roles()
        self.work = wellbeing.Work(*(np.zeros(self.n_orgs) for _ in range(4)), np.zeros(p), np.zeros(p), np.zeros(p))
        self.problem_time = np.zeros(p)
        self.forum_time = np.zeros(p)
        self.production_per_capita = 0.0
        self.counts = metrics.empty_step_counts()
        self.cumulative = metrics.empty_step_counts()
        self.contributors = np.zeros(0, dtype=np.int64)
        self.enacted: Proposals | None = None
        self.burnouts_this_step = 0
        self.referred_to_forum = 0
        self.shock_log: list[dict[str, float]] = []
        self.pv_history = [self.public_value]
        self.org_perf_history = [self.org_performance.copy()]
        self.org_last_gain = np.zeros(self.n_orgs, dtype=np.int64)
        self.org_best = self.org_performance.copy()
        self.crisis_load_until = -1
        self._diagnosis_key: tuple | None = None
        self._diagnosis: dict[str, np.ndarray] = {}
        self._tie_trust_key: tuple | None = None
        self._mean_tie: np.ndarray = np.zeros(p)
        self._roles_key: tuple | None = None
        self._trust_version = 0
        self.choice_counts = {s: 0 for s in STYLES if not get_style(s).adaptive}
        self.network_wait = 0.0
        self.network_decided = 0
        self.lapsed = 0
        self.lapsed_who = np.zeros(0, dtype=np.int64)

    def final_network(self) -> Any:
        """The collaboration network as a networkx graph, for figures of a run's final state.

        Ties carry ``trust``; professionals carry ``organisation``, ``role`` (dominant
        effective role), ``minority``, ``energy`` and ``burnt_out``.
        """
        import networkx as nx

        g = self.network.to_networkx()
        names = [o.name for o in self.params.scenario.organisations]
        roles = ("expert", "competitor", "partner")
        dominant = self.effective.argmax(axis=1)
        nx.set_node_attributes(g, {i: names[int(o)] for i, o in enumerate(self.org_of)}, "organisation")
        nx.set_node_attributes(g, {i: roles[int(d)] for i, d in enumerate(dominant)}, "role")
        nx.set_node_attributes(g, {i: bool(v) for i, v in enumerate(self.minority)}, "minority")
        nx.set_node_attributes(g, {i: float(v) for i, v in enumerate(self.energy)}, "energy")
        nx.set_node_attributes(g, {i: bool(v > 0) for i, v in enumerate(self.burnout_left)}, "burnt_out")
        return g

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

    def b(self, name: str) -> np.ndarray:
        """Behaviour ``name`` of every organisation's leader this step, ``(O,)``."""
        return self.behaviour[:, BEHAVIOUR_FIELDS.index(name)]

    def _set_optimum(self) -> None:
        """The landscape's optimum and each organisation's performance in the optimal configuration."""
        self.optimum, best = self.landscape.optimum()
        self.optimal_performance = self._org_performance(self.landscape.contributions(best)[0])

    @property
    def unmet_need(self) -> np.ndarray:
        """Each organisation's clients' unmet need.

        The share of its own decisions' performance in the optimal configuration that the
        current one misses (0 at or above it).
        """
        return np.clip(1.0 - self.org_performance / self.optimal_performance, 0.0, 1.0)

    def _org_performance(self, contrib: np.ndarray) -> np.ndarray:
        return self._org_weights @ contrib

    @property
    def mandate_performance(self) -> np.ndarray:
        """Each organisation's performance on its own mandate (its own decisions)."""
        return self._org_performance(self.mandate)

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

    def hear(self, props: Proposals) -> np.ndarray:
        """Which raised proposals their organisation's leader hears and reads.

        A leader hears a proposal with probability ``responsiveness`` (less a status discount
        for minority proposers) and reads the heard ones, in random order, as far as its
        attention left after its behaviours allows (``read_attention`` each); the rest go
        unheard. Reading spends the attention.
        """
        discount = self.params.workforce.status_discount if self.params.mechanisms.status else 0.0
        draws = self._hear_draws[props.who]
        heard = draws < voice.hearing_probability(self.b("responsiveness")[props.org], self.minority[props.who],
                                                  discount)
        return heard & self.spend_attention(props.org, heard, draws)

    def spend_attention(self, org: np.ndarray, wanted: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Which of the ``wanted`` readings (by ``org``'s leader, in ``order``) its attention still covers."""
        ok = wanted.copy()
        np.add.at(self.reads_wanted, org[wanted], 1)
        if not wanted.any() or not np.isfinite(self.read_budget).any():
            return ok
        rows = np.flatnonzero(wanted)
        rows = rows[np.lexsort((order[rows], org[rows]))]
        rank = np.arange(len(rows)) - np.searchsorted(org[rows], org[rows])
        ok[rows[rank >= self.read_budget[org[rows]]]] = False
        np.subtract.at(self.read_budget, org[rows[rank < self.read_budget[org[rows]]]], 1)
        return ok

    def read(self, props: Proposals, readers: Readers, draws: np.ndarray) -> np.ndarray:
        """Readers' readings of ``props`` (row by row) through the one information model."""
        wf, mech = self.params.workforce, self.params.mechanisms
        return information.read(props.contrib - self.contrib[None, :], props.mandate - self.mandate[None, :], readers,
                                self.org_masks[readers.org], self.trust[readers.org][:, self.landscape.owner],
                                wf.noise, self.params.leadership.distance_noise,
                                wf.strain_noise if mech.role_socialisation else 0.0, draws)

    def leader_reading(self, props: Proposals, explained: np.ndarray, by: np.ndarray | None = None) -> np.ndarray:
        """Formal leaders' readings: over their organisation's decisions plus ``explained`` ``(A, N)``.

        Args:
            props: The proposals.
            explained: What each proposal's proposer explains (or nothing).
            by: The organisation whose leader reads each (default: the proposer's).
        """
        org = props.org if by is None else by
        n = len(props)
        readers = Readers(org=org, seen=self.org_masks[org] | explained,
                          domain=np.zeros((n, self.landscape.n), dtype=bool), weights=goal_weights(self.goal[org]),
                          skill=np.full(n, self.params.leadership.leader_skill), strain=np.zeros(n))
        return self.read(props, readers, self.streams["decision"].normal(0.0, 1.0, n))

    def professional_reading(self, props: Proposals, reader: np.ndarray, explained: np.ndarray,
                             draws: np.ndarray | None = None) -> np.ndarray:
        """Professionals' readings by their effective roles: over what they understand plus ``explained``."""
        readers = Readers(org=self.org_of[reader], seen=self.understood[reader] | explained, domain=self.domain[reader],
                          weights=self.effective[reader], skill=self.skill[reader], strain=self.strain[reader])
        if draws is None:
            draws = self.streams["decision"].normal(0.0, 1.0, len(props))
        return self.read(props, readers, draws)

    def score(self, who: np.ndarray, org: np.ndarray, flips: np.ndarray) -> Proposals:
        """Proposals ``flips`` by ``who`` of ``org``, scored against the current configuration."""
        return score_proposals(self.landscape, self.config, self.contrib, self.mandate, who, org, flips, self.domain,
                               self.understood, self.org_masks)

    def packages(self, props: Proposals, reading: np.ndarray, heard: np.ndarray) -> np.ndarray:
        """Rows of heard proposals a leader enacts as a coordinated pair (see :class:`sim.leadership.Directive`).

        Per organisation, the two best-read heard proposals that change different decisions are
        read again as one change, over the leader's decisions and what both proposers explain;
        both are adopted when that reading is positive and above the better single reading.
        """
        firsts, seconds = [], []
        for o in np.unique(props.org[heard]):
            rows = np.flatnonzero(heard & (props.org == o))
            if len(rows) < 2:
                continue
            rows = rows[np.argsort(-reading[rows], kind="stable")]
            first = rows[0]
            rest = rows[1:][~(props.flips[rows[1:]] & props.flips[first]).any(axis=1)]
            if len(rest):
                firsts.append(first)
                seconds.append(rest[0])
        if not firsts:
            return np.zeros(0, dtype=np.int64)
        a, b = np.array(firsts), np.array(seconds)
        budget = self.spend_attention(props.org[a], np.ones(len(a), dtype=bool), np.zeros(len(a)))
        a, b = a[budget], b[budget]
        if len(a) == 0:
            return a
        pair = self.score(props.who[a], props.org[a], props.flips[a] | props.flips[b])
        both = self.leader_reading(pair, self.understood[props.who[a]] | self.understood[props.who[b]])
        take = (both > 0) & (both > np.maximum(reading[a], 0.0))
        return np.concatenate([a[take], b[take]])

    def extend(self, props: Proposals, rows: np.ndarray, reading: np.ndarray) -> Proposals | None:
        """``props`` with each adopted row extended by the leader's best further change of its own decisions.

        For each row, the leader reads the proposal with one more of its organisation's
        decisions flipped, for each such decision, as far as its attention covers, and keeps
        the extension that reads best if it reads better than the proposal alone.
        """
        if len(rows) == 0:
            return None
        own = self.org_masks[props.org[rows]] & ~props.flips[rows]
        base, extra = np.nonzero(own)
        if len(base) == 0:
            return None
        org = props.org[rows[base]]
        ok = self.spend_attention(org, np.ones(len(base), dtype=bool), self.streams["decision"].random(len(base)))
        base, extra, org = base[ok], extra[ok], org[ok]
        if len(base) == 0:
            return None
        flips = props.flips[rows[base]].copy()
        flips[np.arange(len(base)), extra] = True
        who = props.who[rows[base]]
        ext = self.score(who, org, flips)
        read = self.leader_reading(ext, self.understood[who])
        better = read > reading[rows[base]]
        if not better.any():
            return None
        out = props.subset(np.arange(len(props)))
        best = np.full(len(rows), -np.inf)
        pick = np.full(len(rows), -1)
        for i in np.flatnonzero(better):
            if read[i] > best[base[i]]:
                best[base[i]], pick[base[i]] = read[i], i
        for r, i in enumerate(pick):
            if i >= 0:
                out.assign(np.array([rows[r]]), ext.subset(np.array([i])))
        return out

    def refer(self, props: Proposals) -> None:
        """Refer proposals to the network: they wait in the queue until it decides them."""
        if len(props):
            self.queue.add(props, self.steps)

    def network_decides(self) -> tuple[Proposals, np.ndarray, np.ndarray, np.ndarray]:
        """The network works through its queue: in a forum, or (lead organisation) on the lead's desk.

        Returns:
            ``(items, adopted, answered, agreed)`` for the queued proposals it decided this step
            (scored against the current configuration); they leave the queue, as do those that
            waited longer than ``forum_patience`` steps (counted as lapsed).
        """
        q, n = self.queue, self.landscape.n
        lp = self.params.leadership
        self.network_wait, self.network_decided = 0.0, 0
        lapsed = self.steps - q.since > lp.forum_patience
        self.lapsed = int(lapsed.sum())
        self.lapsed_who = q.who[lapsed]
        q.keep(~lapsed)
        none = (Proposals.empty(n), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool),
                np.zeros((0, self.n_orgs), dtype=bool))
        if len(q) == 0:
            return none
        if self.params.network.governance == "lead_organisation":
            rows = np.flatnonzero(self.spend_attention(np.full(len(q), self.lead), np.ones(len(q), dtype=bool),
                                                       q.since.astype(float)))
            if len(rows) == 0:
                return none
            items = self.score(q.who[rows], q.org[rows], q.flips[rows])
            items.judged = q.judged[rows]
            reading = self.leader_reading(items, self.understood[items.who], by=np.full(len(rows), self.lead))
            adopted = reading > 0
            agreed = np.repeat(adopted[:, None], self.n_orgs, axis=1)
            answered = np.ones(len(rows), dtype=bool)
        else:
            meeting = self.meeting
            if not meeting.held:
                return none
            rows = np.flatnonzero(meeting.attending[q.org])
            if len(rows) == 0:
                return none
            items = self.score(q.who[rows], q.org[rows], q.flips[rows])
            items.judged = q.judged[rows]
            mech = self.params.mechanisms
            affected = (items.flips.astype(np.int64) @ self.depends_on.T) > 0
            adopted, answered, agreed = forum.deliberate(
                meeting, items, self.understood, self.skill, self.strain, self.trust, self.goal, self.power, affected,
                meeting.capacity, lp, mech.forum_information, self.read, self.streams["forum"])
            keep = answered
            items, adopted, answered, agreed = items.subset(keep), adopted[keep], answered[keep], agreed[keep]
            rows = rows[keep]
        decided = np.zeros(len(q), dtype=bool)
        decided[rows] = True
        self.network_wait = float((self.steps - q.since[rows]).sum())
        self.network_decided = len(rows)
        if self.meeting.held:
            self.meeting.waited += int(self.network_wait)
        q.keep(~decided)
        return items, adopted, answered, agreed

    def diagnose(self, org: int) -> dict[str, float]:
        """What a situational leader of ``org`` sees at the start of a step.

        ``drop`` is the relative fall of the organisation's own performance since the end of
        the last step (its own indicators: no leader reads the shared value), so a shock or
        turbulence of this step shows at once; ``before`` and ``performance`` are that
        performance then and now. Then the burnout rate
        of its home staff, the share of its demand left unserved last step (backlog), its
        mean trust in the other organisations, whether its own performance has
        stagnated, and whether its staff are ready to be delegated to (mean energy and
        skill at least ``readiness``). Computed for all organisations at once, once per step.
        """
        key = (self.steps, self.public_value)
        if self._diagnosis_key != key:
            self._diagnosis = self._diagnose_all()
            self._diagnosis_key = key
        return {name: values[org] for name, values in self._diagnosis.items()}

    def _diagnose_all(self) -> dict[str, np.ndarray]:
        lp, n_orgs = self.params.leadership, self.n_orgs
        before = self.org_perf_history[-1]
        own_drop = np.divide(before - self.org_performance, before, out=np.zeros(n_orgs), where=before > 0)
        heads = np.maximum(np.bincount(self.home_org, minlength=n_orgs), 1)
        burnt = np.bincount(self.home_org, self.burnout_left > 0, n_orgs) / heads
        demand = self.work.demand
        backlog = np.divide(demand - self.work.served, demand, out=np.zeros(n_orgs), where=demand > 0)
        others = max(n_orgs - 1, 1)
        trust_in_others = (self.trust.sum(axis=1) - np.diag(self.trust)) / others if n_orgs > 1 else np.ones(1)
        energy = np.bincount(self.home_org, self.energy, n_orgs) / heads
        skill = np.bincount(self.home_org, self.skill, n_orgs) / heads
        return {
            "drop": own_drop.astype(float),
            "before": before,
            "performance": self.org_performance.copy(),
            "burnout": burnt,
            "backlog": backlog,
            "trust": trust_in_others,
            "stagnant": self.steps - self.org_last_gain >= lp.stagnation_window,
            "ready": np.minimum(energy, skill) >= lp.readiness,
        }

    # ------------------------------------------------------------------ interventions between steps
    def set_leadership(self, org: int | str, style: str, behaviour: dict[str, float] | None = None) -> None:
        """Lead organisation ``org`` in ``style`` from the next step on, with some behaviours set by hand.

        The leader acts in the new style (its behaviour profile and decision rule) from the next
        :meth:`step`; ``behaviour`` replaces single behaviours of the profile (on top of the
        organisation's own configured ones) until the next call, which replaces them again (``None``
        or ``{}``: the style's profile). Setting the style an organisation already has keeps its
        strategy object, so a situational leader keeps its diagnosis state. Nothing else changes: a
        run with the same changes before the same steps is the same run.

        Args:
            org: Index of the organisation, or its name.
            style: One of :data:`sim.params.STYLES`.
            behaviour: Values in [0, 1] by name of :data:`sim.params.BEHAVIOUR_FIELDS`.

        Raises:
            ConfigError: If the organisation, the style, a behaviour's name or its value is not
                allowed (nothing is changed then).
        """
        from sim.params import ConfigError

        names = [o.name for o in self.params.scenario.organisations]
        if isinstance(org, str) and not isinstance(org, bool):
            if org not in names:
                raise ConfigError("organisation", org, "must be one of " + ", ".join(names))
            index = names.index(org)
        elif isinstance(org, (int, np.integer)) and not isinstance(org, bool) and 0 <= int(org) < self.n_orgs:
            index = int(org)
        else:
            raise ConfigError("organisation", org, f"must be an index in [0, {self.n_orgs - 1}] or a name")
        if style not in STYLES:
            raise ConfigError(f"{names[index]}.leadership", style, "must be one of " + ", ".join(STYLES))
        given = dict(behaviour or {})
        for key, value in given.items():
            if key not in BEHAVIOUR_FIELDS:
                raise ConfigError(f"{names[index]}.behaviour.{key}", value,
                                  "unknown behaviour; behaviours: " + ", ".join(BEHAVIOUR_FIELDS))
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                    or not np.isfinite(value) or not 0.0 <= float(value) <= 1.0:
                raise ConfigError(f"{names[index]}.behaviour.{key}", value, "must lie in [0, 1]")
        if style != self.style_names[index]:
            self.style_names[index] = style
            self.styles[index] = get_style(style)
        self.behaviour_override[index] = {k: float(v) for k, v in given.items()}
        for key in [k for k in self._behaviour_cache if k[0] == index]:
            del self._behaviour_cache[key]

    def fire_shock(self, share: float) -> int:
        """Schedule a shock redrawing ``share`` of the decisions at the next step (a crisis now).

        The shock is the same as a scheduled one of ``problem.shocks`` (landscape redraw, crisis
        workload, surge); when a shock is already due at that step, the larger share applies.

        Returns:
            The step at which the shock hits.

        Raises:
            ConfigError: If ``share`` is not a number in (0, 1].
        """
        from sim.params import ConfigError

        if isinstance(share, bool) or not isinstance(share, (int, float, np.floating)) \
                or not np.isfinite(share) or not 0.0 < float(share) <= 1.0:
            raise ConfigError("problem.shocks.share", share, "must lie in (0, 1]")
        step = self.steps + 1
        self.shock_steps[step] = max(float(share), self.shock_steps.get(step, 0.0))
        return step

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """One round, in the order of the ODD schedule."""
        self.counts = metrics.empty_step_counts()
        self.landscape_events()       # turbulence, shocks, surge deployment and return
        self.leaders_act()            # 1
        self.allocate_time()          # 2
        made = self.search()          # 3
        raised = self.raise_voice(made)  # 4
        enacted = self.decide(raised)    # 5-6
        self.update_wellbeing()       # 7
        self.learn(enacted)           # 8
        self.record()                 # 9

    def landscape_events(self, t: int | None = None) -> None:
        """Turbulence and scheduled shocks of step ``t`` (default: this one) redraw the problem; the surge moves."""
        t = self.steps if t is None else t
        land = self.landscape
        due = np.flatnonzero(self.surge_due == t)
        if len(due):
            crisis.return_surge(self.org_of, self.home_org, due)
            self.surge_due[due] = -1
            self.surge_pending[due] = False
        redraw = crisis.turbulence_redraws(land.n, self.params.problem.turbulence, land.rng)
        shock = t in self.shock_steps
        if shock:
            before_pv, before_org = self.public_value, self.org_performance.copy()
            redraw = np.union1d(redraw, crisis.shock_redraws(land.n, self.shock_steps[t], land.rng))
        if len(redraw) == 0:
            return
        land.redraw(redraw)
        self.contrib, self.mandate = (c[0] for c in land.both_contributions(self.config))
        self._set_optimum()
        self.org_performance = self._org_performance(self.contrib)
        if shock:
            self.shock_log.append({"step": t, "before": before_pv, "after": self.public_value})
            span = self.params.scenario.surge_duration
            self.crisis_load_until = t + span - 1
            targets = crisis.hardest_hit(before_org - self.org_performance, self.params.scenario.surge_targets)
            movers, destination = crisis.plan_surge(self.org_of, self.home_org, self.reserve, targets, self.active)
            self.surge_pending[movers] = True
            self.surge_target[movers] = destination
            self.surge_due[movers] = t + span

    def _release_surge(self) -> None:
        """Pending surge members leave when their home organisation's rule releases them (see :mod:`sim.crisis`)."""
        pending = self.surge_pending
        if not pending.any():
            return
        draws = self.streams["crisis"].random(self.n_professionals)
        home = self.home_org
        if self.params.mechanisms.decision_rules:
            how = np.array([get_style_cached(self.active_style[o]).redeploys for o in range(self.n_orgs)])[home]
        else:
            how = np.full(self.n_professionals, "at_once")
        forum_now = (self.meeting.attending[home] if self.meeting.held else np.zeros(len(home), dtype=bool)) \
            | (self.params.network.governance == "lead_organisation")
        go = pending & self.active & (
            (how == "at_once") | ((how == "by_forum") & forum_now)
            | ((how == "voluntary") & (draws < self.effective[:, PARTNER])))
        self.org_of[go] = self.surge_target[go]
        self.surge_pending[go] = False

    def leaders_act(self) -> None:
        """Step 1: leaders (situational ones after a diagnosis) act: behaviour, roles, convening."""
        t = self.steps
        for o, style in enumerate(self.styles):
            chosen = style.active(self, o)
            if chosen != self.active_style[o]:
                self.org_last_gain[o] = t  # give a new position time to work
            self.active_style[o] = chosen
            if style.adaptive:
                self.choice_counts[chosen] += 1
        self._set_behaviour()
        self._set_roles()
        self.meeting = self._convene()
        self._release_surge()
        self.referred_to_forum = 0

    def _convene(self) -> forum.Meeting:
        """On a forum date, a forum may meet (see :mod:`sim.forum`); the meeting's capacity and cost."""
        mech, lp, mode = self.params.mechanisms, self.params.leadership, self.params.network.governance
        if not mech.time_allocation or (mech.collaborative_inertia and self.steps % lp.forum_interval):
            return forum.Meeting.none(self.n_orgs)
        convening = self.b("convening").copy()
        if mode == "lead_organisation":
            convening[np.arange(self.n_orgs) != self.lead] = 0.0
        members = [np.flatnonzero((self.org_of == o) & self.active) for o in range(self.n_orgs)]
        interest = np.ones(self.n_orgs)
        if len(self.queue):
            interest = (self.queue.flips.astype(np.int64) @ self.org_depends.T.astype(np.int64) > 0).mean(axis=0)
        elif mech.collaborative_inertia:
            interest = np.zeros(self.n_orgs)
        meeting = forum.convene(convening, self.trust, self.need, interest, members, lp, self.streams["forum"],
                                convened_by_network=mode == "nao")
        draw = self.streams["forum"].random()
        if not meeting.held:
            return meeting
        present = np.flatnonzero(meeting.attending)
        sub = self.trust[np.ix_(present, present)]
        mutual = float((sub.sum() - np.trace(sub)) / max(len(present) * (len(present) - 1), 1))
        delay = lp.forum_party_delay if mech.collaborative_inertia else 0.0
        meeting.capacity = forum.party_capacity(lp.forum_capacity, len(present), mutual, delay, draw)
        if mode == "nao" and lp.read_attention > 0 and mech.attention:
            meeting.capacity = min(meeting.capacity, int(self.params.network.nao_attention / lp.read_attention))
        return meeting

    def _set_behaviour(self) -> None:
        """Behaviour of each leader in the style it acts in this step (org overrides on top)."""
        for o, style in enumerate(self.active_style):
            key = (o, style)
            if key not in self._behaviour_cache:
                beh = self.params.behaviour_of(o, style)
                if self.behaviour_override[o]:
                    beh = beh.replace(**self.behaviour_override[o])
                self._behaviour_cache[key] = np.array([getattr(beh, f) for f in BEHAVIOUR_FIELDS])
            self.behaviour[o] = self._behaviour_cache[key]
        self._pay_attention()

    def _pay_attention(self) -> None:
        """Leaders' behaviours draw on their attention; so does reading proposals.

        Each behaviour takes ``attention_cost`` per unit (member-facing ones times the span of
        control), and reading takes ``read_attention`` per proposal, planned at the load the
        leader expects (a running mean of the readings it was asked for, half-life one step).
        When together they need more than ``attention``, the leader rations it in proportion:
        each costly behaviour is carried out, and each expected reading made, only in that
        share. This step it can read the rationed expected readings plus whatever attention the
        behaviours leave, rounded at random.
        """
        lp = self.params.leadership
        self.reads_expected = 0.5 * self.reads_expected + 0.5 * self.reads_wanted
        self.reads_wanted = np.zeros(self.n_orgs)
        draws = self.streams["decision"].random(self.n_orgs)
        self.intended = self.behaviour.copy()
        if not self.params.mechanisms.attention:
            self.attention_demand = np.zeros(self.n_orgs)
            self.read_budget = np.full(self.n_orgs, np.inf)
            return
        behaviours = (self.behaviour * self._attention_cost).sum(axis=1)
        reading = lp.read_attention * self.reads_expected
        demand = behaviours + reading
        self.attention_demand = demand
        scale = np.where(demand > lp.attention, lp.attention / np.maximum(demand, 1e-300), 1.0)
        costly = self._attention_cost > 0
        self.behaviour = np.where(costly, self.behaviour * scale[:, None], self.behaviour)
        if lp.read_attention <= 0:
            self.read_budget = np.full(self.n_orgs, np.inf)
            return
        left = np.maximum(lp.attention - demand, 0.0)
        self.read_budget = np.floor(scale * self.reads_expected + left / lp.read_attention + draws)

    def _set_roles(self) -> None:
        """Roles felt (paradigm pulled by incentives), effective roles and role strain."""
        of, mech, lp = self.org_of, self.params.mechanisms, self.params.leadership
        incentive = self.b("incentive") if mech.incentives else np.zeros(self.n_orgs)
        key = (incentive.tobytes(), of.tobytes())
        if not mech.role_socialisation and key == getattr(self, "_roles_key", None):  # only incentives, postings
            return
        self._roles_key = key
        felt_o = felt_expectation(self.expectation, incentive)
        if mech.role_socialisation:
            felt_o = led_expectation(felt_o, 1.0 - self.b("autonomy"), 0.5 * (self.b("pressure") + incentive),
                                     0.5 * (self.b("convening") + self.b("brokering")), lp.role_pull)
        felt = felt_o[of]
        if mech.role_socialisation and self.steps > 0:  # drift towards the expectation, held by one's training
            anchor = self.params.roles.conformity * felt + (1.0 - self.params.roles.conformity) * self.trained
            self.orientation += lp.socialisation * (anchor - self.orientation)
        self.felt = felt
        self.effective = effective_roles(self.orientation, felt, self.params.roles.conformity)
        self.strain = role_strain(self.orientation, felt)

    def allocate_time(self) -> None:
        """Step 2: forum delegates meet; demand sets the production time needed; the rest by autonomy and pressure."""
        wf, mech, of = self.params.workforce, self.params.mechanisms, self.org_of
        active = self.active
        self.forum_time = np.zeros(self.n_professionals)
        if self.meeting.held:
            lp = self.params.leadership
            parties = int(self.meeting.attending.sum())
            extra = lp.forum_party_time * max(parties - 2, 0) if mech.collaborative_inertia else 0.0
            self.forum_time[self.meeting.delegates] = min(lp.forum_time + extra, 1.0)
        headcount = np.bincount(self.home_org, minlength=self.n_orgs).astype(float)
        unmet = self.unmet_need
        crisis_load = 0.0
        if self.crisis_load_until >= self.steps:
            span = self.params.scenario.surge_duration
            crisis_load = self.params.scenario.shock_workload * (self.crisis_load_until - self.steps + 1) / span
        demand, failure = wellbeing.org_demand(headcount, unmet, crisis_load, self.backlog, self.external, wf,
                                               mech.failure_demand)
        eff = wellbeing.efficiency(self.energy, wf) if mech.wellbeing else np.ones(self.n_professionals)
        capacity = np.bincount(of, np.where(active, eff, 0.0), self.n_orgs) * wf.productivity
        if self.params.network.governance == "nao":
            capacity = capacity * (1.0 - self.params.network.nao_levy)  # the partners pay for the NAO
        need = np.divide(demand, capacity, out=np.where(demand > 0, np.inf, 0.0), where=capacity > 0)
        need_p = np.minimum(need[of], 1e6)
        if mech.time_allocation:
            away = self.forum_time + (wf.learning_time * self.b("learning")[of] if mech.learning else 0.0)
            problem, production, shortfall = wellbeing.allocate_time(
                need_p, self.b("autonomy")[of], self.b("pressure")[of], np.minimum(away, 1.0), wf.duty)
        else:
            problem = np.full(self.n_professionals, wf.baseline_problem_time)
            production = np.minimum(1.0 - problem, need_p)
            shortfall = np.maximum(0.0, need_p - production)
        problem = np.where(active, problem, 0.0)
        production = np.where(active, production, 0.0)
        output = np.bincount(of, production * eff, self.n_orgs) * wf.productivity
        served = np.minimum(output, demand)
        self.backlog = (demand - served) * (1.0 - wf.backlog_decay)
        self.need = np.minimum(need, 1e6)
        self.problem_time = problem
        self.work = wellbeing.Work(demand, failure, self.need, served, problem, production, shortfall)
        public_staff = max(int((~self.external[self.home_org]).sum()), 1)
        self.production_per_capita = float(served.sum() / wf.productivity / public_staff)

    def search(self) -> Proposals:
        """Step 3: engaged professionals with time for the problem propose changes and judge them."""
        params, wf, of = self.params, self.params.workforce, self.org_of
        rng = self.streams["search"]
        draws = rng.random(self.n_professionals)
        noise_draws = rng.normal(0.0, 1.0, self.n_professionals)
        chance = self.problem_time
        if params.mechanisms.wellbeing:
            chance = chance * ((1.0 - wf.motivation) + wf.motivation * self.energy * self.resources())
        who = np.flatnonzero(self.active & (draws < chance))
        flips, new_pointer = make_flips(who, self.next_known, self.pointer, self.heuristic_steps, self.radius,
                                        self.attempt, params.problem.N)
        self.pointer[who] = new_pointer
        self.attempt[who] += 1
        props = self.score(who, of[who], flips)
        props.judged = self.professional_reading(props, who, np.zeros_like(flips), noise_draws[who])
        made = props.subset(np.flatnonzero(props.judged > 0))
        self.contributors = made.who
        if params.mechanisms.learning:
            learning.practise(self.skill, who, self.b("learning")[of], wf.practice_gain)
        return made

    def mean_tie_trust(self) -> np.ndarray:
        """Mean trust over each professional's ties (computed once per state of the ties)."""
        key = (self.steps, len(self.network.trust), self._trust_version)
        if key != self._tie_trust_key:
            self._mean_tie = self.network.mean_tie_trust()
            self._tie_trust_key = key
        return self._mean_tie

    def resources(self) -> np.ndarray:
        """Job resources of each professional: its leader's autonomy and support and its ties' trust, weighted."""
        of, w = self.org_of, self.params.workforce.resource_weights
        total = w["autonomy"] + w["support"] + w["ties"]
        return (w["autonomy"] * self.b("autonomy")[of] + w["support"] * self.b("support")[of]
                + w["ties"] * self.mean_tie_trust()) / total

    def raise_voice(self, made: Proposals) -> Proposals:
        """Step 4: which proposals are raised (safety, efficacy, background, energy)."""
        rng = self.streams["voice"]
        draws = rng.random(self.n_professionals)
        self._tone_draws = rng.random(self.n_professionals)
        self._hear_draws = rng.random(self.n_professionals)
        p = voice.raise_probability(self.minority[made.who], self.safety[made.who], self.efficacy[made.who],
                                    self.energy[made.who], self.params.workforce)
        return made.subset(np.flatnonzero(draws[made.who] < p))

    def decide(self, raised: Proposals) -> Proposals:
        """Steps 5-6: decision rules and the network's queue, consent, conflicts; enact, score, trust; voice.

        Raised proposals meet their organisation's decision rule; proposals the network decides
        this step (from its queue) join them. Both then need consent, overlapping ones are
        settled, and the rest are enacted together.
        """
        verdict = self._verdicts(raised)
        items, adopted, answered, agreed = self.network_decides()
        lapsed_who = self.lapsed_who
        cands = Proposals.concat([raised, items])
        adopted_all = np.concatenate([verdict.adopted, adopted])
        answered_all = np.concatenate([verdict.answered, answered])
        agreed_all = np.concatenate([verdict.agreed, agreed])
        cand_rows = np.flatnonzero(adopted_all)
        ok = self._consent(cands.subset(cand_rows), agreed_all[cand_rows])
        enacted_rows = self._resolve_conflicts(cands, cand_rows[ok])
        enacted = cands.subset(enacted_rows)
        was_enacted = np.zeros(len(cands), dtype=bool)
        was_enacted[enacted_rows] = True
        forum_made = agreed_all[enacted_rows].any(axis=1)
        self.enacted = enacted
        self._enact(enacted, forum_made)
        c = self.counts
        c["unanswered"] = int((~(verdict.answered | was_enacted[: len(raised)])).sum()) + len(lapsed_who)
        c["answered"] = int(answered_all.sum())
        who = np.concatenate([cands.who, lapsed_who])
        if self.params.mechanisms.voice_dynamics and len(who):
            org = self.org_of[who]
            lapse = np.zeros(len(lapsed_who), dtype=bool)
            dismissed, appreciated = voice.respond(self.safety, self.efficacy, who,
                                                   np.concatenate([answered_all, lapse]),
                                                   np.concatenate([was_enacted, lapse]), self.b("openness")[org],
                                                   self._tone_draws[who], self.params.workforce)
            events = np.flatnonzero(dismissed | appreciated)
            if len(events):
                voice.witness(self.safety, self._colleagues(who[events], events), dismissed, appreciated,
                              self.params.workforce)
            c["dismissed"] = int(dismissed.sum())
        self._count_voice(raised, enacted)
        return enacted

    def _colleagues(self, who: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``(W, 2)`` pairs (tie in the same organisation, row) for each professional in ``who``."""
        net = self.network
        start, stop = net.indptr[who], net.indptr[who + 1]
        lengths = stop - start
        if lengths.sum() == 0:
            return np.zeros((0, 2), dtype=np.int64)
        idx = np.repeat(start - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
        ties = net.neighbours[idx]
        owner_row = np.repeat(rows, lengths)
        same = self.org_of[ties] == np.repeat(self.org_of[who], lengths)
        return np.column_stack([ties[same], owner_row[same]])

    def _verdicts(self, raised: Proposals) -> Verdict:
        """Apply each organisation's decision rule (by the style it acts in) to its raised proposals."""
        if not self.params.mechanisms.decision_rules:
            return proposer_decides(raised, self.n_orgs)
        verdict = Verdict.blank(len(raised), self.n_orgs)
        if len(raised) == 0:
            return verdict
        styles_now = np.array(self.active_style)[raised.org]
        for name in dict.fromkeys(self.active_style):
            rows = np.flatnonzero(styles_now == name)
            if len(rows) == 0:
                continue
            part = get_style_cached(name).decide(self, raised.subset(rows))
            verdict.adopted[rows], verdict.answered[rows], verdict.agreed[rows] = \
                part.adopted, part.answered, part.agreed
            if part.amended is not None:
                raised.assign(rows, part.amended)
        return verdict

    def _consent(self, cand: Proposals, agreed: np.ndarray) -> np.ndarray:
        """Consent of every other owner touched by each adopted proposal."""
        rng = self.streams["consent"]
        draws = rng.random((len(cand), self.n_orgs + 1))
        if not self.params.mechanisms.consent or len(cand) == 0:
            return np.ones(len(cand), dtype=bool)
        touched = trust.touched_owners(cand.flips, cand.org, self.landscape.owner, self.n_orgs)
        if self.params.network.governance == "lead_organisation":
            return self._lead_consents(cand, agreed, touched)
        brokered = draws[:, -1] < self.b("brokering")[cand.org]
        need_contact = touched.any(axis=1) & ~brokered
        contact = None
        if need_contact.any():
            contact = np.zeros((len(cand), self.n_orgs))
            rows = np.flatnonzero(need_contact)
            contact[rows] = trust.contact_trust(cand.who[rows], self.network, self.org_of, self.n_orgs)
        ok = trust.consent(touched, cand.org, self.trust, agreed, brokered, contact, draws[:, :-1])
        self.counts["consent_refused"] = int((~ok).sum())
        return ok

    def _lead_consents(self, cand: Proposals, agreed: np.ndarray, touched: np.ndarray) -> np.ndarray:
        """Under a lead organisation, its leader decides on changes to other partners' decisions.

        It reads each one not yet agreed (over its own decisions and what the proposer
        explains), as far as its attention goes; its yes stands for every partner's consent.
        """
        ok = ~touched.any(axis=1) | agreed[np.arange(len(cand)), :].any(axis=1)
        ask = np.flatnonzero(~ok)
        if len(ask):
            lead = np.full(len(ask), self.lead)
            seen = self.spend_attention(lead, np.ones(len(ask), dtype=bool), np.zeros(len(ask)))
            ask = ask[seen]
            if len(ask):
                part = cand.subset(ask)
                ok[ask] = self.leader_reading(part, self.understood[part.who], by=lead[: len(ask)]) > 0
        self.counts["consent_refused"] = int((~ok).sum())
        return ok

    def _resolve_conflicts(self, raised: Proposals, rows: np.ndarray) -> np.ndarray:
        """Keep non-overlapping proposals, best judged first (changes of one round are enacted together)."""
        if len(rows) <= 1:
            return rows
        order = rows[np.argsort(-raised.judged[rows], kind="stable")]
        used = np.zeros(raised.flips.shape[1], dtype=bool)
        keep = []
        for i in order:
            f = raised.flips[i]
            if not (used & f).any():
                used |= f
                keep.append(i)
        return np.sort(np.array(keep, dtype=np.int64))

    def _enact(self, enacted: Proposals, forum_made: np.ndarray) -> None:
        """Apply enacted changes, score them, and move trust between organisations and on ties."""
        n_orgs, tp = self.n_orgs, self.params.trust
        changes_by_org = np.zeros((n_orgs, self.landscape.n), dtype=bool)
        np.logical_or.at(changes_by_org, enacted.org, enacted.flips)
        if len(enacted):
            self.config = self.config ^ changes_by_org.any(axis=0).astype(np.uint8)
            self.contrib, self.mandate = (c[0] for c in self.landscape.both_contributions(self.config))
            self.org_performance = self._org_performance(self.contrib)
        rng = self.streams["trust"]
        noise = rng.normal(0.0, tp.attribution_noise, (n_orgs, n_orgs + 1))
        active = changes_by_org.any(axis=1)
        perceived = np.zeros((n_orgs, n_orgs))
        if active.any():
            groups = changes_by_org[active]
            forum_changes = np.zeros((1, self.landscape.n), dtype=bool)
            if forum_made.any():
                forum_changes[0] = enacted.flips[forum_made].any(axis=0)
            effect = trust.effects(self.landscape, self.config, np.vstack([groups, forum_changes]), self.org_masks,
                                   self.goal)
            seen = (self.org_depends.astype(np.int64) @ groups.T.astype(np.int64)) > 0  # [a, g] touched a's deps
            cols = np.flatnonzero(active)
            perceived[:, cols] = np.where(seen, effect[:, :-1] + noise[:, cols], 0.0)
            np.fill_diagonal(perceived, 0.0)
            if forum_made.any() and self.params.mechanisms.forum_trust and self.meeting.held:
                served = np.sign(effect[:, -1] + noise[:, -1])
                self.trust = trust.forum_trust(self.trust, self.meeting.attending, served, tp.forum_gain)
        self.trust = trust.update_trust(self.trust, perceived, tp.help_gain, tp.harm_loss, tp.forgiveness,
                                        self.params.network.initial_trust)
        self._trust_version += 1
        self.network.trust = trust.update_tie_trust(self.network.trust, self.network.edges, self.org_of, self.trust,
                                                    self.safety, tp.tie_adjustment)
        self.counts["adopted_cross_boundary"] = int(
            (enacted.flips & ~self.org_masks[enacted.org]).any(axis=1).sum()) if len(enacted) else 0

    def update_wellbeing(self) -> None:
        """Step 7: job demands against job resources move energy; burnout, contagion and return."""
        wf = self.params.workforce
        draws = self.streams["wellbeing"].normal(0.0, 1.0, self.n_professionals)
        if not self.params.mechanisms.wellbeing:
            self.burnouts_this_step = 0
            return
        of, w = self.org_of, self.work
        deployed = (of != self.home_org).astype(float)
        demands = wellbeing.job_demands(w.need[of], self.forum_time, self.strain, deployed, self.b("pressure")[of],
                                        w.shortfall, wf)
        burnt = (~self.active).astype(float)
        net = self.network
        burnt_ties = (np.bincount(net.edges[:, 0], burnt[net.edges[:, 1]], self.n_professionals)
                      + np.bincount(net.edges[:, 1], burnt[net.edges[:, 0]], self.n_professionals)) \
            / np.maximum(net.degree, 1)
        self.energy, self.burnouts_this_step = wellbeing.burn_out(
            self.energy, self.burnout_left, self.active, demands, self.resources(), burnt_ties, self.resilience, wf,
            draws)

    def learn(self, enacted: Proposals) -> None:
        """Step 8: learning from trusted ties and in forums; forums tie delegates; informal standing."""
        wf, of = self.params.workforce, self.org_of
        rng = self.streams["learning"]
        meeting = self.meeting
        if self.params.mechanisms.learning:
            learnt = learning.learn_from_ties(self.understood, self.active, self.b("learning")[of], wf.learning_rate,
                                              self.network, self.effective, self.profession, of, rng)
            if meeting.held and meeting.voiced is not None:
                learnt = np.union1d(learnt, learning.learn_in_forum(
                    self.understood, meeting.delegates, meeting.voiced, self.params.leadership.forum_learning, rng))
            if len(learnt):
                self.next_known[learnt] = next_understood(self.understood[learnt])
        if meeting.held:
            self._tie_delegates(rng)
        mean_tie = self.mean_tie_trust()
        self.standing = (1.0 - wf.standing_decay) * self.standing + wf.standing_base * self.skill * mean_tie
        np.add.at(self.standing, enacted.who, wf.standing_gain)

    def _tie_delegates(self, rng: np.random.Generator) -> None:
        """Delegates of different organisations who met may form a tie (trust: their organisations')."""
        d, d_org = self.meeting.delegates, self.meeting.delegate_org
        i, j = np.triu_indices(len(d), k=1)
        draws = rng.random(len(i))
        cross = d_org[i] != d_org[j]
        form = cross & (draws < self.params.leadership.forum_tie_rate)
        if form.any():
            a, b = d_org[i[form]], d_org[j[form]]
            self.network.add_ties(np.column_stack([d[i[form]], d[j[form]]]),
                                  0.5 * (self.trust[a, b] + self.trust[b, a]))

    def record(self) -> None:
        """Step 9: histories for diagnosis, then the metrics."""
        t = self.steps
        self.pv_history.append(self.public_value)
        self.org_perf_history.append(self.org_performance.copy())
        improved = self.org_performance > self.org_best + 1e-12
        self.org_last_gain[improved] = t
        self.org_best = np.maximum(self.org_best, self.org_performance)
        self.datacollector.collect(self)

    def _count_voice(self, raised: Proposals, enacted: Proposals) -> None:
        c = self.counts
        made = self.contributors
        for label, who in (("made", made), ("raised", raised.who), ("adopted", enacted.who)):
            minority = self.minority[who]
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
