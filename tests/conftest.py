"""Shared fixtures: small, fast parameter sets and Hydra composition."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from sim.params import ModelParams, build_params

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"


def small_params(**sections: dict) -> ModelParams:
    """Four organisations of 10, N = 12, K = 3, 30 steps, 2 replications, plus overrides."""
    base: dict = {
        "problem": {"N": 12, "K": 3},
        "scenario": {"organisations": [{"name": f"o{i}", "size": 10} for i in range(4)]},
        "network": {"degree": 4},
        "run": {"steps": 30, "replications": 2, "seed": 7},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return build_params(base)


@pytest.fixture
def compose_cfg() -> Iterator:
    """Compose configs with Hydra's compose API; global state cleared afterwards."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        yield lambda overrides=(): compose(config_name="config", overrides=list(overrides))
    GlobalHydra.instance().clear()


def chromium_path() -> str | None:
    """Debian's chromium, if installed (the browser tests drive it through Playwright)."""
    import os
    import shutil

    return shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


def open_offline(html: Path, chromium: str) -> dict:
    """Open a report file in chromium with every request off the machine blocked.

    Returns:
        ``title``, ``pwned`` (whether ``window.pwned`` is still undefined), the page's ``text``
        and the ``dialogs`` it opened.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                   else route.abort())  # nothing leaves the machine
        page.goto(html.as_uri())
        page.wait_for_load_state("load")
        seen = {"title": page.title(), "pwned": page.evaluate("window.pwned === undefined"),
                "text": page.inner_text("body"), "dialogs": dialogs}
        browser.close()
    return seen
