"""Small SVG line charts of a classroom, drawn once per round and sent as they are to every page.

Plain SVG (a few kilobytes, no JavaScript library): phones on a school network load a chart as
one small image. Colours: the report palette (:data:`analysis.palette.STYLE_COLOURS`) for the
debrief's all-facilitative and all-directive replays, so a style has the same colour here as in every
report and in the teaching demo; :data:`GROUP_COLOURS` for groups, chosen for a projector: each
pair stays apart under simulated deuteranopia and on a washed-out screen, and each has at least
3:1 contrast on white. From the seventh group on, colours repeat with a dotted line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from analysis.palette import STYLE_COLOURS

from ..lesson.texts import Texts

AXIS = "#404040"
GRID = "#d0d0d0"


@dataclass(frozen=True)
class Line:
    """One series: values per step, colour, dashed or not, and its legend label."""

    values: Sequence[float]
    colour: str
    label: str
    dashed: bool = False
    width: float = 2.5
    dotted: bool = False


GROUP_COLOURS: tuple[str, ...] = ("#000000", "#0072B2", "#D55E00", "#AA4499", "#8C510A", "#E7298A")
"""Colours of groups 1-6 (see the module's description; tested in ``tests/test_classroom.py``)."""


def group_colour(index: int) -> str:
    """Colour of group ``index`` (:data:`GROUP_COLOURS`, repeating)."""
    return GROUP_COLOURS[index % len(GROUP_COLOURS)]


def group_dotted(index: int) -> bool:
    """Whether group ``index`` is drawn dotted (its colour repeats one of the first six groups')."""
    return (index // len(GROUP_COLOURS)) % 2 == 1


def style_colour(style: str) -> str:
    """Colour of a leadership style, as in every report."""
    return STYLE_COLOURS.get(style, AXIS)


def line_chart(lines: Sequence[Line], texts: Texts, *, steps_per_round: int, total_steps: int,
               shocks: Sequence[int] = (), width: int = 640, height: int = 300, font: int = 15,
               columns: int = 2) -> str:
    """An SVG chart of ``lines`` over steps 0..``total_steps`` on a 0-1 axis, rounds marked, legend below.

    Args:
        lines: The series.
        texts: Texts of the page's language (axis labels, decimal commas).
        steps_per_round: Steps in a round (a light line between rounds).
        total_steps: Last step on the axis (the session's whole length).
        shocks: Steps at which a shock hit (a dashed purple line).
        width, height: Size in CSS pixels (the SVG scales to its box).
        font: Font size in CSS pixels.
        columns: Columns of the legend.
    """
    legend_rows = (len(lines) + columns - 1) // columns
    left, right, top = 44, 12, 10
    bottom = 2 * font + 30 + legend_rows * (font + 8)
    plot_w, plot_h = width - left - right, height - top - bottom
    total = max(total_steps, 1)

    def x(step: float) -> float:
        return left + plot_w * step / total

    def y(value: float) -> float:
        return top + plot_h * (1.0 - max(0.0, min(1.0, value)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
           f'font-family="system-ui, sans-serif" font-size="{font}">',
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}" '
                   f'stroke-width="1"/>')
        out.append(f'<text x="{left - 6}" y="{y(v) + font * 0.35:.1f}" text-anchor="end" fill="{AXIS}">'
                   f'{escape(texts.decimal(v))}</text>')
    for step in range(0, total + 1, steps_per_round):
        if 0 < step < total:
            out.append(f'<line x1="{x(step):.1f}" x2="{x(step):.1f}" y1="{top}" y2="{top + plot_h}" stroke="{GRID}" '
                       f'stroke-dasharray="2 4"/>')
        out.append(f'<text x="{x(step):.1f}" y="{top + plot_h + font + 2}" text-anchor="middle" fill="{AXIS}">'
                   f'{step}</text>')
    for step in shocks:
        out.append(f'<line x1="{x(step):.1f}" x2="{x(step):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#7a1f5c" '
                   f'stroke-width="2" stroke-dasharray="6 3"><title>{escape(texts("chart.shock"))}</title></line>')
    out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{AXIS}"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 2 * font + 8}" text-anchor="middle" '
               f'fill="{AXIS}">{escape(texts("chart.x_label"))}</text>')
    for line in lines:
        if not len(line.values):
            continue
        points = " ".join(f"{x(i):.1f},{y(float(v)):.1f}" for i, v in enumerate(line.values))
        dash = ' stroke-dasharray="8 5"' if line.dashed else ' stroke-dasharray="2 4"' if line.dotted else ""
        out.append(f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="{line.width}" '
                   f'stroke-linejoin="round"{dash}/>')
        last = len(line.values) - 1  # where the series is now
        out.append(f'<circle cx="{x(last):.1f}" cy="{y(float(line.values[-1])):.1f}" r="{line.width + 1.5:.1f}" '
                   f'fill="{line.colour}"/>')
    legend_top = top + plot_h + 2 * font + 26
    col_w = plot_w / columns
    for i, line in enumerate(lines):
        lx = left + (i % columns) * col_w
        ly = legend_top + (i // columns) * (font + 8)
        dash = ' stroke-dasharray="8 5"' if line.dashed else ' stroke-dasharray="2 4"' if line.dotted else ""
        out.append(f'<line x1="{lx:.1f}" x2="{lx + 26:.1f}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{line.colour}" '
                   f'stroke-width="3"{dash}/>')
        out.append(f'<text x="{lx + 32:.1f}" y="{ly + font * 0.35:.1f}" fill="#202020">{escape(line.label)}</text>')
    out.append("</svg>")
    return "".join(out)
