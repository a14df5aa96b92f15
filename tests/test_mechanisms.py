"""Effects emerge: every mechanism acts, can be switched off, and no outcome is a constant of a style.

These tests check the rebuilt mechanisms of the emergence issue: styles act only through named
mechanisms (all off: every style gives the same run), the forum is deliberation and not an oracle,
trust is symmetric, ``cross_boundary`` is realised over its whole range, situational leaders reach
every style, and production, energy and voice respond to the situation under one style.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import forum, trust, wellbeing
from sim.landscape import NKLandscape, realisable_cross_boundary, split_decisions
from sim.leadership import Situational
from sim.model import GovernanceModel
from sim.params import MECHANISMS, STYLES, ConfigError, MechanismParams, build_params
from sim.runner import run_point, run_replication
from sim.search import make_flips, next_understood
from tests.conftest import ROOT, small_params

ALL_OFF = {name: False for name in MECHANISMS}


def series(params, seed: int = 3) -> pd.DataFrame:
    return run_replication(params, 0, np.random.SeedSequence(seed))[0]


# ----------------------------------------------------------------------------- styles act only through mechanisms
def test_with_every_mechanism_off_every_style_gives_the_same_run() -> None:
    runs = [series(small_params(leadership={"style": s}, mechanisms=ALL_OFF)).drop(columns="situational_choice")
            for s in STYLES]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0], other)
    # and styles do differ once the mechanisms are on
    on = [series(small_params(leadership={"style": s})).public_value.to_numpy() for s in STYLES]
    assert len({tuple(np.round(v, 12)) for v in on}) == len(STYLES)


def test_baseline_is_independent_local_search_on_the_shared_landscape() -> None:
    model = GovernanceModel(small_params(leadership={"style": "directive"}, mechanisms=ALL_OFF), rng=2)
    for _ in range(30):
        before = model.config.copy()
        model.step()
        e = model.enacted
        assert (e.judged > 0).all()  # what was enacted, its proposer judged an improvement
        changed = np.flatnonzero(before != model.config)
        assert set(changed) == set(np.flatnonzero(e.flips.any(axis=0)))  # nothing else changed it
        assert model.forum_time.max() == 0 and model.safety.max() == model.params.workforce.initial_safety
        assert model.burnouts_this_step == 0


def test_no_mechanism_tests_a_style_name() -> None:
    names = "|".join(STYLES)
    pattern = re.compile(rf"(==|!=|\bin)\s*\(?\s*[\"']({names})[\"']")
    for path in sorted((ROOT / "sim").glob("*.py")):
        if path.name == "leadership.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.name}:{n} tests a style name: {line.strip()}"


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_every_mechanism_acts_at_the_defaults(mechanism: str) -> None:
    style = {"forum_information": "facilitative", "forum_trust": "facilitative", "incentives": "transactional",
             "decision_rules": "directive", "status": "facilitative"}.get(mechanism, "situational")
    params = build_params({"leadership": {"style": style}, "run": {"steps": 100},  # four organisations of 50
                           "scenario": {"minority_share": 0.4}})
    off = dataclasses.replace(params, mechanisms=dataclasses.replace(params.mechanisms, **{mechanism: False}))
    a, b = series(params), series(off)
    columns = ["public_value", "production", "energy", "mean_trust", "safety", "efficacy", "role_strain",
               "proposals_raised", "understood_share", "failure_work"]
    assert not a[columns].equals(b[columns]), f"switching {mechanism} off changed nothing"


# ----------------------------------------------------------------------------- every parameter acts
ACTING = [
    ("problem.mandate_correlation", 0.0, 1.0), ("scenario.goal_orientation", 0.0, 1.0),
    ("leadership.leader_capacity", 1, 5), ("leadership.forum_capacity", 1, 12), ("leadership.forum_delegates", 1, 4),
    ("leadership.forum_time", 0.05, 0.5), ("leadership.forum_mention", 0.0, 1.0),
    ("leadership.forum_rule", "power", "consensus"), ("leadership.forum_anchoring", 0.0, 1.0),
    ("leadership.forum_tie_rate", 0.0, 0.5), ("leadership.forum_learning", 0.0, 1.0),
    ("leadership.backlog_alarm", 0.0, 1.0), ("leadership.readiness", 0.0, 1.0), ("leadership.burnout_alarm", 0.0, 1.0),
    ("workforce.duty", 0.0, 1.0), ("workforce.base_demand", 0.2, 1.0), ("workforce.failure_demand", 0.0, 3.0),
    ("workforce.backlog_decay", 0.0, 1.0), ("workforce.exhaustion_cost", 0.0, 1.0),
    ("workforce.energy_recovery", 0.01, 0.2), ("workforce.recovery_base", 0.0, 1.0), ("workforce.buffering", 0.0, 1.0),
    ("workforce.motivation", 0.0, 1.0), ("workforce.energy_noise", 0.0, 0.1), ("workforce.contagion", 0.0, 1.0),
    ("workforce.strain_load", 0.0, 3.0), ("workforce.return_energy", 0.2, 1.0), ("workforce.initial_energy", 0.5, 1.0),
    ("workforce.resilience_sd", 0.0, 1.0), ("workforce.voice_energy", 0.1, 1.0), ("workforce.initial_safety", 0.3, 1.0),
    ("workforce.initial_efficacy", 0.3, 1.0), ("workforce.safety_gain", 0.0, 0.5), ("workforce.safety_loss", 0.0, 0.5),
    ("workforce.vicarious", 0.0, 1.0), ("workforce.efficacy_gain", 0.0, 0.5), ("workforce.efficacy_loss", 0.0, 0.5),
    ("workforce.status_discount", 0.0, 1.0), ("workforce.majority_voice", 0.3, 1.0),
    ("workforce.minority_voice", 0.1, 1.0),
    ("trust.attribution_noise", 0.0, 0.1), ("trust.forum_gain", 0.0, 0.5), ("trust.help_gain", 0.0, 5.0),
    ("trust.harm_loss", 0.0, 5.0),
]


def with_value(path: str, value, **sections) -> object:
    section, key = path.split(".")
    sections = {k: dict(v) for k, v in sections.items()}
    sections.setdefault(section, {})[key] = value
    return small_params(**sections)


@pytest.mark.parametrize(("path", "low", "high"), ACTING, ids=[a[0] for a in ACTING])
def test_every_parameter_changes_a_main_outcome_across_its_range(path: str, low, high) -> None:
    base = {"leadership": {"style": "facilitative"}, "run": {"steps": 60},
            "scenario": {"organisations": [{"name": f"o{i}", "size": 15} for i in range(4)], "minority_share": 0.3,
                         "shock_workload": 0.5},
            "problem": {"shocks": [{"step": 20, "share": 0.5}]}}
    if path in ("leadership.backlog_alarm", "leadership.burnout_alarm"):
        base["leadership"] = {"style": "situational"}
    elif path == "leadership.readiness":  # a calm, ready team is needed: no backlog alarm
        base["leadership"] = {"style": "situational", "backlog_alarm": 1.0}
    elif path in ("workforce.contagion", "workforce.return_energy"):  # burnout is needed: targets and a crisis
        base["leadership"] = {"style": "transactional"}
        base["scenario"]["shock_workload"] = 2.0
    elif path == "leadership.leader_capacity":
        base["leadership"] = {"style": "directive"}
        base["scenario"]["organisations"] = [{"name": f"o{i}", "size": 50} for i in range(4)]
    a = series(with_value(path, low, **base), seed=5)
    b = series(with_value(path, high, **base), seed=5)
    main = ["public_value", "production", "energy", "mean_trust", "safety", "efficacy", "voice_equity",
            "proposals_raised", "burnout_rate", "cross_boundary_ties", "understood_share"]
    assert not a[main].equals(b[main]), f"{path} from {low} to {high} changed no main outcome"


# ----------------------------------------------------------------------------- the forum is deliberation
def test_forum_judges_only_what_is_voiced() -> None:
    model = GovernanceModel(small_params(leadership={"style": "facilitative", "forum_mention": 0.0}), rng=4)
    for _ in range(25):
        model.step()
        m = model.meeting
        if m.held and m.discussed:
            # nobody but proposers speaks: voiced facts are a subset of what the discussed proposers understand
            assert m.voiced is not None
            assert not (m.voiced & ~model.understood.any(axis=0)).any()


def test_forum_makes_mistakes_and_loses_accuracy_without_pooled_information(monkeypatch) -> None:
    record: list[tuple[np.ndarray, np.ndarray]] = []
    original = forum.deliberate

    def spy(meeting, items, *args, **kwargs):
        adopted, discussed, agreed = original(meeting, items, *args, **kwargs)
        record.append((items.gain_collective[discussed], adopted[discussed]))
        return adopted, discussed, agreed

    monkeypatch.setattr(forum, "deliberate", spy)

    def accuracy(information: bool) -> tuple[float, int]:
        record.clear()
        for seed in range(6):
            params = small_params(leadership={"style": "facilitative", "attention": 10.0, "forum_interval": 1},
                                  mechanisms={"forum_information": information}, run={"steps": 60})
            model = GovernanceModel(params, rng=seed)
            for _ in range(60):
                model.step()
        right = sum(int(((gain > 0) == adopted).sum()) for gain, adopted in record)
        total = sum(len(gain) for gain, _ in record)
        return right / total, total

    pooled, n_pooled = accuracy(True)
    alone, n_alone = accuracy(False)
    assert n_pooled > 30 and n_alone > 30
    assert pooled < 0.99  # not an oracle: it errs
    assert alone < pooled  # pooling what attendees voice is what makes it better


def test_forum_rules_differ_in_how_much_agreement_they_need() -> None:
    agreed = {}
    for rule in ("majority", "consensus"):
        params = small_params(leadership={"style": "facilitative", "forum_rule": rule}, run={"steps": 60})
        ts = series(params)
        agreed[rule] = ts.forum_adopted.sum() / max(ts.forum_discussed.sum(), 1)
    assert agreed["consensus"] < agreed["majority"]


def test_without_convening_there_is_no_forum_and_no_forum_trust() -> None:
    quiet = {"leadership": {"style": "facilitative", "behaviours": {"facilitative": {"convening": 0.0}}}}
    a = series(small_params(**quiet))
    b = series(small_params(**quiet, mechanisms={"forum_trust": False}))
    assert a.forum_held.sum() == 0
    pd.testing.assert_series_equal(a.mean_trust, b.mean_trust)  # trust never comes from a style's name


def test_attendance_follows_trust_and_free_time() -> None:
    lp = small_params().leadership
    rng = np.random.default_rng(0)
    members = [np.arange(i * 5, i * 5 + 5) for i in range(4)]
    convening = np.array([1.0, 0.0, 0.0, 0.0])

    def attendance(trust_level: float, need: float) -> float:
        t = np.full((4, 4), trust_level)
        return np.mean([forum.convene(convening, t, np.full(4, need), np.ones(4), members, lp, rng).attending[1:].mean()
                        for _ in range(400)])

    assert attendance(0.9, 0.2) > attendance(0.2, 0.2) > 0
    assert attendance(0.9, 0.2) > attendance(0.9, 0.9)
    assert attendance(0.9, 1.2) == 0.0  # no free time: nobody but the convenor comes


# ----------------------------------------------------------------------------- trust
def test_trust_moves_symmetrically_for_help_and_harm() -> None:
    t = np.full((3, 3), 0.5)
    perceived = np.array([[0.0, 0.04, -0.04], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    new = trust.update_trust(t, perceived, help_gain=1.0, harm_loss=1.0, forgiveness=0.0, baseline=0.5)
    assert new[0, 1] - 0.5 == pytest.approx(0.5 - new[0, 2])


def test_trust_without_forums_does_not_drift_down_by_construction() -> None:
    finals = {}
    for style in ("directive", "laissez_faire"):
        finals[style] = run_point(small_params(leadership={"style": style}, run={"steps": 80, "replications": 4}))[1]
    # trust moves with what organisations do to each other, not one way by design
    assert max(f.final_mean_trust.max() for f in finals.values()) > small_params().network.initial_trust - 0.05


# ----------------------------------------------------------------------------- cross_boundary bites
@pytest.mark.parametrize("share", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_cross_boundary_is_realised_over_its_whole_range(share: float) -> None:
    params = build_params({"problem": {"cross_boundary": share}})
    model = GovernanceModel(params, rng=1)
    n, k = params.problem.N, params.problem.K
    assert abs(model.landscape.realised_cross_boundary() - share) <= 1.0 / (n * k) + 1e-12
    assert model.datacollector.model_vars["realised_cross_boundary"][0] == pytest.approx(
        model.landscape.realised_cross_boundary())


def test_cross_boundary_changes_the_run() -> None:
    a = series(build_params({"problem": {"cross_boundary": 0.0}, "run": {"steps": 30}}))
    b = series(build_params({"problem": {"cross_boundary": 0.5}, "run": {"steps": 30}}))
    assert not np.array_equal(a.public_value.to_numpy(), b.public_value.to_numpy())


def test_unrealisable_cross_boundary_is_refused_with_the_range() -> None:
    orgs = [{"name": f"o{i}", "size": 5} for i in range(8)]  # 8 organisations x 2 decisions of N = 16
    with pytest.raises(ConfigError) as err:
        build_params({"problem": {"cross_boundary": 0.2, "K": 3}, "scenario": {"organisations": orgs}})
    assert err.value.field == "problem.cross_boundary" and "can be realised" in str(err.value)
    lo, hi = realisable_cross_boundary(split_decisions(np.ones(8), 16), 3)
    assert f"[{lo:.3g}, {hi:.3g}]" in str(err.value)


# ----------------------------------------------------------------------------- mandates, demand, energy
def test_mandates_correlate_with_the_shared_value_as_set() -> None:
    owner = np.repeat(np.arange(4), 4)
    same = NKLandscape(16, 3, np.random.default_rng(0), owner=owner, mandate_correlation=1.0)
    assert same.mandate_tables is same.tables
    half = NKLandscape(16, 6, np.random.default_rng(0), owner=owner, cross_boundary=0.5, mandate_correlation=0.5)
    assert abs(half.realised_mandate_correlation() - 0.5) < 0.1
    assert 0.0 <= half.mandate_tables.min() and half.mandate_tables.max() <= 1.0


def test_failure_demand_grows_with_unmet_need_and_can_be_switched_off() -> None:
    wf = small_params().workforce
    heads, backlog, external = np.full(2, 10.0), np.zeros(2), np.zeros(2, bool)
    demand, failure = wellbeing.org_demand(heads, np.array([0.0, 0.5]), 0.0, backlog, external, wf)
    assert failure[0] == 0 and failure[1] > 0 and demand[1] > demand[0]
    _, none = wellbeing.org_demand(heads, np.array([0.0, 0.5]), 0.0, backlog, external, wf, failure_on=False)
    assert (none == 0).all()


def test_value_and_failure_work_add_up_to_counted_production() -> None:
    ts = series(small_params(run={"steps": 40}))
    assert np.allclose(ts.value_work + ts.failure_work, ts.production)
    assert ts.failure_work.iloc[1:].gt(0).any()


def test_resources_buffer_demands() -> None:
    wf = small_params().workforce
    e = np.full(2, 0.6)
    draws = np.zeros(2)
    out = wellbeing.update_energy(e, np.full(2, 1.5), np.array([0.1, 0.9]), np.zeros(2), np.ones(2), wf, draws)
    assert out[1] > out[0]
    sick = wellbeing.update_energy(e, np.full(2, 1.5), np.full(2, 0.5), np.array([0.0, 1.0]), np.ones(2), wf, draws)
    assert sick[1] < sick[0]  # burnt-out colleagues drain energy (contagion)


def test_absent_colleagues_work_lands_on_the_others() -> None:
    model = GovernanceModel(small_params(), rng=1)
    model.step()
    need_before = model.work.need.copy()
    model.burnout_left[model.org_of == 0][:5] = 3
    out = np.flatnonzero(model.org_of == 0)[:5]
    model.burnout_left[out] = 3
    model.step()
    assert model.work.need[0] > need_before[0]


def test_surge_reserve_brings_capacity_to_the_hardest_hit() -> None:
    shock = {"problem": {"shocks": [{"step": 5, "share": 1.0}]}, "scenario": {"shock_workload": 1.0}}
    base = small_params(**shock)
    surge = small_params(problem=shock["problem"], scenario={"shock_workload": 1.0, "surge_reserve": 0.5})
    a, b = GovernanceModel(base, rng=2), GovernanceModel(surge, rng=2)
    for _ in range(5):
        a.step()
        b.step()
    hosts = np.unique(b.org_of[b.org_of != b.home_org])
    assert len(hosts)
    assert (b.work.need[hosts] < a.work.need[hosts]).all()  # more hands where the shock hit hardest


# ----------------------------------------------------------------------------- situational and search
class StubModel:
    def __init__(self, **diagnosis) -> None:
        base = {"drop": 0.0, "burnout": 0.0, "backlog": 0.0, "trust": 1.0, "stagnant": False, "ready": False,
                "performance": 1.0, "before": 1.0}
        self.diagnosis = {**base, **diagnosis}
        self.params = small_params()

    def diagnose(self, org: int) -> dict:
        return self.diagnosis


@pytest.mark.parametrize(("diagnosis", "style"), [
    ({"drop": 0.5}, "directive"), ({"burnout": 0.5}, "shared"), ({"backlog": 0.9}, "transactional"),
    ({"trust": 0.0}, "facilitative"), ({"stagnant": True}, "facilitative"),
])
def test_every_diagnosis_can_fire(diagnosis: dict, style: str) -> None:
    leader = Situational()
    leader.choice = "laissez_faire"
    assert leader.active(StubModel(**diagnosis), 0) == style


def test_a_calm_ready_organisation_is_delegated_to() -> None:
    leader = Situational()
    stub = StubModel(ready=True)
    choices = [leader.active(stub, 0) for _ in range(stub.params.leadership.stagnation_window + 1)]
    assert choices[-1] == "laissez_faire" and choices[0] != "laissez_faire"
    assert set(STYLES) - {"situational"} == {"directive", "shared", "transactional", "facilitative", "laissez_faire"}


def test_heuristics_use_the_step_sizes_they_carry() -> None:
    n = 16
    understood = np.zeros((2, n), dtype=bool)
    understood[:, [0, 3, 5, 9, 12]] = True  # five known decisions; step sizes up to 6 must not collapse modulo 5
    nxt = next_understood(understood)
    steps = np.array([[1, 2, 3], [4, 5, 6]])
    visited = [[], []]
    pointer, attempt = np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64)
    for _ in range(6):
        flips, pointer_new = make_flips(np.arange(2), nxt, pointer, steps, np.ones(2, dtype=np.int64), attempt, n)
        pointer[:] = pointer_new
        attempt += 1
        for i in range(2):
            visited[i].append(int(np.flatnonzero(flips[i])[0]))
    assert visited[0] != visited[1]
    assert all(understood[0, d] for d in visited[0] + visited[1])


def test_laissez_faire_answers_nobody_and_brokers_nothing() -> None:
    ts = series(small_params(leadership={"style": "laissez_faire"}, run={"steps": 40}))
    assert ts.proposals_dismissed.sum() == 0
    model = GovernanceModel(small_params(leadership={"style": "laissez_faire"}), rng=1)
    assert model.b("responsiveness").max() == 0 and model.b("brokering").max() == 0 and model.b("support").max() == 0


# ----------------------------------------------------------------------------- responsiveness under one style
RESPONSE_BASE = {"leadership": {"style": "directive"}, "problem": {"cross_boundary": 0.0},
                 "run": {"steps": 120, "replications": 30, "seed": 11}}


def outcomes(**changes) -> pd.DataFrame:
    sections = {k: dict(v) for k, v in RESPONSE_BASE.items()}
    for section, values in changes.items():
        sections[section] = {**sections.get(section, {}), **values}
    ts, _ = run_point(build_params(sections))
    g = ts[ts.step > 0].groupby("replication")
    last = ts.groupby("replication").last()
    return pd.DataFrame({"production": g.production.mean(), "failure_work": g.failure_work.mean(),
                         "energy": g.energy.mean(), "voice": last.raised_minority_pc + last.raised_majority_pc})


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return outcomes()


@pytest.mark.parametrize(("change", "expected"), [
    # a crisis: its extra demand exhausts staff, exhausted staff produce and speak up less
    ({"problem": {"shocks": [{"step": 50, "share": 0.8}]}, "scenario": {"shock_workload": 1.0}},
     {"production": -1, "energy": -1, "voice": -1}),
    # a smooth problem (K = 0) is solved: less failure demand to serve, more energy, more improvements to raise
    ({"problem": {"K": 0}}, {"production": -1, "energy": +1, "voice": +1}),
    # a wicked one (every dependency across organisations): a leader's own view misses the spillovers, the problem
    # stays worse solved, failure work grows, energy and voice fall
    ({"problem": {"cross_boundary": 1.0}}, {"failure_work": +1, "energy": -1, "voice": -1}),
], ids=["shock", "K", "cross_boundary"])
def test_production_energy_and_voice_respond_to_the_situation(reference, change, expected) -> None:
    """Paired runs (same seeds): the 95 % interval of the mean difference excludes zero in the predicted direction."""
    diff = outcomes(**change) - reference
    n = len(diff)
    assert n >= 30
    from scipy import stats

    t = stats.t.ppf(0.975, n - 1)
    for column, sign in expected.items():
        d = diff[column]
        low, high = d.mean() - t * d.std(ddof=1) / np.sqrt(n), d.mean() + t * d.std(ddof=1) / np.sqrt(n)
        assert (low > 0) if sign > 0 else (high < 0), f"{column}: {d.mean():+.4f} [{low:+.4f}, {high:+.4f}]"


def test_config_mechanisms_group_lists_every_switch() -> None:
    import yaml

    for name in ("default", "none"):
        data = yaml.safe_load(Path(ROOT / "configs" / "mechanisms" / f"{name}.yaml").read_text())
        assert set(data) == set(MECHANISMS)
    assert MechanismParams.all_off() == build_params({"mechanisms": ALL_OFF}).mechanisms


@pytest.mark.parametrize("field", ["autonomy", "pressure", "incentive", "convening", "responsiveness", "openness",
                                   "support", "learning", "brokering"])
def test_every_behaviour_changes_a_main_outcome_across_its_range(field: str) -> None:
    def run(value: float) -> pd.DataFrame:
        return series(build_params({"leadership": {"style": "facilitative",
                                                   "behaviours": {"facilitative": {field: value}}},
                                    "run": {"steps": 60}}), seed=5)

    main = ["public_value", "production", "energy", "mean_trust", "safety", "efficacy", "role_strain",
            "proposals_raised", "consent_refused"]
    assert not run(0.0)[main].equals(run(1.0)[main]), f"behaviour {field} changed no main outcome"


def test_surge_goes_to_at_most_the_share_of_organisations_hardest_hit() -> None:
    from sim.crisis import hardest_hit

    drop = np.array([0.1, 0.3, 0.0, 0.2, 0.05, 0.4])
    assert list(hardest_hit(drop, 1 / 3)) == [5, 1]
    assert list(hardest_hit(drop, 1.0)) == [5, 1, 3, 0, 4]
    assert list(hardest_hit(drop, 0.01)) == [5]


@pytest.mark.parametrize("changes", [{"mechanisms": {"mandates": False}}, {"problem": {"mandate_correlation": 1.0}},
                                     {"mechanisms": {"failure_demand": False}}, {"leadership": {"style": "shared"}}])
def test_conditions_share_the_world_common_random_numbers(changes: dict) -> None:
    base = {"problem": {"turbulence": 0.05}, "run": {"steps": 20}}
    sections = {k: dict(v) for k, v in base.items()}
    for section, values in changes.items():
        sections[section] = {**sections.get(section, {}), **values}
    a, b = GovernanceModel(build_params(base), rng=4), GovernanceModel(build_params(sections), rng=4)
    assert np.array_equal(a.config, b.config) and np.array_equal(a.landscape.tables, b.landscape.tables)
    assert np.array_equal(a.skill, b.skill) and np.array_equal(a.network.edges, b.network.edges)
    assert np.array_equal(a.minority, b.minority) and np.array_equal(a.understood, b.understood)
    for _ in range(20):
        a.step()
        b.step()
        assert np.array_equal(a.landscape.tables, b.landscape.tables)  # the same turbulence, step by step
