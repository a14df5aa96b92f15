"""A classroom session: groups of students each lead an organisation of one case, round by round.

One :class:`Session` holds everything: the settings, one governance model per group (all on the same
seed and the same events), the seats (one per organisation of the case per group), the students, the
round and its timer, and the log of every choice in force and every shock fired. All of it is
guarded by one lock. Only :meth:`Session.tick` (called by the round driver, a server thread) ever
steps a model; pages only read views (plain dicts built from snapshots taken after each round) and
send choices, which are validated here.

Rules (the issue's "fairness"):

- a student joins with a nickname and gets a seat token (the page keeps it per browser tab, so a
  reload gets the same seat back and two students on one laptop are two students);
- a late joiner takes a free seat (the first group with room), a new group is opened only while
  nobody has started (lobby) or, after the start, when no seat is free (it catches up with the others'
  steps under the case's own leadership, all seats automatic, logged like any other round);
- a seat nobody holds, or whose student made no new choice, keeps its last choice; the log marks it
  ``automatic`` (no student) or ``kept`` (a student who did not choose again);
- a student who leaves, or whose page has not asked for news for ``release_after`` seconds, frees the
  seat.

Replay: :func:`replay` rebuilds every group's model from the log alone (the exported CSV read back by
:func:`read_log`), bit for bit, and :func:`fingerprint` condenses a model's state to compare.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import math
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sim import ConfigError, GovernanceModel, build_params
from sim.params import BEHAVIOUR_FIELDS, STYLES

from ..lesson.config import check_option, demo_config
from ..lesson.mechanisms import StepReading, Tally, read_step, sentence
from ..lesson.mechanisms import panel as mechanism_panel
from ..lesson.state import preset
from ..lesson.texts import Texts

CHOICE_FIELDS: tuple[str, ...] = ("convening", "openness", "pressure", "support")
"""Behaviours a student may set by hand (convene or not, how to answer staff who speak up, how hard to
push targets, support); every other behaviour follows the chosen style's profile."""
LEVELS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The values a student may give a behaviour (anything else is refused)."""
REFERENCE_STYLES: tuple[str, ...] = ("facilitative", "directive")
"""The debrief's replays: the same case, seed and events with every organisation led in one style."""
DEFAULT_SHOCK_SHARE = 0.5
"""Share of decisions the teacher's shock redraws when the case schedules no shock of its own."""
CODE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
"""Letters and digits of a join code that cannot be mistaken for one another on a projector."""
NICKNAME_MAX = 24
LOG_COLUMNS = ("kind", "case", "seed", "steps_per_round", "round", "step", "group", "organisation", "source",
               "style", *CHOICE_FIELDS, "share")
"""Columns of the exported log (one row per seat per round, and one per shock)."""


@dataclass(frozen=True)
class Settings:
    """What the teacher sets when starting a classroom.

    Attributes:
        case: The case (a scenario of ``configs/scenario``).
        seed: The seed every group's model runs on.
        rounds: Rounds in the session.
        steps_per_round: Model steps in one round (a step is about a month).
        timer: Seconds students have to choose in each round.
        group_size: Students per group (at most the case's organisations; default: all of them).
        styles: Styles students may choose.
        max_groups: Most groups (and so students) one session takes.
        release_after: Seconds without news from a student's page after which its seat is freed.
        away_after: Seconds without news from a student's page after which the seat no longer counts as
            seated (a closed tab, a phone gone): the round does not wait for it. The student may come back
            (the page keeps the seat token; or the nickname with the code) until ``release_after``.
        join_limit: Join attempts one address may make per minute.
        seats_per_address: Seats one client address may hold unless the teacher allows more (two
            students sharing a laptop are fine; one machine taking every seat is not).
        lang: Language of the pages (``nl`` or ``en``).
    """

    case: str = "safety_network"
    seed: int = 42
    rounds: int = 8
    steps_per_round: int = 12
    timer: float = 75.0
    group_size: int | None = None
    styles: tuple[str, ...] = tuple(s for s in STYLES)
    max_groups: int = 12
    release_after: float = 120.0
    away_after: float = 10.0
    join_limit: int = 30
    seats_per_address: int = 3
    lang: str = "nl"

    def validate(self) -> None:
        """Check every setting; raises :class:`~sim.ConfigError` naming the first that is not allowed."""
        check_option("scenario", self.case)
        for name, low, high in (("rounds", 1, 50), ("steps_per_round", 1, 200), ("max_groups", 1, 40),
                                ("join_limit", 1, 10_000), ("seats_per_address", 1, 1000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"classroom.{name}", value, f"must be a whole number in [{low}, {high}]")
        for name, low, high in (("timer", 5.0, 3600.0), ("release_after", 5.0, 86_400.0),
                                ("away_after", 2.0, 3600.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ConfigError(f"classroom.{name}", value, f"must be a number of seconds in [{low:g}, {high:g}]")
        if not self.styles or any(s not in STYLES for s in self.styles):
            bad = next((s for s in self.styles if s not in STYLES), self.styles)
            raise ConfigError("classroom.styles", bad, "must be one or more of " + ", ".join(STYLES))
        if self.lang not in ("nl", "en"):
            raise ConfigError("classroom.lang", self.lang, "must be one of nl, en")


CARD_FIELDS: tuple[str, ...] = ("mandate", "knows", "dilemma")
"""What a role card says: mandate and targets, what its staff know that others do not, the dilemma."""


@functools.cache
def _cards() -> dict[str, Any]:
    from importlib import resources

    import yaml

    text = resources.files("experiments.classroom").joinpath("cards.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def role_cards(case: str) -> dict[str, dict[str, dict[str, str]]]:
    """The case's role cards: ``{organisation: {lang: {field: text}}}`` (empty for a case without cards)."""
    found = _cards().get(case)
    return found if isinstance(found, dict) else {}


def build_case(settings: Settings) -> Any:
    """The validated model parameters of the settings' case (the demo's composition of the case)."""
    values = {k: v for k, v in preset(settings.case).items() if k not in ("leadership", "compare")}
    values["seed"] = settings.seed
    return build_params(demo_config(**values))


def case_shock_share(params: Any) -> float:
    """Share of the teacher's "shock now": the case's first scheduled shock, else :data:`DEFAULT_SHOCK_SHARE`."""
    shocks = params.problem.shocks
    return float(shocks[0].share) if shocks else DEFAULT_SHOCK_SHARE


# --------------------------------------------------------------------------- choices, log and replay


@dataclass(frozen=True)
class Choice:
    """How one organisation is led: a style, with some behaviours set by hand."""

    style: str
    behaviour: tuple[tuple[str, float], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain form (for pages)."""
        return {"style": self.style, "behaviour": dict(self.behaviour)}


def parse_choice(data: Any, styles: Iterable[str]) -> Choice:
    """A student's choice from what a page sent, checked against what the session allows.

    Raises:
        ConfigError: If anything is not allowed: the style, a behaviour not offered, a value not one of
            :data:`LEVELS`, or data of the wrong shape (a page can send anything).
    """
    allowed = tuple(styles)
    if not isinstance(data, dict):
        raise ConfigError("choice", type(data).__name__, "must be an object with a style and behaviours")
    unknown = sorted(set(data) - {"style", "behaviour"})
    if unknown:
        raise ConfigError(f"choice.{str(unknown[0])[:30]}", "…", "unknown key; keys: style, behaviour")
    style = data.get("style")
    if not isinstance(style, str) or style not in allowed:
        raise ConfigError("choice.style", str(style)[:30], "must be one of " + ", ".join(allowed))
    behaviour = data.get("behaviour") or {}
    if not isinstance(behaviour, dict):
        raise ConfigError("choice.behaviour", type(behaviour).__name__, "must be an object")
    out = []
    for key, value in behaviour.items():
        if key not in CHOICE_FIELDS:
            raise ConfigError(f"choice.behaviour.{str(key)[:30]}", value, "must be one of " + ", ".join(CHOICE_FIELDS))
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) not in LEVELS:
            raise ConfigError(f"choice.behaviour.{key}", str(value)[:30],
                              "must be one of " + ", ".join(f"{v:g}" for v in LEVELS))
        out.append((key, float(value)))
    return Choice(style, tuple(sorted(out, key=lambda kv: CHOICE_FIELDS.index(kv[0]))))


@dataclass(frozen=True)
class LogRow:
    """One line of the session's log: the choice in force for one seat in one round, or a shock."""

    kind: str  # "choice" or "shock"
    round: int
    step: int  # choice: steps done when it took effect; shock: the step it hit
    group: int = -1
    organisation: int = -1
    source: str = ""  # student, kept, automatic
    choice: Choice | None = None
    share: float = 0.0


def advance(model: GovernanceModel, choices: list[Choice], shocks: dict[int, float], steps: int,
            observe: Callable[[GovernanceModel], None] | None = None) -> None:
    """One round of one group: set every organisation's leadership, fire due shocks, step.

    The session and :func:`replay` both run rounds through this function, so a replay from the log
    does exactly what the session did. ``observe`` is called after every step (it only reads).
    """
    for org, choice in enumerate(choices):
        model.set_leadership(org, choice.style, dict(choice.behaviour))
    for _ in range(steps):
        share = shocks.get(model.steps + 1)
        if share is not None:
            model.fire_shock(share)
        model.step()
        if observe is not None:
            observe(model)


def replay(params: Any, seed: int, steps_per_round: int, log: list[LogRow],
           groups: Iterable[int] | None = None) -> dict[int, GovernanceModel]:
    """Every group's model rebuilt from the log alone (the same seed, choices and shocks).

    Args:
        params: The case's model parameters (:func:`build_case`).
        seed: The session's seed.
        steps_per_round: Steps in one round.
        log: The session's log (or :func:`read_log` of its export).
        groups: The groups to rebuild (default: all in the log).
    """
    shocks = {r.step: r.share for r in log if r.kind == "shock"}
    wanted = sorted({r.group for r in log if r.kind == "choice"} if groups is None else set(groups))
    out = {}
    for g in wanted:
        rows = [r for r in log if r.kind == "choice" and r.group == g]
        model = GovernanceModel(params, rng=seed)
        for rnd in sorted({r.round for r in rows}):
            this = sorted((r for r in rows if r.round == rnd), key=lambda r: r.organisation)
            assert this[0].step == model.steps, "log rounds out of step"
            advance(model, [r.choice for r in this if r.choice is not None], shocks, steps_per_round)
        out[g] = model
    return out


def reference_models(params: Any, seed: int, rounds: int, steps_per_round: int,
                     shocks: dict[int, float]) -> dict[str, GovernanceModel]:
    """The debrief's replays: every organisation in one style, same seed and events, as many steps."""
    out = {}
    for style in REFERENCE_STYLES:
        model = GovernanceModel(params, rng=seed)
        for _ in range(rounds):
            advance(model, [Choice(style)] * model.n_orgs, shocks, steps_per_round)
        out[style] = model
    return out


def fingerprint(model: GovernanceModel) -> str:
    """A short hash of a model's state and history (equal only for bit-identical runs)."""
    digest = hashlib.sha256()
    for array in (np.asarray(model.pv_history), np.asarray(model.org_perf_history), model.config, model.trust,
                  model.energy, model.safety, model.efficacy, model.skill, model.understood, model.network.trust,
                  model.behaviour, model.org_of):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(str(model.steps).encode())
    return digest.hexdigest()[:16]


LOG_COLUMNS_NL = ("soort", "casus", "seed", "stappen_per_ronde", "ronde", "stap", "groep", "organisatie", "bron",
                  "stijl", "bijeenroepen", "openheid", "druk", "steun", "aandeel")
"""The log's columns in the Dutch export (in the order of :data:`LOG_COLUMNS`)."""
LOG_VALUES_NL = {"choice": "keuze", "shock": "schok", "student": "student", "kept": "behouden",
                 "automatic": "automatisch"}
"""The log's kinds and sources in the Dutch export."""


def _dutch_names(group: str, names: Iterable[str]) -> dict[str, str]:
    from ..lesson.texts import Texts

    nl = Texts("nl")
    return {name: nl.option(group, name) for name in names}


def write_log(log: list[LogRow], case: str, seed: int, steps_per_round: int, dutch: bool = False) -> str:
    """The log as CSV; no nicknames: only seats and choices.

    In Dutch: Dutch column names, kinds, sources, case and style names, ``;`` and decimal commas.
    Every cell a spreadsheet could read as a formula is neutralised (:func:`~experiments.lesson.export.csv_cell`).
    """
    from ..lesson.export import csv_row

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")
    writer.writerow(LOG_COLUMNS_NL if dutch else LOG_COLUMNS)
    values = {**LOG_VALUES_NL, **_dutch_names("leadership", STYLES)} if dutch else {}
    case_name = _dutch_names("scenario", [case])[case] if dutch else case

    def num(v: float | None) -> str:
        if v is None:
            return ""
        text = repr(float(v))
        return text.replace(".", ",") if dutch else text

    def word(v: str) -> str:
        return values.get(v, v)

    for r in log:
        beh = dict(r.choice.behaviour) if r.choice else {}
        writer.writerow(csv_row([
            word(r.kind), case_name, seed, steps_per_round, r.round, r.step,
            r.group + 1 if r.group >= 0 else "", r.organisation + 1 if r.organisation >= 0 else "",
            word(r.source), word(r.choice.style) if r.choice else "", *(num(beh.get(f)) for f in CHOICE_FIELDS),
            num(r.share) if r.kind == "shock" else ""]))
    return out.getvalue()


def read_log(text: str) -> tuple[dict[str, Any], list[LogRow]]:
    """The case, seed and steps per round, and the log rows, from :func:`write_log`'s CSV (either language).

    Raises:
        ConfigError: If the text is not such a log.
    """
    from ..lesson.config import config_options

    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    dutch = ";" in first
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if dutch else ","))
    if dutch and rows and not set(LOG_COLUMNS_NL) - set(rows[0]):
        rows = [{en: row[nl] for en, nl in zip(LOG_COLUMNS, LOG_COLUMNS_NL, strict=True)} for row in rows]
        back = {v: k for k, v in {**LOG_VALUES_NL, **_dutch_names("leadership", STYLES),
                                  **_dutch_names("scenario", config_options("scenario"))}.items()}
        for row in rows:
            for column in ("kind", "source", "style", "case"):
                row[column] = back.get(row[column], row[column])
    if not rows or set(LOG_COLUMNS) - set(rows[0]):
        raise ConfigError("log", first[:60], "must be a classroom log (columns " + ", ".join(LOG_COLUMNS) + ")")

    def num(v: str) -> float:
        return float(v.replace(",", ".")) if dutch else float(v)

    meta = {"case": rows[0]["case"], "seed": int(rows[0]["seed"]), "steps_per_round": int(rows[0]["steps_per_round"])}
    log = []
    for row in rows:
        if row["kind"] == "shock":
            log.append(LogRow("shock", int(row["round"]), int(row["step"]), share=num(row["share"])))
            continue
        beh = tuple((f, num(row[f])) for f in CHOICE_FIELDS if row[f] != "")
        log.append(LogRow("choice", int(row["round"]), int(row["step"]), int(row["group"]) - 1,
                          int(row["organisation"]) - 1, row["source"], Choice(row["style"], beh)))
    return meta, log


# --------------------------------------------------------------------------- seats, students, groups


@dataclass
class Seat:
    """One organisation in one group, and who leads it."""

    group: int
    org: int
    choice: Choice
    holder: str | None = None
    chosen: bool = False  # the holder chose in the current round
    history: list[tuple[Choice, str]] = field(default_factory=list)  # per round run: choice and source


@dataclass
class Student:
    """A student, known only by a nickname and the seat token their page keeps."""

    token: str
    nickname: str
    seat: tuple[int, int] | None
    last_seen: float
    address: str = ""
    closed: bool = False  # its page said it was closing (and has not asked for news since)


@dataclass
class Group:
    """One copy of the case, its seats and what the last round showed."""

    index: int
    model: GovernanceModel
    seats: list[Seat]
    snapshot: dict[str, Any] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)  # per round run: mechanisms and sentences


class JoinRefused(Exception):
    """A join that is not allowed now; ``reason`` is a catalogue key under ``classroom.refused``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_nickname(text: Any) -> str:
    """A nickname as shown: trimmed, control characters removed, at most :data:`NICKNAME_MAX` characters.

    Raises:
        ConfigError: If nothing is left.
    """
    if not isinstance(text, str):
        raise ConfigError("nickname", type(text).__name__, f"must be text of 1-{NICKNAME_MAX} characters")
    kept = "".join(c for c in unicodedata.normalize("NFC", text) if unicodedata.category(c)[0] != "C")
    kept = " ".join(kept.split())[:NICKNAME_MAX]
    if not kept:
        raise ConfigError("nickname", text[:30], f"must be text of 1-{NICKNAME_MAX} characters")
    return kept


def new_code() -> str:
    """A short join code (5 characters of :data:`CODE_ALPHABET`)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))


class Session:
    """One classroom session (see the module's description). Thread-safe: every method takes the lock.

    Args:
        settings: The teacher's settings (validated here).
        clock: Seconds, monotonic (tests pass a fake clock).
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        settings.validate()
        self.params = build_case(settings)
        n_orgs = len(self.params.scenario.organisations)
        size = n_orgs if settings.group_size is None else settings.group_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= n_orgs:
            raise ConfigError("classroom.group_size", size, f"must be a whole number in [1, {n_orgs}] (the case's "
                              "organisations)")
        self.settings = replace(settings, group_size=size)
        self.clock = clock
        self.lock = threading.RLock()
        self.code = new_code()
        self.org_names = [o.name for o in self.params.scenario.organisations]
        self.cards = role_cards(settings.case)
        self.shock_share = case_shock_share(self.params)
        self.groups: list[Group] = []
        self.students: dict[str, Student] = {}
        self.log: list[LogRow] = []
        self.shocks: dict[int, float] = {}
        self.pending_shock = False
        self.phase = "lobby"  # lobby, choosing, debrief
        self.round = 0  # rounds run so far
        self.deadline = math.inf
        self.paused_left: float | None = None
        self.join_locked = False
        self.show_partners = False
        self.version = 0
        self.references: dict[str, dict[str, Any]] = {}
        self.refused_choices = 0
        self.allowed_addresses: set[str] = set()
        self.crowded_addresses: dict[str, int] = {}  # refused for holding too many seats: address -> refusals
        self._last_seat: dict[str, tuple[int, int]] = {}  # a released nickname's seat, to give back if free
        self._away: frozenset[str] = frozenset()
        self._join_times: dict[str, deque[float]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._wake = threading.Event()
        self.updated_at = time.time()

    # ------------------------------------------------------------------ helpers
    @property
    def n_orgs(self) -> int:
        """Organisations of the case (seats per group)."""
        return len(self.org_names)

    @property
    def steps(self) -> int:
        """Model steps run so far (every group has run the same)."""
        return self.round * self.settings.steps_per_round

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (without the lock) whenever the session's views change."""
        with self.lock:
            self._listeners.append(listener)

    def _changed(self) -> None:
        self.version += 1
        self.updated_at = time.time()
        self._wake.set()
        for listener in list(self._listeners):
            listener()

    def default_choice(self, org: int) -> Choice:
        """The case's own leadership of ``org`` (a seat's choice until someone chooses)."""
        return Choice(self.params.style_of(org))

    def _new_group(self) -> Group:
        index = len(self.groups)
        model = GovernanceModel(self.params, rng=self.settings.seed)
        seats = [Seat(index, o, self.default_choice(o)) for o in range(self.n_orgs)]
        group = Group(index, model, seats)
        for rnd in range(1, self.round + 1):  # a group opened after the start catches up, all seats automatic
            self._run_group_round(group, rnd)
        group.snapshot = self._snapshot(group)
        self.groups.append(group)
        return group

    def _run_group_round(self, group: Group, rnd: int) -> None:
        model = group.model
        for seat in group.seats:
            source = "automatic" if seat.holder is None else ("student" if seat.chosen else "kept")
            self.log.append(LogRow("choice", rnd, model.steps, group.index, seat.org, source, seat.choice))
            seat.history.append((seat.choice, source))
        readings: list[StepReading] = []
        advance(model, [s.choice for s in group.seats], self.shocks, self.settings.steps_per_round,
                observe=lambda m: readings.append(read_step(m)))
        tally = Tally.of(readings, self.n_orgs)
        before = group.rounds[-1]["failure_share"] if group.rounds else None
        group.rounds.append({
            "round": rnd,
            "failure_share": tally.network_failure_share(),
            "mechanisms": mechanism_panel(model, tally),
            "sentence": {lang: sentence(model, tally, self.org_names, Texts(lang), before) for lang in ("nl", "en")},
            "choices": [{"org": s.org, **s.choice.as_dict(), "source": s.history[-1][1]} for s in group.seats],
        })

    def _held(self, group: Group) -> int:
        return sum(s.holder is not None for s in group.seats)

    def _free_seat(self) -> Seat | None:
        size = self.settings.group_size
        for group in self.groups:  # a group with fewer students than the group size: its first free seat
            if self._held(group) < size:
                return next(s for s in group.seats if s.holder is None)
        return None

    # ------------------------------------------------------------------ students
    def join(self, nickname: Any, code: Any, address: str = "") -> Student:
        """Seat a new student (a late joiner takes a free seat).

        Raises:
            ConfigError: If the nickname is empty or not text.
            JoinRefused: Wrong code, too many attempts from ``address``, joining locked, the session over or
                full.
        """
        with self.lock:
            now = self.clock()
            times = self._join_times.setdefault(address, deque())
            while times and times[0] < now - 60.0:
                times.popleft()
            if len(times) >= self.settings.join_limit:
                raise JoinRefused("too_many")
            times.append(now)
            if len(self._join_times) > 10_000:  # keep the table small whatever arrives
                self._join_times = {address: times}
            if not isinstance(code, str) or not secrets.compare_digest(code.strip().upper().encode(),
                                                                       self.code.encode()):
                raise JoinRefused("code")
            name = clean_nickname(nickname)
            same = [s for s in self.students.values() if s.nickname.casefold() == name.casefold()]
            if same:  # the nickname comes back: its seat, if its page is gone; else the name is taken
                if self.is_present(same[0]) or same[0].seat is None:
                    raise JoinRefused("nickname")
                same[0].last_seen, same[0].address, same[0].closed = now, address, False
                self._update_presence()
                self._changed()
                return same[0]
            if self.join_locked:
                raise JoinRefused("locked")
            if self.phase == "debrief":
                raise JoinRefused("over")
            held = sum(s.address == address for s in self.students.values())
            if held >= self.settings.seats_per_address and address not in self.allowed_addresses:
                self.crowded_addresses[address] = self.crowded_addresses.get(address, 0) + 1
                if len(self.crowded_addresses) > 1000:
                    self.crowded_addresses = {address: 1}
                self._changed()
                raise JoinRefused("address")
            seat = self._seat_back(name) or self._free_seat()
            if seat is None:
                if len(self.groups) >= self.settings.max_groups:
                    raise JoinRefused("full")
                seat = self._new_group().seats[0]
            student = Student(secrets.token_urlsafe(16), name, (seat.group, seat.org), now, address)
            seat.holder, seat.chosen = student.token, False
            self.students[student.token] = student
            self._changed()
            return student

    def _seat_back(self, name: str) -> Seat | None:
        """The seat a released student of this nickname held, if it is free again."""
        found = self._last_seat.get(name.casefold())
        if found is None:
            return None
        seat = self.groups[found[0]].seats[found[1]]
        return seat if seat.holder is None else None

    def is_present(self, student: Student) -> bool:
        """Whether the student's page gave news in the last ``away_after`` seconds (and did not say it left)."""
        return not student.closed and self.clock() - student.last_seen <= self.settings.away_after

    def away(self, token: Any) -> bool:
        """The student's page is closing (its last word): the seat stops counting now, but is kept."""
        with self.lock:
            student = self.students.get(token) if isinstance(token, str) else None
            if student is None:
                return False
            student.closed = True
            self._update_presence()
            return True

    def resume(self, token: Any) -> Student | None:
        """The student of a token a new tab found in the browser's storage, if no other page holds the seat now."""
        with self.lock:
            student = self.students.get(token) if isinstance(token, str) else None
            if student is None or self.is_present(student):
                return None
            return self.student(token)

    def allow_address(self, address: Any) -> None:
        """Let ``address`` hold more seats (the teacher's consent: e.g. a classroom's shared computer)."""
        with self.lock:
            if not isinstance(address, str) or address not in self.crowded_addresses:
                raise ConfigError("address", str(address)[:45], "must be an address that was refused a seat")
            self.allowed_addresses.add(address)
            del self.crowded_addresses[address]
            self._changed()

    def remove(self, token: Any) -> None:
        """The teacher removes a student: the seat is freed and the student's token no longer works.

        Raises:
            ConfigError: If there is no such student.
        """
        with self.lock:
            if not self.leave(token):
                raise ConfigError("student", str(token)[:20], "must be a seated student")

    def student(self, token: Any) -> Student | None:
        """The student of a seat token (``None`` if unknown or released); marks the page as seen."""
        with self.lock:
            student = self.students.get(token) if isinstance(token, str) else None
            if student is not None:
                student.last_seen, student.closed = self.clock(), False
                if student.token in self._away:
                    self._update_presence()
            return student

    def leave(self, token: Any) -> bool:
        """The student leaves: the seat is freed (it keeps its last choice, now automatic)."""
        with self.lock:
            student = self.students.pop(token, None) if isinstance(token, str) else None
            if student is None:
                return False
            self._release(student)
            self._last_seat.pop(student.nickname.casefold(), None)
            self._changed()
            return True

    def _release(self, student: Student) -> None:
        if student.seat is not None:
            seat = self.groups[student.seat[0]].seats[student.seat[1]]
            if seat.holder == student.token:
                seat.holder, seat.chosen = None, False
        student.seat = None

    def choose(self, token: Any, data: Any) -> Choice:
        """Set a student's choice for the coming round (it can be changed until the round runs).

        Raises:
            ConfigError: If the choice is not allowed (see :func:`parse_choice`), the token unknown, or the
                session is not taking choices.
        """
        with self.lock:
            student = self.student(token)
            if student is None or student.seat is None:  # not a seated student: counts nothing
                raise ConfigError("seat", "?", "must be a seat of this session (join again)")
            try:
                if self.phase not in ("lobby", "choosing"):
                    raise ConfigError("round", self.phase, "choices are taken only while a round waits")
                choice = parse_choice(data, self.settings.styles)
            except ConfigError:
                self.refused_choices += 1
                raise
            seat = self.groups[student.seat[0]].seats[student.seat[1]]
            seat.choice, seat.chosen = choice, True
            self._changed()
            return choice

    # ------------------------------------------------------------------ teacher
    def start(self) -> None:
        """Open round 1 (the timer starts)."""
        with self.lock:
            if self.phase == "lobby":
                self.phase = "choosing"
                self.deadline = self.clock() + self.settings.timer
                self._changed()

    def pause(self, paused: bool) -> None:
        """Stop or restart the round's timer (a paused round never runs, even when everyone chose)."""
        with self.lock:
            if self.phase != "choosing":
                return
            if paused and self.paused_left is None:
                self.paused_left = max(0.0, self.deadline - self.clock())
            elif not paused and self.paused_left is not None:
                self.deadline = self.clock() + self.paused_left
                self.paused_left = None
            self._changed()

    def extend(self, seconds: float = 30.0) -> None:
        """Give the students more time in this round."""
        with self.lock:
            if self.phase != "choosing":
                return
            if self.paused_left is not None:
                self.paused_left += seconds
            else:
                self.deadline = max(self.deadline, self.clock()) + seconds
            self._changed()

    def skip(self) -> None:
        """Run the round now, with the choices made so far (the others keep their last choice)."""
        with self.lock:
            if self.phase == "lobby":
                self.start()
            if self.phase == "choosing":
                self.paused_left = None
                self.deadline = -math.inf
                self._changed()

    def lock_joining(self, locked: bool) -> None:
        """Refuse (or again accept) new students."""
        with self.lock:
            self.join_locked = bool(locked)
            self._changed()

    def partners_visible(self, visible: bool) -> None:
        """Whether students see their partners' choices."""
        with self.lock:
            self.show_partners = bool(visible)
            self._changed()

    def fire_shock(self) -> int:
        """The case's shock hits every group at the next step run (the first of the next round)."""
        with self.lock:
            if self.phase == "debrief":
                raise ConfigError("shock", self.phase, "the session is over")
            step = self.steps + 1
            if step not in self.shocks:
                self.shocks[step] = self.shock_share
                self.log.append(LogRow("shock", self.round + 1, step, share=self.shock_share))
            self._changed()
            return step

    def reassign(self, token: Any, group: Any, org: Any) -> None:
        """Move a student to another seat (its holder, if any, takes the student's seat).

        Raises:
            ConfigError: If the student or the seat does not exist.
        """
        with self.lock:
            student = self.students.get(token) if isinstance(token, str) else None
            if student is None:
                raise ConfigError("student", str(token)[:20], "must be a seated student")
            if not (isinstance(group, int) and 0 <= group < len(self.groups)):
                raise ConfigError("group", group, f"must be in [1, {len(self.groups)}]")
            if not (isinstance(org, int) and 0 <= org < self.n_orgs):
                raise ConfigError("organisation", org, f"must be in [1, {self.n_orgs}]")
            target = self.groups[group].seats[org]
            if student.seat == (group, org):
                return
            other = self.students.get(target.holder) if target.holder else None
            old = student.seat
            self._release(student)
            if other is not None:
                self._release(other)
                if old is not None:
                    seat = self.groups[old[0]].seats[old[1]]
                    seat.holder, other.seat = other.token, old
            target.holder, target.chosen, student.seat = student.token, False, (group, org)
            self._changed()

    # ------------------------------------------------------------------ the round driver
    def tick(self) -> bool:
        """Advance the session if it is due (called by the round driver only); ``True`` if a round ran.

        Frees the seats of pages gone quiet; runs the round when every seated student has chosen or the
        timer is over (not while paused); after the last round, computes the debrief's replays.
        """
        with self.lock:
            now = self.clock()
            gone = [s for s in self.students.values() if now - s.last_seen > self.settings.release_after]
            for student in gone:
                if student.seat is not None:
                    self._last_seat[student.nickname.casefold()] = student.seat
                self._release(student)
                del self.students[student.token]
            if gone:
                self._changed()
            self._update_presence()
            if self.phase != "choosing" or self.paused_left is not None:
                return False
            seated = self._present_seats()
            everyone = bool(seated) and all(s.chosen for s in seated)
            if not everyone and now < self.deadline:
                return False
            rnd = self.round + 1
            for group in self.groups:
                self._run_group_round(group, rnd)
                group.snapshot = self._snapshot(group)
            self.round = rnd
            for group in self.groups:
                for seat in group.seats:
                    seat.chosen = False
            if rnd >= self.settings.rounds:
                self.phase = "debrief"
                self.deadline = math.inf
                refs = reference_models(self.params, self.settings.seed, rnd, self.settings.steps_per_round,
                                        self.shocks)
                self.references = {k: self._series(m) for k, m in refs.items()}
            else:
                self.deadline = now + self.settings.timer
            self._changed()
            return True

    def run_driver(self, stop: threading.Event, period: float = 0.05) -> None:
        """The round driver's loop (a server thread): :meth:`tick` until ``stop`` is set."""
        while not stop.is_set():
            self.tick()
            self._wake.wait(period)
            self._wake.clear()

    # ------------------------------------------------------------------ views
    def _series(self, model: GovernanceModel) -> dict[str, Any]:
        frame = model.datacollector.model_vars
        return {"public_value": [float(v) for v in frame["public_value"]],
                "mean_trust": [float(v) for v in frame["mean_trust"]],
                "fingerprint": fingerprint(model)}

    def _snapshot(self, group: Group) -> dict[str, Any]:
        m = group.model
        heads = np.maximum(np.bincount(m.home_org, minlength=m.n_orgs), 1)
        energy = np.bincount(m.home_org, m.energy, m.n_orgs) / heads
        own = np.divide(m.org_performance, m.optimal_performance, out=np.zeros(m.n_orgs),
                        where=m.optimal_performance > 0)
        history = np.asarray(m.org_perf_history)
        return {
            **self._series(m),
            "org_history": (history / np.maximum(m.optimal_performance, 1e-12)).T.round(4).tolist(),
            "own": own.round(4).tolist(),
            "energy": energy.round(4).tolist(),
            "trust": [float(v) for v in ((m.trust.sum(axis=1) - 1.0) / max(m.n_orgs - 1, 1)).round(4)],
            "model_style": list(m.style_names),
            # what the model was told (each leader carries it out as far as its attention goes)
            "model_behaviour": [{f: float(m.intended[o, BEHAVIOUR_FIELDS.index(f)]) for f in CHOICE_FIELDS}
                                for o in range(m.n_orgs)],
            "mechanisms": group.rounds[-1]["mechanisms"] if group.rounds else mechanism_panel(m, Tally(m.n_orgs)),
            "sentence": group.rounds[-1]["sentence"] if group.rounds else None,
        }

    def _present_seats(self) -> list[Seat]:
        """Seats whose student's page is there (a seat whose page is gone does not hold up the round)."""
        return [s for g in self.groups for s in g.seats if s.holder is not None and s.holder not in self._away]

    def _update_presence(self) -> None:
        away = frozenset(t for t, s in self.students.items() if not self.is_present(s))
        if away != self._away:
            self._away = away
            self._changed()

    def chosen_count(self) -> tuple[int, int]:
        """(seated students here who chose this round, seated students whose page is here)."""
        with self.lock:
            seated = self._present_seats()
            return sum(s.chosen for s in seated), len(seated)

    def seconds_left(self) -> float | None:
        """Seconds left to choose in this round (``None`` outside a round)."""
        with self.lock:
            if self.phase != "choosing":
                return None
            if self.paused_left is not None:
                return self.paused_left
            return max(0.0, self.deadline - self.clock())

    def _common(self) -> dict[str, Any]:
        chosen, seated = self.chosen_count()
        return {"version": self.version, "phase": self.phase, "round": self.round, "rounds": self.settings.rounds,
                "steps": self.steps, "steps_per_round": self.settings.steps_per_round, "chosen": chosen,
                "seated": seated, "seconds_left": self.seconds_left(), "paused": self.paused_left is not None,
                "case": self.settings.case, "shocks": sorted(self.shocks), "updated_at": self.updated_at}

    def student_view(self, token: Any) -> dict[str, Any] | None:
        """What a student's page shows (``None`` for an unknown token).

        Reading the view does not count as news from the page (a long poll answered after its page
        closed must not bring the seat back): :meth:`student` does, when a request arrives.
        """
        with self.lock:
            student = self.students.get(token) if isinstance(token, str) else None
            if student is None:
                return None
            view = {**self._common(), "nickname": student.nickname, "seat": None,
                    "styles": list(self.settings.styles), "fields": list(CHOICE_FIELDS), "levels": list(LEVELS)}
            if student.seat is None:
                return view
            group = self.groups[student.seat[0]]
            seat = group.seats[student.seat[1]]
            snap = group.snapshot
            org = seat.org
            view.update({
                "seat": {"group": group.index, "org": org, "org_name": self.org_names[org]},
                "card": self.cards.get(self.org_names[org]),
                "choice": seat.choice.as_dict(), "has_chosen": seat.chosen,
                "public_value": snap["public_value"][-1], "public_value_before": self._before(snap["public_value"]),
                "own": snap["own"][org], "own_before": self._before(snap["org_history"][org]),
                "energy": snap["energy"][org], "trust": snap["trust"][org],
                "sentence": snap["sentence"], "mechanisms": snap["mechanisms"], "org_names": self.org_names,
                "chart": f"/chart/group/{group.index}.svg?seat={org}&v={self.round}",
            })
            partners = []
            for other in group.seats:
                if other.org == org:
                    continue
                holder = self.students.get(other.holder) if other.holder else None
                item = {"org_name": self.org_names[other.org], "nickname": holder.nickname if holder else None,
                        "chosen": other.chosen}
                if self.show_partners:
                    item["choice"] = other.choice.as_dict()
                partners.append(item)
            view["partners"] = partners
            if self.phase == "debrief":
                view["ranking"] = self._ranking()
            return view

    def _before(self, series: list[float]) -> float:
        back = self.settings.steps_per_round
        return series[-1 - back] if len(series) > back else series[0]

    def _ranking(self) -> list[dict[str, Any]]:
        rows = [{"label": f"group {g.index + 1}", "group": g.index, "public_value": g.snapshot["public_value"][-1]}
                for g in self.groups]
        rows += [{"label": style, "reference": style, "public_value": ref["public_value"][-1]}
                 for style, ref in self.references.items()]
        return sorted(rows, key=lambda r: -r["public_value"])

    def teacher_view(self) -> dict[str, Any]:
        """What the teacher's screen and the debrief show (nicknames included: they stay in memory only)."""
        with self.lock:
            groups = []
            for g in self.groups:
                seats = []
                for s in g.seats:
                    holder = self.students.get(s.holder) if s.holder else None
                    seats.append({"org": s.org, "org_name": self.org_names[s.org],
                                  "card": self.cards.get(self.org_names[s.org]),
                                  "nickname": holder.nickname if holder else None,
                                  "away": bool(holder and holder.token in self._away),
                                  "student": holder.token[:8] if holder else None, "chosen": s.chosen,
                                  "choice": s.choice.as_dict(),
                                  "in_model": {"style": g.snapshot["model_style"][s.org],
                                               "behaviour": g.snapshot["model_behaviour"][s.org]},
                                  "history": [{"choice": c.as_dict(), "source": src} for c, src in s.history]})
                groups.append({"group": g.index, "seats": seats, "public_value": g.snapshot["public_value"][-1],
                               "trust": float(np.mean(g.snapshot["trust"])), "fingerprint": g.snapshot["fingerprint"],
                               "mechanisms": g.snapshot["mechanisms"], "sentence": g.snapshot["sentence"],
                               "rounds": [{k: r[k] for k in ("round", "sentence", "choices")} for r in g.rounds]})
            view = {**self._common(), "code": self.code, "groups": groups, "join_locked": self.join_locked,
                    "show_partners": self.show_partners, "group_size": self.settings.group_size,
                    "org_names": self.org_names, "refused_choices": self.refused_choices,
                    "crowded": sorted(self.crowded_addresses),
                    "shock_share": self.shock_share, "timer": self.settings.timer}
            if self.phase == "debrief":
                view["ranking"] = self._ranking()
                view["references"] = {k: {"public_value": v["public_value"][-1], "fingerprint": v["fingerprint"]}
                                      for k, v in self.references.items()}
            return view

    def student_token(self, prefix: str) -> str | None:
        """The full token of the seated student whose token starts with ``prefix`` (teacher's reassign)."""
        with self.lock:
            found = [t for t in self.students if isinstance(prefix, str) and len(prefix) >= 8 and t.startswith(prefix)]
            return found[0] if len(found) == 1 else None

    def series(self) -> dict[str, dict[str, Any]]:
        """Every group's and reference's series (public value, trust), for charts and the results export."""
        with self.lock:
            out = {f"group {g.index + 1}": g.snapshot for g in self.groups}
            out.update({k: v for k, v in self.references.items()})
            return out

    def export_log(self, dutch: bool = False) -> str:
        """The log of choices and shocks as CSV (see :func:`write_log`)."""
        with self.lock:
            return write_log(list(self.log), self.settings.case, self.settings.seed, self.settings.steps_per_round,
                             dutch)
