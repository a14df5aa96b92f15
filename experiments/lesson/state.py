"""A lesson: one governance model, or two stepped together under two styles, and where lessons are kept.

:class:`Lesson` is plain Python (no browser needed). :class:`LessonStore` keeps the most recent
lessons by an id that the page puts in its address, so a reload of the page finds its lesson (and
its step) again, while another tab without that id gets its own.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from functools import cache
from typing import Any

import yaml

from sim import ConfigError, GovernanceModel

from .config import CONFIG_DIR, config_options, make_model
from .mechanisms import StepReading, read_step

LOG = logging.getLogger("govsim.demo")
OFF = "off"
PLAY_INTERVAL = 0.15
"""Seconds from the start of one step to the start of the next while playing (a step takes part of it)."""
SHOWN_WAIT = 2.0
"""Longest a playing lesson waits for its page to show a step before it takes the next one anyway."""
UNWATCHED_PAUSE = 30.0
"""A lesson that plays while no page has shown a step for this many seconds pauses (its tab was closed)."""
PAUSED, PLAYING = "paused", "playing"
"""The two states of a lesson's :class:`Player`."""
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
        self.player = Player(self)
        self.readings: list[list[StepReading]] = []  # per model: the mechanisms of every step run
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
        self.readings = [[] for _ in self.models]

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
            for model, readings in zip(self.models, self.readings, strict=True):
                model.step()
                readings.append(read_step(model))

    def shock_steps(self) -> list[int]:
        """Steps at which a scheduled shock hits the problem."""
        if not self.models:
            return []
        return sorted({int(s.step) for s in self.models[0].params.problem.shocks})

    def surge(self) -> bool:
        """Whether the case moves a surge reserve after a shock."""
        return bool(self.models and self.models[0].params.scenario.surge_reserve > 0)


class Player:
    """Play and Pause of one lesson: one state machine on the server, one thread that steps.

    The page only calls :meth:`play` and :meth:`pause` (from a button's click) and reads
    :attr:`state`, :attr:`version` and :attr:`error`; it never sets a state of its own from a render.
    The stepping thread checks the state under the lock before every step, so after :meth:`pause`
    returns at most the step already running completes: a pause stops within one step.

    Paced by the page: when a page follows the player (:meth:`shown` after it has put a step on
    screen), the next step starts only an interval after the page showed the last one. So the page is
    never behind the model by more than the step running, and a click on Pause, which the page handles
    after the screen it is drawing, stops the run within one step of what the class saw.

    Args:
        lesson: The lesson to step.
        interval: Seconds from the start of one step to the start of the next.
    """

    def __init__(self, lesson: Lesson, interval: float = PLAY_INTERVAL) -> None:
        """A paused player of ``lesson``."""
        self.lesson = lesson
        self.interval = interval
        self.state = PAUSED
        self.version = 0  # bumped on every step and every change of state
        self.error: str | None = None  # the name of the exception a failing step raised
        self._cond = threading.Condition()
        self._run_id = 0
        self._thread: threading.Thread | None = None
        self.paced = False  # a page follows: wait for it to show each step (see :meth:`shown`)
        self._shown = -1
        self._shown_at = time.monotonic()

    def shown(self, steps: int) -> None:
        """A page has put ``steps`` on screen (it calls this after drawing; it changes no page state)."""
        with self._cond:
            self.paced = True
            self._shown_at = time.monotonic()
            if steps > self._shown:
                self._shown = steps
                self._cond.notify_all()

    @property
    def playing(self) -> bool:
        """Whether the lesson is playing."""
        return self.state == PLAYING

    def _bump(self) -> None:
        self.version += 1
        self._cond.notify_all()

    def play(self) -> bool:
        """Start playing (nothing when already playing or when the lesson cannot run); ``True`` if started."""
        with self._cond:
            if self.state == PLAYING or not self.lesson.models:
                return False
            self.state, self.error = PLAYING, None
            self._shown_at = time.monotonic()
            self._run_id += 1
            self._thread = threading.Thread(target=self._run, args=(self._run_id,), daemon=True,
                                            name="govsim-demo-player")
            self._bump()
            self._thread.start()
            return True

    def pause(self) -> int:
        """Stop playing; returns the steps taken so far (at most the step running now follows)."""
        with self._cond:
            if self.state != PAUSED:
                self.state = PAUSED
                self._bump()
            return self.lesson.steps

    def step(self) -> None:
        """One step by hand (only while paused); a failing step sets :attr:`error`."""
        with self._cond:
            if self.state != PAUSED:
                return
        self._one_step()

    def _one_step(self) -> bool:
        try:
            self.lesson.step()
        except Exception as exc:  # never a traceback on the page: the name goes to the page, the rest to the log
            LOG.exception("a step failed")
            with self._cond:
                self.state, self.error = PAUSED, type(exc).__name__
                self._bump()
            return False
        with self._cond:
            self._bump()
        return True

    def _run(self, run_id: int) -> None:
        while True:
            with self._cond:
                if self.state != PLAYING or run_id != self._run_id:
                    return
            started = time.monotonic()
            if not self._one_step():
                return
            with self._cond:
                if self.paced:  # wait (a bounded time: a page may close) until a page has shown this step
                    give_up = time.monotonic() + SHOWN_WAIT
                    while (self.state == PLAYING and run_id == self._run_id and self._shown < self.lesson.steps
                           and time.monotonic() < give_up):
                        self._cond.wait(max(0.0, give_up - time.monotonic()))
                    started = time.monotonic()
                    if self._shown < self.lesson.steps and started - self._shown_at > UNWATCHED_PAUSE:
                        self.state = PAUSED  # nobody watches: stop rather than run on in the background
                        self._bump()
                        return
                end = started + self.interval
                while self.state == PLAYING and run_id == self._run_id and time.monotonic() < end:
                    self._cond.wait(max(0.0, end - time.monotonic()))

    def wait_change(self, seen: int, timeout: float) -> int:
        """Wait until :attr:`version` differs from ``seen`` (or ``timeout`` seconds); returns the version."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen, timeout)
            return self.version


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

__all__ = ["CONFIG_DIR", "DEFAULTS", "OFF", "PAUSED", "PLAYING", "STORE", "Lesson", "LessonStore", "Player",
           "config_options", "preset", "presets"]
