"""Paper-ready figures: each a function from a tidy DataFrame to a matplotlib Figure.

One style for all (seaborn ``ticks`` at paper scale, the colour-blind-safe
``colorblind`` palette), axis labels with units from :data:`LABELS`, and
:func:`save` writes PNG (300 dpi) and SVG. Functions take the column to colour
by and to facet by, so a report can fit them to whatever was swept.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from analysis.outcomes import OUTCOMES  # noqa: E402
from analysis.palette import STYLE_ORDER, colours_for  # noqa: E402

PALETTE = "colorblind"
LABELS: dict[str, str] = {
    "step": "Step (rounds, ~months)",
    "public_value": "Public value (share of optimum)",
    "public_value_raw": "Public value (mean contribution, 0-1)",
    "public_value_gap_closed": "Public value (share of random-to-optimum gap closed)",
    "final_public_value": "Public value at the last step (share of optimum)",
    "window_public_value": "Public value, last 10 % of steps (share of optimum)",
    "final_public_value_gap_closed": "Gap closed at the last step",
    "window_public_value_gap_closed": "Gap closed, mean of last 10 % of steps",
    "public_value_auc": "Public value AUC (mean share of optimum)",
    "gap_closed_auc": "Gap closed, mean over all steps",
    "steps_to_half_gap": "Steps to close half the gap (censored at horizon)",
    "production": "Production (per professional, 0-1)",
    "production_mean": "Mean production (per professional, 0-1)",
    "mean_trust": "Trust between organisations (0-1)",
    "final_mean_trust": "Trust at the last step (0-1)",
    "window_mean_trust": "Trust, last 10 % of steps (0-1)",
    "burnout_rate": "Burnt out (share of staff)",
    "burnout_rate_mean": "Mean share burnt out",
    "any_burnout": "Share of runs with any burnout",
    "person_steps_lost": "Person-steps lost to burnout",
    "energy": "Energy (mean, 0-1)",
    "final_energy": "Final energy (mean, 0-1)",
    "window_energy": "Energy, last 10 % of steps (0-1)",
    "voice_equity": "Voice equity (minority / majority)",
    "final_voice_equity": "Voice equity (minority / majority raised)",
    "window_voice_equity": "Voice equity, last 10 % of steps",
    "final_adoption_equity": "Adoption equity (minority / majority)",
    "org_performance_sd": "Spread of organisations' performance (sd)",
    "final_org_performance_sd": "Final spread of organisations' performance",
    "informal_leader_share": "Informal leaders (share of staff)",
    "final_informal_leader_share": "Final share of informal leaders",
    "window_informal_leader_share": "Informal leaders, last 10 % of steps",
    "role_strain": "Role strain (0-1)",
    "heuristic_diversity": "Heuristic diversity of contributors (0-1)",
    "shock_drop": "Drop at shock vs no-shock twin (gap closed)",
    "shock_recovery_steps": "Steps to recover to the twin (restricted mean)",
    "shock_recovery_censored": "Share never recovered",
    "leadership": "Leadership style",
    "roles": "Role mix",
    "scenario": "Scenario",
    "network": "Network",
}
LABELS.update({o.name: o.label for o in OUTCOMES})  # an outcome's label is declared once, in its table row
KEY_TRAJECTORIES = ("public_value_gap_closed", "mean_trust", "production", "burnout_rate")
KEY_OUTCOMES = ("window_public_value_gap_closed", "gap_closed_auc", "steps_to_half_gap", "production_mean",
                "window_mean_trust", "burnout_rate_mean", "window_voice_equity")


def set_style() -> None:
    """Apply the one style every govsim figure uses."""
    sns.set_theme(context="paper", style="ticks", palette=PALETTE, font_scale=1.1,
                  rc={"axes.spines.right": False, "axes.spines.top": False, "savefig.bbox": "tight"})


def label(column: str, width: int = 30) -> str:
    """Axis label (with units) of a column, wrapped to ``width`` characters per line."""
    import textwrap

    text = LABELS.get(column, column.replace("_", " ").replace(".", " ").capitalize())
    return "\n".join(textwrap.wrap(text, width)) if width else text


def short_name(column: str) -> str:
    """A factor's name without its config group (``problem.K`` -> ``K``), for labels such as ``K = 1``."""
    return column.rsplit(".", 1)[-1]


def level_title(column: str, level: Any) -> str:
    """A facet's title naming its factor: ``K = 1``."""
    return f"{short_name(column)} = {level}"


def level_name(column: str | None, level: Any) -> str:
    """A legend entry: a style as itself, any other level with its factor (``K = 1``)."""
    return str(level) if column in (None, "leadership") else level_title(column, level)


def mark_shocks(ax: Any, shocks: Sequence[int], label_it: bool = False) -> None:
    """A dashed vertical line at each shock step (labelled "shock" on one axis)."""
    for i, step in enumerate(shocks):
        ax.axvline(step, color="0.25", linestyle="--", linewidth=0.9, zorder=0,
                   label="shock" if label_it and i == 0 else None)
        if label_it:
            ax.annotate("shock", (step, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
                        textcoords="offset points", fontsize=7, color="0.25")


def order_of(frame: pd.DataFrame, column: str) -> list[Any]:
    """Levels of a column in a sensible order (styles in the canonical order, numbers sorted)."""
    values = list(pd.unique(frame[column].dropna()))
    if column == "leadership" or set(map(str, values)) <= set(STYLE_ORDER):
        return [s for s in STYLE_ORDER if s in values] + sorted(v for v in values if v not in STYLE_ORDER)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def save(fig: Figure, directory: Path, name: str) -> list[Path]:
    """Write ``name.png`` (300 dpi) and ``name.svg``; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"{name}.png", directory / f"{name}.svg"]
    fig.savefig(paths[0], dpi=300)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def averaged_over(frame: pd.DataFrame, shown: Sequence[str | None], varied: Sequence[str] | None) -> str:
    """Title suffix naming the swept factors a figure averages over ("" if none).

    A factor in ``varied`` that ``frame`` no longer holds was averaged within each seed before
    the figure (:func:`analysis.stats.seed_means`); the title says so.
    """
    rest = [v for v in (varied or []) if v not in shown and (v not in frame or frame[v].astype(str).nunique() > 1)]
    within = [v for v in rest if v not in frame]
    if not rest:
        return ""
    return f" (averaged over {', '.join(rest)}" + (" within each seed" if within == rest else "") + ")"


def trajectories(ts: pd.DataFrame, metrics: Sequence[str] = KEY_TRAJECTORIES, hue: str | None = "leadership",
                 col: str | None = None, varied: Sequence[str] | None = None, title: str = "",
                 shocks: Sequence[int] = ()) -> Figure:
    """Mean trajectories over time with 95 % Student-t CI bands across replications (or seeds).

    Rows are metrics, columns the levels of ``col`` (if any, titled ``factor = level``),
    colours the levels of ``hue`` (styles in their fixed colours). Facets of one metric
    share the y-axis. The title names every swept factor in ``varied`` that the figure
    averages over; a dashed line marks each step in ``shocks``.
    """
    set_style()
    cols = order_of(ts, col) if col else [None]
    metrics = [m for m in metrics if m in ts.columns]
    fig, axes = plt.subplots(len(metrics), len(cols), figsize=(3.4 * len(cols) + 1.8, 2.5 * len(metrics) + 0.4),
                             sharex=True, sharey="row", squeeze=False)
    hue_order = order_of(ts, hue) if hue else [None]
    colours = colours_for(hue_order, hue) if hue else {None: "#0072B2"}
    for j, level in enumerate(cols):
        data = ts if level is None else ts[ts[col] == level]
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            band = mean_band(data, [hue] if hue else [], metric)
            for h in hue_order:
                part = band if h is None else band[band[hue] == h]
                ax.plot(part["step"], part["mean"], color=colours[h], linewidth=1.2, label=level_name(hue, h))
                ax.fill_between(part["step"], part["low"], part["high"], color=colours[h], alpha=0.2, linewidth=0)
            mark_shocks(ax, shocks, label_it=i == 0)
            ax.set_ylabel(label(metric) if j == 0 else "")
            ax.set_xlabel(label("step") if i == len(metrics) - 1 else "")
            if i == 0 and level is not None:
                ax.set_title(level_title(col, level))
    if hue:
        handles, labels = axes[0, -1].get_legend_handles_labels()
        keep = [(h, lb) for h, lb in zip(handles, labels, strict=True) if lb != "shock"]
        fig.legend([h for h, _ in keep], [lb for _, lb in keep], title=label(hue, 0), loc="center left",
                   bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle((title or "Mean over replications with 95 % CI") + averaged_over(ts, (hue, col), varied),
                 fontsize=10)
    fig.tight_layout()
    return fig


def mean_band(ts: pd.DataFrame, by: Sequence[str], metric: str, level: float = 0.95) -> pd.DataFrame:
    """Mean of ``metric`` per step (and ``by``) with a Student-t confidence band across replications.

    The band is clipped to the range the metric takes in ``ts``.
    """
    from scipy import stats as st

    g = ts.groupby([*by, "step"])[metric].agg(["mean", "std", "count"]).reset_index()
    half = st.t.ppf(0.5 + level / 2, np.maximum(g["count"] - 1, 1)) * g["std"].fillna(0) / np.sqrt(g["count"])
    lo, hi = ts[metric].min(), ts[metric].max()  # a band never leaves the observed range
    g["low"], g["high"] = (g["mean"] - half).clip(lo, hi), (g["mean"] + half).clip(lo, hi)
    return g


def final_outcomes(summary: pd.DataFrame, outcomes: Sequence[str] = KEY_OUTCOMES, x: str = "leadership",
                   hue: str | None = None, varied: Sequence[str] | None = None) -> Figure:
    """Per-condition mean and 95 % CI (by the outcome's kind) of per-replication outcomes, a panel per outcome.

    Without ``hue``, points take the colour of their ``x`` level (styles in their
    fixed colours); with ``hue``, of their ``hue`` level, dodged. Give one row per seed
    (:func:`analysis.stats.seed_means`) when a pooled factor shares seeds.
    """
    from analysis.stats import mean_ci

    set_style()
    outcomes = [o for o in outcomes if o in summary.columns and summary[o].notna().any()]
    ncol = max(1, min(3, len(outcomes)))
    nrow = max(1, int(np.ceil(len(outcomes) / ncol)))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow + 0.4), squeeze=False)
    x_order = order_of(summary, x)
    hue_order = order_of(summary, hue) if hue else [None]
    colours = colours_for(hue_order, hue) if hue else colours_for(x_order, x)
    width = 0.5
    for k, outcome in enumerate(outcomes):
        ax = axes.flat[k]
        table = mean_ci(summary, [c for c in (x, hue) if c], outcome)
        for h_i, h in enumerate(hue_order):
            offset = (h_i - (len(hue_order) - 1) / 2) * width / max(len(hue_order), 1) if hue else 0.0
            for x_i, xv in enumerate(x_order):
                row = table[(table[x] == xv) & ((table[hue] == h) if hue else True)]
                if row.empty or not np.isfinite(row["mean"].iloc[0]):
                    continue
                m, lo, hi = row[["mean", "ci_low", "ci_high"]].iloc[0]
                ax.errorbar(x_i + offset, m, yerr=[[m - lo], [hi - m]], fmt="o", markersize=4, capsize=3,
                            linewidth=1, color=colours[h if hue else xv],
                            label=level_name(hue, h) if x_i == 0 else None)
        ticks = [str(v) if x == "leadership" else level_title(x, v) for v in x_order]
        ax.set_xticks(range(len(x_order)), ticks, rotation=35, ha="right")
        ax.set_ylabel(label(outcome))
        ax.set_xlabel(label(x))
    for ax in list(axes.flat)[len(outcomes):]:
        ax.remove()
    if hue:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, title=label(hue, 0), loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle("Mean with 95 % CI" + averaged_over(summary, (x, hue), varied), fontsize=10)
    fig.tight_layout()
    return fig


def differences(table: pd.DataFrame, factor: str, title: str = "") -> Figure:
    """Forest plot of paired differences with their (adjusted) intervals and the smallest effect of interest.

    Args:
        table: Rows of :func:`analysis.stats.paired_differences` (several outcomes allowed).
        factor: The compared factor's column (its level colours the points).
        title: Figure title.
    """
    set_style()
    outcomes = list(pd.unique(table["outcome"]))
    ncol = max(1, min(3, len(outcomes)))
    nrow = int(np.ceil(len(outcomes) / ncol))
    rows_per = int(table.groupby("outcome").size().max())
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.3 * ncol + 2.2, (0.32 * rows_per + 1.5) * nrow + 0.4),
                             squeeze=False, sharey=True)
    for k, outcome in enumerate(outcomes):
        ax = axes.flat[k]
        part = table[table["outcome"] == outcome].reset_index(drop=True)
        names = list(part["comparison"]) if "comparison" in part else [
            f"{r[factor]} − {r['reference']}" for _, r in part.iterrows()]
        colours = colours_for(list(part[factor]), factor)
        for i, r in part.iterrows():
            ax.errorbar(r["difference"], i, xerr=[[r["difference"] - r["ci_low"]], [r["ci_high"] - r["difference"]]],
                        fmt="o", color=colours[r[factor]], capsize=3, markersize=4)
        sesoi = part["smallest_effect"].dropna()
        if len(sesoi):
            h = float(sesoi.iloc[0])
            ax.axvspan(-h, h, color="0.85", zorder=0, linewidth=0)
        ax.axvline(0, color="0.3", linewidth=0.8)
        if k % ncol == 0:
            ax.set_yticks(range(len(names)), names)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_title(label(outcome, 34), fontsize=9)
        ax.set_xlabel("Difference (outcome units)")
    for ax in list(axes.flat)[len(outcomes):]:
        ax.remove()
    fig.suptitle(title or "Paired differences with adjusted intervals; grey band = ± smallest effect of interest",
                 fontsize=10)
    fig.tight_layout()
    return fig


def heatmap(summary: pd.DataFrame, outcome: str, x: str, y: str, varied: Sequence[str] | None = None,
            reference: Any = None) -> Figure:
    """Mean of ``outcome`` over two swept parameters (the title names factors averaged over).

    Colour scales: sequential from zero (or the outcome's lower bound) for an outcome that
    cannot be negative, so a paler cell is a smaller value, not merely the smallest shown;
    diverging around zero for one that can. With ``reference`` (a level of ``x``), each
    cell is its difference from the reference column, on a diverging scale around 0.
    """
    from analysis.outcomes import outcome as declared

    set_style()
    table = summary.groupby([y, x])[outcome].mean().unstack(x)
    table = table.reindex(index=order_of(summary, y), columns=order_of(summary, x))
    spec = declared(outcome)
    cbar = label(outcome)
    if reference is not None and reference in table.columns:
        table = table.sub(table[reference], axis=0)
        cbar = f"difference from {short_name(x)} = {reference}"
    values = table.to_numpy(dtype=float)
    top = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    if reference is None and (np.nanmin(values) >= 0 or spec.bounds[0] >= 0):
        low = max(0.0, spec.bounds[0]) if np.isfinite(spec.bounds[0]) else 0.0
        high = spec.bounds[1] if spec.bounds == (0.0, 1.0) else float(np.nanmax(values))
        scale = {"cmap": "viridis", "vmin": low, "vmax": high}
    else:
        scale = {"cmap": "vlag", "center": 0.0, "vmin": -top, "vmax": top}
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 3.5, 0.6 * table.shape[0] + 1.8))
    sns.heatmap(table, annot=True, fmt=".2f", cbar_kws={"label": cbar}, ax=ax, **scale)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.tick_params(axis="x", rotation=35)
    ax.tick_params(axis="y", rotation=0)
    ax.set_title("Mean over replications" + averaged_over(summary, (x, y), varied), fontsize=10)
    fig.tight_layout()
    return fig


def tradeoff(summary: pd.DataFrame, x: str = "production_mean", y: str = "window_public_value_gap_closed",
             hue: str | None = "leadership", style: str | None = None, varied: Sequence[str] | None = None) -> Figure:
    """Production against public value: one point per replication, larger markers for condition means."""
    set_style()
    if y not in summary:
        y = "final_public_value"
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    hue_order = order_of(summary, hue) if hue else None
    palette = colours_for(hue_order, hue) if hue else None
    sns.scatterplot(data=summary, x=x, y=y, hue=hue, hue_order=hue_order, palette=palette, style=style, alpha=0.35,
                    s=18, ax=ax, legend=False)
    if hue:
        means = summary.groupby([hue] + ([style] if style else []))[[x, y]].mean().reset_index()
        sns.scatterplot(data=means, x=x, y=y, hue=hue, hue_order=hue_order, palette=palette, style=style, s=110,
                        edgecolor="black", ax=ax)
        ax.legend(title=None if style else label(hue, 0), loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.set_title("Replications (small) and condition means (large)" + averaged_over(summary, (hue, style), varied),
                 fontsize=10)
    fig.tight_layout()
    return fig


def trust_burnout(ts: pd.DataFrame, hue: str | None = "leadership", col: str | None = None,
                  varied: Sequence[str] | None = None, shocks: Sequence[int] = ()) -> Figure:
    """Dynamics of trust between organisations and of burnout, with 95 % CI bands (faceted like the trajectories)."""
    return trajectories(ts, metrics=("mean_trust", "burnout_rate", "energy"), hue=hue, col=col, varied=varied,
                        shocks=shocks)


NETWORK_FILES = ("network.graphml",)
"""Files a job may write with its final collaboration network (nodes: ``org``, optional ``organisation``
and ``role``; edges: ``trust``). The report draws it if present; it never rebuilds a network."""


def find_network(job_dir: Path) -> Path | None:
    """The network file a job wrote, or None."""
    for name in NETWORK_FILES:
        path = Path(job_dir) / name
        if path.is_file():
            return path
    return None


def network_figure(graph: Any, title: str) -> Figure:
    """Draw a job's recorded collaboration network: colour = organisation, marker = role, width = trust."""
    import networkx as nx
    from matplotlib.lines import Line2D

    set_style()
    g = graph
    pos = nx.spring_layout(g, seed=1, k=1.5 / np.sqrt(max(g.number_of_nodes(), 1)), iterations=60)
    fig, ax = plt.subplots(figsize=(7.5, 6.0))
    trust = np.array([float(d.get("trust", 0.5)) for _, _, d in g.edges(data=True)])
    nx.draw_networkx_edges(g, pos, ax=ax, width=0.3 + 1.7 * trust, alpha=0.35, edge_color="0.4")
    orgs = sorted({str(d.get("organisation", d.get("org", ""))) for _, d in g.nodes(data=True)})
    colours = dict(zip(orgs, sns.color_palette(PALETTE, len(orgs)), strict=True))
    markers = {"expert": "s", "competitor": "^", "partner": "o"}
    for org in orgs:
        for role, marker in {**markers, "": "o"}.items():
            nodes = [n for n, d in g.nodes(data=True) if str(d.get("organisation", d.get("org", ""))) == org
                     and str(d.get("role", "")) == role]
            if nodes:
                nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=[colours[org]], node_shape=marker,
                                       node_size=28, ax=ax, linewidths=0.3, edgecolors="black")
    handles = [Line2D([], [], marker="o", linestyle="", color=colours[o], label=o) for o in orgs]
    handles += [Line2D([], [], marker=m, linestyle="", color="0.3", label=f"{n} (role)") for n, m in markers.items()]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8)
    ax.set_title(title)
    ax.axis("off")
    fig.tight_layout()
    return fig


def sensitivity_bars(indices: pd.DataFrame, value: str, low: str, high: str, title: str) -> Figure:
    """Horizontal bars of sensitivity indices with their confidence intervals, one panel per outcome."""
    set_style()
    outcomes = list(pd.unique(indices["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4.0 * len(outcomes), 0.45 * indices["parameter"].nunique()
                                                          + 1.6), squeeze=False, sharey=True)
    for ax, outcome in zip(axes.flat, outcomes, strict=True):
        data = indices[indices["outcome"] == outcome]
        ax.barh(data["parameter"], data[value], xerr=[data[value] - data[low], data[high] - data[value]],
                color=sns.color_palette(PALETTE)[0], capsize=3)
        ax.set_title(label(outcome, 0), fontsize=9)
        ax.set_xlabel(value)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
