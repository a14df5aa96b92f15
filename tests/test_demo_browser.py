"""The teaching demo in a real browser: ``govsim-demo`` serves it, Playwright drives Debian's chromium.

The tests start the demo as a teacher would (``python -m experiments.demo`` on a free port),
choose settings in the sidebar, step and play the model, and check that the page renders, the
step counter and the plotted data change and no error shows. They save a screenshot of each state
to a temporary folder, or, with ``GOVSIM_UPDATE_SCREENSHOTS=1``, to ``docs/img/demo_*.png`` (used by
``docs/demo.md``). Skipped only when chromium is not installed.
"""

from __future__ import annotations

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img" if os.environ.get("GOVSIM_UPDATE_SCREENSHOTS") == "1" else None
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
START_TIMEOUT = 120.0  # the first start may fetch the page's browser assets with npm
RENDER_TIMEOUT_MS = 60_000


@dataclass
class DemoServer:
    """A running ``govsim-demo`` and everything it printed so far."""

    proc: subprocess.Popen
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoServer]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.demo", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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
    try:
        assert server.url, f"govsim-demo printed no URL:\n{server.output}"
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def browser(demo: DemoServer) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_demo(browser, url: str, height: int) -> tuple:
    """A fresh page (a fresh Solara session) on the demo; fails unless the lesson renders."""
    page = browser.new_page(viewport={"width": 1440, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(".govsim-step", timeout=RENDER_TIMEOUT_MS)
    return page, errors


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar's select labelled ``label``."""
    page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).locator(".v-field").click()
    page.get_by_role("listbox", name=label).get_by_role("option", name=option, exact=True).click()


def step_count(page) -> int:
    return int(re.search(r"step (\d+)", page.locator(".govsim-step").inner_text()).group(1))


def wait_for_step(page, n: int) -> None:
    page.wait_for_function(f"/step {n}$/.test(document.querySelector('.govsim-step').textContent.trim())")


def settled_step(page, quiet: float = 0.6, timeout: float = 10.0) -> int:
    """The step count once it has stopped changing (after a pause)."""
    last, deadline = step_count(page), time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = step_count(page)
        if now == last:
            return now
        last = now
    raise AssertionError(f"still stepping {timeout} s after pause")


def reset_and_wait(page, heading: str) -> None:
    page.get_by_role("button", name="Reset").click()
    page.wait_for_function(
        "(h) => document.querySelector('.govsim-lesson').textContent.includes(h)"
        " && /step 0$/.test(document.querySelector('.govsim-step').textContent.trim())",
        arg=heading,
    )


def chart_src(page, name: str) -> str:
    return page.locator(f".govsim-chart-{name}").get_attribute("src") or ""


def screenshot(page, name: str) -> None:
    """Save the page (for docs/demo.md when updating screenshots), with the mouse off the buttons."""
    page.mouse.move(1400, 80)
    time.sleep(0.3)
    folder = IMG or Path(tempfile.gettempdir()) / "govsim-demo-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    data = page.screenshot(path=str(folder / name))
    assert len(data) > 20_000  # a rendered page, not a blank one


def assert_no_error(page, errors: list[str]) -> None:
    assert errors == [], errors
    assert page.locator(".govsim-error").count() == 0
    assert page.locator(".v-alert").count() == 0  # SolaraViz shows a failing step as an alert
    assert "Traceback" not in page.inner_text("body")


def test_choose_a_case_and_a_style_then_step(demo: DemoServer, browser) -> None:
    page, errors = open_demo(browser, demo.url, height=1130)
    choose(page, "Case", "safety_network")
    choose(page, "Leadership style", "facilitative")
    reset_and_wait(page, "Safety network: Facilitative")
    assert "Police, public prosecution" in page.locator(".govsim-lesson").inner_text()
    pv_before = chart_src(page, "public-value")
    readout_before = page.locator(".govsim-readout").inner_text()
    for i in range(1, 9):
        page.get_by_role("button", name="Step").click()
        wait_for_step(page, i)
    assert step_count(page) == 8
    assert chart_src(page, "public-value") != pv_before
    readout = page.locator(".govsim-readout").inner_text()
    assert readout != readout_before and "facilitative" in readout
    assert page.locator(".govsim-chart-network").is_visible()
    assert_no_error(page, errors)
    screenshot(page, "demo_single.png")

    # An own style for one organisation, typed in the sidebar, applies on Reset.
    page.get_by_label("Own styles (e.g. police=facilitative)").fill("police=shared")
    reset_and_wait(page, "police (shared)")
    assert_no_error(page, errors)

    # A setting that is not allowed shows a message, not a traceback.
    slider = page.locator(".v-slider").filter(has=page.get_by_text("Interdependence K", exact=True))
    slider.get_by_role("slider").focus()
    page.keyboard.press("End")  # K = 19 >= N = 16
    page.get_by_role("button", name="Reset").click()
    error = page.locator(".govsim-error")
    error.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert "problem.K=19 is not allowed: must be smaller than problem.N=16" in error.inner_text()
    assert "Traceback" not in page.inner_text("body") and errors == []
    page.set_viewport_size({"width": 1440, "height": 620})
    screenshot(page, "demo_error.png")
    page.close()


def test_side_by_side_two_styles_on_the_same_problem(demo: DemoServer, browser) -> None:
    page, errors = open_demo(browser, demo.url, height=1620)
    choose(page, "Case", "safety_network")
    choose(page, "Leadership style", "directive")
    choose(page, "Side by side with style", "facilitative")
    reset_and_wait(page, "Safety network: Directive vs Facilitative")
    headers = page.locator(".govsim-readout th").all_inner_texts()
    assert headers[1:] == ["directive", "facilitative"]
    pv_start = chart_src(page, "public-value")
    page.get_by_role("button", name="▶").click()  # play
    page.wait_for_function(
        "() => Number(/step (\\d+)/.exec(document.querySelector('.govsim-step').textContent)[1]) >= 40",
        timeout=RENDER_TIMEOUT_MS,
    )
    page.get_by_role("button", name="❚❚").click()  # pause (a step under way still finishes)
    paused_at = settled_step(page)
    assert paused_at >= 40
    page.get_by_role("button", name="Step").click()
    wait_for_step(page, paused_at + 1)
    assert chart_src(page, "public-value") != pv_start
    values = page.locator(".govsim-readout tr").nth(1).locator("td").all_inner_texts()  # public value row
    assert values[0] == "public value" and len(values) == 3
    assert page.locator(".govsim-chart").count() == 5
    assert_no_error(page, errors)
    screenshot(page, "demo_side_by_side.png")
    page.close()


def test_ctrl_c_stops_the_demo_cleanly(demo: DemoServer) -> None:
    assert demo.url.startswith("http://127.0.0.1:")  # local only by default
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(timeout=30) == 0
    time.sleep(0.2)  # the reader thread collects the last lines
    assert "stopped" in demo.output
    assert "Traceback" not in demo.output, demo.output
