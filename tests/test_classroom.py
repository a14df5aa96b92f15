"""Classroom mode without a browser: the model's leadership changes between steps, and the session object."""

from __future__ import annotations

import numpy as np
import pytest

from sim import ConfigError, GovernanceModel, build_params

# --------------------------------------------------------------------------- the model's interventions


def small_params(**scenario):
    return build_params({"problem": {"N": 12, "K": 2}, "run": {"steps": 30}})


def state_of(model: GovernanceModel) -> list[np.ndarray]:
    return [np.asarray(model.pv_history), np.asarray(model.org_perf_history), model.config, model.trust,
            model.energy, model.safety, model.skill, model.network.trust, model.behaviour]


def run_with(changes: dict[int, list[tuple]], steps: int = 12, seed: int = 7) -> GovernanceModel:
    model = GovernanceModel(small_params(), rng=seed)
    for t in range(steps):
        for change in changes.get(t, []):
            if change[0] == "shock":
                model.fire_shock(change[1])
            else:
                model.set_leadership(*change)
        model.step()
    return model


def test_set_leadership_changes_what_the_model_does() -> None:
    base = run_with({})
    changed = run_with({4: [(0, "laissez_faire"), (1, "facilitative", {"convening": 1.0, "pressure": 0.0})]})
    assert changed.style_names[:2] == ["laissez_faire", "facilitative"]
    assert changed.b("convening")[1] == 1.0 and changed.b("pressure")[1] == 0.0
    assert changed.b("responsiveness")[0] == 0.0  # laissez-faire profile
    assert np.array_equal(np.asarray(base.pv_history)[:5], np.asarray(changed.pv_history)[:5])  # same before
    assert not all(np.array_equal(a, b) for a, b in zip(state_of(base), state_of(changed), strict=True))


def test_a_run_with_mid_run_changes_equals_its_replay_bit_for_bit() -> None:
    log = {3: [(2, "shared", {"support": 0.9})], 5: [("shock", 0.5)],
           7: [(2, "shared", None), (0, "situational", {"openness": 0.1})]}
    first, second = run_with(log), run_with(log)
    for a, b in zip(state_of(first), state_of(second), strict=True):
        assert np.array_equal(a, b)
    assert first.shock_log and first.shock_log[0]["step"] == 6
    assert first.datacollector.get_model_vars_dataframe().equals(second.datacollector.get_model_vars_dataframe())


def test_fire_shock_redraws_the_problem_at_the_next_step() -> None:
    model = GovernanceModel(small_params(), rng=3)
    model.step()
    assert model.fire_shock(0.75) == 2
    model.step()
    assert [e["step"] for e in model.shock_log] == [2]


@pytest.mark.parametrize(("args", "field"), [
    ((9, "directive"), "organisation"),
    (("nobody", "directive"), "organisation"),
    ((0, "benevolent"), "leadership"),
    ((0, "directive", {"charisma": 0.5}), "behaviour.charisma"),
    ((0, "directive", {"pressure": 1.5}), "behaviour.pressure"),
    ((0, "directive", {"pressure": float("nan")}), "behaviour.pressure"),
    ((True, "directive"), "organisation"),
])
def test_set_leadership_refuses_what_is_not_allowed(args, field) -> None:
    model = GovernanceModel(small_params(), rng=1)
    before = list(model.style_names)
    with pytest.raises(ConfigError) as err:
        model.set_leadership(*args)
    assert field in err.value.field
    assert model.style_names == before


def test_fire_shock_refuses_a_share_outside_the_unit_interval() -> None:
    model = GovernanceModel(small_params(), rng=1)
    for share in (0.0, 1.5, "half"):
        with pytest.raises(ConfigError, match="problem.shocks.share"):
            model.fire_shock(share)
