"""The human side: time, voice, energy, learning, shocks, surge reserve; scenarios compose and run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.run import model_config
from sim import crisis, learning, voice
from sim.model import GovernanceModel
from sim.params import build_params
from sim.runner import run_replication
from tests.conftest import CONFIGS, small_params

SCENARIOS = sorted(p.stem for p in (CONFIGS / "scenario").glob("*.yaml") if p.stem != "default")


def orgs(**spec) -> list[dict]:
    return [{"name": f"o{i}", "size": 10, **spec} for i in range(4)]


def test_higher_pressure_raises_production_and_lowers_problem_time() -> None:
    out = {}
    for pressure in (0.0, 0.5, 1.0):
        model = GovernanceModel(small_params(scenario={"organisations": orgs(behaviour={"pressure": pressure})},
                                             workforce={"duty": 0.0, "base_demand": 0.9}), rng=4)
        model.step()
        out[pressure] = (model.production_per_capita, model.problem_time.mean())
    assert out[0.0][0] < out[0.5][0] < out[1.0][0]
    assert out[0.0][1] > out[0.5][1] > out[1.0][1]


def test_autonomy_lever_costs_production_and_buys_problem_time() -> None:
    low = GovernanceModel(small_params(scenario={"organisations": orgs(behaviour={"autonomy": 0.1})},
                                       workforce={"base_demand": 0.9}), rng=4)
    high = GovernanceModel(small_params(scenario={"organisations": orgs(behaviour={"autonomy": 0.9})},
                                        workforce={"base_demand": 0.9}), rng=4)
    low.step()
    high.step()
    assert high.problem_time.mean() > low.problem_time.mean()
    assert high.production_per_capita < low.production_per_capita


def test_full_safety_does_not_equalise_voice_between_backgrounds() -> None:
    wf = small_params().workforce
    n = 4
    minority = np.array([True, False, True, False])
    p = voice.raise_probability(minority, np.ones(n), np.ones(n), np.ones(n), wf)
    assert p[0] == pytest.approx(wf.minority_voice) and p[1] == pytest.approx(wf.majority_voice)
    assert p[0] < p[1]
    zero = voice.raise_probability(minority, np.zeros(n), np.ones(n), np.ones(n), wf)
    assert zero.max() == 0.0


def test_dismissal_lowers_safety_and_silence_lowers_efficacy() -> None:
    wf = small_params().workforce
    safety, efficacy = np.full(4, 0.5), np.full(4, 0.5)
    who = np.arange(4)
    answered = np.array([True, True, False, False])
    enacted = np.array([True, False, False, True])
    openness = np.zeros(4)  # every rejection is dismissive
    voice.respond(safety, efficacy, who, answered, enacted, openness, np.full(4, 0.5), wf)
    assert safety[0] > 0.5 and safety[1] < 0.5  # appreciated vs dismissed
    assert safety[2] == 0.5 and safety[3] == 0.5  # nobody answered: no tone
    assert efficacy[0] > 0.5 and efficacy[1] > 0.5 and efficacy[3] > 0.5  # answered, or enacted itself
    assert efficacy[2] < 0.5  # unanswered: futility


def test_open_leaders_keep_safety_where_dismissive_ones_lose_it() -> None:
    def final_safety(openness: float) -> float:
        params = small_params(leadership={"style": "directive",
                                          "behaviours": {"directive": {"openness": openness, "responsiveness": 1.0}}},
                              run={"steps": 60})
        return run_replication(params, 0)[0].safety.iloc[-1]

    assert final_safety(0.0) < final_safety(1.0)


def test_professional_without_energy_makes_no_proposals() -> None:
    model = GovernanceModel(small_params(leadership={"style": "laissez_faire"}), rng=2)
    tired = np.arange(0, model.n_professionals, 2)
    for _ in range(10):
        model.energy[tired] = 0.0
        model.burnout_left[tired] = 0  # keep them formally active: energy alone must silence them
        model.step()
        assert not np.isin(model.enacted.who, tired).any()


def test_burnt_out_professionals_are_inactive_then_return() -> None:
    params = small_params(workforce={"energy_drain": 1.0, "burnout_duration": 3, "contagion": 0.0})
    model = GovernanceModel(params, rng=1)
    model.step()
    out = model.burnout_left > 0
    assert out.any()
    model.step()  # a step spent burnt out: no problem work, no production, no proposals
    assert model.problem_time[out].max() == 0.0 and model.forum_time[out].max() == 0.0
    assert not np.isin(model.contributors, np.flatnonzero(out)).any()
    worked = []
    for _ in range(4):
        model.step()
        worked.append(model.problem_time[out].max() > 0)
    assert worked[:2] == [False, False] and any(worked[2:])  # back after burnout_duration = 3 steps


def test_learning_never_removes_understood_decisions() -> None:
    model = GovernanceModel(small_params(leadership={"style": "shared"}), rng=3)
    before = model.understood.copy()
    for _ in range(30):
        prev = model.understood.copy()
        model.step()
        assert not (prev & ~model.understood).any()
    assert model.understood.sum() > before.sum()


def test_learning_needs_trusted_ties() -> None:
    model = GovernanceModel(small_params(), rng=3)
    model.network.trust[:] = 0.0
    understood = model.understood.copy()
    learnt = learning.learn_from_ties(understood, np.ones(model.n_professionals, bool),
                                      np.ones(model.n_professionals), 1.0, model.network, model.effective,
                                      model.profession, model.org_of, np.random.default_rng(0))
    assert len(learnt) == 0 and np.array_equal(understood, model.understood)


def test_a_shock_knocks_a_configuration_off_the_top_in_its_own_step() -> None:
    params = small_params(problem={"shocks": [{"step": 3, "share": 0.5}]})
    for seed in range(5):
        model = GovernanceModel(params, rng=seed)
        model.config = model.landscape.optimum()[1].copy()  # at the top of the landscape
        model.contrib = model.landscape.contributions(model.config)[0]
        assert model.public_value == pytest.approx(1.0)
        tables = model.landscape.tables.copy()
        model.landscape_events(3)  # what the start of step 3 does: the shock redraws half the decisions
        log = model.shock_log[0]
        assert log["step"] == 3 and log["before"] == pytest.approx(1.0)
        assert log["after"] < 1.0 and model.public_value < 1.0  # the old top is no longer the top
        assert (model.landscape.tables != tables).any(axis=1).sum() == 6


def test_situational_leaders_see_a_shock_in_its_own_step_and_nothing_in_calm_ones() -> None:
    params = small_params(leadership={"style": "situational"}, problem={"shocks": [{"step": 6, "share": 1.0}]})
    for seed in range(4):
        model = GovernanceModel(params, rng=seed)
        for _ in range(5):
            model.step()
            # no turbulence: between the end of a step and the start of the next nothing changes
            assert all(model.diagnose(o)["drop"] == 0.0 for o in range(model.n_orgs))
        model.landscape_events(6)  # what the start of step 6 does: the shock redraws every decision
        drops = [model.diagnose(o)["drop"] for o in range(model.n_orgs)]
        assert max(drops) > 0  # a shock redrawing every decision hurts at least one organisation at once
        for o, d in enumerate(drops):  # own performance (its own indicators, not the shared value), relative
            before = model.org_perf_history[-1][o]
            assert d == pytest.approx((before - model.org_performance[o]) / before, abs=1e-12)


def test_surge_reserve_moves_professionals_and_returns_them() -> None:
    params = small_params(problem={"shocks": [{"step": 5, "share": 0.8}]},
                          scenario={"surge_reserve": 0.5, "surge_duration": 4})
    model = GovernanceModel(params, rng=6)
    heads = np.bincount(model.home_org, minlength=model.n_orgs)
    deployed = []
    for _ in range(12):
        model.step()
        deployed.append(int((model.org_of != model.home_org).sum()))
        assert np.bincount(model.org_of, minlength=model.n_orgs).sum() == heads.sum()
    assert deployed[3] == 0 and deployed[4] > 0  # moved at the shock (step 5)
    assert deployed[8] == 0  # home after surge_duration steps
    assert np.array_equal(model.org_of, model.home_org)


def test_burnt_out_reserve_members_stay_home() -> None:
    org_of = np.array([0, 0, 0, 1, 1, 2])
    home = org_of.copy()
    reserve = np.array([True, True, False, True, False, True])
    active = np.array([True, False, True, True, True, True])
    moved = crisis.deploy_surge(org_of, home, reserve, np.array([1]), active)
    assert list(moved) == [0, 5]  # member 1 is burnt out; member 3 already works in the target
    assert list(org_of) == [1, 0, 0, 1, 1, 1]


def test_informal_leaders_emerge_under_shared_leadership() -> None:
    params = small_params(leadership={"style": "shared"}, run={"steps": 120},
                          workforce={"informal_leader_threshold": 0.4})
    ts, _, _ = run_replication(params, 0)
    assert ts.informal_leader_share.max() > 0
    directive = small_params(leadership={"style": "directive"}, run={"steps": 120},
                             workforce={"informal_leader_threshold": 0.4})
    assert run_replication(directive, 0)[0].informal_leader_share.max() < ts.informal_leader_share.max()


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_and_its_experiment_compose_and_run(compose_cfg, name: str) -> None:
    assert (CONFIGS / "experiment" / f"{name}.yaml").exists()
    cfg = compose_cfg([f"experiment={name}"])
    params = build_params(model_config(cfg))
    assert params.scenario.name == name and params.scenario.description and params.scenario.source
    assert len(params.scenario.organisations) >= 2
    model = GovernanceModel(params, rng=0)
    for _ in range(3):
        model.step()
    assert 0 < model.public_value <= 1 + 1e-12


def test_six_seed_scenarios_exist() -> None:
    assert set(SCENARIOS) >= {"safety_network", "ministry_shared_leadership", "inclusive_municipality",
                              "benefits_agency", "crisis_aftershock", "co_creation"}
    assert Path(CONFIGS / "scenario" / "default.yaml").exists()
