"""Classroom mode without a browser: the model's leadership changes between steps, and the session object."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from sim import ConfigError, GovernanceModel, build_params
from sim.params import BEHAVIOUR_FIELDS

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
    col = {name: i for i, name in enumerate(BEHAVIOUR_FIELDS)}
    assert changed.intended[1, col["convening"]] == 1.0 and changed.intended[1, col["pressure"]] == 0.0
    assert changed.b("responsiveness")[0] == 0.0  # laissez-faire profile
    assert changed.b("convening")[1] <= 1.0  # carried out as far as the leader's attention goes
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


# --------------------------------------------------------------------------- the classroom session (no browser)

import asyncio  # noqa: E402
import json  # noqa: E402

from experiments.classroom.session import (  # noqa: E402
    Choice,
    JoinRefused,
    Session,
    Settings,
    build_case,
    clean_nickname,
    fingerprint,
    parse_choice,
    read_log,
    replay,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def session(clock: Clock | None = None, **settings) -> Session:
    values = {"rounds": 3, "steps_per_round": 2, "timer": 60.0, "group_size": 3, **settings}
    return Session(Settings(**values), clock=clock or Clock())


def join(s: Session, n: int, address: str | None = None) -> list:
    """``n`` students, each from their own address (or all from ``address``)."""
    return [s.join(f"student {i}", s.code, address or f"10.0.{i // 200}.{i % 200 + 2}") for i in range(n)]


def test_students_fill_groups_of_the_group_size_and_the_other_seats_are_automatic() -> None:
    s = session()
    students = join(s, 7)
    assert [st.seat for st in students] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0)]
    assert len(s.groups) == 3 and all(len(g.seats) == 5 for g in s.groups)
    assert s.groups[0].seats[3].holder is None
    s.start()
    s.skip()
    assert s.tick()
    sources = {(r.group, r.organisation): r.source for r in s.log}
    assert sources[(0, 0)] == "kept" and sources[(0, 3)] == "automatic"


def test_a_reload_keeps_the_seat_two_tabs_are_two_students_and_a_leaver_frees_the_seat() -> None:
    s = session()
    a, b = join(s, 2, address="10.0.0.9")  # two students on one laptop
    assert a.token != b.token and a.seat != b.seat
    assert s.student(a.token).seat == a.seat  # a reload asks with the same token
    assert s.student_view(a.token)["seat"]["org"] == a.seat[1]
    assert s.leave(b.token) and s.student(b.token) is None
    late = s.join("late", s.code, "10.0.0.3")
    assert late.seat == (0, 1)  # the free seat


def test_a_late_joiner_without_a_free_seat_opens_a_group_that_catches_up_and_replays() -> None:
    s = session(group_size=1, rounds=4)
    first = join(s, 1)[0]
    s.start()
    s.choose(first.token, {"style": "facilitative"})
    assert s.tick()
    s.fire_shock()
    late = s.join("late", s.code, "10.0.0.4")
    assert late.seat == (1, 0) and s.groups[1].model.steps == s.groups[0].model.steps == 2
    s.skip()
    assert s.tick()
    catch_up = [r for r in s.log if r.kind == "choice" and r.group == 1 and r.round == 1]
    assert {r.source for r in catch_up} == {"automatic"}
    models = replay(s.params, s.settings.seed, s.settings.steps_per_round, read_log(s.export_log())[1])
    assert [fingerprint(models[g.index]) for g in s.groups] == [fingerprint(g.model) for g in s.groups]
    assert [e["step"] for e in s.groups[1].model.shock_log] == [3]


def test_a_silent_page_loses_its_seat_after_the_release_time() -> None:
    clock = Clock()
    s = session(clock, release_after=30.0)
    a, b = join(s, 2)
    clock.now = 20.0
    s.student(a.token)  # a's page asks for news
    clock.now = 40.0
    s.tick()
    assert s.student(a.token) is not None and s.student(b.token) is None
    assert s.groups[0].seats[1].holder is None


@pytest.mark.parametrize("forged", [
    "directive",
    {"style": "tyrant"},
    {"style": "directive", "behaviour": {"brokering": 1.0}},
    {"style": "directive", "behaviour": {"pressure": 0.3}},
    {"style": "directive", "behaviour": {"pressure": True}},
    {"style": "directive", "behaviour": {"pressure": "1"}},
    {"style": "directive", "behaviour": [1]},
    {"style": "directive", "seat": [1, 2]},
    {"style": ["directive"]},
])
def test_a_forged_choice_is_refused_and_changes_nothing(forged) -> None:
    s = session(styles=("directive", "facilitative"))
    a = join(s, 1)[0]
    with pytest.raises(ConfigError):
        s.choose(a.token, forged)
    seat = s.groups[0].seats[0]
    assert seat.choice == Choice("directive") and not seat.chosen and s.refused_choices == 1


def test_a_style_the_teacher_did_not_offer_is_refused() -> None:
    with pytest.raises(ConfigError, match="choice.style"):
        parse_choice({"style": "laissez_faire"}, ("directive", "facilitative"))
    assert parse_choice({"style": "facilitative", "behaviour": {"support": 0.75, "openness": ""}},
                        ("facilitative",)) == Choice("facilitative", (("support", 0.75),))


def test_each_choice_is_what_the_model_runs_in_the_next_round() -> None:
    s = session()
    a, b = join(s, 2)
    s.start()
    s.choose(a.token, {"style": "laissez_faire"})
    s.choose(b.token, {"style": "facilitative", "behaviour": {"convening": 1.0, "pressure": 0.0}})
    assert s.tick()  # everyone seated chose: the round runs at once
    model = s.groups[0].model
    assert model.steps == 2 and model.style_names[:3] == ["laissez_faire", "facilitative", "directive"]
    assert model.b("convening")[1] == 1.0 and model.b("pressure")[1] == 0.0 and model.b("responsiveness")[0] == 0.0
    view = s.teacher_view()["groups"][0]["seats"][1]
    assert view["in_model"] == {"style": "facilitative", "behaviour": {"convening": 1.0, "openness": 0.8,
                                                                     "pressure": 0.0, "support": 0.5}}


def test_the_round_waits_for_the_timer_the_pause_and_the_teacher() -> None:
    clock = Clock()
    s = session(clock, release_after=1000.0, away_after=1000.0)
    a, b = join(s, 2)
    s.start()
    s.choose(a.token, {"style": "shared"})
    clock.now = 59.0
    assert not s.tick() and s.chosen_count() == (1, 2)
    s.pause(True)
    clock.now = 200.0
    s.choose(b.token, {"style": "shared"})
    assert not s.tick()  # paused: not even when everyone chose
    s.pause(False)
    s.extend(30.0)
    assert s.seconds_left() == pytest.approx(31.0)
    assert s.tick()  # everyone chose
    assert s.round == 1 and s.chosen_count() == (0, 2)
    clock.now = 300.0
    assert s.tick() and s.round == 2  # the timer ran out: the seats keep their last choices
    assert [r.source for r in s.log if r.round == 2 and r.group == 0][:3] == ["kept", "kept", "automatic"]
    s.skip()
    assert s.tick() and s.phase == "debrief"
    assert set(s.references) == {"facilitative", "directive"}
    with pytest.raises(JoinRefused, match="over"):
        s.join("too late", s.code, "10.0.0.5")


def test_the_debrief_replays_on_the_same_seed_and_events_and_the_log_replays_bit_for_bit() -> None:
    s = session()
    a, b, c, d = join(s, 4)
    s.start()
    for rnd, style in enumerate(("facilitative", "shared", "directive")):
        for st in (a, b, c, d):
            s.choose(st.token, {"style": style, "behaviour": {"support": 0.25 * rnd}})
        if rnd == 1:
            s.fire_shock()
        assert s.tick()
    assert s.phase == "debrief"
    for dutch in (False, True):
        text = s.export_log(dutch=dutch)
        assert (";" in text.splitlines()[0]) == dutch
        meta, log = read_log(text)
        params = build_case(Settings(case=meta["case"], seed=meta["seed"]))
        models = replay(params, meta["seed"], meta["steps_per_round"], log)
        for g in s.groups:
            assert fingerprint(models[g.index]) == fingerprint(g.model) == g.snapshot["fingerprint"]
            assert models[g.index].datacollector.get_model_vars_dataframe().equals(
                g.model.datacollector.get_model_vars_dataframe())
    assert s.groups[0].model.shock_log[0]["step"] == 3  # fired while round 2 waited: its first step
    refs = s.series()
    assert len(refs["facilitative"]["public_value"]) == len(refs["group 1"]["public_value"]) == 7
    assert refs["facilitative"]["fingerprint"] != refs["directive"]["fingerprint"]


def test_joining_is_limited_by_code_lock_attempts_and_size() -> None:
    s = session(join_limit=3, max_groups=1, group_size=2)
    with pytest.raises(JoinRefused, match="code"):
        s.join("a", "WRONG", "10.0.0.7")
    s.lock_joining(True)
    with pytest.raises(JoinRefused, match="locked"):
        s.join("a", s.code, "10.0.0.7")
    s.lock_joining(False)
    s.join("a", s.code.lower(), "10.0.0.7")
    with pytest.raises(JoinRefused, match="too_many"):
        s.join("b", s.code, "10.0.0.7")
    s.join("b", s.code, "10.0.0.8")
    with pytest.raises(JoinRefused, match="full"):
        s.join("c", s.code, "10.0.0.8")


def test_nicknames_are_cleaned_and_bounded() -> None:
    assert clean_nickname("  Ann\x00\u202e  Lee \n") == "Ann Lee"
    assert len(clean_nickname("x" * 500)) == 24
    for bad in ("", "   ", "\x07", None, 12):
        with pytest.raises(ConfigError, match="nickname"):
            clean_nickname(bad)


def test_the_teacher_can_reassign_a_seat_and_swap_two_students() -> None:
    s = session()
    a, b, c = join(s, 3)
    s.reassign(a.token, 0, 4)  # to a free seat
    assert s.student(a.token).seat == (0, 4) and s.groups[0].seats[0].holder is None
    s.reassign(a.token, 0, 1)  # onto b's seat: they swap
    assert s.student(a.token).seat == (0, 1) and s.student(b.token).seat == (0, 4)
    with pytest.raises(ConfigError, match="group"):
        s.reassign(a.token, 5, 0)
    assert s.student_token(c.token[:8]) == c.token


@pytest.mark.parametrize(("setting", "value"), [("rounds", 0), ("steps_per_round", 1.5), ("timer", 1.0),
                                                ("case", "atlantis"), ("styles", ("tyrant",)), ("group_size", 6)])
def test_settings_that_are_not_allowed_name_themselves(setting, value) -> None:
    with pytest.raises(ConfigError) as err:
        Session(Settings(**{setting: value}))
    assert setting.replace("case", "scenario") in err.value.field


# --------------------------------------------------------------------------- the web layer (ASGI, no server)


KEY = "s3cretkey99"
TEACHER = [(b"x-teacher-key", KEY.encode())]


def call(app, method: str, path: str, body: dict | bytes | None = None, client: str = "127.0.0.1", query: str = "",
         headers: list | None = None, host: str | None = "x", chunks: list[bytes] | None = None,
         length: bool = True, received: list | None = None) -> tuple[int, dict, bytes]:
    """One request to the ASGI app, as from ``client`` (``Host: host``); ``chunks``: a body sent in pieces.

    ``received`` collects every message the app read (to show a body was not read in full).
    """
    payload = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    pieces = chunks if chunks is not None else [payload]
    extra = [(b"host", host.encode())] if host is not None else []
    if length and chunks is None:
        extra.append((b"content-length", str(len(payload)).encode()))
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "headers": [(b"content-type", b"application/json"), *extra, *(headers or [])],
             "client": (client, 5000), "server": ("127.0.0.1", 80), "scheme": "http", "http_version": "1.1",
             "root_path": "", "app": app}
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
    seen = received if received is not None else []

    async def receive() -> dict:
        message = messages.pop(0) if messages else {"type": "http.disconnect"}
        seen.append(message)
        return message

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.fixture
def app():
    from experiments.classroom.web import create_app

    return create_app(Settings(rounds=2, steps_per_round=2, group_size=3, lang="en"), KEY, "http://x/")


def test_teacher_actions_need_the_key_even_from_this_laptop(app) -> None:
    for client in ("192.168.1.23", "127.0.0.1", "::1"):
        for path, method in (("/teacher", "GET"), ("/api/teacher", "GET"), ("/api/teacher/start", "POST"),
                             ("/api/teacher/restart", "POST"), ("/export/choices.csv", "GET"), ("/qr.svg", "GET"),
                             ("/debrief", "GET"), ("/chart/class.svg", "GET")):
            assert call(app, method, path, {}, client=client, query="v=-1")[0] == 403, (client, path)
    assert call(app, "POST", "/api/teacher/start", {}, client="192.168.1.23", query="key=wrong")[0] == 403
    assert app.state.classroom.session.phase == "lobby"
    status, headers, _ = call(app, "GET", "/teacher", client="192.168.1.23", query=f"lang=en&key={KEY}")
    # the key goes into a same-site cookie, and the address shown (projected) loses it
    assert status == 303 and headers["location"] == "/teacher?lang=en"
    assert f"govsim_teacher={KEY}" in headers["set-cookie"] and "samesite=strict" in headers["set-cookie"].lower()
    assert call(app, "POST", "/api/teacher/start", {}, client="192.168.1.23",
                headers=[(b"cookie", f"govsim_teacher={KEY}".encode())])[0] == 200
    assert app.state.classroom.session.phase == "choosing"
    assert call(app, "POST", "/api/teacher/pause", {"paused": True}, client="::1", headers=TEACHER)[0] == 200
    assert app.state.classroom.session.paused_left is not None


@pytest.mark.parametrize(("host", "origin", "expected"), [
    ("x", None, 200), ("x:8765", "http://x:8765", 200), ("127.0.0.1:8765", "http://127.0.0.1:8765", 200),
    ("localhost", None, 200), ("[::1]:8765", None, 200),
    ("attacker.example", None, 403),  # DNS rebinding: the attacker's name for this server
    ("x", "http://attacker.example", 403),  # another site's page posting to the teacher's laptop
    ("x", "null", 403), ("x", "https://x", 403), (None, None, 403),
])
def test_host_and_origin_must_be_this_servers(app, host, origin, expected) -> None:
    headers = [*TEACHER, *([(b"origin", origin.encode())] if origin else [])]
    assert call(app, "GET", "/api/teacher", host=host, headers=headers, query="v=-1")[0] == expected
    before = app.state.classroom.session.version
    assert call(app, "POST", "/api/teacher/lock", {"locked": True}, host=host, headers=headers)[0] == expected
    assert app.state.classroom.session.join_locked == (expected == 200)
    if expected != 200:
        assert app.state.classroom.session.version == before


def test_cross_site_fetches_are_refused_even_with_the_cookie(app) -> None:
    headers = [(b"cookie", f"govsim_teacher={KEY}".encode()), (b"sec-fetch-site", b"cross-site")]
    assert call(app, "POST", "/api/teacher/restart", {}, headers=headers)[0] == 403
    assert app.state.classroom.session.version == 0


def test_bodies_are_refused_by_their_length_before_and_while_reading(app) -> None:
    code = app.state.classroom.session.code
    received: list = []
    # a declared 400 MB body: refused before a byte of it is read
    status, _, _ = call(app, "POST", "/api/join", b"{}", headers=[(b"content-length", b"400000000")], length=False,
                        received=received)
    assert status == 413 and received == []
    # no length declared, sent in pieces: reading stops at the first piece past the limit
    received = []
    pieces = [b'{"nickname": "' + b"a" * 1000] * 50 + [b'", "code": "' + code.encode() + b'"}']
    status, _, _ = call(app, "POST", "/api/join", chunks=pieces, received=received)
    assert status == 413 and len(received) <= 6
    assert call(app, "POST", "/api/join", b"{}", headers=[(b"content-length", b"x")], length=False)[0] == 400
    assert app.state.classroom.session.students == {}


def test_deeply_nested_json_is_refused_not_a_server_error(app) -> None:
    for body in (b"[" * 4000, b"[" * 2000 + b"]" * 2000, b'{"choice": ' + b"[" * 100 + b"]" * 100 + b"}"):
        assert call(app, "POST", "/api/choose", body)[0] == 400
    # brackets inside strings do not count
    code = app.state.classroom.session.code
    status, _, _ = call(app, "POST", "/api/join", {"nickname": "[[[[[[[[[[[[", "code": code})
    assert status == 200


def test_forged_requests_do_not_move_the_teachers_counters(app) -> None:
    session = app.state.classroom.session
    for body in ({"token": "forged", "choice": {"style": "tyrant"}}, {"choice": {"style": "directive"}},
                 {"token": ["x"], "choice": 1}):
        assert call(app, "POST", "/api/choose", body, client="10.9.9.9")[0] == 400
    assert call(app, "POST", "/api/leave", {"token": "forged"})[0] == 200
    assert call(app, "POST", "/api/away", {"token": "forged"})[0] == 200
    assert session.refused_choices == 0 and session.version == 0
    assert call(app, "GET", "/api/teacher", headers=TEACHER, query="v=-1")[0] == 200


def test_one_address_holds_a_few_seats_until_the_teacher_allows_more_and_can_remove_one(app) -> None:
    session = app.state.classroom.session
    limit = session.settings.seats_per_address
    tokens = []
    for i in range(limit):
        status, _, body = call(app, "POST", "/api/join", {"nickname": f"s{i}", "code": session.code},
                               client="10.0.0.66")
        assert status == 200
        tokens.append(json.loads(body)["token"])
    status, _, body = call(app, "POST", "/api/join", {"nickname": "greedy", "code": session.code}, client="10.0.0.66")
    assert status == 403 and json.loads(body)["reason"] == "address"
    assert call(app, "POST", "/api/join", {"nickname": "real", "code": session.code}, client="10.0.0.67")[0] == 200
    view = json.loads(call(app, "GET", "/api/teacher", headers=TEACHER, query="v=-1")[2])
    assert view["crowded"] == ["10.0.0.66"]
    assert call(app, "POST", "/api/teacher/allow", {"address": "10.0.0.66"})[0] == 403  # no key
    assert call(app, "POST", "/api/teacher/allow", {"address": "10.0.0.66"}, headers=TEACHER)[0] == 200
    assert call(app, "POST", "/api/join", {"nickname": "greedy", "code": session.code}, client="10.0.0.66")[0] == 200
    # the teacher removes a seat: freed, and its token no longer works
    prefix = tokens[0][:8]
    assert call(app, "POST", "/api/teacher/remove", {"student": prefix}, headers=TEACHER)[0] == 200
    assert session.student(tokens[0]) is None and session.groups[0].seats[0].holder is None
    assert call(app, "POST", "/api/teacher/remove", {"student": prefix}, headers=TEACHER)[0] == 400


def test_students_join_choose_and_a_forged_choice_is_refused_over_http(app) -> None:
    code = app.state.classroom.session.code
    status, headers, body = call(app, "GET", "/", client="192.168.1.30")
    assert status == 200 and "script-src 'self'" in headers["content-security-policy"]
    status, _, body = call(app, "POST", "/api/join", {"nickname": "<script>x</script>", "code": code},
                           client="192.168.1.30")
    token = json.loads(body)["token"]
    status, _, body = call(app, "POST", "/api/choose", {"token": token, "choice": {"style": "tyrant"}},
                           client="192.168.1.30", query="lang=en")
    assert status == 400 and "Refused" in json.loads(body)["error"]
    status, _, body = call(app, "POST", "/api/choose", {"token": token, "choice": {"style": "shared"}},
                           client="192.168.1.30")
    assert status == 200 and json.loads(body)["choice"]["style"] == "shared"
    status, _, body = call(app, "GET", "/api/student", client="192.168.1.30", query=f"token={token}&v=-1")
    assert status == 200 and json.loads(body)["nickname"] == "<script>x</script>"  # data, shown as text
    assert call(app, "GET", "/api/student", client="192.168.1.30", query="token=nope&v=-1")[0] == 404
    assert call(app, "POST", "/api/join", {"nickname": "a", "code": "AAAAA"}, client="192.168.1.31")[0] == 403
    status, _, body = call(app, "POST", "/api/choose", {"token": token, "choice": {"style": "x" * 10_000}},
                           client="192.168.1.30")
    assert status == 413  # too large to read


def test_charts_are_drawn_once_per_round_and_shared(app) -> None:
    classroom = app.state.classroom
    classroom.session.join("a", classroom.session.code, "10.1.1.1")
    first = call(app, "GET", "/chart/group/0.svg", query="seat=0&v=0")
    again = call(app, "GET", "/chart/group/0.svg", query="seat=0&v=0")
    assert first[0] == 200 and first[2] == again[2] and first[2].startswith(b"<svg")
    assert len([k for k in classroom._charts if k[0] == "group"]) == 1
    assert call(app, "GET", "/chart/group/9.svg")[0] == 404


# --------------------------------------------------------------------------- the command line


def run_demo(*args: str, timeout: float = 60.0, during=None) -> tuple[int, str]:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "experiments.demo", *args], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if during is not None:
        during(proc)
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def test_classroom_options_that_are_not_allowed_stop_before_anything_starts() -> None:
    code, out = run_demo("--classroom", "--rounds", "0", "--host", "127.0.0.1")
    assert code == 2 and "classroom.rounds=0" in out
    code, out = run_demo("--classroom", "--group-size", "9", "--host", "127.0.0.1")
    assert code == 2 and "classroom.group_size=9" in out
    code, out = run_demo("--check")
    assert code == 2 and "only with --classroom" in out


def test_the_check_serves_a_page_and_says_what_to_do_when_no_phone_comes() -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pages: list[str] = []

    def visit(proc) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not pages:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/check", timeout=2) as response:
                    pages.append(response.read().decode())
            except OSError:
                time.sleep(0.2)

    code, out = run_demo("--classroom", "--check", "--host", "127.0.0.1", "--port", str(port), "--check-wait", "4",
                         "--lang", "en", during=visit)
    assert pages and "This phone reaches the laptop" in pages[0]
    assert code == 1
    assert f"http://127.0.0.1:{port}/check answers on this laptop" in out
    assert "this laptop itself opened the check page" in out
    for advice in ("client isolation", "hotspot", "firewall", f"sudo ufw allow {port}/tcp"):
        assert advice in out


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_classroom_stops_on_ctrl_c_even_when_started_with_the_signals_blocked(stop: str) -> None:
    """A parent that blocked Ctrl-C and SIGTERM passes the block on; the classroom must still stop on them."""
    import signal

    from tests.test_demo_browser import start_demo

    server = start_demo("--classroom", "--host", "127.0.0.1", "--lang", "en", blocked=True)
    try:
        assert server.url.startswith("http://127.0.0.1:"), server.output
        number = getattr(signal, stop)
        server.proc.send_signal(number)
        # stopped within 30 s; after a SIGTERM uvicorn shuts down gracefully, then re-raises it (exit -15)
        assert server.proc.wait(timeout=30) in (0, -number), server.output
        assert "Traceback" not in server.output, server.output
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=10)


# --------------------------------------------------------------------------- seats that survive


def test_a_seat_whose_page_is_gone_stops_counting_and_the_round_does_not_wait_for_it() -> None:
    clock = Clock()
    s = session(clock, away_after=12.0, release_after=600.0)
    a, b, c = join(s, 3)
    s.start()
    s.choose(a.token, {"style": "shared"})
    s.choose(b.token, {"style": "shared"})
    assert not s.tick() and s.chosen_count() == (2, 3)
    clock.now = 10.0
    s.student(a.token), s.student(b.token)  # their pages ask for news; c's tab was closed
    clock.now = 13.0
    assert s.tick()  # c no longer counts: everyone here chose, the round runs before the timer
    assert s.round == 1 and s.chosen_count() == (0, 2)
    assert [x["away"] for x in s.teacher_view()["groups"][0]["seats"][:3]] == [False, False, True]
    assert s.student(c.token).seat == (0, 2)  # the seat is kept: c's page comes back to it
    assert s.chosen_count() == (0, 3)


def test_a_closing_page_is_away_at_once_and_its_nickname_reclaims_the_seat_with_the_code() -> None:
    clock = Clock()
    s = session(clock, away_after=12.0)
    a, b = join(s, 2)
    with pytest.raises(JoinRefused, match="nickname"):  # the page is still there: the name is taken
        s.join("Student 0", s.code, "10.0.0.99")
    assert s.away(a.token) and s.chosen_count() == (0, 1)
    assert s.resume(b.token) is None  # b's page is there: a second tab must join as someone else
    again = s.join("student 0", s.code, "10.0.0.99")  # another device, the same nickname and the code
    assert again.token == a.token and again.seat == (0, 0) and s.chosen_count() == (0, 2)
    with pytest.raises(JoinRefused, match="code"):
        s.join("student 0", "WRONG", "10.0.0.99")


def test_a_released_nickname_gets_its_old_seat_back_when_it_is_free() -> None:
    clock = Clock()
    s = session(clock, release_after=30.0, away_after=5.0)
    students = join(s, 4)  # groups of 3: the fourth opens group 2
    seats = [st.seat for st in students]
    clock.now = 20.0
    s.student(students[1].token), s.student(students[2].token)
    clock.now = 40.0
    s.tick()
    assert s.student(students[0].token) is None and s.student(students[3].token) is None  # released
    back = s.join("student 3", s.code, "10.0.0.5")  # the first free seat is (0, 0); its own was (1, 0)
    assert seats[3] == (1, 0) and back.seat == (1, 0) and back.token != students[3].token


# --------------------------------------------------------------------------- exports


def test_exports_neutralise_formulas_and_speak_dutch(app) -> None:
    from experiments.classroom.web import results_csv
    from experiments.lesson import texts
    from experiments.lesson.export import csv_cell

    for bad in ("=HYPERLINK(\"x\")", "-2+3+cmd|calc!A0", "+1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(bad) == "'" + bad
    assert csv_cell("-0,25") == "-0,25" and csv_cell("-1e-05") == "-1e-05" and csv_cell(-3) == -3
    s = session()
    join(s, 2)
    s.start()
    s.skip()
    s.tick()
    nl = s.export_log(dutch=True)
    header = nl.splitlines()[0].split(";")
    assert header[:3] == ["soort", "casus", "seed"] and "kind" not in header
    rows = list(csv.DictReader(io.StringIO(nl), delimiter=";"))
    assert {r["bron"] for r in rows} == {"behouden", "automatisch"} and rows[0]["soort"] == "keuze"
    assert rows[0]["casus"] == texts.Texts("nl").option("scenario", "safety_network")
    assert not {"kept", "automatic", "safety_network"} & {v for r in rows for v in r.values()}
    assert read_log(nl)[1] == read_log(s.export_log())[1]  # either language reads back the same log
    results = results_csv(s, texts.Texts("nl"))
    assert "group 1" not in results and "groep 1" in results.lower() and "safety_network" not in results


# --------------------------------------------------------------------------- the projected screen


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
"""Machado, Oliveira and Fernandes (2009), severity 1, on linear RGB."""


def test_group_colours_stay_apart_under_deuteranopia_and_on_a_washed_out_projector() -> None:
    from itertools import combinations

    from experiments.classroom.charts import GROUP_COLOURS, group_colour, group_dotted

    def delta(a: str, b: str, washed: bool) -> float:
        la, lb = DEUTERANOPIA @ _linear(a), DEUTERANOPIA @ _linear(b)
        if washed:  # a projector in a lit room: black is grey (40 % of white added)
            la, lb = 0.6 * la + 0.4, 0.6 * lb + 0.4
        return float(np.linalg.norm(_lab(np.clip(la, 0, 1)) - _lab(np.clip(lb, 0, 1))))

    for a, b in combinations(GROUP_COLOURS, 2):
        assert delta(a, b, washed=False) >= 20.0, (a, b)
        assert delta(a, b, washed=True) >= 8.0, (a, b)
    for colour in GROUP_COLOURS:
        luminance = float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(colour))
        assert 1.05 / (luminance + 0.05) >= 3.0, colour  # a line on white, WCAG's 3:1 for graphics
    # beyond six groups a colour repeats, drawn dotted
    assert group_colour(6) == group_colour(0) and group_dotted(6) and not group_dotted(0)


def test_every_group_gets_one_sentence_per_round_from_the_models_counts_in_both_languages() -> None:
    s = session(rounds=3, steps_per_round=4)
    a, b = join(s, 2)
    s.start()
    for style in ("facilitative", "directive"):
        s.choose(a.token, {"style": style, "behaviour": {"convening": 1.0}})
        s.choose(b.token, {"style": style})
        assert s.tick()
    group = s.teacher_view()["groups"][0]
    assert [r["round"] for r in group["rounds"]] == [1, 2]
    for r in group["rounds"]:
        assert set(r["sentence"]) == {"nl", "en"} and r["sentence"]["nl"] != r["sentence"]["en"]
        assert "⟦" not in r["sentence"]["nl"] + r["sentence"]["en"]
    mech = group["mechanisms"]
    model = s.groups[0].model
    assert mech["steps"] == 4 and len(mech["trust"]) == model.n_orgs == len(mech["own"]) == len(mech["energy"])
    assert mech["trust"][1][0] == round(float(model.trust[1][0]), 2)
    # the sentence follows the counts: the police called the forum most (forums meet only on forum dates, and a
    # leader convenes as far as its attention goes), so the sentence starts with it
    from experiments.lesson.texts import Texts

    assert mech["called"][0] >= 1 and mech["called"][0] == max(mech["called"])
    police = Texts("nl")("organisations." + s.org_names[0])
    assert group["rounds"][-1]["sentence"]["nl"].lower().startswith(police.lower())
    assert f"{round(mech['network_failure_share'] * 100):.0f} %" in group["rounds"][-1]["sentence"]["nl"]
    assert s.student_view(a.token)["sentence"] == group["sentence"]


def test_restart_keeps_the_debrief_of_the_old_session_with_its_chart_and_exports(app) -> None:
    classroom = app.state.classroom
    old = classroom.session
    join(old, 2)
    old.start()
    old.skip()
    assert old.tick()
    before = old.teacher_view()
    assert call(app, "POST", "/api/teacher/restart", {}, headers=TEACHER)[0] == 200
    assert classroom.session is not old
    status, _, body = call(app, "GET", "/api/teacher", headers=TEACHER, query="v=-1")
    assert json.loads(body)["past_sessions"] == [{"id": 1, "case": "safety_network", "round": 1,
                                                  "ended": classroom.past[0]["ended"]}]
    status, _, body = call(app, "GET", "/api/teacher", headers=TEACHER, query="past=1")
    past = json.loads(body)
    assert status == 200 and past["code"] == before["code"] and past["groups"][0]["rounds"] == \
        before["groups"][0]["rounds"]
    assert call(app, "GET", "/chart/class.svg", headers=TEACHER, query="past=1&lang=nl")[2].startswith(b"<svg")
    status, _, body = call(app, "GET", "/export/choices.csv", headers=TEACHER, query="past=1&lang=nl")
    assert status == 200 and body.decode("utf-8-sig") == old.export_log(dutch=True)
    assert call(app, "GET", "/export/choices.csv", headers=TEACHER, query="past=7")[0] == 404
    assert call(app, "GET", "/api/teacher", query="past=1")[0] == 403  # the teacher's only
    classroom.stop_driver()  # the restart started the new session's round driver


@pytest.mark.parametrize("case", ["safety_network", "inclusive_municipality", "benefits_agency"])
def test_every_seat_of_the_classroom_cases_has_a_role_card_with_a_dilemma_in_both_languages(case) -> None:
    from experiments.classroom.session import CARD_FIELDS, role_cards

    s = session(case=case, group_size=None)
    cards = role_cards(case)
    assert sorted(cards) == sorted(s.org_names)
    for org, card in cards.items():
        assert set(card) == {"nl", "en"}, org
        for lang in ("nl", "en"):
            assert set(card[lang]) == set(CARD_FIELDS) and all(len(card[lang][f]) > 40 for f in CARD_FIELDS)
        assert card["nl"]["dilemma"] != card["en"]["dilemma"]
    student = s.join("Ann", s.code, "10.0.0.2")
    view = s.student_view(student.token)
    assert view["card"] == cards[s.org_names[student.seat[1]]]
    assert s.teacher_view()["groups"][0]["seats"][0]["card"] == cards[s.org_names[0]]
