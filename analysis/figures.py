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

PALETTE = "colorblind"
LABELS: dict[str, str] = {
    "step": "Step (rounds, ~months)",
    "public_value": "Public value (share of optimum)",
    "public_value_raw": "Public value (mean contribution, 0-1)",
    "final_public_value": "Final public value (share of optimum)",
    "public_value_auc": "Public value AUC (mean share of optimum)",
    "steps_to_90": "Steps to 90 % of final value",
    "production": "Production (per professional, 0-1)",
    "production_mean": "Mean production (per professional, 0-1)",
    "mean_trust": "Trust between organisations (0-1)",
    "final_mean_trust": "Final trust between organisations (0-1)",
    "burnout_rate": "Burnt out (share of staff)",
    "burnout_rate_mean": "Mean share burnt out",
    "energy": "Energy (mean, 0-1)",
    "final_energy": "Final energy (mean, 0-1)",
    "voice_equity": "Voice equity (minority / majority)",
    "final_voice_equity": "Voice equity (minority / majority raised)",
    "final_adoption_equity": "Adoption equity (minority / majority)",
    "org_performance_sd": "Spread of organisations' performance (sd)",
    "final_org_performance_sd": "Final spread of organisations' performance",
    "informal_leader_share": "Informal leaders (share of staff)",
    "final_informal_leader_share": "Final share of informal leaders",
    "role_strain": "Role strain (0-1)",
    "heuristic_diversity": "Heuristic diversity of contributors (0-1)",
    "shock_drop": "Drop at shock (share of optimum)",
    "shock_recovery_steps": "Steps to recover 95 % after shock",
    "leadership": "Leadership style",
    "roles": "Role mix",
    "scenario": "Scenario",
    "network": "Network",
}
KEY_TRAJECTORIES = ("public_value", "mean_trust", "production", "burnout_rate")
KEY_OUTCOMES = ("final_public_value", "public_value_auc", "steps_to_90", "production_mean", "final_mean_trust",
                "burnout_rate_mean", "final_voice_equity")
STYLE_ORDER = ("directive", "transactional", "facilitative", "shared", "situational", "laissez_faire")


def set_style() -> None:
    """Apply the one style every govsim figure uses."""
    sns.set_theme(context="paper", style="ticks", palette=PALETTE, font_scale=1.1,
                  rc={"axes.spines.right": False, "axes.spines.top": False, "savefig.bbox": "tight"})


def label(column: str, width: int = 30) -> str:
    """Axis label (with units) of a column, wrapped to ``width`` characters per line."""
    import textwrap

    text = LABELS.get(column, column.replace("_", " ").replace(".", " ").capitalize())
    return "\n".join(textwrap.wrap(text, width)) if width else text


def order_of(frame: pd.DataFrame, column: str) -> list[Any]:
    """Levels of a column in a sensible order (styles in the canonical order, numbers sorted)."""
    values = list(pd.unique(frame[column].dropna()))
    if column == "leadership" or set(values) <= set(STYLE_ORDER):
        return [s for s in STYLE_ORDER if s in values]
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


def trajectories(ts: pd.DataFrame, metrics: Sequence[str] = KEY_TRAJECTORIES, hue: str | None = "leadership",
                 col: str | None = None) -> Figure:
    """Mean trajectories over time with 95 % Student-t CI bands across replications.

    Rows are metrics, columns the levels of ``col`` (if any), colours the levels of ``hue``.
    """
    set_style()
    cols = order_of(ts, col) if col else [None]
    metrics = [m for m in metrics if m in ts.columns]
    fig, axes = plt.subplots(len(metrics), len(cols), figsize=(3.4 * len(cols) + 1.8, 2.5 * len(metrics)),
                             sharex=True, squeeze=False)
    hue_order = order_of(ts, hue) if hue else None
    colours = dict(zip(hue_order or [None], sns.color_palette(PALETTE, len(hue_order or [None])), strict=True))
    for j, level in enumerate(cols):
        data = ts if level is None else ts[ts[col] == level]
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            band = mean_band(data, [hue] if hue else [], metric)
            for h in hue_order or [None]:
                part = band if h is None else band[band[hue] == h]
                ax.plot(part["step"], part["mean"], color=colours[h], linewidth=1.2, label=str(h))
                ax.fill_between(part["step"], part["low"], part["high"], color=colours[h], alpha=0.2, linewidth=0)
            ax.set_ylabel(label(metric) if j == 0 else "")
            ax.set_xlabel(label("step") if i == len(metrics) - 1 else "")
            if i == 0 and level is not None:
                ax.set_title(f"{label(col, 0)}: {level}")
    if hue:
        handles, labels = axes[0, -1].get_legend_handles_labels()
        fig.legend(handles, labels, title=label(hue, 0), loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
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
                   hue: str | None = None) -> Figure:
    """Point plots of per-replication outcomes: mean and 95 % CI per condition, a panel per outcome."""
    set_style()
    outcomes = [o for o in outcomes if o in summary.columns and summary[o].notna().any()]
    ncol = min(3, len(outcomes))
    nrow = int(np.ceil(len(outcomes) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False)
    x_order = order_of(summary, x)
    hue_order = order_of(summary, hue) if hue else None
    for k, outcome in enumerate(outcomes):
        ax = axes.flat[k]
        sns.pointplot(data=summary, x=x, y=outcome, hue=hue, order=x_order, hue_order=hue_order,
                      errorbar=("ci", 95), n_boot=1000, seed=0, dodge=0.4 if hue else False, linestyle="none",
                      markersize=4, capsize=0.15, err_kws={"linewidth": 1}, ax=ax, legend=(k == 0 and hue is not None))
        ax.set_ylabel(label(outcome))
        ax.set_xlabel(label(x))
        ax.tick_params(axis="x", rotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    for ax in list(axes.flat)[len(outcomes):]:
        ax.remove()
    if hue:
        leg = axes.flat[0].get_legend()
        if leg is not None:
            handles, labels = axes.flat[0].get_legend_handles_labels()
            leg.remove()
            fig.legend(handles, labels, title=label(hue, 0), loc="center left", bbox_to_anchor=(1.0, 0.5),
                       frameon=False)
    fig.tight_layout()
    return fig


def heatmap(summary: pd.DataFrame, outcome: str, x: str, y: str) -> Figure:
    """Mean of ``outcome`` over two swept parameters."""
    set_style()
    table = summary.groupby([y, x])[outcome].mean().unstack(x)
    table = table.reindex(index=order_of(summary, y), columns=order_of(summary, x))
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.6 * table.shape[0] + 1.5))
    sns.heatmap(table, annot=True, fmt=".2f", cmap="viridis", cbar_kws={"label": label(outcome)}, ax=ax)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    ax.tick_params(axis="x", rotation=35)
    fig.tight_layout()
    return fig


def tradeoff(summary: pd.DataFrame, x: str = "production_mean", y: str = "final_public_value",
             hue: str | None = "leadership", style: str | None = None) -> Figure:
    """Production against public value: one point per replication, larger markers for condition means."""
    set_style()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    hue_order = order_of(summary, hue) if hue else None
    sns.scatterplot(data=summary, x=x, y=y, hue=hue, hue_order=hue_order, style=style, alpha=0.35, s=18, ax=ax,
                    legend=False)
    if hue:
        means = summary.groupby([hue] + ([style] if style else []))[[x, y]].mean().reset_index()
        sns.scatterplot(data=means, x=x, y=y, hue=hue, hue_order=hue_order, style=style, s=110,
                        edgecolor="black", ax=ax)
        ax.legend(title=None if style else label(hue, 0), loc="center left", bbox_to_anchor=(1.0, 0.5),
                  frameon=False)
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    fig.tight_layout()
    return fig


def trust_burnout(ts: pd.DataFrame, hue: str | None = "leadership") -> Figure:
    """Dynamics of trust between organisations and of burnout, with 95 % CI bands."""
    return trajectories(ts, metrics=("mean_trust", "burnout_rate", "energy"), hue=hue)


def network_snapshot(params: Any, seed: Any, steps: int = 0, title: str = "") -> Figure:
    """The collaboration network of one run: colour = organisation, marker = dominant role, width = trust.

    The network is rebuilt from the run's parameters and replication seed with the
    model (``steps`` steps are replayed; 0 draws the initial network), since results
    do not store the network itself.

    Args:
        params: The run's :class:`sim.params.ModelParams`.
        seed: The replication's seed sequence (or an int).
        steps: Steps to run before drawing.
        title: Figure title.
    """
    import networkx as nx

    from sim.model import GovernanceModel
    from sim.roles import ROLE_LABELS

    set_style()
    model = GovernanceModel(params, rng=seed)
    for _ in range(steps):
        model.step()
    g = model.network.to_networkx(model.org_of)
    pos = nx.spring_layout(g, seed=1, k=1.5 / np.sqrt(max(g.number_of_nodes(), 1)), iterations=60)
    fig, ax = plt.subplots(figsize=(7.5, 6.0))
    trust = np.array([d["trust"] for _, _, d in g.edges(data=True)])
    nx.draw_networkx_edges(g, pos, ax=ax, width=0.3 + 1.7 * trust, alpha=0.35, edge_color="0.4")
    colours = sns.color_palette(PALETTE, model.n_orgs)
    markers = {"expert": "s", "competitor": "^", "partner": "o"}
    role = np.argmax(model.effective, axis=1)
    for o, _org in enumerate(model.organisations):
        for r, name in enumerate(ROLE_LABELS):
            nodes = [int(i) for i in np.flatnonzero((model.org_of == o) & (role == r))]
            if nodes:
                nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=[colours[o]], node_shape=markers[name],
                                       node_size=28, ax=ax, linewidths=0.3, edgecolors="black")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", linestyle="", color=colours[o], label=org.name)
               for o, org in enumerate(model.organisations)]
    handles += [Line2D([], [], marker=m, linestyle="", color="0.3", label=f"{n} (role)") for n, m in markers.items()]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8)
    ax.set_title(title or f"Collaboration network at step {steps} (line width = trust)")
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
