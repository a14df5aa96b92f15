"""The teaching demo in a real browser: ``govsim-demo`` serves it, Playwright drives Debian's chromium.

The tests start the demo as a teacher would (``python -m experiments.demo`` on a free loopback
port) and use the page as a class would see it on a projector: at 1024x768 and 1366x768, and at
1366x768 zoomed to 125 %. Zoom is emulated as the browser does it: a 125 % zoom of a 1366x768
screen is a 1093x614 CSS-pixel viewport with 1.25 device pixels per CSS pixel
(``device_scale_factor``), so layout, media queries and image scaling behave as under Ctrl-+;
CSS ``zoom`` would scale the page's content but not the viewport the layout sees. Sizes are
asserted in CSS pixels, the conservative unit (on screen, at 125 %, they are 1.25 times larger).

Screenshots of each state go to a temporary folder, or, with ``GOVSIM_UPDATE_SCREENSHOTS=1``, to
``docs/img/demo_*.png`` (used by ``docs/demo.md``). Skipped only when chromium is not installed.
"""

from __future__ import annotations

import csv
import io
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from experiments.lesson import charts, texts

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img" if os.environ.get("GOVSIM_UPDATE_SCREENSHOTS") == "1" else None
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
START_TIMEOUT = 120.0  # the first start may fetch the page's browser assets with npm
TIMEOUT_MS = 60_000
MIN_TEXT_PX = 14.0
SMALL_TEXT_JS = """() => { const out = [];
  for (const n of document.querySelectorAll('.govsim-page *')) {
    if (![...n.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim())) continue;
    const r = n.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    const px = parseFloat(getComputedStyle(n).fontSize);
    if (px < 14) out.push([n.tagName, n.className, px, n.textContent.trim().slice(0, 30)]);
  }
  return out; }"""
"""Every element with text of its own on the page whose font is under 14 px (none may be)."""

VIEWPORTS = {
    "1024x768": ({"width": 1024, "height": 768}, 1.0),
    "1366x768": ({"width": 1366, "height": 768}, 1.0),
    "1366x768@125": ({"width": 1093, "height": 614}, 1.25),
}


@dataclass
class DemoServer:
    """A running ``govsim-demo`` and everything it printed so far."""

    proc: subprocess.Popen
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def base(self) -> str:
        return self.url.split("?")[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _block_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def start_demo(*extra: str, blocked: bool = False) -> DemoServer:
    """Start ``govsim-demo`` on a free loopback port; ``blocked``: as a parent that blocked Ctrl-C and SIGTERM would."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.demo", "--port", str(free_port()), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_block_stop_signals if blocked else None,
    )
    server = DemoServer(proc)
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # keep reading, or the server blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            server.lines.append(line)
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.url and time.monotonic() < deadline and proc.poll() is None:
        try:
            found = re.search(r"open (http://\S+) in a browser", lines.get(timeout=1.0))
        except queue.Empty:
            continue
        if found:
            server.url = found.group(1)
    return server


def stop_demo(server: DemoServer) -> int | None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=10)
    return server.proc.returncode


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    server = start_demo()
    try:
        assert server.url, f"govsim-demo printed no URL:\n{server.output}"
        yield server
    finally:
        stop_demo(server)


@pytest.fixture(scope="module")
def browser(demo: DemoServer):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_demo(browser, url: str, viewport: str = "1366x768", lang: str = "en"):
    """A fresh page (a fresh browser context: its own Solara session) on the demo in ``lang``."""
    size, scale = VIEWPORTS[viewport]
    context = browser.new_context(viewport=size, device_scale_factor=scale, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url.split('?')[0]}?lang={lang}")
    page.wait_for_selector(".govsim-step", timeout=TIMEOUT_MS)
    return page, errors


def step_count(page) -> int:
    return int(re.search(r"(\d+)", page.locator(".govsim-step").inner_text()).group(1))


def wait_for_step(page, n: int) -> None:
    page.wait_for_function(
        f"/(^|\\D){n}$/.test(document.querySelector('.govsim-step').textContent.trim())", timeout=TIMEOUT_MS
    )


def watch_building(page) -> None:
    """Record whether the 'building' notice ever shows (it may show for only a fraction of a second)."""
    page.evaluate(
        """() => { window.__built = false; window.__building = false;
        new MutationObserver(() => { if (document.querySelector('.govsim-building')) window.__building = true; })
          .observe(document.body, {childList: true, subtree: true}); }"""
    )


def wait_built(page, heading: str) -> None:
    page.wait_for_function(
        "(h) => !document.querySelector('.govsim-building')"
        " && document.querySelector('.govsim-lesson-text').textContent.includes(h)"
        " && /(^|\\D)0$/.test(document.querySelector('.govsim-step').textContent.trim())",
        arg=heading,
        timeout=TIMEOUT_MS,
    )


def choose(page, name: str, option: str) -> None:
    """Pick the option shown as ``option`` in the select ``name`` (a setting's name, e.g. ``case``)."""
    page.locator(f".govsim-select-{name} .v-field").click()
    page.get_by_role("option", name=option, exact=True).click()


def preset(page, case_title: str, heading: str) -> None:
    choose(page, "case", case_title)
    page.locator(".govsim-preset").click()
    wait_built(page, heading)


def in_view(page, selector: str) -> bool:
    """Whether the element is wholly inside the viewport (no scrolling needed)."""
    box = page.locator(selector).first.bounding_box()
    size = page.viewport_size
    return (
        bool(box)
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"] + 0.5
        and (box["y"] + box["height"] <= size["height"] + 0.5)
    )


def chart_text_px(page, name: str) -> float:
    """The smallest chart text in CSS px as shown: its size in the image, scaled to the image's column."""
    shown, natural = page.locator(f".govsim-chart-{name}").evaluate("i => [i.clientWidth, i.naturalWidth]")
    return charts.SMALLEST_TEXT_PT * charts.DPI / 72 * shown / natural


def chart_src(page, name: str) -> str:
    return page.locator(f".govsim-chart-{name}").get_attribute("src") or ""


def screenshot(page, name: str) -> None:
    """Save the page (for docs/demo.md when updating screenshots), with the mouse off the buttons."""
    page.mouse.move(5, page.viewport_size["height"] - 5)
    if page.locator(".govsim-controls").count():
        page.locator(".govsim-controls").evaluate("c => c.scrollTo(0, 0)")
    time.sleep(0.3)
    folder = IMG or Path(tempfile.gettempdir()) / "govsim-demo-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    data = page.screenshot(path=str(folder / name))
    assert len(data) > 20_000  # a rendered page, not a blank one


def assert_no_error(page, errors: list[str]) -> None:
    assert errors == [], errors
    assert page.locator(".govsim-error").count() == 0
    body = page.inner_text("body")
    assert "Traceback" not in body and "⟦" not in body


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_projector_viewports_show_a_whole_comparison(demo: DemoServer, browser, viewport: str) -> None:
    lang = "nl" if viewport == "1024x768" else "en"
    t = texts.Texts(lang)
    page, errors = open_demo(browser, demo.url, viewport, lang)
    heading = f"{t.option('leadership', 'directive')} {t('lesson.versus')} {t.option('leadership', 'facilitative')}"
    preset(page, t.option("scenario", "safety_network"), heading)
    for _ in range(3):
        page.locator(".govsim-step-button").click()
    wait_for_step(page, 3)
    # One whole comparison without scrolling: step counter, readout, public value and trust.
    for selector in (".govsim-step", ".govsim-readout", ".govsim-chart-public-value", ".govsim-chart-mean-trust"):
        assert in_view(page, selector), (viewport, selector)
    # Chart text on screen, measured from the image as scaled into its column.
    for name in ("public-value", "mean-trust", "network"):
        assert chart_text_px(page, name) >= MIN_TEXT_PX, (viewport, name, chart_text_px(page, name))
    # Every control is reachable (its panel scrolls on its own) and Reset stays in view.
    for selector in (
        ".govsim-select-case",
        ".govsim-preset",
        ".govsim-select-compare",
        ".govsim-slider-K",
        ".govsim-select-network",
        ".govsim-text-seed",
    ):
        control = page.locator(selector)
        control.scroll_into_view_if_needed()
        assert control.is_visible() and in_view(page, selector), (viewport, selector)
    assert (
        in_view(page, ".govsim-reset") and in_view(page, ".govsim-step") and in_view(page, ".govsim-chart-public-value")
    )
    # Scrolling the charts keeps the step counter in view.
    page.locator(".govsim-chart-network").scroll_into_view_if_needed()
    assert in_view(page, ".govsim-step") and in_view(page, ".govsim-chart-network")
    page.locator(".govsim-main").evaluate("m => m.scrollTo(0, 0)")
    # The lesson card opens and closes.
    page.locator(".govsim-lesson-toggle").click()
    page.wait_for_selector(".govsim-lesson-text dl")
    page.locator(".govsim-lesson-toggle").click()
    page.wait_for_selector(".govsim-lesson-text dl", state="detached")
    # Present: no controls, the same charts bigger.
    width = page.locator(".govsim-chart-public-value").bounding_box()["width"]
    page.locator(".govsim-present-button").click()
    page.wait_for_selector(".govsim-present")
    assert not page.locator(".govsim-controls").is_visible()
    assert page.locator(".govsim-chart-public-value").bounding_box()["width"] > width
    page.locator(".govsim-present-button").click()
    page.wait_for_selector(".govsim-present", state="detached")
    # Why: a mechanism panel per style, with the sentence computed from the model's counts.
    panel = page.locator(".govsim-mechanisms")
    assert t("mechanisms.heading") in panel.inner_text() and panel.locator(".govsim-sentence").count() == 2
    assert t("organisations.police") in panel.inner_text() and t("mechanisms.failure_work") in panel.inner_text()
    assert page.evaluate(SMALL_TEXT_JS) == [], viewport  # no text under 14 px, controls' labels included
    assert_no_error(page, errors)
    screenshot(page, f"demo_{viewport.replace('@125', '_zoom125')}_{lang}.png")
    # The other language: the same lesson at the same step, every text switched.
    other = "en" if lang == "nl" else "nl"
    page.locator(f".govsim-lang-{other}").click()
    page.wait_for_function(
        "(h) => document.querySelector('.govsim-lesson-text').textContent.includes(h)",
        arg=texts.Texts(other)("lesson.versus"),
        timeout=TIMEOUT_MS,
    )
    assert step_count(page) == 3 and f"lang={other}" in page.url
    time.sleep(0.5)
    assert texts.Texts(other)("mechanisms.heading") in page.locator(".govsim-mechanisms").inner_text()
    assert page.evaluate(SMALL_TEXT_JS) == [], (viewport, other)
    assert_no_error(page, errors)
    screenshot(page, f"demo_{viewport.replace('@125', '_zoom125')}_{other}.png")
    page.context.close()


def test_settings_pending_reset_feedback_step_play_and_reload(demo: DemoServer, browser) -> None:
    page, errors = open_demo(browser, demo.url, "1366x768", "en")
    choose(page, "case", "Crisis and aftershock")
    choose(page, "leadership", "Situational")
    # A changed setting is pending: shown, and Step and Play do not run the old lesson.
    page.wait_for_selector(".govsim-pending")
    assert page.locator(".govsim-step-button").is_disabled() and page.locator(".govsim-play").is_disabled()
    watch_building(page)
    page.locator(".govsim-reset").click()
    wait_built(page, "Crisis and aftershock: Situational")
    assert page.evaluate("window.__building"), "Reset showed no 'building' notice"
    assert page.locator(".govsim-pending").count() == 0
    assert "cross-boundary share 0.5" in page.locator(".govsim-lesson-text").inner_text()
    pv_before = chart_src(page, "public-value")
    for i in range(1, 4):
        page.locator(".govsim-step-button").click()
        wait_for_step(page, i)
    assert chart_src(page, "public-value") != pv_before
    page.locator(".govsim-play").click()
    page.wait_for_function(
        "() => Number(/(\\d+)$/.exec(document.querySelector('.govsim-step').textContent.trim())[1]) >= 12",
        timeout=TIMEOUT_MS,
    )
    page.locator(".govsim-play").click()  # pause
    time.sleep(0.6)
    paused = step_count(page)
    time.sleep(0.6)
    assert step_count(page) == paused >= 12
    # The shock of the case is marked on the charts (legend) and the readout shows the styles in force.
    assert "shock" in page.locator(".govsim-legend").inner_text()
    # A reload finds the same lesson at the same step.
    page.reload()
    page.wait_for_selector(".govsim-step", timeout=TIMEOUT_MS)
    wait_for_step(page, paused)
    assert "Crisis and aftershock: Situational" in page.locator(".govsim-lesson-text").inner_text()
    assert_no_error(page, errors)
    page.context.close()


def test_bad_settings_show_messages_not_tracebacks(demo: DemoServer, browser) -> None:
    page, errors = open_demo(browser, demo.url, "1366x768", "nl")
    seed = page.locator(".govsim-text-seed input")
    for value, expected in (
        ("²", "Startgetal (seed) = ²: moet een geheel getal zijn"),
        ("9" * 5000, "moet tussen 0 en"),
    ):
        seed.fill(value)
        page.locator(".govsim-reset").click()
        page.wait_for_function(
            "(x) => (document.querySelector('.govsim-error') || {}).textContent?.includes(x)",
            arg=expected,
            timeout=TIMEOUT_MS,
        )
        message = page.locator(".govsim-error").inner_text()
        assert expected in message and len(message) < 400, message
        assert "Traceback" not in page.inner_text("body") and "/" not in message.split(":")[0]
    seed.fill("42")
    slider = page.locator(".govsim-slider-K [role=slider]")
    slider.focus()
    page.keyboard.press("End")  # K = 19 >= N = 16
    page.locator(".govsim-reset").click()
    page.wait_for_function(
        "() => (document.querySelector('.govsim-error') || {}).textContent?.includes('Verwevenheid K = 19')",
        timeout=TIMEOUT_MS,
    )
    assert "moet kleiner zijn dan Besluiten N (16)" in page.locator(".govsim-error").inner_text()
    assert errors == []
    page.set_viewport_size({"width": 1366, "height": 420})
    screenshot(page, "demo_error.png")
    page.context.close()


def test_two_sessions_pressing_reset_together_both_get_their_lesson(demo: DemoServer, browser) -> None:
    first, errors_a = open_demo(browser, demo.url, "1024x768", "en")
    second, errors_b = open_demo(browser, demo.url, "1024x768", "nl")
    choose(first, "case", "Safety network")
    choose(first, "compare", "Facilitative")
    choose(second, "case", "Crisis en naschok")
    choose(second, "leadership", "Gedeeld / gespreid")
    for page in (first, second):
        page.evaluate("() => { window.__reset = document.querySelector('.govsim-reset'); }")
    # Both clicks are dispatched without waiting for either lesson.
    first.evaluate("() => window.__reset.click()")
    second.evaluate("() => window.__reset.click()")
    wait_built(first, "Safety network: Directive vs Facilitative")
    wait_built(second, "Crisis en naschok: Gedeeld / gespreid")
    assert first.locator(".govsim-readout tr").count() == 3 and second.locator(".govsim-readout tr").count() == 2
    for page, errors in ((first, errors_a), (second, errors_b)):
        page.locator(".govsim-step-button").click()
        wait_for_step(page, 1)
        assert_no_error(page, errors)
    first.context.close()
    second.context.close()


def _english_only() -> list[str]:
    """English catalogue texts that must not show on a Dutch page (long enough to be unambiguous)."""
    en, nl = texts.catalogue("en"), texts.catalogue("nl")
    dutch = " ".join(nl.values())
    out = []
    for key, text in en.items():
        if "{" in text or len(text) < 10 or text == nl.get(key) or text in dutch:
            continue
        out.append(text)
    return out





def test_own_styles_are_picked_per_organisation_in_dutch(demo: DemoServer, browser) -> None:
    nl = texts.Texts("nl")
    page, errors = open_demo(browser, demo.url, "1024x768", "nl")
    choose(page, "case", nl.option("scenario", "safety_network"))
    police = page.locator(".govsim-select-org-police")
    police.scroll_into_view_if_needed()
    assert nl("controls.case_style") in police.inner_text()
    choose(page, "org-police", nl.option("leadership", "facilitative"))
    page.wait_for_selector(".govsim-pending")
    page.locator(".govsim-reset").click()
    wait_built(page, nl.option("scenario", "safety_network"))
    page.locator(".govsim-lesson-toggle").click()
    page.wait_for_selector(".govsim-lesson-text dl")
    card = page.locator(".govsim-lesson-text").inner_text()
    assert f"{nl('organisations.police')} ({nl.option('leadership', 'facilitative')})" in card
    settings = page.locator(".govsim-lesson-text .govsim-settings").inner_text()
    assert f"{nl('organisations.police')}={nl.option('leadership', 'facilitative')}" in settings
    assert "police" not in settings
    assert_no_error(page, errors)
    page.context.close()


PAUSE_PRESSES = 50
PAUSE_BUDGET_S = 150.0
"""The 50 presses must all run within this many seconds (or the test fails rather than hang)."""


def test_pause_pressed_50_times_at_random_moments_always_stops_within_one_step(demo: DemoServer, browser) -> None:
    """Play, wait a random moment, Pause: the step shown stops within one step of the one shown at the
    press, 50 times at 1024x768, and never a traceback or an error on the page."""
    import random

    rng = random.Random(25)
    page, errors = open_demo(browser, demo.url, "1024x768", "nl")
    button = page.locator(".govsim-play")
    # The step on screen at the very moment of each click (Playwright's click itself takes a while).
    page.evaluate("""() => document.addEventListener('click', (e) => {
        if (e.target.closest('.govsim-play'))
          window.__shownAtPress = document.querySelector('.govsim-step').textContent;
      }, true)""")
    started = time.monotonic()
    late = []
    stopped = step_count(page)
    for press in range(PAUSE_PRESSES):
        assert time.monotonic() - started < PAUSE_BUDGET_S, f"only {press} presses in {PAUSE_BUDGET_S:g} s"
        assert step_count(page) == stopped, f"press {press - 1}: still stepping after Pause"
        button.click()  # Play
        page.wait_for_selector(".govsim-playing", timeout=TIMEOUT_MS)
        time.sleep(rng.uniform(0.0, 0.4))
        button.click()  # Pause (the button says what it does: it said Pause)
        shown = int(re.search(r"(\d+)", page.evaluate("window.__shownAtPress")).group(1))
        page.wait_for_selector(".govsim-paused", timeout=TIMEOUT_MS)
        time.sleep(0.3)  # longer than a step's interval: a step still running has finished and shown
        stopped = step_count(page)
        if stopped > shown + 1:
            late.append((press, shown, stopped))
    time.sleep(0.5)
    assert step_count(page) == stopped, "still stepping after the last Pause"
    assert late == [], late
    assert step_count(page) > PAUSE_PRESSES // 2  # it did play
    assert_no_error(page, errors)
    page.context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_pages_have_no_missing_or_untranslated_text(demo: DemoServer, browser, lang: str) -> None:
    t = texts.Texts(lang)
    page, errors = open_demo(browser, demo.url, "1366x768", lang)
    heading = f"{t.option('leadership', 'directive')} {t('lesson.versus')} {t.option('leadership', 'situational')}"
    preset(page, t.option("scenario", "crisis_aftershock"), heading)
    page.locator(".govsim-lesson-toggle").click()
    page.wait_for_selector(".govsim-lesson-text dl")
    for _ in range(2):
        page.locator(".govsim-step-button").click()
    wait_for_step(page, 2)
    page.locator(".govsim-select-compare .v-field").click()  # the options, as a teacher sees them
    body = page.inner_text("body")
    page.keyboard.press("Escape")
    assert "⟦" not in body
    assert t("metrics.public_value.definition") in body and t("cases.crisis_aftershock.hint") in body
    assert page.title() == t("app.tab_title")
    if lang == "nl":
        leaked = [text for text in _english_only() if text in body]
        assert leaked == [], leaked
        readout = page.locator(".govsim-readout").inner_text()
        assert re.search(r"\d,\d\d", readout) and not re.search(r"\d\.\d\d", readout)  # decimal commas
    assert_no_error(page, errors)
    page.context.close()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_exports_give_a_png_and_a_csv_matching_the_steps_shown(demo: DemoServer, browser, lang: str) -> None:
    t = texts.Texts(lang)
    page, errors = open_demo(browser, demo.url, "1366x768", lang)
    heading = f"{t.option('leadership', 'directive')} {t('lesson.versus')} {t.option('leadership', 'facilitative')}"
    preset(page, t.option("scenario", "safety_network"), heading)
    for i in range(1, 6):
        page.locator(".govsim-step-button").click()
        wait_for_step(page, i)
    shown = step_count(page)
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.locator(".govsim-export-png").click()
    png = Path(info.value.path()).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 30_000
    assert info.value.suggested_filename.endswith(".png")
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.locator(".govsim-export-csv").click()
    text = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if lang == "nl" else ","))
    header, body = rows[0], rows[1:]
    assert len(body) == 2 * (shown + 1)  # two styles, steps 0..shown
    assert max(int(r[1]) for r in body) == shown
    assert header[0] == t("export.style") and t("controls.seed") in header
    readout = page.locator(".govsim-readout tr").nth(1).locator("td").all_inner_texts()
    pv = next(r for r in body if r[1] == str(shown))[2]
    assert readout[1] == t.number(float(pv.replace(",", ".")), 2)  # the CSV holds the value shown
    assert_no_error(page, errors)
    page.context.close()


def _luminance(css: str) -> float:
    """WCAG relative luminance of a CSS ``rgb(...)``/``rgba(...)`` colour."""
    r, g, b = (int(float(v)) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_light_by_default_and_a_readable_dark_theme(demo: DemoServer, browser) -> None:
    page, errors = open_demo(browser, demo.url, "1366x768", "en")
    page.emulate_media(color_scheme="dark")  # a laptop in dark mode must not change the default
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
    background, colour = page.locator(".govsim-page").evaluate(style)
    assert _luminance(background) > 0.9 and _contrast(background, colour) >= 7
    page.locator(".govsim-theme-button").click()
    page.wait_for_selector(".govsim-dark")
    background, colour = page.locator(".govsim-page").evaluate(style)
    assert _luminance(background) < 0.05 and _contrast(background, colour) >= 7
    # every text is read against what is really behind it (the nearest ancestor with a background);
    # style labels sit on light panels, so they keep the contrast they have in the light theme
    pairs = page.evaluate("""(sels) => sels.flatMap(s => [...document.querySelectorAll(s)].map(e => {
        let b = e; while (b && getComputedStyle(b).backgroundColor.match(/rgba\\(.*, 0\\)|transparent/)) {
          b = b.parentElement; }
        return [s, getComputedStyle(e).color, getComputedStyle(b || document.body).backgroundColor]; }))""",
                          [".govsim-readout td:first-child", ".govsim-legend span", ".govsim-chart-title",
                           ".govsim-step", ".govsim-top h1", ".govsim-lesson h2"])
    assert {s for s, _, _ in pairs} >= {".govsim-readout td:first-child", ".govsim-chart-title", ".govsim-step"}
    for selector, text, behind in pairs:
        assert _contrast(text, behind) >= 3, (selector, text, behind)
    assert_no_error(page, errors)
    screenshot(page, "demo_1366x768_dark_en.png")
    page.context.close()


def test_access_token_guards_a_non_local_demo(browser) -> None:
    server = start_demo("--host", "127.0.0.1", "--token", "classroom2026token")
    try:
        assert server.url.endswith("token=classroom2026token"), server.output
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.base, timeout=30)
        assert refused.value.code == 403
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector(".govsim-step", timeout=TIMEOUT_MS)  # the cookie carries the websocket
        page.locator(".govsim-step-button").click()
        wait_for_step(page, 1)
        context.close()
    finally:
        assert stop_demo(server) == 0


def test_ctrl_c_stops_the_demo_cleanly(demo: DemoServer) -> None:
    assert demo.url.startswith("http://127.0.0.1:") and "token" not in demo.url  # local only, no token
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(timeout=30) == 0
    time.sleep(0.2)  # the reader thread collects the last lines
    assert "stopped" in demo.output
    assert "Traceback" not in demo.output, demo.output

