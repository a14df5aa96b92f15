"""Exports of a lesson: its charts as one PNG and its data as CSV, with the settings that made them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.params import STYLES

from .charts import PALETTE, SERIES, SERIES_DASHES, series_colour
from .texts import Texts

CSV_METRICS = ("public_value", "mean_trust", "production", "burnout_rate", "informal_leader_share", "voice_equity")
"""The measures of the page's readout and charts, the columns of the CSV export."""
SETTING_COLUMNS = ("case", "roles", "N", "K", "cross_boundary", "network", "org_styles", "seed")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list)."""
_NUMBER = re.compile(r"-?\d+([.,]\d+)?([eE][-+]?\d+)?")


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting with ``= + - @``, tab or CR gets a leading ``'``.

    Numbers (and text that is just a number, such as ``-0,25``) are kept as they are.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(row: Iterable[Any]) -> list[Any]:
    """A row of :func:`csv_cell`s."""
    return [csv_cell(v) for v in row]


def settings_line(lesson: Any, texts: Texts) -> str:
    """The settings in force, in one line of the page's language."""
    st = lesson.settings
    text = texts(
        "lesson.settings",
        N=st["N"],
        K=st["K"],
        share=texts.number(float(st["cross_boundary"]), 1),
        network=texts.option("network", str(st["network"])),
        roles=texts.option("roles", str(st["roles"])),
        seed=st["seed"],
    )
    if str(st.get("org_styles") or "").strip():
        text += " · " + texts("lesson.own_styles_setting", styles=shown_org_styles(lesson, texts))
    return text


def shown_org_styles(lesson: Any, texts: Texts) -> str:
    """The own styles typed or picked, with organisations and styles named in the page's language."""
    from .charts import org_name
    from .config import _aliases, _key, parse_org_styles

    typed = str(lesson.settings.get("org_styles") or "").strip()
    if not getattr(lesson, "models", None):
        return typed
    orgs = [o.name for o in lesson.models[0].organisations]
    org_alias, style_alias = _aliases("organisations", orgs), _aliases("leadership", list(STYLES))
    try:
        pairs = parse_org_styles(typed)
    except Exception:  # not reached for a lesson that was built, which parsed them
        return typed
    return ", ".join(
        f"{org_name(texts, org_alias.get(_key(o), o))}={texts.option('leadership', style_alias.get(_key(s), s))}"
        for o, s in pairs.items()
    )


def export_png(lesson: Any, texts: Texts) -> bytes:
    """The four charts of the lesson with titles, legend and the settings, as one PNG."""
    fig = Figure(figsize=(11.0, 7.4), dpi=120)
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    values = [m.datacollector.model_vars for m in lesson.models]
    events = lesson.shock_steps()
    for ax, (metric, (_limits, percent, optimum)) in zip(axes.flat, SERIES.items(), strict=True):
        for i, v in enumerate(values):
            data = np.asarray(v[metric], dtype=float)
            ax.plot(
                np.arange(len(data)),
                data,
                color=series_colour(lesson.labels[i], i),
                ls=SERIES_DASHES[i],
                lw=2,
                label=texts.option("leadership", lesson.labels[i]),
            )
        if optimum:
            ax.axhline(1.0, color=PALETTE["optimum"], ls=":", lw=1.5, label=texts("chart.optimum"))
        for step in events:
            ax.axvline(step, color=PALETTE["event"], ls="-.", lw=1.2, label=texts("chart.shock"))
        ax.set_title(texts(f"metrics.{metric}.chart"), loc="left", fontsize=12, fontweight="bold")
        ax.set_xlabel(texts("chart.x_label"))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if percent:
            ax.yaxis.set_major_formatter(lambda v, _pos: texts.tick_percent(v))
        else:
            ax.yaxis.set_major_formatter(lambda v, _pos: texts.decimal(v))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(0.005, 0.955), ncols=len(labels), frameon=False, fontsize=11
    )
    heading = " " + texts("lesson.versus") + " "
    fig.suptitle(
        texts.option("scenario", lesson.case)
        + ": "
        + heading.join(texts.option("leadership", s) for s in lesson.labels),
        x=0.01,
        y=0.995,
        ha="left",
        fontsize=14,
        fontweight="bold",
    )
    fig.text(0.01, 0.005, settings_line(lesson, texts), fontsize=9, color="0.3")
    fig.tight_layout(rect=(0, 0.03, 1, 0.9))
    canvas.draw()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def export_csv(lesson: Any, texts: Texts) -> str:
    """The lesson's data, one row per style and step shown, with the settings that made them.

    Dutch uses ``;`` as separator and a decimal comma, so it opens in a spreadsheet set to Dutch.
    """
    dutch = texts.lang == "nl"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")
    header = [texts("export.style"), texts("export.step")]
    header += [texts(f"metrics.{m}.label") for m in CSV_METRICS]
    header += [texts(f"controls.{c}") for c in SETTING_COLUMNS]
    writer.writerow(csv_row(header))
    st = lesson.settings
    for style, model in zip(lesson.labels, lesson.models, strict=True):
        frame = model.datacollector.model_vars
        for step in range(len(frame[CSV_METRICS[0]])):
            row: list[Any] = [texts.option("leadership", style), step]
            for metric in CSV_METRICS:
                value = frame[metric][step]
                row.append("" if value is None or not np.isfinite(value) else _num(float(value), dutch))
            for column in SETTING_COLUMNS:
                row.append(_setting(texts, column, st[column]))
            writer.writerow(csv_row(row))
    return out.getvalue()


OPTION_GROUPS = {"case": "scenario", "roles": "roles", "network": "network"}
"""Settings whose value is exported by its name in the page's language."""


def _setting(texts: Texts, column: str, value: Any) -> Any:
    if column in OPTION_GROUPS:
        return texts.option(OPTION_GROUPS[column], str(value))
    return _num(value, texts.lang == "nl") if isinstance(value, float) else value


def _num(value: float, dutch: bool) -> str:
    text = repr(round(value, 6))
    return text.replace(".", ",") if dutch else text
