"""The teaching demo in the browser: Mesa's SolaraViz over govsim (``govsim-demo`` serves it).

A teacher picks a case (a scenario of ``configs/scenario/``), a leadership style, a role mix, the
problem's size and interdependence, a network and a seed in the sidebar, presses Reset to build
that lesson and Play (or Step) to watch public value, trust, production and burnout unfold, with
the collaboration network drawn live. "Side by side" runs the same seed under a second style,
stepped together, so a class sees two styles on an identical problem, workforce and network.

This module only imports the model:

- :func:`demo_config` composes the config files as Hydra would (``configs/config.yaml`` plus one
  option per group; a case's named experiment adds its events, such as a crisis shock) and
  :func:`make_model` builds a :class:`~sim.GovernanceModel` from them: plain Python, testable
  without a browser.
- :class:`Lesson` is the Mesa model SolaraViz drives: one or two governance models stepped
  together, or the message of a setting that is not allowed.
- The views are small Solara components. Charts are matplotlib figures whose axes are drawn once
  and whose data are blitted onto them each step, so a step renders in a few tens of
  milliseconds (see ``benchmarks/bench_demo.py``).

SolaraViz provides the sidebar (play, pause, step, reset, the model parameters); the page lays
out its views itself rather than through SolaraViz's draggable grid, whose JavaScript does not
load under Vue 3 (ipyvue 3) in this Solara version.

Run with ``govsim-demo`` (see :mod:`experiments.demo`) or ``solara run experiments.app``.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import PIL.Image
import reacton.ipywidgets as rw
import solara
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim import ConfigError, GovernanceModel, build_params
from sim.params import STYLES
from sim.roles import ROLE_LABELS

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
CASE_EVENTS = ("turbulence", "shocks")
"""Problem settings a case's named experiment brings along (its crisis), beyond the controls."""
OFF = "off"
TITLE = "govsim: leadership in collaborative governance"

# --------------------------------------------------------------------------- configs -> model


def config_options(group: str) -> list[str]:
    """Names of the options of a config group (``configs/<group>/*.yaml``), ``default`` first."""
    names = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
    return sorted(names, key=lambda n: n != "default")


@cache
def _read_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def read_config(group: str, name: str) -> dict[str, Any]:
    """One option of a config group as a plain dict (a fresh copy).

    Raises:
        ConfigError: If the group has no option of that name; the message lists the options.
    """
    options = config_options(group)
    if name not in options:
        raise ConfigError(group, name, "must be one of " + ", ".join(options))
    return _copy(_read_yaml(CONFIG_DIR / group / f"{name}.yaml"))


def _copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def case_events(case: str) -> dict[str, Any]:
    """Events of a case (turbulence, shocks) from its named experiment, if it has one."""
    path = CONFIG_DIR / "experiment" / f"{case}.yaml"
    problem = _read_yaml(path).get("problem", {}) if path.is_file() else {}
    return {k: _copy(v) for k, v in problem.items() if k in CASE_EVENTS}


def parse_org_styles(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """Own styles per organisation from ``"police=facilitative, municipality=shared"``.

    Pairs are separated by commas, semicolons or new lines; ``:`` works as well as ``=``.
    Empty text gives no own styles.

    Raises:
        ConfigError: If a pair is not of the form ``name=style``.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    out: dict[str, str] = {}
    for item in re.split(r"[,;\n]", text):
        if not item.strip():
            continue
        name, sep, style = item.replace(":", "=").partition("=")
        if not sep or not name.strip() or not style.strip():
            raise ConfigError(
                "scenario.organisations.leadership",
                item.strip(),
                "write name=style pairs separated by commas, e.g. police=facilitative",
            )
        out[name.strip()] = style.strip()
    return out


def parse_seed(value: Any) -> Any:
    """A seed typed in a text box as an int (other values pass on to validation unchanged)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def demo_config(
    case: str = "default",
    leadership: str = "directive",
    org_styles: str | Mapping[str, str] | None = None,
    roles: str = "balanced",
    N: int = 16,  # noqa: N803 (the model's name for it)
    K: int = 3,  # noqa: N803
    cross_boundary: float = 0.5,
    network: str = "small_world",
    seed: Any = 42,
) -> dict[str, Any]:
    """The nested config of one demo run, composed from the config files as Hydra would.

    Starts from each group's default file, takes the chosen option of ``scenario`` (the case),
    ``leadership``, ``roles`` and ``network``, the style climates of ``configs/config.yaml``
    and the case's events from its named experiment; then sets ``N``, ``K``,
    ``cross_boundary``, the seed and any own styles per organisation.

    Args:
        case: Scenario name (a file of ``configs/scenario/``).
        leadership: Style of every organisation that does not have its own.
        org_styles: Own styles per organisation, as ``{name: style}`` or ``"name=style, ..."``.
        roles: Role mix (a file of ``configs/roles/``).
        N: Policy decisions of the shared problem.
        K: Interdependencies of each decision.
        cross_boundary: Share of the dependencies that fall on other organisations' decisions.
        network: Network structure (a file of ``configs/network/``).
        seed: The run's seed.

    Returns:
        A plain mapping for :func:`sim.build_params`.

    Raises:
        ConfigError: If a name is unknown or an own style names no organisation of the case.
    """
    scenario = read_config("scenario", case)
    style_file = read_config("leadership", leadership)
    leadership_cfg = {**_copy(_read_yaml(CONFIG_DIR / "config.yaml").get("leadership", {})), **style_file}
    problem = {
        **read_config("problem", "default"),
        **case_events(case),
        "N": N,
        "K": K,
        "cross_boundary": cross_boundary,
    }
    own = parse_org_styles(org_styles)
    orgs = scenario.get("organisations", [])
    names = [o.get("name") for o in orgs]
    for name, style in own.items():
        if name not in names:
            raise ConfigError(
                "scenario.organisations",
                name,
                f"no organisation of that name in case {case}; its organisations: " + ", ".join(names),
            )
        orgs[names.index(name)]["leadership"] = style
    run = read_config("run", "default")
    run["seed"] = parse_seed(seed)
    return {
        "problem": problem,
        "scenario": scenario,
        "roles": read_config("roles", roles),
        "leadership": leadership_cfg,
        "network": read_config("network", network),
        "workforce": read_config("workforce", "default"),
        "trust": read_config("trust", "default"),
        "run": run,
    }


def make_model(
    case: str = "default",
    leadership: str = "directive",
    org_styles: str | Mapping[str, str] | None = None,
    roles: str = "balanced",
    N: int = 16,  # noqa: N803
    K: int = 3,  # noqa: N803
    cross_boundary: float = 0.5,
    network: str = "small_world",
    seed: Any = 42,
) -> GovernanceModel:
    """A governance model of one demo run (arguments as for :func:`demo_config`).

    Two models made with the same arguments but another ``leadership`` face the same problem,
    workforce, network and shocks (the model splits its seed into a world and a dynamics stream).

    Raises:
        ConfigError: If a value is not allowed; its ``field`` names the setting.
    """
    params = build_params(demo_config(case, leadership, org_styles, roles, N, K, cross_boundary, network, seed))
    return GovernanceModel(params, rng=params.run.seed)


class Lesson(mesa.Model):
    """What the page shows: one governance model, or two stepped together under two styles.

    Attributes:
        settings: The settings it was made with (the sidebar's values).
        models: One model, or two (the second under the comparison style), stepped together.
        labels: The leadership style each model runs under (legend labels).
        error: Why no model could be built (a setting that is not allowed), else ``None``.
        note: A remark on the settings (e.g. side by side with the same style twice), else ``None``.
    """

    def __init__(
        self,
        case: str = "default",
        leadership: str = "directive",
        org_styles: str = "",
        compare: str = OFF,
        roles: str = "balanced",
        N: int = 16,  # noqa: N803
        K: int = 3,  # noqa: N803
        cross_boundary: float = 0.5,
        network: str = "small_world",
        rng: Any = "42",
    ) -> None:
        """Build the lesson from the sidebar's settings; a setting that is not allowed sets ``error``."""
        seed = parse_seed(rng)
        super().__init__(rng=seed if isinstance(seed, int) and seed >= 0 else 0)
        self.settings = {
            "case": case,
            "leadership": leadership,
            "org_styles": org_styles,
            "compare": compare,
            "roles": roles,
            "N": N,
            "K": K,
            "cross_boundary": cross_boundary,
            "network": network,
            "seed": seed,
        }
        self.models: list[GovernanceModel] = []
        self.labels: list[str] = []
        self.error: str | None = None
        self.note: str | None = None
        common = {k: v for k, v in self.settings.items() if k not in ("leadership", "compare")}
        styles = [leadership]
        if compare not in (OFF, "", None):
            if compare == leadership:
                self.note = "Side by side needs a second style that differs from the first."
            else:
                styles.append(compare)
        try:
            self.models = [make_model(leadership=style, **common) for style in styles]
        except ConfigError as exc:
            self.error = str(exc)
            self.running = False
            return
        self.labels = styles

    @property
    def case(self) -> str:
        """The case (scenario) name."""
        return str(self.settings["case"])

    def step(self) -> None:
        """Advance every model by one step (nothing when the settings were not allowed)."""
        for model in self.models:
            model.step()


# --------------------------------------------------------------------------- teaching texts

STYLE_NOTES: dict[str, tuple[str, str]] = {
    "directive": (
        "Directive",
        "Each formal leader adopts at most the one proposal that looks best for their own organisation, "
        "judged from the leader's own limited view. Look for steady production, public value that stalls "
        "below the optimum, and trust that erodes when one organisation's changes hurt another.",
    ),
    "transactional": (
        "Transactional",
        "Targets and rewards: every proposal that raises the organisation's own measured performance is "
        "adopted, and incentives pull staff towards the competitor role. Look for the highest production, "
        "falling trust between organisations, and public value that can fall on a cross-boundary problem.",
    ),
    "facilitative": (
        "Facilitative",
        "Leaders convene a forum across organisations that judges proposals against the shared outcome, "
        "with pooled knowledge. Look for rising trust and public value close to the optimum, and the "
        "price: lower production, because forum time is time away from routine work.",
    ),
    "shared": (
        "Shared / distributed",
        "Professionals decide within their own domain; proposals beyond it go to an informal leader among "
        "their ties. Look for quick gains in public value, informal leaders emerging, even voice, lower "
        "production, and little trust built between organisations.",
    ),
    "situational": (
        "Situational",
        "Each leader diagnoses the situation every step (a shock, burnout, low trust, stagnation) and "
        "switches to the style that fits; the readout shows the style in force now. Look for the switches, "
        "and whether they pay off against a fixed style.",
    ),
    "laissez_faire": (
        "Laissez-faire",
        "Every proposal raised is enacted unchecked, without support or learning. Look for public value "
        "that wanders, trust that collapses, and the lowest production.",
    ),
}
"""Display name and classroom note of each style (mechanisms as in ``sim/leadership.py``)."""

CASE_NOTES: dict[str, str] = {
    "default": "The neutral reference case: no events, equal organisations. Try directive against "
    "facilitative side by side, then raise the cross-boundary share to 0.9.",
    "safety_network": "No one owns reoffending: a change to another organisation's decisions needs its "
    "consent, and consent needs trust. Try directive against facilitative side by side, then raise the "
    "cross-boundary share to 0.8; or give only the police a facilitative leader (police=facilitative).",
    "ministry_shared_leadership": "How do you lead leadership? Watch the share of informal leaders "
    "(readout) under shared against directive leadership, side by side.",
    "inclusive_municipality": "Do minority voices get raised and heard? Watch voice equity in the "
    "readout (1 = equal voice): it follows psychological safety. Try directive against shared.",
    "benefits_agency": "Decision-speed targets (pressure 0.85) against working to the spirit of the rule: "
    "watch production against public value. Try transactional against facilitative, or give the decision "
    "unit its own style (benefit_decisions=shared).",
    "crisis_aftershock": "At step 60 a shock redraws 60 % of the problem, a crisis workload fades over 12 "
    "steps and a surge reserve moves staff to the hardest-hit agencies. Watch the drop, the recovery and "
    "burnout after the shock. Try situational against directive side by side.",
    "co_creation": "Citizens, firms and non-profits keep their own ways of organising (their styles are "
    "part of the case); the style you choose leads the municipality and the housing association. Try "
    "directive against facilitative, and a siloed against a small-world network.",
}
"""What to look for and what to try in each case (results as found in ``docs/scenarios.md``)."""


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def _case_title(case: str) -> str:
    return _pretty(case).capitalize()


# --------------------------------------------------------------------------- charts

DPI = 100
MAIN_COLOUR, TWIN_COLOUR = "#0072B2", "#D55E00"  # Okabe-Ito blue and vermillion (colour-blind safe)
ORG_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
ROLE_MARKERS = {"expert": "s", "competitor": "^", "partner": "o"}
BURNT_OUT = "#d9d9d9"
MAX_TIES = 2000
"""Most ties drawn per network (a dense network shows an even sample of its ties)."""


def _image(canvas: FigureCanvasAgg, fmt: str = "png") -> bytes:
    """The canvas's current pixels as PNG (crisp lines) or JPEG (a network: a third of the bytes, faster)."""
    width, height = canvas.get_width_height()
    image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, format="jpeg", quality=90)
    else:
        image.save(out, format="png", compress_level=1)  # fast: sent every step
    return out.getvalue()


class LineChart:
    """One metric over steps for one or two models, drawn by blitting.

    The axes, labels and legend are drawn once (again only when the data outgrow the axis
    limits); each step restores that background and draws the lines onto it.
    """

    def __init__(
        self,
        title: str,
        labels: Sequence[str],
        y_limits: Sequence[float],
        size: tuple[float, float],
        percent: bool = False,
        optimum: bool = False,
    ) -> None:
        """Set up the figure.

        Args:
            title: Chart title.
            labels: Legend label of each series (the styles).
            y_limits: Candidate upper y limits, smallest first; the first that fits the data is used.
            size: Figure size in inches.
            percent: Label the y axis in per cent.
            optimum: Draw the global optimum (1.0) as a dashed line.
        """
        self.fig = Figure(figsize=size, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.13, right=0.97, top=0.80, bottom=0.17)
        self.y_limits = tuple(y_limits)
        self.ax.set_title(title, loc="left", fontsize=13, fontweight="bold", pad=24)
        self.ax.set_xlabel("step (about a month)", fontsize=11)
        self.ax.tick_params(labelsize=10)
        self.ax.grid(alpha=0.3)
        if percent:
            self.ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        handles = []
        if optimum:
            self.ax.axhline(1.0, color="0.25", ls=":", lw=1.5)
            handles.append(Line2D([], [], color="0.25", ls=":", lw=1.5, label="global optimum"))
        colours, dashes = (MAIN_COLOUR, TWIN_COLOUR), ("-", "--")
        self.lines = []
        for i, label in enumerate(labels):
            (line,) = self.ax.plot([], [], color=colours[i % 2], ls=dashes[i % 2], lw=2.4, label=_pretty(label))
            line.set_animated(True)
            self.lines.append(line)
            handles.append(Line2D([], [], color=colours[i % 2], ls=dashes[i % 2], lw=2.4, label=_pretty(label)))
        self.ax.legend(
            handles=handles,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=len(handles),
            fontsize=10,
            frameon=False,
            borderaxespad=0.2,
            handlelength=1.8,
        )
        self._limits: tuple[float, float] | None = None
        self._background: Any = None

    def render(self, series: Sequence[Sequence[float]]) -> bytes:
        """The chart with ``series`` (one sequence per label, index = step) as PNG."""
        n = max((len(s) for s in series), default=1)
        x_max = 50.0 * max(1, math.ceil((n - 1) / 50))
        peak = max((float(np.nanmax(s)) for s in series if len(s) and not np.all(np.isnan(s))), default=0.0)
        y_max = next((y for y in self.y_limits if peak <= y + 1e-9), max(self.y_limits[-1], peak * 1.05))
        if self._limits != (x_max, y_max):
            self.ax.set_xlim(0, x_max)
            self.ax.set_ylim(0, y_max)
            self.canvas.draw()  # everything but the animated lines
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._limits = (x_max, y_max)
        self.canvas.restore_region(self._background)
        for line, values in zip(self.lines, series, strict=False):
            line.set_data(np.arange(len(values)), values)
            self.ax.draw_artist(line)
        return _image(self.canvas)


def network_layout(home_org: np.ndarray, n_orgs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of professionals: one disc per organisation, the discs on a circle.

    Deterministic (no randomness): organisations sit on a circle, each as a sunflower
    spiral of its members whose area grows with its size.

    Returns:
        ``(positions (P, 2), centres (O, 2), radii (O,))``.
    """
    sizes = np.bincount(home_org, minlength=n_orgs).astype(float)
    if n_orgs == 1:
        centres = np.zeros((1, 2))
        radii = np.array([1.0])
    else:
        start = math.pi if n_orgs == 2 else math.pi / 2
        angles = start - 2 * math.pi * np.arange(n_orgs) / n_orgs
        centres = np.column_stack([np.cos(angles), np.sin(angles)])
        chord = 2 * math.sin(math.pi / n_orgs)
        scale = np.sqrt(sizes / sizes.max())
        pair = max(scale[i] + scale[(i + 1) % n_orgs] for i in range(n_orgs))
        radii = scale * min(0.46 * chord * 2 / pair, 0.8)
    positions = np.zeros((len(home_org), 2))
    golden = math.pi * (3 - math.sqrt(5))
    for o in range(n_orgs):
        members = np.flatnonzero(home_org == o)
        k = np.arange(len(members))
        r = radii[o] * np.sqrt((k + 0.5) / max(len(members), 1))
        theta = k * golden
        positions[members] = centres[o] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return positions, centres, radii


class NetworkChart:
    """The collaboration network of one or two models, drawn by blitting.

    Organisations are colours, roles are marker shapes (square expert, triangle competitor,
    circle partner), burnt-out professionals are grey, and a tie's thickness is its trust.
    """

    def __init__(self, models: Sequence[GovernanceModel], labels: Sequence[str], size: tuple[float, float]) -> None:
        """Set up one panel per model; the layout is the same for all (same workforce)."""
        self.fig = Figure(figsize=size, dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)
        first = models[0]
        self.models = list(models)
        self.pos, centres, radii = network_layout(first.home_org, first.n_orgs)
        edges = first.network.edges
        self.every = max(1, math.ceil(len(edges) / MAX_TIES))
        self.edge_index = np.arange(0, len(edges), self.every)
        self.segments = self.pos[edges[self.edge_index]]
        names = [o.name for o in first.organisations]
        self.org_colour = np.array([_to_rgba(ORG_COLOURS[o % len(ORG_COLOURS)]) for o in range(first.n_orgs)])
        n = len(models)
        side_by_side = n > 1
        if side_by_side:
            self.axes = [self.fig.add_axes([i / n, 0.09, 1 / n, 0.83]) for i in range(n)]
            titles, colours = [_pretty(label) for label in labels], (MAIN_COLOUR, TWIN_COLOUR)
        else:  # the legend goes to the right, where a round network leaves room
            self.axes = [self.fig.add_axes([0.0, 0.0, 0.74, 0.90])]
            titles, colours = ["Collaboration network"], ("black",)
        self.ties: list[LineCollection] = []
        self.dots: list[dict[str, Any]] = []
        for ax, title, colour in zip(self.axes, titles, colours, strict=False):
            ax.set_aspect("equal")
            ax.set_axis_off()
            ax.set_title(title, fontsize=13, fontweight="bold", color=colour)
            ties = LineCollection(self.segments, colors="#4a5568", alpha=0.35, animated=True)
            ax.add_collection(ties)
            self.ties.append(ties)
            dots = {}
            for role in ROLE_LABELS:
                dots[role] = ax.scatter(
                    [], [], s=26, marker=ROLE_MARKERS[role], linewidths=0.7, animated=True, zorder=3
                )
            self.dots.append(dots)
            self._label_orgs(ax, names, centres, radii, fontsize=9, pad=0.75 if side_by_side else 0.5, wrap=16)
        self._legend(side=not side_by_side, dense=self.every > 1)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _label_orgs(
        self,
        ax: Any,
        names: Sequence[str],
        centres: np.ndarray,
        radii: np.ndarray,
        fontsize: int,
        pad: float,
        wrap: int,
    ) -> None:
        """Organisation names just outside their discs, in their colour."""
        extent = (1.0 if len(names) > 1 else 0.0) + radii.max()
        for o, name in enumerate(names):
            c = centres[o]
            direction = c / np.linalg.norm(c) if np.linalg.norm(c) > 0 else np.array([0.0, 1.0])
            at = c + direction * (radii[o] + 0.08)
            ha = "center" if abs(direction[0]) < 0.3 else ("left" if direction[0] > 0 else "right")
            va = "bottom" if direction[1] > 0.3 else ("top" if direction[1] < -0.3 else "center")
            ax.text(
                at[0],
                at[1],
                _wrap(_pretty(name), wrap),
                ha=ha,
                va=va,
                fontsize=fontsize,
                color=self.org_colour[o],
                fontweight="bold",
            )
        ax.set_xlim(-extent - pad, extent + pad)
        ax.set_ylim(-extent - 0.25, extent + 0.25)

    def _legend(self, side: bool, dense: bool) -> None:
        handles = [
            Line2D([], [], ls="", marker=ROLE_MARKERS[r], color="0.3", markersize=7, label=r) for r in ROLE_LABELS
        ]
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markerfacecolor=BURNT_OUT,
                markeredgecolor="0.5",
                markersize=7,
                label="burnt out",
            )
        )
        tie = "tie: thicker =\nmore trust" if side else "tie: thicker = more trust"
        handles.append(Line2D([], [], color="#4a5568", lw=2.5, alpha=0.6, label=tie))
        if side:
            self.fig.legend(
                handles=handles,
                loc="center left",
                bbox_to_anchor=(0.72, 0.45),
                fontsize=10,
                frameon=False,
            )
        else:
            self.fig.legend(
                handles=handles,
                loc="lower center",
                ncols=5,
                fontsize=9,
                frameon=False,
                handletextpad=0.3,
                columnspacing=1.0,
            )
        if dense:
            self.fig.text(0.99, 0.01, f"1 in {self.every} ties shown", ha="right", va="bottom", fontsize=8, color="0.4")

    def render(self) -> bytes:
        """The networks in their current state as JPEG."""
        self.canvas.restore_region(self._background)
        for model, ax, ties, dots in zip(self.models, self.axes, self.ties, self.dots, strict=True):
            trust = model.network.trust[self.edge_index]
            ties.set_linewidths(0.2 + 2.6 * trust)
            ax.draw_artist(ties)
            role = np.argmax(model.effective, axis=1)
            face = self.org_colour[model.home_org].copy()
            out = model.burnout_left > 0
            face[out] = _to_rgba(BURNT_OUT)
            edge = self.org_colour[model.home_org] * np.array([0.7, 0.7, 0.7, 1.0])
            for r, name in enumerate(ROLE_LABELS):
                members = role == r
                collection = dots[name]
                collection.set_offsets(self.pos[members])
                collection.set_facecolor(face[members])
                collection.set_edgecolor(edge[members])
                ax.draw_artist(collection)
        return _image(self.canvas, "jpeg")


def _to_rgba(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])


def _wrap(text: str, width: int = 16) -> str:
    """Break a name into lines of at most about ``width`` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


# --------------------------------------------------------------------------- views

SERIES = {
    "public_value": ("Public value (normalised: optimum = 1)", (1.05, 1.25, 1.5), False, True),
    "mean_trust": ("Trust between organisations", (1.0,), False, False),
    "production": ("Production per professional", (1.0, 2.0, 5.0), False, False),
    "burnout_rate": ("Burnt out", (0.05, 0.1, 0.2, 0.5, 1.0), True, False),
}
"""Charted metrics: title, candidate y limits, per cent axis, optimum line."""

READOUT = (
    ("public_value", "public value", "{:.2f}"),
    ("mean_trust", "trust", "{:.2f}"),
    ("production", "production", "{:.2f}"),
    ("burnout_rate", "burnt out", "{:.0%}"),
    ("informal_leader_share", "informal leaders", "{:.0%}"),
    ("voice_equity", "voice equity (1 = equal)", "{:.2f}"),
)
"""Rows of the readout: metric, label, format."""


def _value(model: GovernanceModel, metric: str, fmt: str) -> str:
    value = model.datacollector.model_vars[metric][-1]
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


def _in_force(model: GovernanceModel) -> str:
    """Styles in force now where they differ from the configured ones (situational leaders)."""
    changed = [a for a, s in zip(model.active_style, model.style_names, strict=True) if s == "situational"]
    if not changed:
        return ""
    names, counts = np.unique(changed, return_counts=True)
    return ", ".join(f"{_pretty(str(n))} ({c})" for n, c in zip(names, counts, strict=True))


def settings_text(lesson: Lesson) -> str:
    """The settings the lesson runs with, in one line (the sidebar's sliders show no numbers)."""
    st = lesson.settings
    text = (
        f"N = {st['N']} decisions · K = {st['K']} · cross-boundary share {float(st['cross_boundary']):.1f} · "
        f"{_pretty(str(st['network']))} network · {_pretty(str(st['roles']))} roles · seed {st['seed']}"
    )
    if str(st.get("org_styles") or "").strip():
        text += f" · own styles: {st['org_styles']}"
    return text


def lesson_html(lesson: Lesson) -> str:
    """The lesson card: case and styles, the settings in force, the case, what to look for, the source."""
    e = html.escape
    case = lesson.case
    try:
        scenario = read_config("scenario", case)
    except ConfigError:
        scenario = {}
    styles = lesson.labels or [str(lesson.settings["leadership"])]
    heading = " vs ".join(e(STYLE_NOTES.get(s, (s, ""))[0]) for s in styles)
    parts = [
        '<div class="govsim-lesson" style="font-size:14.5px;line-height:1.4">',
        f'<div style="font-size:20px;font-weight:600;margin-bottom:2px">{e(_case_title(case))}: {heading}</div>',
    ]
    parts.append(f"<div class='govsim-settings' style='font-size:13px;opacity:0.75'>{e(settings_text(lesson))}</div>")
    if scenario.get("description"):
        parts.append(f"<p style='margin:3px 0'>{e(scenario['description'])}</p>")
    note = CASE_NOTES.get(case, "Compare two styles side by side on this case.")
    parts.append(f"<p style='margin:3px 0'><b>Look for:</b> {e(note)}</p>")
    if lesson.models:
        first = lesson.models[0]
        own = [
            f"{_pretty(o.name)} ({_pretty(o.style)})"
            for o in first.organisations
            if first.params.scenario.organisations[o.index].leadership is not None
        ]
        if own:
            parts.append(f"<p style='margin:3px 0'><b>Own styles in this case:</b> {e(', '.join(own))}</p>")
    parts.append(
        f"<p style='margin:3px 0;font-size:13px;opacity:0.75'><b>Source:</b> {e(str(scenario.get('source', '')))}</p>"
    )
    parts.append("</div>")
    return "".join(parts)


def style_note_html(style: str, colour: str) -> str:
    """What a style does in the model and what to look for under it."""
    name, text = STYLE_NOTES.get(style, (style, ""))
    return (
        f"<div class='govsim-style' style='font-size:14.5px;line-height:1.4'><b style='color:{colour}'>"
        f"{html.escape(name)}:</b> {html.escape(text)}</div>"
    )


def readout_html(lesson: Lesson) -> str:
    """The step and the current values of the readout metrics, a column per model."""
    e = html.escape
    step = lesson.models[0].steps if lesson.models else 0
    head = "".join(
        f"<th style='text-align:right;padding:2px 10px;color:{c}'>{e(_pretty(s))}</th>"
        for s, c in zip(lesson.labels, (MAIN_COLOUR, TWIN_COLOUR), strict=False)
    )
    rows = []
    for metric, label, fmt in READOUT:
        cells = "".join(
            f"<td style='text-align:right;padding:2px 10px'>{_value(m, metric, fmt)}</td>" for m in lesson.models
        )
        rows.append(f"<tr><td style='padding:2px 6px'>{e(label)}</td>{cells}</tr>")
    forced = [_in_force(m) for m in lesson.models]
    if any(forced):
        cells = "".join(f"<td style='text-align:right;padding:2px 10px'>{e(f) or '–'}</td>" for f in forced)
        rows.append(f"<tr><td style='padding:2px 6px'>situational now</td>{cells}</tr>")
    return (
        f"<table class='govsim-readout' style='font-size:15px;border-collapse:collapse'>"
        f"<tr><th class='govsim-step' style='text-align:left;padding:2px 6px;font-size:18px'>step {step}</th>"
        f"{head}</tr>{''.join(rows)}</table>"
    )


@solara.component
def Chart(image: bytes, name: str) -> None:
    """A rendered chart (PNG, or JPEG for the network), scaled to its column."""
    rw.Image(
        value=image,
        format="jpeg" if image[:2] == b"\xff\xd8" else "png",
        layout={"width": "100%", "height": "auto"},
        _dom_classes=["govsim-chart", f"govsim-chart-{name}"],
    )


@solara.component
def LessonView(lesson: Lesson) -> None:
    """The page's views of a lesson, redrawn after every step."""
    update_counter.get()  # re-render when SolaraViz steps the model
    charts = solara.use_memo(lambda: _make_charts(lesson), [lesson])
    with solara.Column(style={"padding": "0px 16px 8px 16px", "max-width": "1500px"}):
        if lesson.error:
            solara.Error(
                f"These settings cannot be run: {lesson.error}. Change the setting in the sidebar and press Reset.",
                classes=["govsim-error"],
            )
        styles = lesson.labels or [str(lesson.settings["leadership"])]
        with solara.Card(style={"padding": "12px 18px"}):
            with solara.Columns([3, 2]):
                solara.HTML(unsafe_innerHTML=lesson_html(lesson))
                with solara.Column(gap="6px"):
                    if lesson.models:
                        solara.HTML(unsafe_innerHTML=readout_html(lesson))
                    solara.Text(
                        "Change a setting in the sidebar, then press Reset to apply it.",
                        style={"font-size": "13px", "opacity": "0.75"},
                    )
            with solara.Columns([1] * len(styles)):
                for style, colour in zip(styles, (MAIN_COLOUR, TWIN_COLOUR), strict=False):
                    solara.HTML(unsafe_innerHTML=style_note_html(style, colour if len(styles) > 1 else "black"))
        if lesson.note:
            solara.Info(lesson.note)
        if not lesson.models or charts is None:
            return
        values = [m.datacollector.model_vars for m in lesson.models]

        def chart(metric: str) -> None:
            Chart(charts[metric].render([v[metric] for v in values]), metric.replace("_", "-"))

        if len(lesson.models) == 1:
            with solara.Columns([1, 1]):
                chart("public_value")
                Chart(charts["network"].render(), "network")
            with solara.Columns([1, 1, 1]):
                for metric in ("mean_trust", "production", "burnout_rate"):
                    chart(metric)
        else:  # side by side: the curves first, then both networks across the page
            for pair in (("public_value", "mean_trust"), ("production", "burnout_rate")):
                with solara.Columns([1, 1]):
                    for metric in pair:
                        chart(metric)
            Chart(charts["network"].render(), "network")


def _make_charts(lesson: Lesson) -> dict[str, Any] | None:
    """Charts of a lesson (made once per lesson, redrawn each step)."""
    if not lesson.models:
        return None
    charts: dict[str, Any] = {}
    single = len(lesson.models) == 1
    for metric, (title, limits, percent, optimum) in SERIES.items():
        size = (6.0, 3.4) if metric == "public_value" or not single else (4.4, 3.0)
        charts[metric] = LineChart(title, lesson.labels, limits, size, percent=percent, optimum=optimum)
    charts["network"] = NetworkChart(lesson.models, lesson.labels, (6.0, 3.4) if single else (12.0, 4.2))
    return charts


MODEL_PARAMS: dict[str, dict[str, Any]] = {
    "case": {"type": "Select", "value": "default", "values": config_options("scenario"), "label": "Case"},
    "leadership": {"type": "Select", "value": "directive", "values": list(STYLES), "label": "Leadership style"},
    "compare": {"type": "Select", "value": OFF, "values": [OFF, *STYLES], "label": "Side by side with style"},
    "org_styles": {"type": "InputText", "value": "", "label": "Own styles (e.g. police=facilitative)"},
    "roles": {"type": "Select", "value": "balanced", "values": config_options("roles"), "label": "Role mix"},
    "N": {"type": "SliderInt", "value": 16, "min": 8, "max": 20, "step": 1, "label": "Decisions N"},
    "K": {"type": "SliderInt", "value": 3, "min": 0, "max": 19, "step": 1, "label": "Interdependence K"},
    "cross_boundary": {
        "type": "SliderFloat",
        "value": 0.5,
        "min": 0.0,
        "max": 1.0,
        "step": 0.1,
        "label": "Cross-boundary share",
    },
    "network": {"type": "Select", "value": "small_world", "values": config_options("network"), "label": "Network"},
    "rng": {"type": "InputText", "value": "42", "label": "Seed"},
}
"""The sidebar's settings, passed to :class:`Lesson` on Reset."""

PLAY_INTERVAL = 150
"""Milliseconds between steps while playing."""


@solara.component
def Page() -> None:
    """The demo page: SolaraViz's sidebar and controls, and the lesson's views."""
    initial = solara.use_memo(Lesson, [])  # one lesson per browser session
    model = solara.use_reactive(initial)
    SolaraViz(model, components=[], model_params=MODEL_PARAMS, name=TITLE, play_interval=PLAY_INTERVAL)
    LessonView(model.value)
