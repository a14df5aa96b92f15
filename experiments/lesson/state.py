"""A lesson: one governance model, or two stepped together under two styles, and where lessons are kept.

:class:`Lesson` is plain Python (no browser needed). :class:`LessonStore` keeps the most recent
lessons by an id that the page puts in its address, so a reload of the page finds its lesson (and
its step) again, while another tab without that id gets its own.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

import yaml

from sim import ConfigError, GovernanceModel

from .config import CONFIG_DIR, config_options, make_model

OFF = "off"
DEFAULTS: dict[str, Any] = {
    "case": "default",
    "leadership": "directive",
    "compare": OFF,
    "org_styles": "",
    "roles": "balanced",
    "N": 16,
    "K": 3,
    "cross_boundary": 0.5,
    "network": "small_world",
    "seed": "42",
}
"""The demo's settings and their defaults (the controls on the page)."""


@cache
def presets() -> dict[str, dict[str, Any]]:
    """The suggested comparison of each case (``presets.yaml``), as full settings."""
    from importlib import resources

    data = yaml.safe_load(resources.files("experiments.lesson").joinpath("presets.yaml").read_text(encoding="utf-8"))
    return {case: {**DEFAULTS, **(values or {}), "case": case} for case, values in (data or {}).items()}


def preset(case: str) -> dict[str, Any]:
    """Settings of the suggested comparison for ``case`` (side by side off when the case has none)."""
    return dict(presets().get(case, {**DEFAULTS, "case": case}))


class Lesson:
    """One governance model, or two stepped together under two styles, built from the demo's settings.

    Attributes:
        settings: The settings in force (a full copy of :data:`DEFAULTS`' keys).
        models: One model, or two (the second under the comparison style); empty when not allowed.
        labels: The leadership style each model runs under.
        error: The :class:`~sim.ConfigError` of a setting that is not allowed, else ``None``.
        same_style: Side by side was asked with the same style twice (one model runs).
    """

    def __init__(self, **settings: Any) -> None:
        """Build the lesson; a setting that is not allowed sets ``error`` instead of raising."""
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(unknown)}")
        self.settings: dict[str, Any] = {**DEFAULTS, **settings}
        self.models: list[GovernanceModel] = []
        self.labels: list[str] = []
        self.error: ConfigError | None = None
        self.same_style = False
        self.lock = threading.RLock()
        st = self.settings
        styles = [st["leadership"]]
        if st["compare"] not in (OFF, "", None):
            if st["compare"] == st["leadership"]:
                self.same_style = True
            else:
                styles.append(st["compare"])
        common = {k: v for k, v in st.items() if k not in ("leadership", "compare")}
        try:
            self.models = [make_model(leadership=style, **common) for style in styles]
        except ConfigError as exc:
            self.error = exc
            return
        self.labels = styles

    @property
    def case(self) -> str:
        """The case (scenario) name."""
        return str(self.settings["case"])

    @property
    def steps(self) -> int:
        """Steps taken so far."""
        return self.models[0].steps if self.models else 0

    def step(self) -> None:
        """Advance every model by one step (nothing when the settings were not allowed)."""
        with self.lock:
            for model in self.models:
                model.step()

    def shock_steps(self) -> list[int]:
        """Steps at which a scheduled shock hits the problem."""
        if not self.models:
            return []
        return sorted({int(s.step) for s in self.models[0].params.problem.shocks})

    def surge(self) -> bool:
        """Whether the case moves a surge reserve after a shock."""
        return bool(self.models and self.models[0].params.scenario.surge_reserve > 0)


class LessonStore:
    """The most recent lessons by id (bounded: the oldest are dropped), safe across sessions."""

    def __init__(self, size: int = 64) -> None:
        """Keep at most ``size`` lessons."""
        self.size = size
        self._lessons: OrderedDict[str, Lesson] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        """A fresh, unguessable lesson id."""
        return secrets.token_urlsafe(9)

    def get(self, key: str | None) -> Lesson | None:
        """The lesson of ``key``, if it is still kept."""
        with self._lock:
            lesson = self._lessons.get(key) if key else None
            if lesson is not None:
                self._lessons.move_to_end(key)
            return lesson

    def put(self, key: str, lesson: Lesson) -> None:
        """Keep ``lesson`` under ``key``."""
        with self._lock:
            self._lessons[key] = lesson
            self._lessons.move_to_end(key)
            while len(self._lessons) > self.size:
                self._lessons.popitem(last=False)


STORE = LessonStore()
"""The server's lessons (a page reload finds its lesson here by the id in its address)."""

__all__ = ["CONFIG_DIR", "DEFAULTS", "OFF", "STORE", "Lesson", "LessonStore", "config_options", "preset", "presets"]
