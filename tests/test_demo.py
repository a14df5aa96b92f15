"""The teaching demo without a browser: the model factory, the lesson, the views, the launcher."""

from __future__ import annotations

import json
import re
import socket
import stat
import sys
import tarfile
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import solara
from mesa.visualization.utils import force_update

from experiments import app, demo
from experiments.run import model_config
from sim.params import STYLES, ConfigError, build_params, params_to_dict

CASES = app.config_options("scenario")


def test_every_case_builds_and_steps() -> None:
    assert CASES[0] == "default" and len(CASES) >= 7
    for case in CASES:
        model = app.make_model(case=case, seed=3)
        assert model.params.scenario.name == case
        for _ in range(3):
            model.step()
        values = model.datacollector.model_vars
        assert len(values["public_value"]) == 4
        assert 0.0 < values["public_value"][-1] <= 1.0 + 1e-9


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("safety_network", ["scenario=safety_network", "leadership=shared", "roles=expert_heavy", "network=siloed"]),
        (
            "crisis_aftershock",
            ["experiment=crisis_aftershock", "problem.N=16", "problem.K=3", "problem.cross_boundary=0.5"],
        ),
    ],
)
def test_demo_config_equals_what_hydra_composes(compose_cfg, case: str, overrides: list[str]) -> None:
    settings = {"leadership": "directive", "roles": "balanced", "network": "small_world"}
    for item in overrides:
        key, _, value = item.partition("=")
        if key in settings:
            settings[key] = value
    demo_params = build_params(app.demo_config(case=case, **settings))
    hydra_params = build_params(model_config(compose_cfg(overrides)))
    for section in ("problem", "scenario", "roles", "leadership", "network", "workforce", "trust"):
        assert params_to_dict(getattr(demo_params, section)) == params_to_dict(getattr(hydra_params, section)), section
    assert demo_params.problem.shocks or case != "crisis_aftershock"  # the case brings its crisis along


def test_style_per_organisation() -> None:
    model = app.make_model(
        case="safety_network", leadership="directive", org_styles="police=facilitative; municipality: shared"
    )
    assert model.style_names == ["facilitative", "directive", "directive", "directive", "shared"]
    as_mapping = app.make_model(case="safety_network", org_styles={"police": "facilitative"})
    assert as_mapping.style_names[0] == "facilitative"
    co = app.make_model(case="co_creation", leadership="shared")  # external partners keep the case's own styles
    assert co.style_names == ["shared", "shared", "laissez_faire", "transactional", "facilitative"]
    model.step()


def test_same_seed_and_two_styles_give_the_same_problem() -> None:
    a = app.make_model(case="crisis_aftershock", leadership="directive", seed=11)
    b = app.make_model(case="crisis_aftershock", leadership="facilitative", seed=11)
    np.testing.assert_array_equal(a.landscape.tables, b.landscape.tables)
    np.testing.assert_array_equal(a.landscape.deps, b.landscape.deps)
    np.testing.assert_array_equal(a.config, b.config)
    np.testing.assert_array_equal(a.network.edges, b.network.edges)
    np.testing.assert_array_equal(a.skill, b.skill)
    assert a.optimum == b.optimum
    c = app.make_model(case="crisis_aftershock", leadership="directive", seed=12)
    assert not np.array_equal(a.landscape.tables, c.landscape.tables)


def test_side_by_side_lesson_steps_both_models_together() -> None:
    lesson = app.Lesson(case="safety_network", leadership="directive", compare="facilitative", rng="5")
    assert lesson.labels == ["directive", "facilitative"] and lesson.error is None
    first, second = lesson.models
    np.testing.assert_array_equal(first.landscape.tables, second.landscape.tables)
    for _ in range(20):
        lesson.step()
    assert first.steps == second.steps == lesson.steps == 20
    assert first.datacollector.model_vars["production"] != second.datacollector.model_vars["production"]
    same = app.Lesson(leadership="shared", compare="shared")
    assert len(same.models) == 1 and same.note


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"K": 16}, "problem.K"),
        ({"N": 10, "K": 12}, "problem.K"),
        ({"case": "atlantis"}, "scenario"),
        ({"leadership": "bossy"}, "leadership"),
        ({"roles": "everyone"}, "roles"),
        ({"network": "telepathy"}, "network"),
        ({"cross_boundary": 1.5}, "problem.cross_boundary"),
        ({"seed": "forty-two"}, "run.seed"),
        ({"seed": -1}, "run.seed"),
        ({"case": "safety_network", "org_styles": "polic=shared"}, "scenario.organisations"),
        ({"case": "safety_network", "org_styles": "police"}, "scenario.organisations.leadership"),
        ({"case": "safety_network", "org_styles": "police=bossy"}, "scenario.organisations[0].leadership"),
    ],
)
def test_invalid_input_raises_config_error_naming_the_field(settings: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        app.make_model(**settings)
    assert info.value.field == field
    assert field in str(info.value)


def _widgets(widget: ipywidgets.Widget) -> list[ipywidgets.Widget]:
    found = [widget]
    for child in getattr(widget, "children", ()) or ():
        if isinstance(child, ipywidgets.Widget):
            found += _widgets(child)
    return found


def _text(widgets: list[ipywidgets.Widget]) -> str:
    texts = [
        getattr(w, name)
        for w in widgets
        for name in ("unsafe_innerHTML", "value", "label")
        if isinstance(getattr(w, name, None), str)
    ]
    texts += [c for w in widgets for c in getattr(w, "children", ()) or () if isinstance(c, str)]
    return " ".join(texts)


def test_invalid_settings_show_a_message_not_a_traceback() -> None:
    lesson = app.Lesson(K=16)
    assert lesson.models == [] and "problem.K=16" in (lesson.error or "") and not lesson.running
    lesson.step()  # nothing to step, and no exception
    box, rc = solara.render(app.LessonView(lesson), handle_error=False)
    text = _text(_widgets(box))
    assert "These settings cannot be run: problem.K=16 is not allowed: must be smaller than problem.N=16" in text
    assert "Traceback" not in text
    rc.close()


def test_views_render_and_redraw_after_a_step() -> None:
    lesson = app.Lesson(case="crisis_aftershock", leadership="situational", compare="directive")
    box, rc = solara.render(app.LessonView(lesson), handle_error=False)

    def charts() -> dict[str, bytes]:
        return {
            c: bytes(w.value)
            for w in _widgets(box)
            for c in getattr(w, "_dom_classes", ())
            if c.startswith("govsim-chart-")
        }

    before = charts()
    assert set(before) == {
        "govsim-chart-public-value",
        "govsim-chart-mean-trust",
        "govsim-chart-production",
        "govsim-chart-burnout-rate",
        "govsim-chart-network",
    }
    network = before.pop("govsim-chart-network")
    assert network.startswith(b"\xff\xd8")  # JPEG
    assert all(png.startswith(b"\x89PNG") for png in before.values())
    before["govsim-chart-network"] = network
    for _ in range(3):
        lesson.step()
    force_update()
    after = charts()
    assert all(after[name] != before[name] for name in before)
    assert "step 3" in _text(_widgets(box))
    rc.close()


def test_line_chart_axes_grow_with_the_data() -> None:
    chart = app.LineChart("t", ["a"], (0.1, 0.5), (3.0, 2.0), percent=True)
    small = chart.render([[0.0, 0.05]])
    assert chart._limits == (50.0, 0.1)
    chart.render([[0.0] * 60 + [0.3]])
    assert chart._limits == (100.0, 0.5)
    assert chart.render([[0.0, 0.05]]) == small  # the background is redrawn, not accumulated


def test_network_layout_is_deterministic_and_keeps_organisations_apart() -> None:
    home = np.repeat(np.arange(5), [60, 30, 35, 45, 40])
    pos, centres, radii = app.network_layout(home, 5)
    again, _, _ = app.network_layout(home, 5)
    np.testing.assert_array_equal(pos, again)
    for o in range(5):
        members = pos[home == o]
        assert np.all(np.linalg.norm(members - centres[o], axis=1) <= radii[o] + 1e-9)
        for q in range(o + 1, 5):
            assert np.linalg.norm(centres[o] - centres[q]) > radii[o] + radii[q]


def test_asset_list_matches_solara_page_template() -> None:
    import solara.server
    from solara.server import settings

    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2").read_text()
    loaded = set(re.findall(r"\{\{cdn\}\}/((?:@[\w.-]+/)?[\w.-]+@\d[\w.-]*)/", template))
    loaded.add(settings.assets.fontawesome_path.strip("/").split("/")[0])
    apps = {spec for spec in loaded if "vuetify" in spec}
    assert apps == set(demo.VUETIFY_APP.values())
    assert loaded - apps == set(demo.OTHER_ASSETS)
    assert demo.required_assets()[0] == demo.VUETIFY_APP[demo.vue_major()]


def test_fetch_assets_unpacks_npm_packages(tmp_path: Path) -> None:
    fake_npm = tmp_path / "npm"
    fake_npm.write_text(
        f"#!{sys.executable}\n"
        "import io, json, sys, tarfile\n"
        "out = []\n"
        "for spec in sys.argv[2:-1]:\n"
        "    name = spec.lstrip('@').replace('/', '-').replace('@', '-') + '.tgz'\n"
        "    with tarfile.open(name, 'w:gz') as tar:\n"
        "        for path, text in (('package/package.json', '{}'), ('package/dist/app.js', spec)):\n"
        "            data = text.encode()\n"
        "            info = tarfile.TarInfo(path); info.size = len(data)\n"
        "            tar.addfile(info, io.BytesIO(data))\n"
        "    out.append({'filename': name})\n"
        "print(json.dumps(out))\n"
    )
    fake_npm.chmod(fake_npm.stat().st_mode | stat.S_IEXEC)
    cache = tmp_path / "cdn"
    specs = ["@widgetti/solara-vuetify3-app@5.2.0", "requirejs@2.3.6"]
    assert demo.fetch_assets(cache, specs, npm=str(fake_npm)) == []
    assert (cache / "@widgetti/solara-vuetify3-app@5.2.0/dist/app.js").read_text() == specs[0]
    assert demo.missing_assets(cache, specs) == []
    assert demo.fetch_assets(cache, ["x@1.0.0"], npm=str(tmp_path / "no-npm")) == ["x@1.0.0"]


def test_unpack_refuses_paths_outside_the_target(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 0
        tar.addfile(info)
    with pytest.raises(tarfile.TarError):
        demo._unpack(evil, tmp_path / "cache" / "x@1.0.0")
    assert not (tmp_path / "cache" / "outside.txt").exists()


def test_demo_command_line_rejects_a_bad_or_busy_port(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        demo.main(["--port", "70000"])
    assert info.value.code == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert demo.main(["--port", str(port)]) == 2
    assert "in use" in capsys.readouterr().err


def test_server_command_and_environment() -> None:
    command = demo.server_command("127.0.0.1", 8765)
    assert command[:4] == [sys.executable, "-m", "solara", "run"] and "experiments.app" in command
    assert "--production" in command and "--no-check-version" in command
    env = demo.server_env()
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert json.dumps(env)  # plain strings only


def test_every_style_has_a_teaching_note_and_every_case_a_hint() -> None:
    assert set(app.STYLE_NOTES) == set(STYLES)
    assert set(app.CASE_NOTES) == set(CASES)
    lesson = app.Lesson(case="co_creation")
    html = app.lesson_html(lesson)
    assert "van Gestel" in html and "Own styles in this case" in html
