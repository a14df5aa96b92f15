"""Figures and tables of the docking studies, beside the published results.

:func:`docking_figures` draws each study's published pattern from a sweep's
frame (the rows :mod:`sim.docking` writes); :func:`docking_table` gives the mean
and standard error over landscapes per condition, with the reference value
where one exists. ``govsim-report`` calls both when the results carry a
``docking`` column.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from analysis.figures import PALETTE, mean_band, set_style

NETWORK_ORDER = ("linear", "small_world", "random", "siloed", "full")
OUTCOMES = {
    "nk": ("local_optima", "walk_fitness", "walk_reaches_optimum", "local_optimum_fitness", "walk_fitness_raw",
           "global_optimum"),
    "lazer_friedman": ("score_round_10", "final_score", "mean_score", "final_at_optimum", "final_distinct_solutions"),
    "hong_page": ("best_group", "random_group", "random_minus_best", "random_wins", "best_diversity",
                  "random_diversity", "best_agent_ability"),
}
CONDITIONS = {"nk": ["N", "K"], "lazer_friedman": ["network"], "hong_page": ["group_size", "l"]}

# Wallrich (2022), "Groups of diverse problem-solvers outperform groups of highest-ability
# problem-solvers - most of the time", a direct open replication of Hong & Page (2004) with 500
# rings: mean (sd) of the group's solution and diversity in %, by group size and l.
HONG_PAGE_REPLICATION = pd.DataFrame(
    [(10, 12, "best", 92.34, 1.26, 84.63), (10, 12, "random", 94.35, 0.56, 91.75),
     (10, 20, "best", 93.55, 1.25, 87.06), (10, 20, "random", 95.73, 0.48, 95.06),
     (20, 12, "best", 93.66, 0.82, 85.79), (20, 12, "random", 94.74, 0.47, 91.82),
     (20, 20, "best", 95.00, 0.83, 88.52), (20, 20, "random", 96.48, 0.42, 95.05)],
    columns=["group_size", "l", "group", "solution", "solution_sd", "diversity_pct"])


def expected_local_optima_max_k(n: int) -> float:
    """Expected number of one-bit local optima of a fully random landscape (K = N - 1): 2^N / (N + 1)."""
    return 2.0 ** n / (n + 1)


def study_of(frame: pd.DataFrame) -> str:
    """The docking study of a results frame."""
    studies = frame["docking"].dropna().unique()
    if len(studies) != 1:
        raise ValueError(f"expected results of one docking study, got {list(studies)}")
    return str(studies[0])


def docking_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over landscapes of each outcome, per condition.

    Columns: the condition columns, ``landscapes``, then ``<outcome>`` formatted
    as ``mean ± se``. For Kauffman's K = N - 1 the expected number of local optima
    is added; for Hong & Page the published replication's values.
    """
    study = study_of(summary)
    by = [c for c in CONDITIONS[study] if c in summary]
    outcomes = [o for o in OUTCOMES[study] if o in summary]
    g = summary.groupby(by)
    table = g.size().rename("landscapes").to_frame()
    for o in outcomes:
        mean, se = g[o].mean(), g[o].std(ddof=1) / np.sqrt(g[o].count())
        table[o] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean, se.fillna(0.0), strict=True)]
    table = table.reset_index()
    if study == "nk":  # K = 0: one optimum of expected fitness E[max(U, U')] = 2/3; K = N - 1: 2^N/(N+1) optima
        table["theory_optima"] = [f"{expected_local_optima_max_k(n):.1f}" if k == n - 1 else ("1" if k == 0 else "")
                                  for n, k in zip(table["N"], table["K"], strict=True)]
        table["theory_global_optimum"] = ["0.667" if k == 0 else "" for k in table["K"]]
    if study == "hong_page":
        ref = HONG_PAGE_REPLICATION.pivot_table(index=["group_size", "l"], columns="group", values="solution")
        keys = list(zip(table["group_size"], table["l"], strict=True))
        table["published_best"] = [ref["best"].get(key, np.nan) for key in keys]
        table["published_random"] = [ref["random"].get(key, np.nan) for key in keys]
    if study == "lazer_friedman":
        table["network"] = pd.Categorical(table["network"], [n for n in NETWORK_ORDER if n in set(table["network"])],
                                          ordered=True)
        table = table.sort_values("network").reset_index(drop=True)
        table["network"] = table["network"].astype(str)
    return table


def nk_figure(summary: pd.DataFrame) -> Figure:
    """Local optima (log scale, with the theory), relative walk outcomes and absolute walk fitness against K."""
    set_style()
    n = int(summary["N"].iloc[0])
    g = summary.groupby("K")
    k = np.array(sorted(summary["K"].unique()))
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13.0, 3.8))
    mean, se = g["local_optima"].mean(), g["local_optima"].sem()
    ax1.errorbar(k, mean[k], yerr=1.96 * se[k].fillna(0), marker="o", color=sns.color_palette(PALETTE)[0],
                 capsize=2, label="govsim (mean, 95 % CI)")
    ax1.scatter([0, n - 1], [1, expected_local_optima_max_k(n)], marker="x", s=60, color="black", zorder=5,
                label=f"theory: 1 at K = 0,\n$2^N/(N+1)$ = {expected_local_optima_max_k(n):.0f} at K = N−1")
    ax1.set_yscale("log")
    ax1.set_xlabel("K (interdependencies per decision)")
    ax1.set_ylabel("Local optima per landscape")
    ax1.set_title(f"Local optima, N = {n}")
    ax1.legend(frameon=False, fontsize=8, loc="upper left")
    colours = sns.color_palette(PALETTE, 4)
    for colour, (col, text) in zip(colours[:3], [("walk_fitness", "end of adaptive walk"),
                                             ("local_optimum_fitness", "mean local optimum"),
                                                 ("walk_reaches_optimum", "walks reaching global optimum (share)")],
                                   strict=True):
        m, s = g[col].mean(), g[col].sem().fillna(0)
        ax2.errorbar(k, m[k], yerr=1.96 * s[k], marker="o", color=colour, capsize=2, label=text)
    ax2.set_xlabel("K (interdependencies per decision)")
    ax2.set_ylabel("Fitness / global optimum; share")
    ax2.set_ylim(0, 1.05)
    ax2.set_title("Relative to the global optimum")
    ax2.legend(frameon=False, fontsize=8, loc="center right")
    if "walk_fitness_raw" in summary:
        for colour, (col, text) in zip([colours[3], colours[0]], [("global_optimum", "global optimum"),
                                                                   ("walk_fitness_raw", "end of adaptive walk")],
                                       strict=True):
            m, s = g[col].mean(), g[col].sem().fillna(0)
            ax3.errorbar(k, m[k], yerr=1.96 * s[k], marker="o", color=colour, capsize=2, label=text)
        ax3.axhline(2 / 3, color="grey", linestyle=":", linewidth=1, label="2/3: expected optimum at K = 0")
        ax3.set_xlabel("K (interdependencies per decision)")
        ax3.set_ylabel("Fitness (mean contribution, 0-1)")
        ax3.set_title("Absolute fitness: peak at small K")
        ax3.legend(frameon=False, fontsize=8, loc="center right")
    else:
        ax3.set_visible(False)
    fig.tight_layout()
    return fig


def lazer_friedman_figure(ts: pd.DataFrame) -> Figure:
    """Mean score over rounds by network (95 % CI bands), and the distinct solutions left."""
    set_style()
    nets = [x for x in NETWORK_ORDER if x in set(ts["network"])]
    colours = dict(zip(nets, sns.color_palette(PALETTE, len(nets)), strict=True))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    for metric, ax in (("score", ax1), ("distinct_solutions", ax2)):
        band = mean_band(ts, ["network"], metric)
        for net in nets:
            part = band[band["network"] == net]
            ax.plot(part["step"], part["mean"], color=colours[net], linewidth=1.4, label=net.replace("_", "-"))
            ax.fill_between(part["step"], part["low"], part["high"], color=colours[net], alpha=0.2, linewidth=0)
        ax.set_xlabel("Round")
    n_land = ts["replication"].nunique()
    ax1.set_ylabel("Mean score, (fitness / optimum)$^8$")
    ax1.set_title(f"Performance over time ({n_land} landscapes)")
    ax1.legend(title="Network", frameon=False)
    ax2.set_ylabel("Distinct solutions among agents")
    ax2.set_yscale("log")
    ax2.set_title("Diversity of solutions kept")
    fig.tight_layout()
    return fig


def hong_page_figure(summary: pd.DataFrame) -> Figure:
    """Best versus random groups by l and group size, beside the published replication."""
    set_style()
    sizes = sorted(summary["group_size"].unique())
    ls = sorted(summary["l"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.6))
    colours = sns.color_palette(PALETTE, 2)
    width = 0.18
    x = np.arange(len(sizes) * len(ls))
    ticks = [f"{s} solvers\nl = {lv}" for s in sizes for lv in ls]
    for gi, (group, colour) in enumerate(zip(("best", "random"), colours, strict=True)):
        means, errs, pub, pub_sd = [], [], [], []
        for s in sizes:
            for lv in ls:
                part = summary[(summary["group_size"] == s) & (summary["l"] == lv)][f"{group}_group"]
                means.append(part.mean())
                errs.append(1.96 * part.sem() if len(part) > 1 else 0.0)
                ref = HONG_PAGE_REPLICATION[(HONG_PAGE_REPLICATION["group_size"] == s)
                                            & (HONG_PAGE_REPLICATION["l"] == lv)
                                            & (HONG_PAGE_REPLICATION["group"] == group)]
                pub.append(ref["solution"].iloc[0] if len(ref) else np.nan)
                pub_sd.append(ref["solution_sd"].iloc[0] if len(ref) else np.nan)
        offset = (gi - 0.5) * 2 * width
        axes[0].errorbar(x + offset - width / 2, means, yerr=errs, fmt="o", color=colour, capsize=2,
                         label=f"{group} group, govsim (95 % CI)")
        axes[0].errorbar(x + offset + width / 2, pub, yerr=pub_sd, fmt="s", mfc="white", color=colour, capsize=2,
                         label=f"{group} group, replication (sd)")
    axes[0].set_xticks(x, ticks)
    axes[0].set_ylabel("Value reached (ring values 0-100)")
    axes[0].set_title("Group performance")
    axes[0].legend(frameon=False, fontsize=7, loc="lower right")
    diff = summary.assign(cond=[f"{s} solvers\nl = {lv}" for s, lv in zip(summary["group_size"], summary["l"],
                                                                           strict=True)])
    sns.stripplot(data=diff, x="cond", y="random_minus_best", order=ticks, ax=axes[1], size=3, alpha=0.6,
                  color=colours[1], jitter=0.25)
    axes[1].axhline(0, color="black", linewidth=0.8)
    wins = diff.groupby("cond")["random_wins"].mean()
    for i, t in enumerate(ticks):
        axes[1].annotate(f"random wins\n{wins.get(t, np.nan):.0%}", (i, diff["random_minus_best"].max()),
                         ha="center", va="bottom", fontsize=7)
    axes[1].set_xlabel("")
    axes[1].set_ylabel("Random minus best group (per ring)")
    axes[1].set_title(f"Diversity trumps ability? ({summary['replication'].nunique()} rings)")
    axes[1].margins(y=0.2)
    fig.tight_layout()
    return fig


def docking_figures(frame: pd.DataFrame) -> dict[str, Figure]:
    """The published-pattern figure of the study in ``frame`` (timeseries or summary rows)."""
    study = study_of(frame)
    if study == "nk":
        return {"docking_nk": nk_figure(frame)}
    if study == "lazer_friedman":
        return {"docking_lazer_friedman": lazer_friedman_figure(frame)}
    return {"docking_hong_page": hong_page_figure(frame)}
