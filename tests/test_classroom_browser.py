"""Classroom mode in real browsers: one teacher and seven students (Playwright, Debian's chromium, loopback).

``govsim-demo --classroom`` is started as a teacher would (on a free loopback port, short rounds); the
teacher's screen runs at 1366x768, every student on a 360 px phone viewport, each in its own browser
context (its own cookies and storage), except one student who shares a laptop with another (a second
tab of the same context). They play three rounds; the test checks that each choice is what the model
runs, the seat rules (a late joiner, a student who leaves, a reload), that a forged choice is refused,
the teacher's controls, and that the debrief replays bit for bit from the exported log.

Screenshots go to a temporary folder, or with ``GOVSIM_UPDATE_SCREENSHOTS=1`` to
``docs/img/classroom_*.png`` (used by ``docs/classroom.md``). Skipped only when chromium is missing.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from experiments.classroom.session import Settings, build_case, fingerprint, read_log, replay
from experiments.lesson import texts
from tests.test_demo_browser import CHROMIUM, ROOT, DemoServer, start_demo, stop_demo

IMG = ROOT / "docs" / "img" if os.environ.get("GOVSIM_UPDATE_SCREENSHOTS") == "1" else None
TIMEOUT_MS = 30_000
PHONE = {"width": 360, "height": 740}
ROUNDS, STEPS = 3, 3
STYLES = ("facilitative", "directive", "shared", "transactional", "situational", "laissez_faire")
EN = texts.Texts("en")


@pytest.fixture(scope="module")
def classroom() -> Iterator[DemoServer]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    server = start_demo("--classroom", "--host", "127.0.0.1", "--lang", "en", "--rounds", str(ROUNDS),
                        "--steps-per-round", str(STEPS), "--timer", "600", "--group-size", "3",
                        "--seats-per-address", "20")  # every test phone comes from this laptop
    try:
        assert server.url, f"govsim-demo printed no URL:\n{server.output}"
        yield server
    finally:
        assert stop_demo(server) == 0, server.output


@pytest.fixture(scope="module")
def browser(classroom: DemoServer):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def base(server: DemoServer) -> str:
    return server.url.split("/teacher")[0]


def teacher_key(server: DemoServer) -> str:
    """The teacher key, from the teacher's screen's address the server printed."""
    return re.search(r"[?&]key=([A-Za-z0-9_-]+)", server.url).group(1)


def teacher_state(server: DemoServer) -> dict:
    request = urllib.request.Request(f"{base(server)}/api/teacher?v=-1",
                                     headers={"x-teacher-key": teacher_key(server)})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def screenshot(page, name: str) -> None:
    page.mouse.move(2, 2)
    time.sleep(0.3)
    folder = IMG or Path(tempfile.gettempdir()) / "govsim-classroom-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    data = page.screenshot(path=str(folder / name), full_page=True)
    assert len(data) > 10_000


def new_student(browser, server: DemoServer, code: str, nickname: str, context=None):
    context = context or browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base(server)}/?code={code}&lang=en")
    page.fill("#nickname", nickname)
    page.click("#join")
    page.wait_for_selector("#you-lead", timeout=TIMEOUT_MS)
    return page, errors


def choose(page, style: str, convening: float | None = None) -> None:
    page.locator(f"input[name=style][value={style}]").check()
    if convening is not None:
        page.locator("#choice details").evaluate("d => { d.open = true; }")
        page.select_option("#field-convening", f"{convening:g}")
    before = page.evaluate("() => document.body.dataset.round")
    page.click("#choose")
    # accepted: the page says so, or, when this was the room's last choice, the round has already run
    # and the page shows the next one (how soon depends on the machine's load)
    page.wait_for_function(
        "r => document.querySelector('#choice-state')?.className === 'ok' || document.body.dataset.round !== r",
        arg=before, timeout=TIMEOUT_MS)


def wait_round(page, n: int) -> None:
    page.wait_for_function(f"() => document.body.dataset.round === '{n}'", timeout=TIMEOUT_MS)


def no_errors(page, errors: list[str]) -> None:
    assert errors == [], errors
    body = page.inner_text("body")
    assert "⟦" not in body and "Traceback" not in body


def test_a_class_plays_three_rounds_and_the_debrief_replays_from_the_log(classroom: DemoServer, browser) -> None:
    teacher_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    teacher = teacher_ctx.new_page()
    teacher_errors: list[str] = []
    teacher.on("pageerror", lambda exc: teacher_errors.append(str(exc)))
    teacher.on("dialog", lambda dialog: dialog.accept())
    teacher.goto(classroom.url)
    teacher.wait_for_selector("#code", timeout=TIMEOUT_MS)
    assert "key=" not in teacher.url  # the key went into a cookie: the projected address does not show it
    code = teacher.inner_text("#code").strip()
    assert re.fullmatch(r"[A-Z0-9]{5}", code)
    assert f"with code {code}" in classroom.output
    assert teacher.locator("#qr").evaluate("i => i.complete && i.naturalWidth > 100")

    # Six students (one with a nickname that is markup) join: two groups of three.
    names = ["Ann", "Bob", "<img src=x onerror=1>", "Dee", "Eve", "Fay"]
    students = [new_student(browser, classroom, code, name) for name in names]
    state = teacher_state(classroom)
    seats = {(g["group"], s["org"]): s["nickname"] for g in state["groups"] for s in g["seats"]}
    assert [seats[(0, o)] for o in range(3)] == names[:3] and [seats[(1, o)] for o in range(3)] == names[3:]
    assert seats[(0, 3)] is None and seats[(1, 4)] is None  # seats nobody holds: automatic
    evil, _ = students[2]
    assert names[2] in evil.inner_text("#who") and evil.locator("img[src=x]").count() == 0
    card = evil.inner_text("#role-card")  # open before the first round: the role and its dilemma
    assert EN("classroom.card.dilemma") in card and "probation" not in card.split(":")[0]
    assert len(card) > 200
    teacher.wait_for_function("() => document.querySelectorAll('#groups .group').length === 2", timeout=TIMEOUT_MS)
    assert teacher.locator("#group-1 .who").first.inner_text() == "Ann"
    assert teacher.locator("img[src=x]").count() == 0  # the nickname is text on the teacher's screen too

    # A forged choice from a student page is refused: a style not offered, a hidden behaviour, a level not offered.
    page, _ = students[0]
    for forged in ({"style": "tyrant"}, {"style": "directive", "behaviour": {"brokering": 1}},
                   {"style": "directive", "behaviour": {"pressure": 0.3}}, {"style": "directive", "extra": 1}):
        status = page.evaluate(
            """async (choice) => (await fetch('/api/choose', {method: 'POST', headers: {'content-type':
            'application/json'}, body: JSON.stringify({token: sessionStorage.getItem('govsim_classroom_seat'),
            choice})})).status""", forged)
        assert status == 400, forged
    page.locator("input[name=style]").first.evaluate("r => { r.value = 'tyrant'; r.checked = true; "
                                                     "r.dispatchEvent(new Event('change')); }")
    page.click("#choose")
    page.wait_for_function("() => document.querySelector('#choice-state').className === 'error'", timeout=TIMEOUT_MS)
    assert "Refused" in page.inner_text("#choice-state")
    assert teacher_state(classroom)["refused_choices"] == 5

    bob_seat_text = students[1][0].inner_text("#you-lead")
    teacher.click("#start")
    chosen: dict[tuple[int, int], tuple[str, float | None]] = {}
    tabs = list(students)
    for rnd in range(1, ROUNDS + 1):
        if rnd == 2:
            # A student leaves (the seat becomes automatic); a late joiner, on the same laptop as Ann (a second
            # tab of her browser), is another student and takes the free seat; a reload keeps the seat.
            bob, _ = tabs[1]
            bob.click("#leave")
            bob.wait_for_selector("#join-form", timeout=TIMEOUT_MS)
            assert teacher_state(classroom)["groups"][0]["seats"][1]["nickname"] is None
            late = new_student(browser, classroom, code, "Gus", context=students[0][0].context)
            assert late[0].inner_text("#you-lead") == bob_seat_text
            assert students[0][0].inner_text("#who").startswith("You are Ann")
            tabs[1] = late
            dee, _ = tabs[3]
            before = dee.inner_text("#you-lead"), dee.inner_text("#who")
            dee.reload()
            dee.wait_for_selector("#you-lead", timeout=TIMEOUT_MS)
            assert (dee.inner_text("#you-lead"), dee.inner_text("#who")) == before
            teacher.click("#partners")
            teacher.click("#shock")
            teacher.wait_for_function("() => document.querySelector('#status').textContent.includes('shock at step')",
                                      timeout=TIMEOUT_MS)
        for i, (page, _) in enumerate(tabs):
            style = STYLES[(i + rnd) % len(STYLES)]
            level = 1.0 if i % 2 == 0 else None
            choose(page, style, level)
            chosen[(i // 3, i % 3)] = (style, level)
        for page, _ in tabs:
            wait_round(page, rnd)
        # Each student's choice is what the model ran in that round.
        state = teacher_state(classroom)
        for (g, o), (style, level) in chosen.items():
            seat = state["groups"][g]["seats"][o]
            assert seat["in_model"]["style"] == style, (rnd, g, o)
            assert seat["history"][-1] == {"choice": {"style": style, "behaviour": {} if level is None else
                                                      {"convening": level}}, "source": "student"}
            if level is not None:
                assert seat["in_model"]["behaviour"]["convening"] == level
        assert state["groups"][0]["seats"][4]["history"][-1]["source"] == "automatic"
        if rnd == 2:
            partners = tabs[0][0].inner_text("#partners")
            assert "Gus" in partners and EN.option("leadership", STYLES[(1 + rnd) % len(STYLES)]) in partners
            screenshot(tabs[0][0], "classroom_student.png")
            teacher.wait_for_function(f"() => document.body.dataset.round === '{rnd}'", timeout=TIMEOUT_MS)
            screenshot(teacher, "classroom_teacher.png")
        if rnd < ROUNDS:
            page = tabs[0][0]
            assert page.inner_text("#count") == "0/6 chosen"
            assert page.inner_text("#round") == f"round {rnd + 1} of {ROUNDS}"
    for page, errors in tabs:  # every phone shows the end, not a round that waits
        page.wait_for_selector("#ranking", timeout=TIMEOUT_MS)
        assert page.inner_text("#round") == EN("classroom.over")
        assert page.locator("#count").count() == 0 and page.locator("#timer").count() == 0
        assert page.inner_text("#results-heading") == EN("classroom.results_final")
        assert EN("classroom.partner_waiting") not in page.inner_text("#partners")
        no_errors(page, errors)

    # The debrief: groups side by side, the replays, and the exports; the log replays bit for bit.
    teacher.goto(f"{base(classroom)}/debrief?lang=en")
    teacher.wait_for_selector("#ranking li", timeout=TIMEOUT_MS)
    assert teacher.locator("#debrief-groups table").count() == 2
    assert teacher.locator("#debrief-group-1 td.cell").count() == 5 * ROUNDS
    assert teacher.locator("#debrief-group-1 td.cell.auto").count() >= 2 * ROUNDS
    assert not re.search(r"\b[0-9a-f]{16}\b", teacher.inner_text("body"))  # no replay hashes projected
    ranking = teacher.inner_text("#ranking")
    assert "everyone facilitative" in ranking and "everyone directive" in ranking
    assert "null" not in teacher.inner_text("body")
    screenshot(teacher, "classroom_debrief.png")
    with teacher.expect_download() as download:
        teacher.click("#export-choices")
    log_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    with teacher.expect_download() as download:
        teacher.click("#export-results")
    results = Path(download.value.path()).read_text(encoding="utf-8-sig")
    meta, log = read_log(log_text)
    assert meta == {"case": "safety_network", "seed": 42, "steps_per_round": STEPS}
    assert sum(r.kind == "shock" for r in log) == 1
    models = replay(build_case(Settings(case=meta["case"], seed=meta["seed"])), meta["seed"], STEPS, log)
    state = teacher_state(classroom)
    lines = results.strip().splitlines()[1:]
    for g, model in models.items():
        assert fingerprint(model) == state["groups"][g]["fingerprint"]
        exported = [line.split(",")[2] for line in lines if line.startswith(EN("classroom.group_title", n=g + 1) + ",")]
        assert exported == [repr(float(v)) for v in model.datacollector.model_vars["public_value"]]
    no_errors(teacher, teacher_errors)

    # Restart: a new code; the students' pages go back to joining.
    teacher.goto(classroom.url)
    teacher.wait_for_selector("#restart", timeout=TIMEOUT_MS)
    teacher.click("#restart")
    teacher.wait_for_function("(c) => document.querySelector('#code').textContent !== c", arg=code,
                              timeout=TIMEOUT_MS)
    tabs[0][0].wait_for_selector("#join-form", timeout=TIMEOUT_MS)
    # The restarted session's debrief is kept: listed, and it opens with its ranking and its round-by-round replay.
    teacher.wait_for_selector("#past-sessions a.past-session", timeout=TIMEOUT_MS)
    teacher.click("#past-sessions a.past-session")
    teacher.wait_for_selector("#ranking li", timeout=TIMEOUT_MS)
    assert "everyone facilitative" in teacher.inner_text("#ranking")
    assert teacher.inner_text("#replay-round") == f"round 1 of {ROUNDS}"
    first_round = teacher.inner_text("#replay-body")
    teacher.click("#replay-next")
    assert teacher.inner_text("#replay-round") == f"round 2 of {ROUNDS}"
    assert teacher.inner_text("#replay-body") != first_round
    assert teacher.locator("#replay-body .sentence").count() == 2
    no_errors(teacher, teacher_errors)


def test_a_reopened_tab_returns_to_its_seat_and_a_dead_phone_stops_counting_within_15_s(classroom: DemoServer,
                                                                                         browser) -> None:
    code = teacher_state(classroom)["code"]
    phones = [new_student(browser, classroom, code, name) for name in ("Ivo", "Jet")]
    ivo, jet = phones[0][0], phones[1][0]
    seat = ivo.inner_text("#you-lead"), ivo.inner_text("#who")
    assert teacher_state(classroom)["seated"] >= 2
    seated = teacher_state(classroom)["seated"]
    # Ivo closes the tab and opens the link again: the same seat, no join form.
    context = ivo.context
    ivo.close(run_before_unload=True)  # as a browser closes a tab: the page gets its pagehide
    again = context.new_page()
    again.goto(f"{base(classroom)}/?lang=en")
    again.wait_for_selector("#you-lead", timeout=TIMEOUT_MS)
    assert (again.inner_text("#you-lead"), again.inner_text("#who")) == seat
    assert teacher_state(classroom)["seated"] == seated
    # Jet's phone drops off the network (no last word): within 15 s the seat no longer counts.
    t0 = time.monotonic()
    jet.context.set_offline(True)
    while teacher_state(classroom)["seated"] == seated and time.monotonic() - t0 < 25:
        time.sleep(0.5)
    gone = time.monotonic() - t0
    assert teacher_state(classroom)["seated"] == seated - 1 and gone < 15.0, gone
    # Back online, the page returns to its seat and counts again.
    jet.context.set_offline(False)
    deadline = time.monotonic() + 20
    while teacher_state(classroom)["seated"] != seated and time.monotonic() < deadline:
        time.sleep(0.5)
    assert teacher_state(classroom)["seated"] == seated
    for page, errors in ((again, []), phones[1]):
        no_errors(page, errors)
