"""A fair contest between styles: one information model, a price on every behaviour, slow collaboration,
hierarchy's strengths and network governance modes (the fair-contest issue).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from sim import forum, information
from sim.model import GovernanceModel
from sim.params import BEHAVIOUR_FIELDS, STYLES, build_params
from sim.runner import fresh, replication_seeds
from tests.conftest import ROOT


def outcomes(config: dict, seeds: int = 10, steps: int = 40, names=("public_value",)) -> dict[str, np.ndarray]:
    """Mean over steps 1..T of each named metric, one value per seed (seeds paired across calls)."""
    rows = []
    for seq in replication_seeds(5, seeds):
        model = GovernanceModel(build_params(config), rng=fresh(seq))
        for _ in range(steps):
            model.step()
        ts = model.datacollector.get_model_vars_dataframe()
        rows.append([float(np.nanmean(ts[n].iloc[1:])) for n in names])
    return {n: np.array(col) for n, col in zip(names, np.array(rows).T, strict=True)}


def four_of(size: int, **extra: dict) -> dict:
    config = {"scenario": {"organisations": [{"name": f"o{i}", "size": size} for i in range(4)]}}
    for key, value in extra.items():
        config.setdefault(key, {}).update(value)
    return config


# ----------------------------------------------------------------------------- one information model
def test_no_decision_rule_reads_the_truth_except_through_the_information_model() -> None:
    """Rules and the forum never touch a proposal's true effects: only sim.information turns them into readings."""
    truth = re.compile(r"\.(contrib|mandate|gain_\w+)\b")
    for name in ("leadership.py", "forum.py"):
        for n, line in enumerate((ROOT / "sim" / name).read_text().splitlines(), 1):
            assert not truth.search(line), f"sim/{name}:{n} reads a true effect: {line.strip()}"


@pytest.mark.parametrize("style", STYLES)
def test_every_reading_is_partial_and_noisy(style: str, monkeypatch) -> None:
    """Every decision-maker reads through information.read, sees part of the problem, and errs."""
    calls = []
    real = information.read

    def spy(delta_shared, delta_mandate, readers, *args, **kwargs):
        calls.append((readers.seen.copy(), readers.skill.copy()))
        return real(delta_shared, delta_mandate, readers, *args, **kwargs)

    monkeypatch.setattr(information, "read", spy)
    model = GovernanceModel(build_params({"leadership": {"style": style}}), rng=3)
    for _ in range(12):
        model.step()
    assert calls, "nobody read a proposal"
    for _seen, skill in calls:
        assert (skill < 1).all()  # nobody reads without error
    assert np.mean([seen.mean() for seen, _ in calls]) < 1  # and views are partial (a forum pools, it is no oracle)


def test_the_same_reader_reads_alike_whatever_the_rule() -> None:
    """A leader reading for its rule and a delegate with the same view, skill and interest read the same."""
    model = GovernanceModel(build_params({"leadership": {"style": "directive"}}), rng=4)
    for _ in range(3):
        model.step()
    who = np.array([0, 1, 2])
    flips = np.zeros((3, model.landscape.n), dtype=bool)
    flips[np.arange(3), [0, 5, 9]] = True
    props = model.score(who, model.org_of[who], flips)
    state = model.streams["decision"].bit_generator.state
    as_leader = model.leader_reading(props, model.understood[who])
    model.streams["decision"].bit_generator.state = state
    draws = model.streams["decision"].normal(0.0, 1.0, 3)
    org = props.org
    readers = information.Readers(org=org, seen=model.org_masks[org] | model.understood[who],
                                  domain=np.zeros_like(flips), weights=information.goal_weights(model.goal[org]),
                                  skill=np.full(3, model.params.leadership.leader_skill), strain=np.zeros(3))
    np.testing.assert_allclose(as_leader, model.read(props, readers, draws))


def test_distance_makes_readings_of_other_organisations_decisions_noisier() -> None:
    n = 8
    delta = np.zeros((2, n))
    delta[:, 1] = 0.2
    readers = information.Readers(org=np.zeros(2, dtype=int), seen=np.ones((2, n), dtype=bool),
                                  domain=np.zeros((2, n), dtype=bool), weights=np.array([[0, 0, 1.0]] * 2),
                                  skill=np.zeros(2), strain=np.zeros(2))
    own_trust = np.ones((2, n))
    far_trust = np.zeros((2, n))
    near = information.distance(delta, delta, readers, own_trust, 1.0)
    far = information.distance(delta, delta, readers, far_trust, 1.0)
    assert near[0] == pytest.approx(1.0) and far[0] == pytest.approx(2.0)
    blind = information.Readers(**{**readers.__dict__, "seen": np.zeros((2, n), dtype=bool)})
    reading = information.read(delta, delta, blind, np.zeros((2, n), dtype=bool), far_trust, 0.05, 1.0, 0.0,
                               np.ones(2))
    assert (reading == 0).all()  # nobody misreads what it cannot see


# ----------------------------------------------------------------------------- a price on every behaviour
TIGHT = {"leadership": {"attention": 0.3}}
BUSY = {"workforce": {"base_demand": 0.8}}
COST_CHANNELS = [
    # behaviour, style, low, high, context, outcome made worse, worse means
    ("autonomy", "directive", 0.1, 0.9, BUSY, "safety", -1),          # less direction: fewer appreciative answers
    ("pressure", "transactional", 0.2, 1.0, {}, "energy", -1),       # enforced targets drain energy
    ("incentive", "transactional", 0.0, 1.0, {}, "energy", -1),      # competitor pull: strain and effort
    ("convening", "facilitative", 0.2, 1.0, {}, "production", -1),   # delegates' time
    ("responsiveness", "directive", 0.2, 1.0, TIGHT, "safety", -1),  # attention: the rest of the profile thins
    ("openness", "directive", 0.2, 1.0, TIGHT, "energy", -1),        # attention: support thins
    ("support", "directive", 0.2, 1.0, TIGHT, "efficacy", -1),       # attention: fewer proposals read and answered
    ("learning", "directive", 0.0, 1.0, BUSY, "production", -1),     # staff time in learning
    ("brokering", "directive", 0.0, 1.0, TIGHT, "efficacy", -1),     # attention spent negotiating consent
]


def test_every_behaviour_has_a_cost_channel_in_the_table() -> None:
    assert sorted(c[0] for c in COST_CHANNELS) == sorted(BEHAVIOUR_FIELDS)


@pytest.mark.parametrize(("behaviour", "style", "low", "high", "context", "outcome", "worse"), COST_CHANNELS,
                         ids=[c[0] for c in COST_CHANNELS])
def test_raising_a_behaviour_makes_a_main_outcome_worse_somewhere(behaviour, style, low, high, context, outcome,
                                                                  worse) -> None:
    """In a declared context, paired over ten seeds, more of the behaviour costs a main outcome."""
    def config(value: float) -> dict:
        c = four_of(25, leadership={"style": style, "behaviours": {style: {behaviour: value}}})
        for key, values in context.items():
            c.setdefault(key, {}).update(values)
        return c

    diff = outcomes(config(high), names=(outcome,))[outcome] - outcomes(config(low), names=(outcome,))[outcome]
    lo, hi = stats.t.interval(0.95, len(diff) - 1, loc=diff.mean(), scale=stats.sem(diff))
    assert (hi < 0) if worse < 0 else (lo > 0), f"{behaviour}: {outcome} {diff.mean():+.4f} [{lo:+.4f}, {hi:+.4f}]"


def test_attention_is_spent_and_thins_behaviours_when_short() -> None:
    model = GovernanceModel(build_params({"leadership": {"style": "facilitative", "attention": 0.2}}), rng=1)
    model.step()
    planned = np.array([model.params.behaviour_of(o).support for o in range(model.n_orgs)])
    assert (model.attention_demand > 0.2).all()
    np.testing.assert_allclose(model.b("support"), planned * 0.2 / model.attention_demand)
    assert (model.read_budget == 0).all()  # nothing left to read proposals with
    free = GovernanceModel(build_params({"leadership": {"style": "facilitative", "attention": 0.2},
                                         "mechanisms": {"attention": False}}), rng=1)
    free.step()
    np.testing.assert_allclose(free.b("support"), planned)


# ----------------------------------------------------------------------------- collaboration is slow
def test_a_meeting_gets_through_less_with_more_parties_and_more_with_trust() -> None:
    got = {(p, t): np.mean([forum.party_capacity(6, p, t, 0.5, d) for d in np.linspace(0, 0.999, 200)])
           for p in (2, 4, 8) for t in (0.2, 0.8)}
    assert got[(2, 0.2)] == got[(2, 0.8)] == 6
    assert got[(8, 0.2)] < got[(4, 0.2)] < got[(2, 0.2)]
    assert got[(8, 0.2)] < got[(8, 0.8)]


def test_forums_meet_only_on_forum_dates_and_proposals_wait_for_them() -> None:
    model = GovernanceModel(build_params({"leadership": {"style": "facilitative", "forum_interval": 4}}), rng=2)
    held, waits = [], []
    for _ in range(40):
        model.step()
        held.append(model.meeting.held)
        if model.network_decided:
            waits.append(model.network_wait / model.network_decided)
    assert all(t % 4 == 0 for t, h in zip(range(1, 41), held, strict=True) if h)
    assert any(held) and np.mean(waits) > 0.5


def test_forum_delay_grows_with_parties_and_falls_with_trust() -> None:
    base = {"leadership": {"style": "facilitative"}, "problem": {"cross_boundary": 0.75}}

    def wait(orgs: int, trust: float) -> float:
        size = 200 // orgs
        c = {**base, "network": {"initial_trust": trust},
             "scenario": {"organisations": [{"name": f"o{i}", "size": size} for i in range(orgs)]}}
        return float(np.nanmean(outcomes(c, seeds=6, steps=60, names=("network_wait",))["network_wait"]))

    assert wait(8, 0.5) > wait(4, 0.5)
    assert wait(4, 0.1) > wait(4, 0.9)


# ----------------------------------------------------------------------------- hierarchy and network modes
def test_a_lead_organisation_decides_network_matters_faster_than_a_forum() -> None:
    base = {"leadership": {"style": "facilitative"}, "problem": {"cross_boundary": 0.75}}
    forum_wait = outcomes(base, seeds=6, steps=40, names=("network_wait",))["network_wait"]
    lead = {**base, "network": {"governance": "lead_organisation"}}
    lead_wait = outcomes(lead, seeds=6, steps=40, names=("network_wait",))["network_wait"]
    assert np.nanmean(lead_wait) < np.nanmean(forum_wait)


def test_under_a_lead_organisation_only_its_leader_convenes() -> None:
    model = GovernanceModel(build_params({"leadership": {"style": "facilitative"},
                                         "network": {"governance": "lead_organisation", "lead": "org2"}}), rng=5)
    assert model.lead == 1
    for _ in range(30):
        model.step()
        if model.meeting.held:
            assert model.meeting.convenors.sum() <= 1 and not model.meeting.convenors[[0, 2, 3]].any()


def test_a_network_administrative_organisation_convenes_where_no_leader_does_and_is_paid_for() -> None:
    config = {"leadership": {"style": "facilitative", "behaviours": {"facilitative": {"convening": 0.0}}},
              "workforce": {"base_demand": 0.1}, "network": {"initial_trust": 0.9}}  # partners with time and trust
    nao = GovernanceModel(build_params({**config, "network": {"governance": "nao", "initial_trust": 0.9}}), rng=6)
    plain = GovernanceModel(build_params(config), rng=6)
    held = 0
    for _ in range(30):
        nao.step()
        plain.step()
        held += nao.meeting.held
        assert not plain.meeting.held  # nobody convenes
    assert held > 0
    levy = GovernanceModel(build_params({**config, "network": {"governance": "nao", "nao_levy": 0.5}}), rng=6)
    levy.step()
    first = GovernanceModel(build_params({**config, "network": {"governance": "nao", "nao_levy": 0.0}}), rng=6)
    first.step()
    assert (levy.need > first.need).all()  # the partners pay for it: less capacity, more work per head


def test_a_directive_leader_enacts_coordinated_multi_decision_changes() -> None:
    """A leader extends and packages changes beyond what any proposer makes alone (laissez-faire never does)."""
    radius = build_params({}).workforce.radius_max

    def widest(style: str) -> int:
        model = GovernanceModel(build_params({"leadership": {"style": style}}), rng=7)
        most = 0
        for _ in range(60):
            model.step()
            e = model.enacted
            if len(e):
                most = max(most, int(e.flips.sum(axis=1).max()),
                           *(int(e.flips[e.org == o].sum()) for o in np.unique(e.org)))
        return most

    assert widest("directive") > radius
    model = GovernanceModel(build_params({"leadership": {"style": "laissez_faire"}}), rng=7)
    for _ in range(60):
        model.step()
        assert len(model.enacted) == 0 or model.enacted.flips.sum(axis=1).max() <= radius


def test_surge_staff_leave_at_once_under_direction_and_later_otherwise() -> None:
    def moved_by_step(style: str) -> list[int]:
        model = GovernanceModel(build_params({"leadership": {"style": style}, "run": {"steps": 20},
                                              "problem": {"shocks": [{"step": 5, "share": 0.8}]},
                                              "scenario": {"surge_reserve": 0.2}}), rng=8)
        out = []
        for _ in range(9):
            model.step()
            out.append(int((model.org_of != model.home_org).sum()))
        return out

    directive, facilitative, laissez = moved_by_step("directive"), moved_by_step("facilitative"), \
        moved_by_step("laissez_faire")
    assert directive[4] > 0  # at once, in the shock's step
    assert facilitative[4] <= directive[4] and laissez[4] < directive[4]


# ----------------------------------------------------------------------------- roles move with leadership
def test_role_expectations_and_strain_move_with_what_leaders_do() -> None:
    strain = {}
    for style in ("directive", "facilitative", "laissez_faire"):
        model = GovernanceModel(build_params({"leadership": {"style": style}}), rng=9)
        for _ in range(30):
            model.step()
        strain[style] = model.strain.mean()
        if style == "facilitative":
            assert (model.felt[:, 2] > 1 / 3).all()  # convening calls for the partner
    assert len({round(v, 4) for v in strain.values()}) == 3
    off = GovernanceModel(build_params({"leadership": {"style": "directive"},
                                        "mechanisms": {"role_socialisation": False}}), rng=9)
    before = off.orientation.copy()
    for _ in range(10):
        off.step()
    np.testing.assert_array_equal(off.orientation, before)


def test_value_delivered_counts_only_clients_served() -> None:
    model = GovernanceModel(build_params({"leadership": {"style": "laissez_faire"}}), rng=10)
    for _ in range(20):
        model.step()
    ts = model.datacollector.get_model_vars_dataframe()
    np.testing.assert_allclose(ts.value_delivered, ts.public_value * ts.served_share)
    assert (ts.served_share.iloc[1:] < 1).any() and (ts.value_delivered <= ts.public_value + 1e-12).all()


def test_every_declared_pattern_is_run_with_its_declared_settings() -> None:
    """docs/patterns.md declares the patterns; experiments/contingencies.py runs exactly those."""
    from experiments import contingencies

    declared = set(re.findall(r"^## (P\d+)\b", (ROOT / "docs" / "patterns.md").read_text(), flags=re.M))
    run = {re.match(r"P\d+", p.key).group(0) for p in contingencies.patterns()}
    assert len(declared) >= 6 and declared == run
    results = (ROOT / "docs" / "patterns.md").read_text().split(contingencies.MARK)
    assert len(results) == 2 and all(f"| {p.key} " in results[1] for p in contingencies.patterns())
    one = contingencies.evaluate(2, 1, only={"P6"})[0]
    assert one[0].key == "P6" and len(one[1]) == 2 and np.isfinite(one[1]).all()
