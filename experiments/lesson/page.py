"""The demo page (Solara): controls on the left, the lesson, its step and its charts on the right.

The page keeps two sets of settings: the *draft* in the controls and the settings *in force* (the
lesson's). When they differ, the page says so and Step and Play are disabled until Reset applies
them, so the old lesson never runs silently under new labels. Reset builds the new lesson in a
thread while the page shows that it is building. The lesson's id and the language are in the
page's address (``?lang=nl&lesson=...``), so a reload finds the lesson again.

Served by ``govsim-demo`` (see :mod:`experiments.demo`), or ``solara run experiments.lesson.page``.
"""

from __future__ import annotations

import html
import logging
import math
import os
import threading
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlencode

import reacton.ipyvuetify as rv
import reacton.ipywidgets as rw
import solara
import yaml

from sim.params import STYLES

from .charts import PALETTE, make_charts, series_colour
from .config import CONFIG_DIR, config_options
from .export import export_csv, export_png, settings_line
from .state import DEFAULTS, OFF, STORE, Lesson, preset
from .texts import DEFAULT_LANGUAGE, LANGUAGES, Texts

FOLLOW_WAIT = 0.5
"""Longest the page's follower waits for news from the player before it checks whether it should stop."""
READOUT = (
    ("public_value", "number"),
    ("mean_trust", "number"),
    ("production", "number"),
    ("burnout_rate", "percent"),
    ("informal_leader_share", "percent"),
    ("voice_equity", "number"),
)
TOKEN_ENV = "GOVSIM_DEMO_TOKEN"
LOG = logging.getLogger("govsim.demo")

CSS = """
.govsim-page { width: 100%; max-width: 100vw; height: 100vh; display: flex; flex-direction: column;
  box-sizing: border-box; font-size: 15px; line-height: 1.35; color: #1b1b1b; background: #fff; overflow: hidden; }
.govsim-top { flex: 0 0 auto; display: flex; align-items: center; gap: 6px; padding: 3px 12px;
  border-bottom: 1px solid #ddd; flex-wrap: wrap; }
.govsim-top h1 { font-size: 18px; font-weight: 600; margin: 0 auto 0 0; }
.govsim-top .v-btn { height: 30px; }
.govsim-controls .v-btn { margin: 3px 0; }
.govsim-body { flex: 1 1 0; min-height: 0; display: flex; }
.govsim-controls { flex: 0 0 248px; width: 248px; padding: 8px 12px; border-right: 1px solid #ddd;
  height: 100%; overflow-y: auto; box-sizing: border-box; }
.govsim-controls .v-input { margin-bottom: 2px; }
.govsim-controls .v-field-label--floating { font-size: 14px !important; }
.govsim-control-label { font-size: 14px; margin-top: 4px; }
.govsim-main { flex: 1 1 0; width: 0; min-width: 0; height: 100%; overflow-y: auto; padding: 0 12px 12px 12px;
  box-sizing: border-box; }
.govsim-bar { position: sticky; top: 0; z-index: 5; background: #fff; display: flex; align-items: center;
  gap: 8px; padding: 6px 0; border-bottom: 1px solid #eee; flex-wrap: wrap; }
.govsim-step { font-size: clamp(22px, 1.7vw, 34px); font-weight: 700; min-width: 96px; }
.govsim-status { font-size: 14px; padding: 2px 8px; border-radius: 4px; }
.govsim-pending { background: #fff3cd; color: #5c4500; }
.govsim-building { background: #e3f0fb; color: #0b3d66; }
.govsim-readout { border-collapse: collapse; font-size: 15px; margin: 4px 0; }
.govsim-readout th, .govsim-readout td { padding: 1px 8px; text-align: right; white-space: nowrap; }
/* The key numbers grow with the screen (a projector at 1920x1080 shows them from the back of the room);
   headings may wrap, so every column fits at 1024 px. */
.govsim-readout td { font-size: clamp(15px, 1.35vw, 28px); }
.govsim-readout th { font-weight: 600; font-size: clamp(14px, 0.95vw, 19px); white-space: normal;
  vertical-align: bottom; }
.govsim-readout th[title] { text-decoration: underline dotted; cursor: help; }
.govsim-readout td:first-child, .govsim-readout th:first-child { text-align: left; }
.govsim-mechanisms h2 { font-size: clamp(17px, 1.2vw, 24px); font-weight: 600; margin: 6px 0 2px; }
.govsim-mech-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr));
  gap: 4px 14px; }
.govsim-sentence { font-size: clamp(15px, 1.1vw, 22px); margin: 2px 0 4px; }
.govsim-mech-table { border-collapse: collapse; font-size: clamp(14px, 0.9vw, 18px); }
.govsim-mech-table th, .govsim-mech-table td { padding: 1px 6px; text-align: right; white-space: nowrap; }
.govsim-mech-table th:first-child, .govsim-mech-table td:first-child { text-align: left; }
.govsim-mech-table th[title] { text-decoration: underline dotted; cursor: help; }
.govsim-mech-note, .govsim-mechanisms summary { font-size: 14px; color: #444; }
.govsim-lesson { border: 1px solid #ddd; border-radius: 6px; padding: 4px 10px; margin: 4px 0; }
.govsim-lesson h2 { font-size: 17px; font-weight: 600; margin: 2px 0; }
.govsim-lesson p { margin: 3px 0; }
.govsim-lesson .govsim-settings, .govsim-lesson .govsim-source { font-size: 14px; color: #444; }
.govsim-lesson dl { display: grid; grid-template-columns: max-content 1fr; gap: 1px 10px; margin: 4px 0;
  font-size: 14px; }
.govsim-lesson dt { font-weight: 600; }
.govsim-lesson dd { margin: 0; }
.govsim-styles { display: flex; gap: 16px; }
.govsim-styles > div { flex: 1 1 0; }
.govsim-error { background: #fde8e8; color: #7a1010; border-left: 4px solid #c81e1e; padding: 6px 10px;
  margin: 4px 0; font-size: 15px; }
.govsim-note { background: #eef5ff; padding: 4px 10px; margin: 4px 0; }
.govsim-legend { font-size: 14px; display: flex; gap: 16px; flex-wrap: wrap; margin: 2px 0; }
.govsim-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 4px 14px; }
.govsim-grid .govsim-wide { grid-column: 1 / span 2; }
.govsim-chart-title { font-size: 15px; font-weight: 600; margin: 2px 0 0 0; }
.govsim-chart-title[title] { cursor: help; }
.govsim-chart { display: block; max-width: 100%; }
.govsim-grid > div { min-width: 0; }
.govsim-present .govsim-controls { display: none; }
.govsim-present .govsim-chart-title { font-size: 17px; }
/* Dark theme, chosen on the page (the light one is the default whatever the laptop's setting): a dark
   page with light panels for what carries the style colours (readout, legends, charts, controls), so
   every coloured label keeps the contrast it has in the light theme. */
.govsim-dark { color: #ececec; background: #121212; }
.govsim-dark .govsim-top, .govsim-dark .govsim-controls, .govsim-dark .govsim-bar { border-color: #444; }
.govsim-dark .govsim-bar { background: #121212; }
.govsim-dark .govsim-top .v-btn { color: #ececec !important; border-color: #888 !important; }
.govsim-dark .govsim-controls { background: #f4f4f4; color: #1b1b1b; }
.govsim-dark .govsim-readout, .govsim-dark .govsim-legend, .govsim-dark .govsim-styles,
.govsim-dark .govsim-grid { background: #f4f4f4; color: #1b1b1b; border-radius: 4px; }
.govsim-dark .govsim-grid .govsim-chart-title { color: #1b1b1b; }
.govsim-dark .govsim-lesson { border-color: #555; }
.govsim-dark .govsim-lesson .govsim-settings, .govsim-dark .govsim-lesson .govsim-source { color: #c8c8c8; }
.govsim-dark .govsim-note { background: #1f2a3a; color: #ececec; }
.govsim-dark .govsim-step, .govsim-dark h1, .govsim-dark h2 { color: #ececec; }
"""


@cache
def scenario_file(case: str) -> dict[str, Any]:
    """A case's scenario config file (its English description and source)."""
    path = CONFIG_DIR / "scenario" / f"{case}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return data if isinstance(data, dict) else {}


def case_text(texts: Texts, case: str, key: str, settings: dict[str, Any]) -> str:
    """A case's description or source: the catalogue's (filled from the settings) or the config file's."""
    entry = f"cases.{case}.{key}"
    if texts.has(entry):
        return texts(entry, N=settings["N"], K=settings["K"], share=texts.number(float(settings["cross_boundary"]), 1))
    if texts.lang == "en":
        return str(scenario_file(case).get(key, ""))
    return texts(entry)


def lesson_html(lesson: Lesson, texts: Texts, full: bool) -> str:
    """The lesson card, written from the settings in force; ``full`` adds the case, notes and definitions."""
    e = html.escape
    st = lesson.settings
    styles = lesson.labels or [str(st["leadership"])]
    heading = f" {texts('lesson.versus')} ".join(texts.option("leadership", s) for s in styles)
    parts = [
        f"<h2>{e(texts.option('scenario', lesson.case))}: {e(heading)}</h2>",
        f"<div class='govsim-settings'>{e(settings_line(lesson, texts))}</div>",
    ]
    if not full:
        return "".join(parts)
    parts.append(f"<p>{e(case_text(texts, lesson.case, 'description', st))}</p>")
    parts.append(f"<p><b>{e(texts('lesson.look_for'))}:</b> {e(texts(f'cases.{lesson.case}.hint'))}</p>")
    parts.append(f"<p><b>{e(texts('lesson.finding'))}:</b> {e(texts(f'cases.{lesson.case}.finding'))}</p>")
    if lesson.models:
        from .charts import org_name

        first = lesson.models[0]
        own = [
            f"{org_name(texts, o.name)} ({texts.option('leadership', o.style)})"
            for o in first.organisations
            if first.params.scenario.organisations[o.index].leadership is not None
        ]
        if own:
            parts.append(f"<p><b>{e(texts('lesson.own_styles'))}:</b> {e(', '.join(own))}</p>")
    notes = []
    for i, style in enumerate(styles):
        colour = series_colour(style, i)
        notes.append(
            f"<div class='govsim-style'><b style='color:{colour}'>{e(texts.option('leadership', style))}:</b> "
            f"{e(texts(f'styles.{style}.mechanism'))} {e(texts(f'styles.{style}.finding'))}</div>"
        )
    parts.append(f"<div class='govsim-styles'>{''.join(notes)}</div>")
    parts.append(f"<p><b>{e(texts('lesson.definitions'))}</b></p><dl>")
    for metric, _ in READOUT:
        parts.append(
            f"<dt>{e(texts(f'metrics.{metric}.label'))}</dt><dd>{e(texts(f'metrics.{metric}.definition'))}</dd>"
        )
    parts.append("</dl>")
    parts.append(
        f"<p class='govsim-source'><b>{e(texts('lesson.source'))}:</b> "
        f"{e(case_text(texts, lesson.case, 'source', st))}</p>"
    )
    return "".join(parts)


def _fmt(texts: Texts, value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return texts.percent(value) if kind == "percent" else texts.number(value, 2)


def _in_force(texts: Texts, model: Any) -> str:
    """Styles in force now where leaders are situational (empty when none are)."""
    changed = [a for a, s in zip(model.active_style, model.style_names, strict=True) if s == "situational"]
    if not changed:
        return ""
    counts: dict[str, int] = {}
    for name in changed:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{texts.option('leadership', n)} ({c})" for n, c in sorted(counts.items()))


def readout_html(lesson: Lesson, texts: Texts) -> str:
    """The current values of the readout's measures: a row per style, a definition on each heading."""
    e = html.escape
    head = "".join(
        f"<th title='{e(texts(f'metrics.{m}.definition'))}'>{e(texts(f'metrics.{m}.label'))}</th>" for m, _ in READOUT
    )
    forced = [_in_force(texts, m) for m in lesson.models]
    if any(forced):
        head += f"<th>{e(texts('readout.situational_now'))}</th>"
    rows = []
    for i, (style, model) in enumerate(zip(lesson.labels, lesson.models, strict=True)):
        colour = series_colour(style, i)
        cells = "".join(f"<td>{_fmt(texts, model.datacollector.model_vars[m][-1], k)}</td>" for m, k in READOUT)
        if any(forced):
            cells += f"<td>{e(forced[i]) or '–'}</td>"
        rows.append(
            f"<tr><td style='color:{colour};font-weight:600'>{e(texts.option('leadership', style))}</td>{cells}</tr>"
        )
    return f"<table class='govsim-readout'><tr><th></th>{head}</tr>{''.join(rows)}</table>"


MECHANISM_WINDOW = 12
"""Steps the mechanism panel sums (about a year), compared with the as many steps before."""


def _forums(data: dict[str, Any], org: int) -> str:
    """Forums an organisation attended of those held, and (in brackets) how many it convened."""
    convened = data["convened"][org]
    return f"{data['attended'][org]}/{data['forums']}" + (f" ({convened})" if convened else "")


def _mechanism_table(texts: Texts, names: list[str], data: dict[str, Any]) -> str:
    """Per organisation: own performance, energy, failure work and forums attended (convened)."""
    e = html.escape
    head = (
        f"<tr><th>{e(texts('mechanisms.organisation'))}</th><th>{e(texts('mechanisms.own'))}</th>"
        f"<th>{e(texts('mechanisms.energy'))}</th>"
        f"<th title='{e(texts('mechanisms.failure_hint'))}'>{e(texts('mechanisms.failure_work'))}</th>"
        f"<th title='{e(texts('mechanisms.forum_hint'))}'>{e(texts('mechanisms.forum'))}</th></tr>"
    )
    rows = "".join(
        f"<tr><td>{e(n)}</td><td>{texts.percent(data['own'][o])}</td><td>{texts.percent(data['energy'][o])}</td>"
        f"<td>{texts.percent(data['failure_share'][o])}</td><td>{_forums(data, o)}</td></tr>"
        for o, n in enumerate(names)
    )
    note = texts("mechanisms.forums_held", forums=data["forums"], steps=data["steps"], adopted=data["adopted"],
                 refused=data["consent_refused"])
    return f"<table class='govsim-mech-table'>{head}{rows}</table><div class='govsim-mech-note'>{e(note)}</div>"


def _trust_table(texts: Texts, names: list[str], data: dict[str, Any]) -> str:
    """Trust between the named partners (row: how much it trusts the column), opened on request."""
    e = html.escape
    head = "".join(f"<th>{e(n)}</th>" for n in names)
    rows = "".join(
        f"<tr><td>{e(n)}</td>"
        + "".join(f"<td>{'' if a == b else texts.number(data['trust'][a][b], 2)}</td>" for b in range(len(names)))
        + "</tr>"
        for a, n in enumerate(names)
    )
    return (f"<details><summary>{e(texts('mechanisms.trust'))}</summary><table class='govsim-mech-table'>"
            f"<tr><th></th>{head}</tr>{rows}</table></details>")


def mechanisms_html(lesson: Lesson, texts: Texts) -> str:
    """Why, per style: the mechanisms of the last year, from the model's counts.

    One sentence, each organisation's own performance, energy, failure work and forums, and trust
    between the named partners.
    """
    from .charts import org_name
    from .mechanisms import Tally, panel, sentence

    e = html.escape
    blocks = []
    with lesson.lock:
        for i, (style, model, readings) in enumerate(zip(lesson.labels, lesson.models, lesson.readings, strict=True)):
            orgs = [o.name for o in model.organisations]
            recent = Tally.of(readings[-MECHANISM_WINDOW:], model.n_orgs)
            earlier = readings[-2 * MECHANISM_WINDOW : -MECHANISM_WINDOW]
            before = Tally.of(earlier, model.n_orgs).network_failure_share() if earlier else None
            data = panel(model, recent)
            names = [org_name(texts, o) for o in orgs]
            blocks.append(
                f"<div class='govsim-mech'><div class='govsim-sentence'><b style='color:{series_colour(style, i)}'>"
                f"{e(texts.option('leadership', style))}:</b> {e(sentence(model, recent, orgs, texts, before))}</div>"
                f"{_mechanism_table(texts, names, data)}{_trust_table(texts, names, data)}</div>"
            )
    heading = f"{texts('mechanisms.heading')} ({texts('mechanisms.period', steps=MECHANISM_WINDOW)})"
    grid = f"<div class='govsim-mech-grid'>{''.join(blocks)}</div>"
    return f"<div class='govsim-mechanisms'><h2>{e(heading)}</h2>{grid}</div>"


def legend_html(lesson: Lesson, texts: Texts) -> str:
    """The key to the line charts: the styles, the optimum and the events."""
    e = html.escape
    items = []
    for i, style in enumerate(lesson.labels):
        mark = "━━" if i == 0 else "╍╍"
        items.append(
            f"<span style='color:{series_colour(style, i)};font-weight:600'>"
            f"{mark} {e(texts.option('leadership', style))}</span>"
        )
    items.append(f"<span style='color:{PALETTE['optimum']}'>┈┈ {e(texts('chart.optimum'))}</span>")
    if lesson.shock_steps():
        label = texts("chart.surge") if lesson.surge() else texts("chart.shock")
        steps = ", ".join(str(s) for s in lesson.shock_steps())
        items.append(
            f"<span style='color:{PALETTE['event']}'>-·- {e(label)} ({e(texts('status.step', n=steps))})</span>"
        )
    return f"<div class='govsim-legend'>{''.join(items)}</div>"


@solara.component
def Chart(image: bytes, name: str, title: str, definition: str, wide: bool = False) -> None:
    """A chart: its title (with the measure's definition on hover) and the image scaled to its column."""
    with rv.Html(tag="div", class_="govsim-wide" if wide else ""):
        if title:
            rv.Html(tag="div", class_="govsim-chart-title", attributes={"title": definition}, children=[title])
        rw.Image(
            value=image,
            format="jpeg" if image[:2] == b"\xff\xd8" else "png",
            layout={"width": "100%", "height": "auto"},
            _dom_classes=["govsim-chart", f"govsim-chart-{name}"],
        )


@solara.component
def Charts(lesson: Lesson, texts: Texts, tick: int) -> None:
    """The line charts and the network of a lesson, redrawn at every tick."""
    charts = solara.use_memo(lambda: make_charts(lesson, texts), [lesson, texts.lang])

    def draw() -> dict[str, Any] | None:
        if charts is None:
            return None
        with lesson.lock:
            values = [m.datacollector.model_vars for m in lesson.models]
            images = {
                metric: charts[metric].render([v[metric] for v in values])
                for metric in ("public_value", "mean_trust", "production", "burnout_rate")
            }
            images["network"] = charts["network"].render()
        return images

    # Drawn once per step shown (a render for Play/Pause or a theme does not redraw the charts).
    steps = lesson.steps
    images = solara.use_memo(draw, [charts, steps])
    # After the page has been updated with this step, tell the player (it paces Play by it); no page state
    # changes here, so this cannot start another render.
    solara.use_effect(lambda: lesson.player.shown(steps), [lesson, steps])
    if images is None:
        return
    solara.HTML(tag="div", unsafe_innerHTML=legend_html(lesson, texts))
    with rv.Html(tag="div", class_="govsim-grid"):
        for metric in ("public_value", "mean_trust", "production", "burnout_rate"):
            Chart(
                images[metric],
                metric.replace("_", "-"),
                texts(f"metrics.{metric}.chart"),
                texts(f"metrics.{metric}.definition"),
            )
        Chart(images["network"], "network", texts("chart.network"), "", wide=len(lesson.models) > 1)


def _select(label: str, name: str, value: Any, options: list[tuple[str, str]], on_value: Any) -> None:
    rv.Select(
        label=label,
        v_model=value,
        on_v_model=on_value,
        items=[{"title": title, "value": v} for v, title in options],
        density="compact",
        hide_details=True,
        class_=f"govsim-select govsim-select-{name}",
    )


def _slider(texts: Texts, name: str, value: Any, low: float, high: float, step: float, on_value: Any) -> None:
    shown = texts.number(float(value), 1) if isinstance(value, float) else str(value)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=f"<div class='govsim-control-label'>{html.escape(texts(f'controls.{name}'))}: "
        f"<b>{shown}</b></div>",
    )
    rv.Slider(
        v_model=value,
        on_v_model=on_value,
        min=low,
        max=high,
        step=step,
        hide_details=True,
        density="compact",
        thumb_label=False,
        class_=f"govsim-slider govsim-slider-{name}",
    )


def own_styles(case: str, text: Any) -> dict[str, str]:
    """The own styles of a draft as ``{organisation: style}`` in config names (``{}`` if it does not parse)."""
    from .config import _aliases, _key, parse_org_styles

    orgs = [str(o.get("name")) for o in scenario_file(case).get("organisations", []) if isinstance(o, dict)]
    try:
        pairs = parse_org_styles(text)
    except Exception:  # a draft being typed: shown as no own styles until it parses
        return {}
    org_alias, style_alias = _aliases("organisations", orgs), _aliases("leadership", list(STYLES))
    out = {}
    for org, style in pairs.items():
        if _key(org) in org_alias and _key(style) in style_alias:
            out[org_alias[_key(org)]] = style_alias[_key(style)]
    return out


def OrgStyles(texts: Texts, d: dict[str, Any], styles: list[tuple[str, str]], on_text: Any) -> None:
    """A dropdown per organisation of the case: its own style, or the case's (a change stays pending)."""
    from .charts import org_name

    orgs = [str(o.get("name")) for o in scenario_file(d["case"]).get("organisations", []) if isinstance(o, dict)]
    current = own_styles(d["case"], d["org_styles"])
    solara.HTML(tag="div", unsafe_innerHTML=f"<div class='govsim-control-label'>"
                f"{html.escape(texts('controls.org_styles'))}</div>")
    for org in orgs:

        def choose(value: Any, org: str = org) -> None:
            chosen = {**current, org: value} if value else {k: v for k, v in current.items() if k != org}
            on_text(", ".join(f"{k}={v}" for k, v in chosen.items() if k in orgs))

        _select(org_name(texts, org), f"org-{org}", current.get(org, ""), [("", texts("controls.case_style")), *styles],
                choose)


@solara.component
def Controls(texts: Texts, draft: solara.Reactive, on_preset: Any) -> None:
    """The settings: a change stays pending until Reset."""
    d = draft.value

    def setter(key: str, cast: Any = None) -> Any:
        def set_value(value: Any) -> None:
            if value is None:
                return
            draft.set({**draft.value, key: cast(value) if cast else value})

        return set_value

    solara.HTML(tag="div", unsafe_innerHTML=f"<b>{html.escape(texts('controls.heading'))}</b>")
    _select(
        texts("controls.case"),
        "case",
        d["case"],
        [(c, texts.option("scenario", c)) for c in config_options("scenario")],
        setter("case"),
    )
    solara.Button(
        texts("controls.preset"),
        on_click=on_preset,
        outlined=True,
        classes=["govsim-preset"],
        style={"text-transform": "none", "width": "100%", "margin": "4px 0"},
    )
    styles = [(s, texts.option("leadership", s)) for s in STYLES]
    _select(texts("controls.leadership"), "leadership", d["leadership"], styles, setter("leadership"))
    _select(
        texts("controls.compare"), "compare", d["compare"], [(OFF, texts("controls.off")), *styles], setter("compare")
    )
    OrgStyles(texts, d, styles, setter("org_styles", str))
    _select(
        texts("controls.roles"),
        "roles",
        d["roles"],
        [(r, texts.option("roles", r)) for r in config_options("roles")],
        setter("roles"),
    )
    _slider(texts, "N", d["N"], 8, 20, 1, setter("N", int))
    _slider(texts, "K", d["K"], 0, 19, 1, setter("K", int))
    _slider(
        texts,
        "cross_boundary",
        d["cross_boundary"],
        0.0,
        1.0,
        0.1,
        setter("cross_boundary", lambda v: round(float(v), 1)),
    )
    _select(
        texts("controls.network"),
        "network",
        d["network"],
        [(n, texts.option("network", n)) for n in config_options("network")],
        setter("network"),
    )
    rv.TextField(
        label=texts("controls.seed"),
        v_model=d["seed"],
        on_v_model=setter("seed", str),
        density="compact",
        hide_details=True,
        class_="govsim-text-seed",
    )


def _query(search: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(search or "").items() if v}


@solara.component
def Page() -> None:
    """The demo page: one lesson per browser tab, kept across a reload by the id in the address."""
    router = solara.use_router()
    query = _query(router.search)
    token = os.environ.get(TOKEN_ENV, "")
    lang = query.get("lang", DEFAULT_LANGUAGE)
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    texts = solara.use_memo(lambda: Texts(lang), [lang])
    solara.Title(texts("app.tab_title"))
    solara.Style(CSS)

    def first() -> tuple[str, Lesson]:
        key = query.get("lesson")
        found = STORE.get(key)
        if found is not None and key:
            return key, found
        key = STORE.new_id()
        lesson = Lesson()
        STORE.put(key, lesson)
        return key, lesson

    key0, lesson0 = solara.use_memo(first, [])
    lesson = solara.use_reactive(lesson0)
    draft = solara.use_reactive(dict(lesson0.settings))
    building = solara.use_reactive(False)
    tick = solara.use_reactive(0)
    full = solara.use_reactive(False)
    present = solara.use_reactive(False)
    dark = solara.use_reactive(False)
    requested = solara.use_reactive(cast_settings(None))
    problem = solara.use_reactive("")

    wanted = {"lang": lang, "lesson": key0, **({"token": token} if token else {})}

    def sync_address() -> None:
        if query != wanted:
            router.push(f"{router.path}?{urlencode(wanted)}")

    # Also after a step or a reset: on the first render the browser's navigator may not be listening yet.
    solara.use_effect(sync_address, [lang, lesson.value, tick.value > 0])

    def build(cancel: threading.Event) -> None:
        settings = requested.value
        if settings is None:
            return
        try:
            new = Lesson(**settings)
        except Exception as exc:  # never a traceback on the page
            LOG.exception("building a lesson failed")  # the details go to the server log, not the page
            problem.set(texts("errors.unexpected", detail=type(exc).__name__))
            building.set(False)
            return
        STORE.put(key0, new)
        problem.set("")
        lesson.set(new)
        building.set(False)

    solara.use_thread(build, dependencies=[requested.value], intrusive_cancel=False)

    def reset(settings: dict[str, Any] | None = None) -> None:
        lesson.value.player.pause()
        building.set(True)
        requested.set(cast_settings(settings or draft.value))

    def follow(cancel: threading.Event) -> None:
        """Show each step and change of Play/Pause as it happens (the player steps; this only reads)."""
        player = lesson.value.player
        seen = tick.value
        while not cancel.is_set():
            now = player.wait_change(seen, FOLLOW_WAIT)
            if now != seen and not cancel.is_set():
                seen = now
                tick.set(now)

    solara.use_thread(follow, dependencies=[lesson.value], intrusive_cancel=False)

    def step() -> None:
        lesson.value.player.step()
        tick.set(lesson.value.player.version)

    def play() -> None:
        lesson.value.player.play()
        tick.set(lesson.value.player.version)

    def pause() -> None:
        lesson.value.player.pause()
        tick.set(lesson.value.player.version)

    def on_preset() -> None:
        settings = preset(draft.value["case"])
        draft.set(settings)
        reset(settings)

    if token and query.get("token") != token:  # the server refuses such requests; this is a second guard
        rv.Html(tag="div", class_="govsim-error", children=["403"])
        return
    current = lesson.value
    player = current.player
    playing = player.playing
    failed = texts("errors.unexpected", detail=player.error) if player.error else ""
    pending = draft.value != current.settings and not building.value
    runnable = bool(current.models) and not building.value and not pending
    classes = ["govsim-page"] + (["govsim-present"] if present.value else []) + (["govsim-dark"] if dark.value else [])
    with rv.Html(tag="div", class_=" ".join(classes)):
        with rv.Html(tag="div", class_="govsim-top"):
            rv.Html(tag="h1", children=[texts("app.title")])
            for code in LANGUAGES:
                solara.Button(
                    texts(f"language.{code}"),
                    text=code != lang,
                    outlined=code == lang,
                    on_click=lambda code=code: router.push(f"{router.path}?{urlencode({**wanted, 'lang': code})}"),
                    classes=[f"govsim-lang-{code}"],
                    style={"text-transform": "none"},
                )
            solara.Button(
                texts("buttons.light") if dark.value else texts("buttons.dark"),
                on_click=lambda: dark.set(not dark.value),
                outlined=True,
                classes=["govsim-theme-button"],
                style={"text-transform": "none"},
            )
            solara.Button(
                texts("buttons.leave_present") if present.value else texts("buttons.present"),
                on_click=lambda: present.set(not present.value),
                outlined=True,
                classes=["govsim-present-button"],
                style={"text-transform": "none"},
            )
        with rv.Html(tag="div", class_="govsim-body"):
            with rv.Html(tag="div", class_="govsim-controls"):
                Controls(texts, draft, on_preset)
                if current.models:
                    rv.Html(tag="div", class_="govsim-control-label", children=[texts("buttons.export")])
                    solara.FileDownload(
                        lambda: export_png(current, texts),
                        filename=f"{texts('export.png_name')}.png",
                        mime_type="image/png",
                        children=[
                            solara.Button(
                                texts("buttons.export_png"),
                                icon_name="mdi-download",
                                outlined=True,
                                block=True,
                                classes=["govsim-export-png"],
                                style={"text-transform": "none"},
                            )
                        ],
                    )
                    solara.FileDownload(
                        lambda: export_csv(current, texts).encode("utf-8-sig"),
                        filename=f"{texts('export.csv_name')}.csv",
                        mime_type="text/csv",
                        children=[
                            solara.Button(
                                texts("buttons.export_csv"),
                                icon_name="mdi-download",
                                outlined=True,
                                block=True,
                                classes=["govsim-export-csv"],
                                style={"text-transform": "none"},
                            )
                        ],
                    )
            with rv.Html(tag="div", class_="govsim-main"):
                with rv.Html(tag="div", class_="govsim-bar"):
                    rv.Html(tag="div", class_="govsim-step", children=[texts("status.step", n=current.steps)])
                    solara.Button(
                        texts("buttons.reset"),
                        on_click=lambda: reset(),
                        color="primary",
                        disabled=building.value,
                        classes=["govsim-reset"],
                        style={"text-transform": "none"},
                    )
                    solara.Button(
                        texts("buttons.step"),
                        on_click=step,
                        disabled=not runnable or playing,
                        classes=["govsim-step-button"],
                        style={"text-transform": "none"},
                    )
                    solara.Button(
                        texts("buttons.pause") if playing else texts("buttons.play"),
                        on_click=pause if playing else play,  # what the button says is what it does
                        disabled=not runnable,
                        classes=["govsim-play", "govsim-playing" if playing else "govsim-paused"],
                        style={"text-transform": "none"},
                    )
                    if building.value:
                        rv.Html(tag="div", class_="govsim-status govsim-building", children=[texts("status.building")])
                    elif pending:
                        rv.Html(tag="div", class_="govsim-status govsim-pending", children=[texts("status.pending")])
                    if present.value:
                        rv.Html(tag="div", class_="govsim-status", children=[texts("status.present_hint")])
                if current.models:
                    solara.HTML(tag="div", unsafe_innerHTML=readout_html(current, texts))
                with rv.Html(tag="div", class_="govsim-lesson"):
                    solara.Button(
                        texts("buttons.hide_lesson") if full.value else texts("buttons.show_lesson"),
                        on_click=lambda: full.set(not full.value),
                        text=True,
                        classes=["govsim-lesson-toggle"],
                        style={"float": "right", "text-transform": "none"},
                    )
                    solara.HTML(
                        tag="div",
                        unsafe_innerHTML=lesson_html(current, texts, full.value),
                        classes=["govsim-lesson-text"],
                    )
                if current.error is not None:
                    rv.Html(
                        tag="div",
                        class_="govsim-error",
                        attributes={"role": "alert"},
                        children=[texts.error(current.error)],
                    )
                for message in dict.fromkeys(m for m in (problem.value, failed) if m):
                    rv.Html(tag="div", class_="govsim-error", attributes={"role": "alert"}, children=[message])
                if current.same_style:
                    rv.Html(tag="div", class_="govsim-note", children=[texts("status.same_style")])
                if current.models:
                    Charts(current, texts, tick.value)
                    solara.HTML(tag="div", unsafe_innerHTML=mechanisms_html(current, texts))


def cast_settings(settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of the settings to build (``None``: nothing requested yet)."""
    return None if settings is None else {k: settings.get(k, v) for k, v in DEFAULTS.items()}


@solara.component
def Layout(children: list[Any] = []) -> None:  # noqa: B006 (Solara's signature)
    """No app bar and no sidebar drawer: the page lays itself out."""
    rv.Html(tag="div", children=children)
