"""Speed of the teaching demo: a model step, a step plus re-render of the views, a click in the browser.

Prints, for the default case (8 organisations, 200 professionals, N = 16, K = 4) with one style and
side by side with a second style:

1. model step: wall time of ``Lesson.step()`` alone;
2. server render: ``Lesson.step()`` plus the re-render of every view, as Solara does it after Step
   (the component tree rendered in-process with ``solara.render``: charts blitted and PNG-encoded,
   readout, widget updates);
3. browser: from clicking Step in Chromium to the step counter on the page showing the new step, and
   to the public-value chart showing new pixels too (timed inside the page with ``performance.now()``
   and a MutationObserver, so Playwright's own overhead is not counted), against a running
   ``govsim-demo``. Skipped when chromium is not installed.

Target: one step with the default case renders in under 200 ms. Timings on a shared machine are
noisy; the median is the figure to quote.

    python benchmarks/bench_demo.py [--steps 60] [--clicks 25]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import solara
from mesa.visualization.utils import force_update

from experiments import app

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0
SETTINGS = {"single": {}, "side by side": {"compare": "facilitative"}}

CLICK_JS = """
async ([n, waitForChart]) => {
  const button = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Step');
  const chart = () => document.querySelector('.govsim-chart-public-value');
  const before = chart() ? chart().src : null;
  const ready = () => {
    const step = document.querySelector('.govsim-step');
    return step && step.textContent.trim() === `step ${n}` && (!waitForChart || chart().src !== before);
  };
  const t0 = performance.now();
  const done = new Promise(resolve => {
    const observer = new MutationObserver(() => {
      if (ready()) { observer.disconnect(); resolve(performance.now() - t0); }
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true});
  });
  button.click();
  return await done;
}
"""


def summary(ms: list[float]) -> str:
    """Median, mean, 90th percentile and maximum of timings in milliseconds."""
    ordered = sorted(ms)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return (
        f"median {statistics.median(ms):6.1f}  mean {statistics.fmean(ms):6.1f}  p90 {p90:6.1f}  "
        f"max {max(ms):6.1f} ms  (n={len(ms)})"
    )


def timed(action: Callable[[], None], n: int) -> list[float]:
    """Wall times of ``n`` calls of ``action`` in milliseconds."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        action()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def server_side(steps: int) -> None:
    """Model step alone, and step plus re-render of the views in-process."""
    for label, settings in SETTINGS.items():
        lesson = app.Lesson(**settings)
        for _ in range(5):
            lesson.step()
        model_ms = timed(lesson.step, steps)
        lesson = app.Lesson(**settings)
        _box, rc = solara.render(app.LessonView(lesson), handle_error=False)

        def step_and_render(lesson: app.Lesson = lesson) -> None:
            lesson.step()
            force_update()

        for _ in range(5):
            step_and_render()
        render_ms = timed(step_and_render, steps)
        rc.close()
        print(f"{label:13s} model step      {summary(model_ms)}")
        print(f"{label:13s} step + render   {summary(render_ms)}")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar's select labelled ``label``."""
    page.locator(".v-select").filter(has=page.get_by_text(label, exact=True)).locator(".v-field").click()
    page.get_by_role("listbox", name=label).get_by_role("option", name=option, exact=True).click()


def browser_side(clicks: int) -> None:
    """Click Step in Chromium against a running govsim-demo and time the page's update."""
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if chromium is None:
        print("browser: skipped (chromium is not installed)")
        return
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.demo", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = ""
        for line in proc.stdout:
            found = re.search(r"open (http://\S+) in a browser", line)
            if found:
                url = found.group(1)
                break
        if not url:
            print("browser: govsim-demo did not start")
            return
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(".govsim-step", timeout=60_000)
            print(f"browser: first page load to the lesson shown: {time.perf_counter() - t0:.1f} s")
            for label in SETTINGS:
                if label == "side by side":
                    choose(page, "Side by side with style", "facilitative")
                    page.get_by_role("button", name="Reset").click()
                    page.wait_for_selector(".govsim-readout th:has-text('facilitative')")
                    page.wait_for_function("document.querySelector('.govsim-step').textContent.trim() === 'step 0'")
                for wait_for_chart, what in ((False, "step counter"), (True, "counter + chart")):
                    start = int(re.search(r"\d+", page.locator(".govsim-step").inner_text()).group())
                    page.evaluate(CLICK_JS, [start + 1, wait_for_chart])  # warm-up click
                    ms = [page.evaluate(CLICK_JS, [start + 2 + i, wait_for_chart]) for i in range(clicks)]
                    print(f"{label:13s} click -> {what:15s} {summary(ms)}")
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="steps timed in-process per setting")
    parser.add_argument("--clicks", type=int, default=25, help="Step clicks timed in the browser per setting")
    args = parser.parse_args()
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    print(f"target: one step with the default case renders in under {TARGET_MS:.0f} ms")
    server_side(args.steps)
    browser_side(args.clicks)


if __name__ == "__main__":
    main()
