"""`govsim-report PATH`: from a finished run or sweep to figures, tables and a readable report.

Reads results only (it never runs or replays the model) and never writes into a
job's folder: a sweep's report goes to ``<sweep>/report/``, a single run's to the
sibling folder ``<run>-report/``, or to ``--out``. Every file is written to a
temporary name and renamed. The HTML comes from a Jinja2 template with autoescaping:
every string from a config, an override or a results file is escaped, and links are
made only for http(s) addresses.

What the report shows is chosen by the experiment's ``report`` section (key
outcomes, the compared factor and reference condition, the smallest effect of
interest per outcome, the comparison family); ``--outcomes``, ``--reference``,
``--factor`` and ``--smallest-effect`` override it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures
from analysis.csvsafe import csv_bytes
from analysis.load import ALIASES, REPORT_MARKER, Results, ResultsError, load_results, varied_parameters
from analysis.stats import all_pairs, bonferroni_level, mean_ci, paired_differences

DEFAULT_OUTCOMES = ("window_public_value_gap_closed", "gap_closed_auc", "steps_to_half_gap", "production_mean",
                    "window_mean_trust", "burnout_rate_mean")
CRISIS_OUTCOMES = ("shock_drop", "shock_recovery_steps")
DEFAULT_SMALLEST: dict[str, float] = {
    "window_public_value_gap_closed": 0.05, "final_public_value_gap_closed": 0.05, "gap_closed_auc": 0.05,
    "window_public_value": 0.02, "final_public_value": 0.02, "public_value_auc": 0.02, "steps_to_half_gap": 10,
    "production_mean": 0.02, "window_mean_trust": 0.05, "final_mean_trust": 0.05, "burnout_rate_mean": 0.01,
    "person_steps_lost": 20, "window_voice_equity": 0.1, "shock_drop": 0.05, "shock_recovery_steps": 5,
}
"""govsim's defaults for outcomes an experiment declares no smallest effect of interest for (labelled as such)."""
REFERENCE_STYLE = "laissez_faire"
LEVEL = 0.95


@dataclass
class Settings:
    """What the report compares and against which smallest effects (config, then command line)."""

    outcomes: list[str]
    factor: str | None
    reference: str | None
    smallest: dict[str, float]
    precision: dict[str, float]
    comparisons: Any = "reference"
    level: float = LEVEL
    discover: str | None = None
    sources: dict[str, str] = field(default_factory=dict)


def settings_for(res: Results, args: argparse.Namespace | None = None) -> Settings:
    """Report settings: the experiment config's ``report`` section, overridden by the command line."""
    cfg = ((res.first_meta.get("config") or {}).get("report") or {}) if res.meta else {}
    cfg = cfg if isinstance(cfg, dict) else {}
    sources: dict[str, str] = {}
    outcomes = [str(o) for o in cfg.get("outcomes") or []]
    sources["outcomes"] = "experiment config" if outcomes else "govsim default"
    if not outcomes:
        outcomes = list(DEFAULT_OUTCOMES)
        if "shock_drop" in res.summary and res.summary["shock_drop"].notna().any():
            outcomes += list(CRISIS_OUTCOMES)
    smallest = {str(k): float(v) for k, v in (cfg.get("smallest_effect") or {}).items()}
    precision = {str(k): float(v) for k, v in (cfg.get("precision") or {}).items()}
    factor = cfg.get("factor")
    reference = cfg.get("reference")
    comparisons = cfg.get("comparisons", "reference")
    discover = cfg.get("discover")
    if args is not None:
        if args.outcomes:
            outcomes = [o.strip() for o in args.outcomes.split(",") if o.strip()]
            sources["outcomes"] = "command line"
        if args.factor:
            factor = args.factor
        if args.reference:
            reference = args.reference
        for item in args.smallest_effect or []:
            key, _, value = item.partition("=")
            smallest[key.strip()] = float(value)
        if args.discover:
            discover = args.discover
    if sources["outcomes"] != "command line":
        absent = [o for o in outcomes if o not in res.summary]
        if absent and sources["outcomes"] == "experiment config":
            sources["absent"] = ", ".join(absent)
        outcomes = [o for o in outcomes if o in res.summary]
    sources["smallest"] = ", ".join(
        f"{o} ±{smallest[o]:g} (declared)" if o in smallest else
        (f"{o} ±{DEFAULT_SMALLEST[o]:g} (govsim default)" if o in DEFAULT_SMALLEST else f"{o}: none")
        for o in outcomes)
    full = {o: smallest.get(o, DEFAULT_SMALLEST.get(o, float("nan"))) for o in outcomes}
    return Settings(outcomes=outcomes, factor=str(factor) if factor else None,
                    reference=str(reference) if reference is not None else None,
                    smallest={k: v for k, v in full.items() if np.isfinite(v)}, precision=precision,
                    comparisons=comparisons, discover=discover, sources=sources)


def design(summary: pd.DataFrame, factor: str | None = None) -> tuple[str | None, str | None, list[str]]:
    """Choose the compared factor (colour), the facet factor and all varied parameters of a sweep."""
    varied = varied_parameters(summary)
    if "sample_row" in summary:  # a sensitivity or robustness sweep: no condition contrasts here
        return None, None, varied
    if not varied:
        return None, None, []
    hue = factor if factor in varied else ("leadership" if "leadership" in varied else varied[0])
    rest = [v for v in varied if v != hue]
    col = rest[0] if rest and summary[rest[0]].astype(str).nunique() <= 6 else None
    return hue, col, varied


# ------------------------------------------------------------------ formatting
def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table (empty for missing)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    return str(value)


def ci_text(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``mean [low, high]``."""
    return f"{fmt(mean, digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"


def condition_label(row: pd.Series | dict[str, Any], by: list[str]) -> str:
    """A condition as ``level, level``."""
    return ", ".join(str(row[b]) for b in by) or "all runs"


def _scheduled(res: Results) -> int | None:
    reps = res.first_meta.get("replications_scheduled")
    return int(reps) if isinstance(reps, int) else None


# ------------------------------------------------------------------ tables
def condition_section(summary: pd.DataFrame, by: list[str], outcomes: list[str], expected: int | None) -> dict:
    """Mean [95 % CI] of the key outcomes per condition, with replications used and missing."""
    outcomes = [o for o in outcomes if o in summary]
    header = [*(figures.label(b, 0) for b in by), "replications used (missing)", *outcomes]
    pooled = [v for v in varied_parameters(summary) if v not in by]
    if expected is not None and pooled:  # a condition pools every level of the factors not shown
        expected *= len(summary[pooled].astype(str).drop_duplicates())
    tables = {o: mean_ci(summary, by, o, expected=expected) for o in outcomes}
    rows = []
    import itertools

    # every combination of the shown factors' levels, so a condition whose jobs all failed still shows
    ordered = [dict(zip(by, combo, strict=True)) for combo in itertools.product(
        *(figures.order_of(summary, b) for b in by))]
    for key in ordered:
        part = summary[np.logical_and.reduce([summary[b] == key[b] for b in by])] if by else summary
        runs = len(part)
        row = [str(key[b]) for b in by] + [f"{runs} ({max(0, (expected or runs) - runs)})"]
        for o in outcomes:
            t = tables[o]
            m = t[np.logical_and.reduce([t[b] == key[b] for b in by])] if by else t
            if m.empty:
                row.append("–")
                continue
            r = m.iloc[0]
            extra = f" (n={r['n']}, {r['n_missing']} missing)" if r["n"] != runs or r["n_missing"] else ""
            row.append(ci_text(r["mean"], r["ci_low"], r["ci_high"]) + extra)
        rows.append(row)
    return {"title": "Conditions", "intro": [
        "Mean [95 % Student-t confidence interval] across replications (the replication is the unit of analysis). "
        "A cell names its own n only where an outcome has fewer values than the condition has replications. "
        "Censored outcomes "
        "(steps_to_half_gap, shock_recovery_steps) are restricted means: runs that never reach the target count "
        "with the horizon, so they stay in n and in the mean."], "table": {"header": header, "rows": rows}}


def _order_key(frame: pd.DataFrame, column: str, value: Any) -> Any:
    order = figures.order_of(frame, column)
    return order.index(value) if value in order else len(order)


def crisis_section(summary: pd.DataFrame, by: list[str]) -> dict | None:
    """Drop and recovery after the first shock, against each run's no-shock twin on the same seed."""
    if "shock_drop" not in summary or summary["shock_drop"].isna().all():
        return None
    rows = []
    groups = summary.groupby(by, sort=False) if by else [((), summary)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        drop = g["shock_drop"].dropna().to_numpy(float)
        with_drop = g[g["shock_no_drop"] == 0]
        rec = with_drop["shock_recovery_steps"].dropna().to_numpy(float)
        never = int((with_drop["shock_recovery_censored"] == 1).sum())
        dci = mean_ci(pd.DataFrame({"v": drop}), [], "v").iloc[0]
        rci = mean_ci(pd.DataFrame({"v": rec}), [], "v").iloc[0] if len(rec) else None
        horizon = fmt(g["shock_horizon"].max(), 0) if "shock_horizon" in g else "–"
        rows.append([*map(str, key), ci_text(dci["mean"], dci["ci_low"], dci["ci_high"]), str(len(with_drop)),
                     str(int((g["shock_no_drop"] == 1).sum())),
                     ci_text(rci["mean"], rci["ci_low"], rci["ci_high"], 1) if rci is not None else "–",
                     f"{never} of {len(with_drop)}" + (f" ({never / len(with_drop):.0%})" if len(with_drop) else ""),
                     horizon])
    header = [*(figures.label(b, 0) for b in by), "drop vs twin (gap closed) [95 % CI]", "runs with a drop",
              "runs without a drop", "steps to recover: restricted mean [95 % CI]", "never recovered", "horizon"]
    from sim.metrics import RECOVERY_SUSTAIN, RECOVERY_TOLERANCE

    return {"title": "Shock: drop and recovery", "intro": [
        "Each shocked run is compared with its no-shock twin (same seed, no shock). Drop: the twin's public value "
        "(share of the gap closed) minus the shocked run's at the shock step. Recovered: within "
        f"{RECOVERY_TOLERANCE:g} of the twin for {RECOVERY_SUSTAIN} consecutive steps. Recovery times are restricted "
        "means of min(T, horizon) over the runs with a drop: runs that never recover count with the horizon and are "
        "also given as a share. Runs without a drop (drop at most the tolerance) are counted separately."],
        "table": {"header": header, "rows": rows}}


def speed_section(summary: pd.DataFrame, by: list[str]) -> dict | None:
    """Steps to close half the gap: restricted mean with the share of runs that never got there."""
    if "steps_to_half_gap_censored" not in summary:
        return None
    rows = []
    groups = summary.groupby(by, sort=False) if by else [((), summary)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        t = mean_ci(g, [], "steps_to_half_gap").iloc[0]
        never = int((g["steps_to_half_gap_censored"] == 1).sum())
        rows.append([*map(str, key), ci_text(t["mean"], t["ci_low"], t["ci_high"], 1),
                     f"{never} of {len(g)} ({never / len(g):.0%})"])
    header = [*(figures.label(b, 0) for b in by), "steps to close half the gap: restricted mean [95 % CI]",
              "never reached (censored at the last step)"]
    return {"title": "Speed", "intro": [
        "Steps until half of the gap between the starting configuration and the optimum is closed. The target is "
        "fixed before the run, so a run that stagnates is never fast; runs that never reach it count with the "
        "horizon (restricted mean) and are given as a share."], "table": {"header": header, "rows": rows}}


def burnout_section(summary: pd.DataFrame, by: list[str]) -> dict | None:
    """Burnout as the share of runs with any burnout and person-steps lost, beside the mean rate."""
    if "any_burnout" not in summary:
        return None
    rows = []
    groups = summary.groupby(by, sort=False) if by else [((), summary)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        lost = mean_ci(g, [], "person_steps_lost").iloc[0]
        rate = mean_ci(g, [], "burnout_rate_mean").iloc[0]
        rows.append([*map(str, key), f"{int(g['any_burnout'].sum())} of {len(g)}",
                     ci_text(lost["mean"], lost["ci_low"], lost["ci_high"], 1),
                     ci_text(rate["mean"], rate["ci_low"], rate["ci_high"], 4)])
    header = [*(figures.label(b, 0) for b in by), "runs with any burnout", "person-steps lost [95 % CI]",
              "mean share burnt out [95 % CI]"]
    return {"title": "Burnout", "intro": ["Burnout is rare and lumpy, so it is shown three ways: how many runs had "
                                          "any, the person-steps lost, and the mean share burnt out."],
            "table": {"header": header, "rows": rows}}


def comparison_pairs(levels: list[str], reference: str, comparisons: Any) -> list[tuple[str, str]]:
    """The declared family: every level against the reference, all pairs, or an explicit list of ``a-b``."""
    if comparisons == "all_pairs":
        return all_pairs(levels)
    if isinstance(comparisons, list):
        pairs = []
        for item in comparisons:
            a, _, b = str(item).partition(" vs ")
            if a in levels and b in levels:
                pairs.append((a, b))
        return pairs
    return [(lv, reference) for lv in levels if lv != reference]


def differences_table(summary: pd.DataFrame, hue: str, col: str | None, settings: Settings,
                      expected: int | None) -> tuple[pd.DataFrame, int]:
    """Paired differences of the declared family, with Bonferroni-adjusted intervals; returns (table, family size)."""
    levels = [str(v) for v in figures.order_of(summary, hue)]
    reference = settings.reference if settings.reference in levels else (
        REFERENCE_STYLE if REFERENCE_STYLE in levels else levels[0])
    settings.reference = reference
    pairs = comparison_pairs(levels, reference, settings.comparisons)
    outcomes = [o for o in settings.outcomes if o in summary and summary[o].notna().any()]
    strata = summary[col].nunique() if col else 1
    m = max(1, len(pairs) * len(outcomes) * strata)
    pooled = [v for v in varied_parameters(summary) if v not in (hue, col)]
    frames = []
    for a, b in pairs:
        for o in outcomes:
            t = paired_differences(summary, hue, b, o, by=[col] if col else [], level=settings.level,
                                   family_size=m, smallest_effect=settings.smallest.get(o),
                                   precision=settings.precision.get(o), levels=[a], expected=expected,
                                   pair_on=["replication", *pooled])
            frames.append(t)
    kept = [f for f in frames if not f.empty]  # none where no stratum holds two levels of the factor
    table = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    table.attrs["pooled"] = pooled
    if not table.empty:
        table["comparison"] = [f"{r[hue]} − {r['reference']}" + (f" ({r[col]})" if col else "")
                               for _, r in table.iterrows()]
    return table, m


def differences_section(table: pd.DataFrame, m: int, settings: Settings, hue: str, col: str | None) -> dict:
    """The primary result: paired differences in outcome units against the smallest effect of interest."""
    adjusted = bonferroni_level(settings.level, m)
    rows = []
    for _, r in table.iterrows():
        if r["more_needed"] is None or not np.isfinite(r["precision"] or np.nan):
            precision = "no target"
        elif r["more_needed"] > 0:
            precision = f"{int(r['more_needed'])} more replications needed for ±{r['precision']:g}"
        else:
            precision = f"±{r['precision']:g} reached"
        d = fmt(r["d_av"], 2) if np.isfinite(r["d_av"]) else r["d_av_note"]
        rows.append([r["comparison"], r["outcome"], ci_text(r["difference"], r["ci_low"], r["ci_high"]),
                     f"{r['n']} ({r['n_missing']} missing)", r["verdict"], precision, d])
    header = ["comparison", "outcome", f"difference [{adjusted:.2%} CI]", "pairs used", "against the smallest effect",
              "precision", "d_av (secondary)"]
    pooled = [v for v in table.attrs.get("pooled", [])]
    what = (f"Each pair of {hue} levels (first minus second)" if settings.comparisons == "all_pairs"
            else f"Each {hue} minus {settings.reference}")
    intro = [f"{what}, paired by replication (common random numbers)"
             + (f" and by {', '.join(pooled)} (pooled over its levels)" if pooled else "") + ", in outcome "
             f"units. Paired Student-t intervals, Bonferroni-adjusted for the declared family of m = {m} intervals "
             f"({settings.comparisons if isinstance(settings.comparisons, str) else 'listed pairs'} × outcomes"
             + (f" × {col} levels" if col else "") + f"), so each is at level {adjusted:.4f} and all hold jointly "
             f"at {settings.level:.0%}. No p-values: n is the modeller's choice. The precision column states the "
             "replications needed, n ≈ (t·sd_d/h)², for the target half-width h (half the smallest effect unless "
             "declared); add replications by interval width, never by significance. d_av (mean difference over the "
             "mean of the two sds) is secondary and only shown where both conditions vary."]
    return {"title": "Paired differences (primary result)", "intro": intro, "table": {"header": header,
                                                                                         "rows": rows}}


# ------------------------------------------------------------------ figures
def make_figures(res: Results, out: Path, hue: str | None, col: str | None, varied: list[str],
                 settings: Settings, diffs: pd.DataFrame, network_job: str | None = None,
                 sections: list[dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Draw every figure that fits the results; returns figure records and lines on omitted figures.

    Sensitivity indices also become report sections (appended to ``sections``).
    """
    ts, summary = res.timeseries, res.summary
    made: list[dict[str, Any]] = []
    omitted: list[str] = []

    def keep(name: str, fig: Any, title: str, caption: str = "") -> None:
        png = figures.save(fig, out / "figures", name)[0]
        made.append({"name": name, "file": png.name, "path": png, "title": title, "caption": caption})
        print(f"govsim-report: figure {name}", flush=True)

    special = "sample_row" in summary or "docking" in summary
    trajectory_metric = "public_value_gap_closed" if "public_value_gap_closed" in ts else "public_value"
    if not ts.empty and trajectory_metric in ts and not special:
        metrics = (trajectory_metric, "mean_trust", "production", "burnout_rate")
        keep("trajectories", figures.trajectories(ts, metrics, hue=hue, col=col, varied=varied),
             "Trajectories", "Mean over replications with 95 % Student-t bands.")
        keep("trust_burnout", figures.trust_burnout(ts, hue=hue, col=col, varied=varied), "Trust and burnout")
    if not summary.empty and not special:
        outcomes = [o for o in settings.outcomes if o in summary]
        keep("final_outcomes", figures.final_outcomes(summary, outcomes, x=hue or "scenario", hue=col, varied=varied),
             "Key outcomes", "Mean over replications with 95 % Student-t intervals, per condition.")
        if not diffs.empty:
            keep("differences", figures.differences(diffs, hue or "scenario"), "Paired differences",
                 "Bonferroni-adjusted paired intervals; the grey band is ± the smallest effect of interest.")
        if "production_mean" in summary:
            keep("tradeoff", figures.tradeoff(summary, hue=hue, style=col, varied=varied),
                 "Production vs public value")
        if len(varied) >= 2:
            y = settings.outcomes[0] if settings.outcomes and settings.outcomes[0] in summary else "final_public_value"
            keep("heatmap", figures.heatmap(summary, y, x=varied[0], y=varied[1], varied=varied),
                 f"{figures.label(y, 0)} over {varied[0]} and {varied[1]}")
    if not special:
        _network(res, made, omitted, keep, network_job)
    if "docking" in summary:
        from analysis.docking import docking_figures

        for name, fig in docking_figures(summary if ts.empty else ts).items():
            keep(name, fig, name.replace("_", " ").capitalize())
    method = ((res.first_meta.get("sensitivity") or {}).get("method")) if res.meta else None
    if "sample_row" in summary and method in ("morris", "sobol"):
        from analysis.sensitivity import indices_from_results

        for name, (fig, table) in indices_from_results(res).items():
            keep(name, fig, name.replace("_", " ").capitalize())
            _atomic_write(out / f"{name}.csv", csv_bytes(table))
            if sections is not None:
                sections.append({"title": f"Sensitivity indices ({method})", "intro": [
                    f"Per outcome, averaged over replications; 95 % CIs from SALib (also in {name}.csv)."],
                    "table": {"header": list(map(str, table.columns)),
                              "rows": [[fmt(v) for v in r] for r in table.itertuples(index=False)]}})
    return made, omitted


def _network(res: Results, made: list, omitted: list[str], keep: Any, network_job: str | None) -> None:
    import networkx as nx

    names = [network_job] if network_job else list(res.meta)
    for name in names:
        path = figures.find_network(res.root / name if name != res.root.name else res.root)
        if path is None:
            continue
        try:
            graph = nx.read_graphml(path)
        except Exception as err:  # noqa: BLE001 - a damaged file is reported, not fatal
            omitted.append(f"Network figure omitted: job {name}'s {path.name} cannot be read ({type(err).__name__}).")
            return
        labels = ", ".join(f"{k}={v}" for k, v in (res.meta.get(name, {}).get("labels") or {}).items())
        keep("network", figures.network_figure(graph, f"Collaboration network at the end of job {name}"),
             "Collaboration network", f"Final state written by job {name} ({labels}).")
        return
    omitted.append("Network figure omitted: no job wrote its final network (" + ", ".join(figures.NETWORK_FILES)
                   + "); the report draws only what jobs recorded and never replays the model.")


# ------------------------------------------------------------------ writing
def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


def safe_url(text: str) -> str | None:
    """``text`` if it is a plain http(s) address, else None (no ``javascript:``, ``data:`` or other links)."""
    text = str(text or "").strip()
    return text if SAFE_URL.match(text) else None


def md_escape(text: Any) -> str:
    """Text for report.md: HTML-escaped (a Markdown viewer passes raw HTML through), table pipes escaped."""
    import html

    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def default_out(root: Path) -> Path:
    """Where a report goes by default: ``<sweep>/report`` or the sibling ``<run>-report``, never a job folder."""
    from analysis.load import is_sweep

    if is_sweep(root) and not (root / "meta.json").exists():
        return root / "report"
    return root.parent / f"{root.name}-report"


def inside_job(out: Path) -> Path | None:
    """The job folder ``out`` is (or lies inside), or None."""
    from analysis.load import is_job

    out = Path(out).absolute()
    for folder in (out, *out.parents):
        if is_job(folder) and ((folder / "meta.json").exists() or (folder / "error.json").exists()
                               or (folder / ".hydra").exists()):
            return folder
    return None


def check_writable(out: Path) -> None:
    """Create ``out`` and check a file can be written there.

    Raises:
        OSError: With a one-line reason when ``out`` cannot be written.
    """
    if out.exists() and not out.is_dir():
        raise OSError(f"{out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    probe = out / f".write-test.{os.getpid()}"
    probe.write_bytes(b"")
    probe.unlink()


def build(res: Results, out: Path, settings: Settings, network_job: str | None = None) -> dict[str, Any]:
    """Compute every table and figure of the report; returns the template's data."""
    summary = res.summary
    hue, col, varied = design(summary, settings.factor) if not summary.empty else (None, None, [])
    by = [c for c in (hue, col) if c]
    expected = _scheduled(res)
    sections: list[dict[str, Any]] = []
    diffs, m = pd.DataFrame(), 0
    docking = "docking" in summary
    robustness = "sample_row" in summary and (res.first_meta.get("sensitivity") or {}).get("method") == "lhs"
    if docking:
        from analysis.docking import docking_table

        t = docking_table(summary)
        sections.append({"title": "Conditions", "intro": [
            "Mean ± standard error over landscapes, beside the published or theoretical value where one exists "
            "(see docs/validation.md)."], "table": {"header": list(t.columns),
                                                     "rows": [[fmt(v) for v in r] for r in t.itertuples(index=False)]}})
    elif robustness:
        from analysis.robustness import robustness_sections

        try:
            rob_sections, rob_figs = robustness_sections(res, settings, out)
        except ValueError as err:  # a bad --discover condition, or too few points for a method
            rob_sections, rob_figs = [{"title": "Robustness", "intro": [f"Not computed: {err}"]}], []
        sections += rob_sections
    elif "sample_row" not in summary and not summary.empty:
        sections.append(condition_section(summary, by, settings.outcomes, expected))
        crisis = crisis_section(summary, by)
        if crisis:
            sections.append(crisis)
        speed = speed_section(summary, by)
        if speed:
            sections.append(speed)
        burnout = burnout_section(summary, by)
        if burnout:
            sections.append(burnout)
        if hue:
            diffs, m = differences_table(summary, hue, col, settings, expected)
            if not diffs.empty:
                sections.insert(1, differences_section(diffs, m, settings, hue, col))
    made, omitted = make_figures(res, out, hue, col, varied, settings, diffs, network_job, sections)
    if robustness:
        made += rob_figs
    meta = res.first_meta
    params = meta.get("params") or {}
    scenario = params.get("scenario") or {}
    counts = (f"{len(res.meta)} complete of {res.expected or len(res.meta) + len(res.missing) + len(res.failed)} "
              f"expected jobs; {len(res.missing)} missing, {len(res.failed)} failed, {len(res.unreadable)} unreadable")
    design_lines = [f"Varied parameters: {', '.join(varied) or 'none'}."]
    if hue:
        design_lines.append(f"Compared factor: {hue}; reference: {settings.reference}; facets: {col or 'none'}.")
        rest = [v for v in varied if v not in by]
        if rest:
            design_lines.append(f"Tables and figures average over: {', '.join(rest)} (not shown separately).")
    design_lines.append(f"Key outcomes ({settings.sources.get('outcomes')}): {', '.join(settings.outcomes)}.")
    if settings.sources.get("absent"):
        design_lines.append(f"Declared outcomes not in these results (left out): {settings.sources['absent']}.")
    design_lines.append(f"Smallest effects of interest: {settings.sources.get('smallest')}.")
    from sim.metrics import WINDOW_SHARE

    design_lines.append(f"window_* outcomes are means over the last {WINDOW_SHARE:.0%} of steps; final_* the last "
                        "step; gap closed = (value − mean of random configurations) / (optimum − that mean).")
    prov = [("results", res.root.name), ("jobs complete", len(res.meta)), ("jobs missing", len(res.missing)),
            ("jobs failed", len(res.failed)), ("jobs unreadable", len(res.unreadable)),
            ("replications per job", meta.get("replications_scheduled")), ("steps", meta.get("steps")),
            ("experiment seed", meta.get("seed")), ("git commit", (meta.get("git") or {}).get("commit")),
            ("uncommitted changes", (meta.get("git") or {}).get("dirty")),
            ("python", (meta.get("environment") or {}).get("python")),
            *((f"version {k}", v) for k, v in (meta.get("versions") or {}).items() if v)]
    for fig in made:
        fig["src"] = "data:image/png;base64," + base64.b64encode(fig["path"].read_bytes()).decode()
    orgs = [str(o.get("name", "")) for o in scenario.get("organisations") or [] if isinstance(o, dict)]
    return {
        "title": res.root.name, "counts": counts, "notes": ([res.note] if res.note else []) + res.notes,
        "scenario": {"name": str(scenario.get("name", "")), "description": str(scenario.get("description", "")),
                     "source": str(scenario.get("source", "")), "source_url": safe_url(scenario.get("source", ""))}
        if scenario else None,
        "organisations": orgs,
        "problems": [f"missing: {x}" for x in res.missing] + [f"failed: {x}" for x in res.failed]
        + [f"unreadable: {x}" for x in res.unreadable],
        "design": design_lines, "sections": sections, "figures": made, "omitted": omitted,
        "provenance": [(k, str(v)) for k, v in prov],
        "overrides": " ".join(str(o) for o in meta.get("overrides") or []),
        "config": json.dumps(meta.get("config"), indent=1, default=str) if meta.get("config") else "",
        "diffs": diffs,
    }


def render(data: dict[str, Any]) -> tuple[str, str]:
    """The report as (HTML, Markdown): HTML from the Jinja2 template with autoescaping, Markdown escaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    html_env = Environment(loader=PackageLoader("analysis", "templates"), autoescape=select_autoescape(
        enabled_extensions=("html", "html.j2"), default_for_string=True, default=True), undefined=StrictUndefined)
    return html_env.get_template("report.html.j2").render(r=data), render_markdown(data)


def render_markdown(r: dict[str, Any]) -> str:
    """report.md: every string escaped with :func:`md_escape` (a Markdown viewer passes raw HTML through)."""
    e = md_escape
    out = ["# govsim report", "", f"Results: `{e(r['title'])}` — {e(r['counts'])}", ""]
    out += [f"_{e(n)}_\n" for n in r["notes"]]
    sc = r["scenario"]
    if sc:
        source = f"<{sc['source_url']}>" if sc["source_url"] else e(sc["source"])
        out += [f"**Scenario {e(sc['name'])}.** {e(sc['description'])}" + (f" _Source: {source}_" if sc["source"]
                                                                            else ""), ""]
        if r["organisations"]:
            out += ["Organisations: " + ", ".join(e(o) for o in r["organisations"]), ""]
    if r["problems"]:
        out += ["## Missing, failed and unreadable jobs", ""] + [f"- {e(p)}" for p in r["problems"]] + [""]
    out += ["## Design and settings", ""] + [f"- {e(d)}" for d in r["design"]] + [""]
    for section in r["sections"]:
        out += [f"## {e(section['title'])}", ""] + [f"{e(p)}\n" for p in section["intro"]]
        table = section.get("table")
        if table:
            out += ["| " + " | ".join(e(h) for h in table["header"]) + " |",
                    "|" + "---|" * len(table["header"])]
            out += ["| " + " | ".join(e(c) for c in row) + " |" for row in table["rows"]] + [""]
    out += ["## Figures", ""]
    for fig in r["figures"]:
        out += [f"### {e(fig['title'])}", ""] + ([e(fig["caption"]), ""] if fig["caption"] else [])
        out += [f"![{e(fig['name'])}](figures/{e(fig['file'])})", ""]
    out += [f"_{e(line)}_\n" for line in r["omitted"]]
    out += ["## Provenance", "", "| item | value |", "|---|---|"] + [f"| {e(k)} | {e(v)} |" for k, v in
                                                                  r["provenance"]] + [""]
    if r["overrides"]:
        out += [f"Overrides of the first job: `{e(r['overrides'])}`", ""]
    return "\n".join(out)


def write_report(res: Results, out: Path, settings: Settings | None = None, network_job: str | None = None) -> Path:
    """Write combined results, figures, report.md and report.html to ``out``; returns the HTML path."""
    settings = settings or settings_for(res)
    check_writable(out)
    (out / REPORT_MARKER).touch()
    if not res.timeseries.empty:
        _atomic_parquet(res.timeseries, out / "results.parquet")
    if not res.summary.empty:
        _atomic_parquet(res.summary, out / "summary.parquet")
    data = build(res, out, settings, network_job)
    if not data["diffs"].empty:
        _atomic_write(out / "differences.csv", csv_bytes(data["diffs"]))
    html_text, md_text = render(data)
    _atomic_write(out / "report.md", md_text.encode())
    html_path = out / "report.html"
    _atomic_write(html_path, html_text.encode())
    return html_path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``govsim-report``."""
    from experiments.guard import OneLineParser

    parser = OneLineParser(prog="govsim-report", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a job directory, a sweep directory, a folder of sweeps, or an "
                        "optimisation folder (holding optimise.json)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: <sweep>/report, or <run>-report beside a single run)")
    parser.add_argument("--outcomes", help="comma-separated key outcomes (overrides the experiment's report section)")
    parser.add_argument("--factor", help="the compared factor (default: leadership if swept)")
    parser.add_argument("--reference", help="the reference level of the compared factor")
    parser.add_argument("--smallest-effect", action="append", metavar="OUTCOME=VALUE",
                        help="smallest effect of interest of an outcome, in its units (repeatable)")
    parser.add_argument("--discover", metavar="CONDITION",
                        help='scenario discovery on a robustness sweep, e.g. "window_public_value_gap_closed < 0.5"')
    parser.add_argument("--network-job", help="the job whose recorded final network is drawn (default: the first)")
    args = parser.parse_args(argv)
    problem = argument_problem(args)
    if problem:
        print(f"govsim-report: {problem}", file=sys.stderr)
        return 2
    from analysis.optimisation import optimisation_folder

    if optimisation_folder(args.path) is not None:
        return optimisation_main(args)
    try:
        res = load_results(args.path, progress=True)
    except ResultsError as err:
        print(f"govsim-report: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"govsim-report: cannot read {args.path}: {err.strerror or err}", file=sys.stderr)
        return 2
    if res.note:
        print(f"govsim-report: {res.note}")
    for line in res.notes:
        print(f"govsim-report: note: {line}")
    for kind, lines in (("missing", res.missing), ("failed", res.failed), ("unreadable", res.unreadable)):
        for line in lines:
            print(f"govsim-report: {kind} {line}", file=sys.stderr)
    if res.summary.empty:
        print(f"govsim-report: no complete jobs in {res.root}", file=sys.stderr)
        return 1
    out = args.out or default_out(res.root)
    if args.factor in ALIASES and args.factor not in res.summary:  # --factor problem.K: the column K
        args.factor = ALIASES[args.factor]
    problem = results_problem(res, args, out)
    if problem:
        print(f"govsim-report: {problem}", file=sys.stderr)
        return 2
    settings = settings_for(res, args)
    if settings.discover:
        from analysis.robustness import parse_condition

        try:
            parse_condition(settings.discover)
        except ValueError as err:
            print(f"govsim-report: {err}", file=sys.stderr)
            return 2
    unknown = [o for o in settings.outcomes if o not in res.summary]
    if unknown and args.outcomes:
        print(f"govsim-report: --outcomes: {', '.join(unknown)} not in the results; outcomes: "
              + ", ".join(c for c in res.summary.columns if c not in (*parameter_names(res.summary), "replication",
                                                                      "seed", "job")), file=sys.stderr)
        return 2
    job_dir = inside_job(out)
    if job_dir is not None:
        print(f"govsim-report: --out {out} is inside the job folder {job_dir}; the report never writes into a job "
              "(choose another folder)", file=sys.stderr)
        return 2
    try:
        check_writable(out)
    except OSError as err:
        print(f"govsim-report: cannot write the report to {out}: {getattr(err, 'strerror', None) or err}",
              file=sys.stderr)
        return 2
    return _written(out, lambda: write_report(res, out, settings, args.network_job))


def argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the command line on its own (before any results are read), or None."""
    for item in args.smallest_effect or []:
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            return f"--smallest-effect {item!r} must be OUTCOME=NUMBER"
        if not np.isfinite(number) or number < 0:
            return f"--smallest-effect {item!r}: needs a finite number >= 0 (in the outcome's units)"
    for name in ("outcomes", "factor", "reference", "discover", "network_job"):
        value = getattr(args, name, None)
        if value is not None and not value.strip(" ,"):
            return f"--{name.replace('_', '-')} {value!r} names nothing"
    return None


def results_problem(res: Results, args: argparse.Namespace, out: Path) -> str | None:
    """What in the command line does not fit these results (or where the report would go), or None."""
    root, where = res.root.resolve(), Path(out).resolve()
    if where == root or root.is_relative_to(where):
        return (f"--out {out} would put the report among the results it reads ({res.root}); choose another folder "
                "(the default is <sweep>/report)")
    outcomes = [c for c in res.summary.columns if c not in parameter_names(res.summary) and c not in
                ("replication", "seed", "job")]
    for item in args.smallest_effect or []:
        key = item.partition("=")[0].strip()
        if key not in outcomes:
            return f"--smallest-effect {key!r}: not an outcome of these results; outcomes: {', '.join(outcomes)}"
    varied = varied_parameters(res.summary)
    if args.factor and args.factor not in varied:
        return (f"--factor {args.factor!r}: not a parameter that varies in these results; varied: "
                + (", ".join(varied) or "none (a single condition)"))
    if args.reference:
        hue = design(res.summary, args.factor)[0]
        if hue is None:
            return f"--reference {args.reference!r}: these results compare no factor (nothing varies)"
        levels = [str(v) for v in figures.order_of(res.summary, hue)]
        if args.reference not in levels:
            return f"--reference {args.reference!r}: not a level of {hue}; levels: {', '.join(levels)}"
    return None


def parameter_names(summary: pd.DataFrame) -> list[str]:
    """The parameter columns of a summary (those before ``replication``)."""
    from analysis.load import parameter_columns

    return parameter_columns(summary)


def _written(out: Path, write: Any) -> int:
    """Run ``write`` (which returns the HTML report's path); print where the report is, or why it is not."""
    try:
        path = write()
    except OSError as err:
        print(f"govsim-report: cannot write the report to {out}: {getattr(err, 'strerror', None) or err}",
              file=sys.stderr)
        return 2
    print(f"govsim-report: wrote {out / 'report.md'}")
    print(f"govsim-report: report at {path}")
    return 0


def optimisation_main(args: argparse.Namespace) -> int:
    """``govsim-report`` on an optimisation folder: its report goes to ``<folder>/report`` or ``--out``."""
    from analysis import optimisation

    try:
        opt = optimisation.load_optimisation(args.path)
    except optimisation.OptimisationError as err:
        print(f"govsim-report: {err}", file=sys.stderr)
        return 2
    for line in opt.notes:
        print(f"govsim-report: note: {line}")
    ignored = [f"--{k.replace('_', '-')}" for k in ("outcomes", "factor", "reference", "discover", "network_job")
               if getattr(args, k, None)]
    if ignored:
        print(f"govsim-report: note: {', '.join(ignored)} apply to sweeps, not to an optimisation; ignored")
    smallest = {}
    for item in args.smallest_effect or []:
        key, _, value = item.partition("=")
        if key.strip() not in opt.names:
            print(f"govsim-report: --smallest-effect {key.strip()!r}: not an objective of this optimisation; "
                  f"objectives: {', '.join(opt.names)}", file=sys.stderr)
            return 2
        if not (np.isfinite(float(value)) and float(value) >= 0):
            print(f"govsim-report: --smallest-effect {item!r}: needs a finite number >= 0", file=sys.stderr)
            return 2
        smallest[key.strip()] = float(value)
    out = args.out or opt.root / "report"
    if optimisation.writes_into(out, opt.root):
        print(f"govsim-report: --out {out} is the optimisation folder itself; the report never writes among its "
              "files (choose another folder)", file=sys.stderr)
        return 2
    def write() -> Path:
        check_writable(out)
        return optimisation.write_report(opt, out, smallest)

    return _written(out, write)


if __name__ == "__main__":
    sys.exit(main())
