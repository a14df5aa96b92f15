"""The demo's charts: matplotlib figures drawn once, the data blitted onto them each step.

Chart titles and the legend of the styles are HTML on the page (crisp, translatable); the
images carry axes, tick labels, the optimum line and event markers. Every text in an image is
at least :data:`SMALLEST_TEXT_PT` points at :data:`DPI`, and an image is drawn for a column of
about :data:`NATURAL_WIDTH_PX` CSS pixels, so text on screen stays at least 14 px when the column
is that wide or wider (``tests/test_demo_browser.py`` measures it).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim import GovernanceModel
from sim.roles import ROLE_LABELS

from .texts import Texts

DPI = 110
"""Image pixels per inch: 1.1 image pixels per CSS pixel (sharper costs more per step; see benchmarks/bench_demo.py)."""
CSS_DPI = 100
"""CSS pixels per inch of figure size: a 3.6-inch chart is drawn for a 360 px column."""
SMALLEST_TEXT_PT = 10.5
"""Smallest font of any text in a chart image, in points (x CSS_DPI / 72 = CSS px at natural width)."""
NATURAL_WIDTH_PX = 360

# The demo's colours in one place (until analysis/ has the project's fixed style palette).
PALETTE = {
    "first": "#0072B2",  # Okabe-Ito blue: the first style, solid
    "second": "#D55E00",  # Okabe-Ito vermillion: the comparison style, dashed
    "optimum": "#404040",
    "event": "#7a1f5c",
    "burnt_out": "#d9d9d9",
    "tie": "#4a5568",
    "organisations": (
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
    ),
}
SERIES_COLOURS = (PALETTE["first"], PALETTE["second"])
"""Colours of the two series when a series is not one style (e.g. own styles per organisation)."""


def series_colour(label: str, i: int) -> str:
    """Colour of series ``i``: its style's colour in every report and figure, else the ``i``-th series colour."""
    from analysis.palette import STYLE_COLOURS

    return STYLE_COLOURS.get(label, SERIES_COLOURS[i % 2])
SERIES_DASHES = ("-", "--")
ROLE_MARKERS = {"expert": "s", "competitor": "^", "partner": "o"}
MAX_TIES = 1500
"""Most ties drawn per network (a dense network shows an even sample of its ties)."""

SERIES = {
    "public_value": ((1.05, 1.25, 1.5), False, True),
    "mean_trust": ((1.0,), False, False),
    "production": ((1.0, 2.0, 5.0), False, False),
    "burnout_rate": ((0.05, 0.1, 0.2, 0.5, 1.0), True, False),
}
"""Charted metrics: candidate y limits, per cent axis, optimum line."""


def image_bytes(canvas: FigureCanvasAgg, fmt: str = "png") -> bytes:
    """The canvas's current pixels as PNG (crisp lines) or JPEG (a network: fewer bytes, faster)."""
    width, height = canvas.get_width_height()
    image = PIL.Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, format="jpeg", quality=88)
    else:
        image.save(out, format="png", compress_level=1)  # fast: sent every step
    return out.getvalue()


def _fig(size: tuple[float, float]) -> tuple[Figure, FigureCanvasAgg]:
    fig = Figure(figsize=size, dpi=DPI)
    return fig, FigureCanvasAgg(fig)


class LineChart:
    """One metric over steps for one or two models, drawn by blitting.

    The axes are drawn once (again only when the data outgrow the axis limits); each step
    restores that background and draws the lines onto it.
    """

    def __init__(
        self,
        texts: Texts,
        n_series: int | list[str],
        y_limits: Sequence[float],
        percent: bool = False,
        optimum: bool = False,
        events: Sequence[tuple[int, str]] = (),
        size: tuple[float, float] = (3.6, 2.1),
    ) -> None:
        """Set up the figure.

        Args:
            texts: The page's language (axis label, number format).
            n_series: One or two series (styles).
            y_limits: Candidate upper y limits, smallest first; the first that fits the data is used.
            percent: Label the y axis in per cent.
            optimum: Draw the global optimum (1.0) as a dotted line.
            events: ``(step, label)`` of events to mark with a vertical line (a shock).
            size: Figure size in inches (x :data:`CSS_DPI` = the column width it is drawn for).
        """
        self.fig, self.canvas = _fig(size)
        self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.15, right=0.94, top=0.95, bottom=0.24)
        self.y_limits = tuple(y_limits)
        self.events = list(events)
        self.ax.set_xlabel(texts("chart.x_label"), fontsize=SMALLEST_TEXT_PT)
        self.ax.tick_params(labelsize=SMALLEST_TEXT_PT)
        self.ax.grid(alpha=0.3)
        if percent:
            self.ax.yaxis.set_major_formatter(lambda v, _pos: texts.tick_percent(v))
        else:
            self.ax.yaxis.set_major_formatter(lambda v, _pos: texts.decimal(v))
        self.ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        if optimum:
            self.ax.axhline(1.0, color=PALETTE["optimum"], ls=":", lw=1.5)
        self._event_labels = []
        for step, label in self.events:
            self.ax.axvline(step, color=PALETTE["event"], ls="-.", lw=1.2)
            self._event_labels.append(
                self.ax.text(
                    step, 0, label + " ", color=PALETTE["event"], fontsize=SMALLEST_TEXT_PT, va="bottom", ha="right"
                )
            )
        self.lines = []
        labels = n_series if isinstance(n_series, list) else [""] * n_series
        for i, label in enumerate(labels):
            (line,) = self.ax.plot([], [], color=series_colour(label, i), ls=SERIES_DASHES[i % 2], lw=2.2)
            line.set_animated(True)
            self.lines.append(line)
        self._limits: tuple[float, float] | None = None
        self._background: Any = None

    def render(self, series: Sequence[Sequence[float]]) -> bytes:
        """The chart with ``series`` (one sequence per style, index = step) as PNG."""
        n = max((len(s) for s in series), default=1)
        last_event = max((s for s, _ in self.events), default=0)
        x_max = 50.0 * max(1, math.ceil((max(n - 1, last_event + 10)) / 50))
        peak = max((float(np.nanmax(s)) for s in series if len(s) and not np.all(np.isnan(s))), default=0.0)
        y_max = next((y for y in self.y_limits if peak <= y + 1e-9), max(self.y_limits[-1], peak * 1.05))
        if self._limits != (x_max, y_max):
            self.ax.set_xlim(0, x_max)
            self.ax.set_ylim(0, y_max)
            for text in self._event_labels:
                text.set_y(y_max * 0.02)
            self.canvas.draw()  # everything but the animated lines
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
            self._limits = (x_max, y_max)
        self.canvas.restore_region(self._background)
        for line, values in zip(self.lines, series, strict=False):
            line.set_data(np.arange(len(values)), values)
            self.ax.draw_artist(line)
        return image_bytes(self.canvas)

    def figure_png(self) -> bytes:
        """The chart as it stands (lines included), for an export."""
        return image_bytes(self.canvas)


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


def _rgba(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])


def wrap(text: str, width: int = 16) -> str:
    """Break a name into lines of at most about ``width`` characters."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


class NetworkChart:
    """The collaboration network of one or two models, drawn by blitting.

    Organisations are colours, roles are marker shapes (square expert, triangle competitor,
    circle partner), burnt-out professionals are grey, and a tie's thickness is its trust.
    """

    def __init__(
        self, models: Sequence[GovernanceModel], labels: Sequence[str], texts: Texts, org_names: Sequence[str]
    ) -> None:
        """Set up one panel per model (the layout is the same for all: same workforce) and a legend."""
        n = len(models)
        self.fig, self.canvas = _fig((3.6 * n, 3.2 if n == 1 else 3.4))
        first = models[0]
        self.models = list(models)
        self.pos, centres, radii = network_layout(first.home_org, first.n_orgs)
        edges = first.network.edges
        self.every = max(1, math.ceil(len(edges) / MAX_TIES))
        self.edge_index = np.arange(0, len(edges), self.every)
        segments = self.pos[edges[self.edge_index]]
        orgs = PALETTE["organisations"]
        self.org_colour = np.array([_rgba(orgs[o % len(orgs)]) for o in range(first.n_orgs)])
        bottom = 0.24 if n > 1 else 0.34  # the legend goes below
        self.axes = [self.fig.add_axes([i / n, bottom, 1 / n, (0.9 if n > 1 else 1.0) - bottom]) for i in range(n)]
        self.ties: list[LineCollection] = []
        self.dots: list[dict[str, Any]] = []
        for i, ax in enumerate(self.axes):
            ax.set_aspect("equal")
            ax.set_axis_off()
            if n > 1:
                self.fig.text(
                    (i + 0.5) / n,
                    0.995,
                    texts.option("leadership", labels[i]),
                    fontsize=12,
                    fontweight="bold",
                    color=series_colour(labels[i], i),
                    ha="center",
                    va="top",
                )
            ties = LineCollection(segments, colors=PALETTE["tie"], alpha=0.35, animated=True)
            ax.add_collection(ties)
            self.ties.append(ties)
            self.dots.append(
                {
                    role: ax.scatter([], [], s=22, marker=ROLE_MARKERS[role], linewidths=0.6, animated=True, zorder=3)
                    for role in ROLE_LABELS
                }
            )
            self._label_orgs(ax, org_names, centres, radii)
        self._legend(texts)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.fig.bbox)

    def _label_orgs(self, ax: Any, names: Sequence[str], centres: np.ndarray, radii: np.ndarray) -> None:
        """Organisation names just outside their discs, in their colour."""
        extent = (1.0 if len(names) > 1 else 0.0) + radii.max()
        for o, name in enumerate(names):
            c = centres[o]
            direction = c / np.linalg.norm(c) if np.linalg.norm(c) > 0 else np.array([0.0, 1.0])
            at = c + direction * (radii[o] + 0.06)
            ha = "center" if abs(direction[0]) < 0.3 else ("left" if direction[0] > 0 else "right")
            va = "bottom" if direction[1] > 0.3 else ("top" if direction[1] < -0.3 else "center")
            colour = self.org_colour[o] * np.array([0.75, 0.75, 0.75, 1.0])
            ax.text(at[0], at[1], wrap(name, 14), ha=ha, va=va, fontsize=SMALLEST_TEXT_PT, color=colour)
        ax.set_xlim(-extent - 1.2, extent + 1.2)
        ax.set_ylim(-extent - 0.3, extent + 0.3)

    def _legend(self, texts: Texts) -> None:
        handles = [
            Line2D([], [], ls="", marker=ROLE_MARKERS[r], color="0.3", markersize=7, label=texts(f"role.{r}"))
            for r in ROLE_LABELS
        ]
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                markerfacecolor=PALETTE["burnt_out"],
                markeredgecolor="0.5",
                markersize=7,
                label=texts("chart.burnt_out"),
            )
        )
        handles.append(Line2D([], [], color=PALETTE["tie"], lw=2.5, alpha=0.6, label=texts("chart.tie")))
        self.fig.legend(
            handles=handles,
            loc="lower center",
            ncols=2 if len(self.axes) == 1 else 3,
            fontsize=SMALLEST_TEXT_PT,
            frameon=False,
            handletextpad=0.3,
            columnspacing=0.9,
            borderaxespad=0.1,
        )
        if self.every > 1:
            self.fig.text(
                0.99,
                0.995,
                texts("chart.sample", every=self.every),
                ha="right",
                va="top",
                fontsize=SMALLEST_TEXT_PT,
                color="0.35",
            )

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
            face[out] = _rgba(PALETTE["burnt_out"])
            edge = self.org_colour[model.home_org] * np.array([0.7, 0.7, 0.7, 1.0])
            for r, name in enumerate(ROLE_LABELS):
                members = role == r
                collection = dots[name]
                collection.set_offsets(self.pos[members])
                collection.set_facecolor(face[members])
                collection.set_edgecolor(edge[members])
                ax.draw_artist(collection)
        return image_bytes(self.canvas, "jpeg")


def make_charts(lesson: Any, texts: Texts) -> dict[str, Any] | None:
    """The charts of a lesson in one language (made once per lesson and language, redrawn each step)."""
    if not lesson.models:
        return None
    events = [(step, texts("chart.shock")) for step in lesson.shock_steps()]
    charts: dict[str, Any] = {}
    for metric, (limits, percent, optimum) in SERIES.items():
        charts[metric] = LineChart(texts, list(lesson.labels), limits, percent=percent, optimum=optimum, events=events)
    first = lesson.models[0]
    names = [org_name(texts, o.name) for o in first.organisations]
    charts["network"] = NetworkChart(lesson.models, lesson.labels, texts, names)
    return charts


def org_name(texts: Texts, name: str) -> str:
    """An organisation's display name (its config name, spaced, when the catalogue has none)."""
    key = f"organisations.{name}"
    return texts(key) if texts.has(key) else name.replace("_", " ")
