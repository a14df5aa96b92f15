"""The teaching demo without a browser: configs, lessons, texts in both languages, exports, the launcher."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import socket
import stat
import sys
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from experiments import demo
from experiments.lesson import charts, config, export, server, state, texts
from experiments.run import model_config
from sim.params import STYLES, ConfigError, build_params, params_to_dict

CASES = config.config_options("scenario")
ALLOW_SAME = {
    "language.nl",
    "language.en",
    "role.expert",
    "styles.laissez_faire.name",
    "organisations.police",
}
"""Catalogue entries whose Dutch text may equal the English one (names; reviewed)."""


def test_every_case_builds_and_steps() -> None:
    assert CASES[0] == "default" and len(CASES) >= 7
    for case in CASES:
        model = config.make_model(case=case, seed=3)
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
    hydra_params = build_params(model_config(compose_cfg(overrides)))
    demo_params = build_params(config.demo_config(case=case, **settings))
    for section in ("problem", "scenario", "roles", "leadership", "network", "workforce", "trust"):
        assert params_to_dict(getattr(demo_params, section)) == params_to_dict(getattr(hydra_params, section)), section
    assert demo_params.problem.shocks or case != "crisis_aftershock"  # the case brings its crisis along


def test_concurrent_composition_does_not_collide() -> None:
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def build(i: int) -> None:
        try:
            case = CASES[i % len(CASES)]
            results[i] = (case, config.demo_config(case=case, seed=i))
        except BaseException as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and len(results) == 8
    for i, (case, cfg) in results.items():
        assert cfg["scenario"]["name"] == case and cfg["run"]["seed"] == i


def test_style_per_organisation() -> None:
    model = config.make_model(
        case="safety_network", leadership="directive", org_styles="police=facilitative; municipality: shared"
    )
    assert model.style_names == ["facilitative", "directive", "directive", "directive", "shared"]
    as_mapping = config.make_model(case="safety_network", org_styles={"police": "facilitative"})
    assert as_mapping.style_names[0] == "facilitative"
    co = config.make_model(case="co_creation", leadership="shared")  # external partners keep the case's own styles
    assert co.style_names == ["shared", "shared", "laissez_faire", "transactional", "facilitative"]


def test_same_seed_and_two_styles_give_the_same_problem() -> None:
    a = config.make_model(case="crisis_aftershock", leadership="directive", seed=11)
    b = config.make_model(case="crisis_aftershock", leadership="facilitative", seed="11")
    np.testing.assert_array_equal(a.landscape.tables, b.landscape.tables)
    np.testing.assert_array_equal(a.network.edges, b.network.edges)
    np.testing.assert_array_equal(a.skill, b.skill)
    c = config.make_model(case="crisis_aftershock", leadership="directive", seed=12)
    assert not np.array_equal(a.landscape.tables, c.landscape.tables)


def test_side_by_side_lesson_steps_both_models_together() -> None:
    lesson = state.Lesson(case="safety_network", leadership="directive", compare="facilitative", seed="5")
    assert lesson.labels == ["directive", "facilitative"] and lesson.error is None
    first, second = lesson.models
    np.testing.assert_array_equal(first.landscape.tables, second.landscape.tables)
    for _ in range(20):
        lesson.step()
    assert first.steps == second.steps == lesson.steps == 20
    assert first.datacollector.model_vars["production"] != second.datacollector.model_vars["production"]
    same = state.Lesson(leadership="shared", compare="shared")
    assert len(same.models) == 1 and same.same_style


BAD = [
    ({"K": 16}, "problem.K"),
    ({"N": 10, "K": 12}, "problem.K"),
    ({"case": "atlantis"}, "scenario"),
    ({"case": "default problem.N=3"}, "scenario"),  # never reaches Hydra's override parser
    ({"leadership": "bossy"}, "leadership"),
    ({"roles": "everyone"}, "roles"),
    ({"network": "telepathy"}, "network"),
    ({"cross_boundary": 1.5}, "problem.cross_boundary"),
    ({"cross_boundary": "a lot"}, "problem.cross_boundary"),
    ({"seed": "forty-two"}, "run.seed"),
    ({"seed": "²"}, "run.seed"),
    ({"seed": "9" * 5000}, "run.seed"),
    ({"seed": "-5"}, "run.seed"),
    ({"seed": -1}, "run.seed"),
    ({"seed": str(2**63)}, "run.seed"),
    ({"case": "safety_network", "org_styles": "polic=shared"}, "scenario.organisations"),
    ({"case": "safety_network", "org_styles": "police"}, "scenario.organisations.leadership"),
    ({"case": "safety_network", "org_styles": "police=bossy"}, "scenario.organisations[0].leadership"),
]


@pytest.mark.parametrize(("settings", "field"), BAD)
def test_invalid_input_raises_config_error_naming_the_field(settings: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.make_model(**settings)
    assert info.value.field == field


@pytest.mark.parametrize(("settings", "field"), BAD)
def test_invalid_input_gives_a_translated_message_in_both_languages(settings: dict, field: str) -> None:
    lesson = state.Lesson(**settings)
    assert lesson.models == [] and lesson.error is not None and lesson.error.field == field
    lesson.step()  # nothing to step, and no exception
    en, nl = texts.Texts("en").error(lesson.error), texts.Texts("nl").error(lesson.error)
    for message in (en, nl):
        assert "⟦" not in message and "Traceback" not in message and "\n" not in message
        assert len(message) < 400  # a 5,000-digit seed is cut short
        assert f"{field}=" not in message  # the control's label, not the config field
    assert nl != en and "must" not in nl
    label_en, label_nl = texts.Texts("en").field(field), texts.Texts("nl").field(field)
    assert label_en in en and label_nl in nl


def test_seed_parsing() -> None:
    assert config.parse_seed(" 42 ") == 42 and config.parse_seed("+7") == 7 and config.parse_seed(0) == 0
    assert config.parse_seed(str(2**63 - 1)) == 2**63 - 1
    for bad in ("²", "٣", "1e3", "", True, "0x10"):
        with pytest.raises(ConfigError):
            config.parse_seed(bad)


def test_error_messages_read_naturally() -> None:
    nl, en = texts.Texts("nl"), texts.Texts("en")
    error = state.Lesson(K=16).error
    assert en.error(error) == (
        "These settings cannot be run: Interdependence K = 16: must be smaller than Decisions N (16). "
        "Change it and press Reset."
    )
    assert nl.error(error).startswith(
        "Met deze instellingen kan de les niet draaien: Verwevenheid K = 16: moet kleiner"
    )
    share = state.Lesson(cross_boundary=1.5).error
    assert "1,5" in nl.error(share) and "tussen 0 en 1" in nl.error(share)
    style = state.Lesson(leadership="bossy").error
    assert "Faciliterend" in nl.error(style) and "Facilitative" in en.error(style)


def _catalogue_keys(lang: str) -> dict[str, str]:
    return texts.catalogue(lang)


def test_catalogues_are_complete_and_translated() -> None:
    en, nl = _catalogue_keys("en"), _catalogue_keys("nl")
    missing = sorted(set(en) - set(nl))
    assert missing == [], f"Dutch catalogue misses: {missing}"
    same = sorted(k for k in en if en[k] == nl[k] and k not in ALLOW_SAME)
    assert same == [], f"Dutch text equal to English (translate, or review and add to ALLOW_SAME): {same}"
    extra = sorted(set(nl) - set(en))
    assert all(re.fullmatch(r"cases\.\w+\.(description|source)", k) for k in extra), extra
    for key, text in en.items():  # the same placeholders in both languages
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", nl[key])), key


def test_every_option_case_and_organisation_has_texts_in_both_languages() -> None:
    for lang in texts.LANGUAGES:
        t = texts.Texts(lang)
        for style in STYLES:
            for part in ("name", "mechanism", "finding"):
                assert t.has(f"styles.{style}.{part}"), (lang, style, part)
        for group, prefix in (("roles", "roles"), ("network", "networks")):
            for name in config.config_options(group):
                assert t.has(f"{prefix}.{name}.name"), (lang, name)
        for case in CASES:
            for part in ("title", "hint", "finding"):
                assert t.has(f"cases.{case}.{part}"), (lang, case, part)
    nl = texts.Texts("nl")
    for case in CASES:
        scenario = yaml.safe_load((config.CONFIG_DIR / "scenario" / f"{case}.yaml").read_text(encoding="utf-8"))
        for part in ("description", "source"):
            assert nl.has(f"cases.{case}.{part}"), (case, part)
            assert nl(f"cases.{case}.{part}") != scenario.get(part), (case, part)
        for org in scenario.get("organisations", []):
            for lang in texts.LANGUAGES:
                assert texts.Texts(lang).has(f"organisations.{org['name']}"), (lang, org["name"])


def test_case_card_follows_the_settings_in_force() -> None:
    from experiments.lesson.page import lesson_html

    lesson = state.Lesson(N=12, K=3, cross_boundary=0.9)
    for lang, words in (("en", ("12 policy decisions", "0.9")), ("nl", ("12 beleidsbesluiten", "0,9"))):
        card = lesson_html(lesson, texts.Texts(lang), full=True)
        assert all(w in card for w in words) and "16" not in card.split("N =")[0]
        assert "⟦" not in card


def test_numbers_in_dutch_use_a_decimal_comma() -> None:
    nl, en = texts.Texts("nl"), texts.Texts("en")
    assert nl.number(0.856) == "0,86" and en.number(0.856) == "0.86"
    assert nl.decimal(0.25) == "0,25" and nl.decimal(1.0) == "1" and nl.percent(0.123) == "12 %"


def _stepped(steps: int, **settings: object) -> state.Lesson:
    lesson = state.Lesson(**settings)
    for _ in range(steps):
        lesson.step()
    return lesson


def test_csv_export_has_a_row_per_step_shown_and_the_settings() -> None:
    lesson = _stepped(7, case="crisis_aftershock", compare="facilitative", cross_boundary=0.7)
    for lang, sep in (("nl", ";"), ("en", ",")):
        t = texts.Texts(lang)
        rows = list(csv.reader(io.StringIO(export.export_csv(lesson, t)), delimiter=sep))
        header, body = rows[0], rows[1:]
        assert len(body) == 2 * (lesson.steps + 1)
        assert [r[1] for r in body[: lesson.steps + 1]] == [str(s) for s in range(lesson.steps + 1)]
        assert {r[0] for r in body} == {t.option("leadership", "directive"), t.option("leadership", "facilitative")}
        share = body[0][header.index(t("controls.cross_boundary"))]
        assert share == ("0,7" if lang == "nl" else "0.7")
        value = body[-1][header.index(t("metrics.public_value.label"))]
        expected = lesson.models[1].datacollector.model_vars["public_value"][-1]
        assert float(value.replace(",", ".")) == pytest.approx(expected, abs=1e-6)


def test_png_export() -> None:
    lesson = _stepped(3, case="crisis_aftershock")
    png = export.export_png(lesson, texts.Texts("nl"))
    assert png.startswith(b"\x89PNG") and len(png) > 30_000


def test_line_chart_axes_grow_with_the_data() -> None:
    chart = charts.LineChart(texts.Texts("en"), 1, (0.1, 0.5), percent=True)
    small = chart.render([[0.0, 0.05]])
    assert chart._limits == (50.0, 0.1)
    chart.render([[0.0] * 60 + [0.3]])
    assert chart._limits == (100.0, 0.5)
    assert chart.render([[0.0, 0.05]]) == small  # the background is redrawn, not accumulated


def test_charts_mark_the_shock() -> None:
    lesson = state.Lesson(case="crisis_aftershock")
    assert lesson.shock_steps() == [60]
    made = charts.make_charts(lesson, texts.Texts("nl"))
    assert made["public_value"].events == [(60, "schok")]
    assert charts.make_charts(state.Lesson(), texts.Texts("nl"))["public_value"].events == []


def test_network_layout_is_deterministic_and_keeps_organisations_apart() -> None:
    home = np.repeat(np.arange(5), [60, 30, 35, 45, 40])
    pos, centres, radii = charts.network_layout(home, 5)
    again, _, _ = charts.network_layout(home, 5)
    np.testing.assert_array_equal(pos, again)
    for o in range(5):
        members = pos[home == o]
        assert np.all(np.linalg.norm(members - centres[o], axis=1) <= radii[o] + 1e-9)


def test_presets_cover_every_case_with_two_different_styles() -> None:
    for case in CASES:
        settings = state.preset(case)
        assert settings["case"] == case and settings["compare"] in STYLES
        assert settings["compare"] != settings["leadership"]
        assert state.Lesson(**settings).error is None


def test_lesson_store_is_bounded() -> None:
    store = state.LessonStore(size=2)
    lessons = [object(), object(), object()]
    for i, lesson in enumerate(lessons):
        store.put(str(i), lesson)  # type: ignore[arg-type]
    assert store.get("0") is None and store.get("2") is lessons[2]
    assert store.new_id() != store.new_id()


def _asgi(gate: server.TokenGate, kind: str, query: bytes, headers: list | None = None) -> list[dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request"}

    asyncio.run(gate({"type": kind, "query_string": query, "headers": headers or []}, receive, send))
    return sent


def test_token_gate_refuses_requests_without_the_token() -> None:
    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    gate = server.TokenGate(app, "s3cretToken")
    assert _asgi(gate, "http", b"")[0]["status"] == 403
    assert _asgi(gate, "http", b"token=wrong")[0]["status"] == 403
    assert _asgi(gate, "websocket", b"")[0] == {"type": "websocket.close", "code": 1008}
    ok = _asgi(gate, "http", b"lang=nl&token=s3cretToken")[0]
    assert ok["status"] == 200 and any(h[0] == b"set-cookie" for h in ok["headers"])
    assert _asgi(gate, "http", b"", [(b"cookie", b"govsim_token=s3cretToken")])[0]["status"] == 200
    assert _asgi(server.TokenGate(app, ""), "http", b"")[0]["status"] == 200


def test_launcher_hosts_and_addresses() -> None:
    assert demo.is_loopback("127.0.0.1") and demo.is_loopback("::1") and demo.is_loopback("localhost")
    assert not demo.is_loopback("0.0.0.0") and not demo.is_loopback("::")
    assert demo.url_for("::1", 8765, "lang=nl") == "http://[::1]:8765/?lang=nl"
    assert demo.reachable_addresses("192.0.2.7") == ["192.0.2.7"]
    assert all(not a.startswith("127.") for a in demo.reachable_addresses("0.0.0.0"))
    assert demo.port_is_free("::", 1) in (True, False)  # IPv6 hosts no longer crash


def test_demo_command_line_rejects_bad_input(capsys) -> None:
    for argv in (["--port", "70000"], ["--lang", "de"], ["--token", "short"]):
        with pytest.raises(SystemExit) as info:
            demo.main(argv)
        assert info.value.code == 2
    assert demo.main(["--host", "no-such-host.invalid"]) == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert demo.main(["--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "in use" in err and "not an address" in err and "Traceback" not in err


def test_server_command_and_environment() -> None:
    command = demo.server_command("127.0.0.1", 8765)
    assert command[:3] == [sys.executable, "-m", "experiments.lesson.server"]
    env = demo.server_env("tok")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False" and env["GOVSIM_DEMO_TOKEN"] == "tok"
    assert env["SOLARA_THEME_VARIANT"] == "light"
    assert json.dumps(env)  # plain strings only


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


def test_a_pause_at_any_moment_stops_the_player_within_one_step() -> None:
    import random
    import time

    lesson = state.Lesson(N=8, K=2)
    player = lesson.player
    rng = random.Random(3)
    for _ in range(12):
        assert player.play() and player.playing
        time.sleep(rng.uniform(0.0, 0.12))
        running_before = lesson.steps
        at_pause = player.pause()
        assert not player.playing and at_pause >= running_before
        time.sleep(0.05)
        # at most the step that was running when Pause came finishes; then nothing more
        assert lesson.steps <= at_pause + 1
        settled = lesson.steps
        time.sleep(state.PLAY_INTERVAL * 2)
        assert lesson.steps == settled
    assert lesson.steps > 0
    assert player.play() and not player.play()  # a second Play while playing changes nothing
    player.pause()


def test_a_failing_step_stops_the_player_with_the_error_named() -> None:
    lesson = state.Lesson(N=8, K=2)

    def broken() -> None:
        raise ZeroDivisionError

    lesson.step = broken  # type: ignore[method-assign]
    seen = lesson.player.version
    lesson.player.play()
    lesson.player.wait_change(seen + 1, 5.0)
    deadline = 50
    while lesson.player.playing and deadline:
        lesson.player.wait_change(lesson.player.version, 0.1)
        deadline -= 1
    assert not lesson.player.playing and lesson.player.error == "ZeroDivisionError"


def test_own_styles_accept_the_names_shown_in_dutch_and_english() -> None:
    dutch = config.make_model(case="safety_network",
                              org_styles="politie=faciliterend; Openbaar Ministerie: gedeeld / gespreid")
    english = config.make_model(case="safety_network", org_styles="Police=Facilitative, public prosecution=shared")
    assert dutch.style_names[:2] == english.style_names[:2] == ["facilitative", "shared"]
    with pytest.raises(ConfigError, match="scenario.organisations"):
        config.make_model(case="safety_network", org_styles="politi=faciliterend")
    assert texts.Texts("nl")("controls.org_styles_hint").startswith("bijv. politie=")


def test_percent_ticks_never_read_alike_and_use_the_readouts_unit_style() -> None:
    nl, en = texts.Texts("nl"), texts.Texts("en")
    ticks = [0.0, 0.005, 0.01, 0.015, 0.02, 0.025]
    for t in (nl, en):
        labels = [t.tick_percent(v) for v in ticks]
        assert len(set(labels)) == len(labels), labels
    assert nl.tick_percent(0.005) == "0,5 %" and en.tick_percent(0.05) == "5%"
    assert nl.tick_percent(0.05)[-2:] == nl.percent(0.05)[-2:] == " %"  # one unit style, chart and readout


def test_demo_csv_names_settings_in_dutch_and_neutralises_formulas() -> None:
    lesson = _stepped(2, case="safety_network")
    nl = export.export_csv(lesson, texts.Texts("nl"))
    assert "safety_network" not in nl and texts.Texts("nl").option("scenario", "safety_network") in nl
    assert "small_world" not in nl and "balanced" not in nl
    lesson.settings = {**lesson.settings, "org_styles": "-2+3+cmd|calc!A0"}
    rows = list(csv.reader(io.StringIO(export.export_csv(lesson, texts.Texts("en")))))
    column = rows[0].index(texts.Texts("en")("controls.org_styles"))
    assert {r[column] for r in rows[1:]} == {"'-2+3+cmd|calc!A0"}


def test_a_lesson_whose_page_is_gone_stops_playing(monkeypatch) -> None:
    import time

    monkeypatch.setattr(state, "UNWATCHED_PAUSE", 0.3)
    monkeypatch.setattr(state, "SHOWN_WAIT", 0.1)
    lesson = state.Lesson(N=8, K=2)
    player = lesson.player
    player.shown(0)  # a page followed it once
    player.play()
    deadline = time.monotonic() + 10
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not player.playing and 0 < lesson.steps < 40
    steps = lesson.steps
    time.sleep(0.3)
    assert lesson.steps == steps
