"""Robustness maps and scenario discovery on a Latin-hypercube sweep (``sensitivity.method: lhs``).

Every sampled point of the uncertain context is run with every leadership style on
the same seeds, so styles are compared point by point. Outcomes are first averaged
over a point's replications (the replication is the unit within a point; the point
is the unit over the sampled space).

- **Robustness map**: for each ordered pair of styles, the share of the sampled points
  at which the first beats the second by more than the smallest effect of interest
  (for outcomes where lower is better, "beats" means lower). Valid for the sampled
  ranges only.
- **Scenario discovery** for a condition such as ``window_public_value_gap_closed < 0.5``:
  PRIM (Friedman & Fisher 1999) and CART from EMA Workbench's analysis package, run on
  per-point means, with the uncertainties and the style as inputs. The whole
  coverage-density trade-off is shown; the reported box is the one with the largest
  coverage x density on the peeling trajectory, and its stability is checked by
  resampling (EMA Workbench's ``PrimBox.resample``: how often half-samples restrict
  the same dimensions).
- **Feature scoring** (extra trees, EMA Workbench) of each key outcome on the uncertainties.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures
from analysis.outcomes import OUTCOMES
from analysis.palette import SEQUENTIAL

LOWER_IS_BETTER = {o.name for o in OUTCOMES if o.direction == "lower"} | {
    "final_burnout_rate", "window_burnout_rate", "final_role_strain", "window_role_strain",
    "final_org_performance_sd", "window_org_performance_sd"}
"""Outcomes where lower is better: the outcome table's, and window/final metrics not (yet) in it."""
CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>)\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$")
RESAMPLES = 10
MIN_CASES = 10
"""Fewest sampled points on each side of a contrast's sign for PRIM to look for a box (fewer: no box)."""


def parse_condition(text: str) -> tuple[str, str, float]:
    """``"outcome < 0.5"`` as ``(outcome, "<", 0.5)``; only ``<``, ``<=``, ``>``, ``>=`` and a number.

    Raises:
        ValueError: With a one-line explanation.
    """
    m = CONDITION.match(str(text))
    if not m:
        raise ValueError(f"--discover {text!r}: must be OUTCOME OP NUMBER with OP one of <, <=, >, >=")
    return m.group(1), m.group(2), float(m.group(3))


def holds(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    """Where the condition ``values op threshold`` holds."""
    return {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[op](values, threshold)


def point_means(summary: pd.DataFrame, uncertainties: Sequence[str], factor: str,
                outcomes: Sequence[str]) -> pd.DataFrame:
    """Mean of each outcome over the replications of each (point, level), with the point's parameters."""
    keys = ["sample_row", factor]
    present = [o for o in outcomes if o in summary]
    means = summary.groupby(keys)[present].mean()
    params = summary.groupby(keys)[list(uncertainties)].first()
    counts = summary.groupby(keys).size().rename("replications")
    return pd.concat([params, means, counts], axis=1).reset_index()


def robustness_map(means: pd.DataFrame, factor: str, outcome: str, smallest: float) -> pd.DataFrame:
    """Share of sampled points at which the row level beats the column level by more than ``smallest``."""
    wide = means.pivot(index="sample_row", columns=factor, values=outcome)
    levels = [lv for lv in figures.order_of(means, factor) if lv in wide.columns]
    sign = -1.0 if outcome in LOWER_IS_BETTER else 1.0
    table = pd.DataFrame(index=levels, columns=levels, dtype=float)
    for a in levels:
        for b in levels:
            if a == b:
                continue
            d = sign * (wide[a] - wide[b])
            d = d.dropna()
            table.loc[a, b] = float((d > smallest).mean()) if len(d) else np.nan
    return table


def discover(x: pd.DataFrame, y: np.ndarray, seed: int = 0, resamples: int = RESAMPLES) -> dict[str, Any]:
    """PRIM and CART on inputs ``x`` for the boolean outcome ``y`` (EMA Workbench).

    Returns:
        ``trajectory`` (PRIM's peeling trajectory), ``chosen`` (its index), ``box``
        (limits of the chosen box: a row per input with ``min``, ``max`` or the
        categories kept, only restricted inputs), ``stability`` (resampling scores),
        ``cart`` (CART's boxes' statistics) and ``cart_boxes``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import cart, prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    y = np.asarray(y, dtype=int)
    p = prim.Prim(x.reset_index(drop=True), y, peel_alpha=0.05, paste_alpha=0.05, mass_min=0.05)
    box = p.find_box()
    if box is None:
        return {"trajectory": pd.DataFrame(), "chosen": None, "box": pd.DataFrame(), "stability": pd.DataFrame(),
                "cart": pd.DataFrame(), "cart_boxes": pd.DataFrame()}
    trajectory = box.peeling_trajectory.copy()
    chosen = int((trajectory["coverage"] * trajectory["density"]).idxmax())
    lims = box.box_lims[chosen]
    full = box.box_lims[0]
    rows = []
    for col in lims.columns:
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        if isinstance(lo, set):
            if lo != full[col].iloc[0]:
                rows.append({"input": col, "min": "", "max": "", "kept": ", ".join(sorted(map(str, lo)))})
        elif lo != full[col].iloc[0] or hi != full[col].iloc[1]:
            rows.append({"input": col, "min": float(lo), "max": float(hi), "kept": ""})
    stability = box.resample(chosen, iterations=resamples, rng=seed) if resamples else pd.DataFrame()
    cart_stats, cart_boxes = pd.DataFrame(), pd.DataFrame()
    if 0.05 * len(x) >= 2:  # CART's smallest leaf (5 % of the cases) must hold at least two
        c = cart.CART(x.reset_index(drop=True), y, mass_min=0.05)
        c.build_tree()
        cart_stats, cart_boxes = c.stats_to_dataframe(), c.boxes_to_dataframe()
    box_table = pd.DataFrame(rows, columns=["input", "min", "max", "kept"])
    return {"trajectory": trajectory, "chosen": chosen, "box": box_table, "stability": stability,
            "cart": cart_stats, "cart_boxes": cart_boxes}


def feature_scores(x: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Extra-trees feature scores of each outcome column on the inputs ``x`` (EMA Workbench)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import feature_scoring

        return feature_scoring.get_feature_scores_all(x, {c: outcomes[c].to_numpy(float) for c in outcomes})


POINTS_PER_INPUT = 20
"""Fewer sampled points per input than this and extra-trees feature scores are mostly noise (a warning says so)."""


def feature_score_warning(scores: pd.DataFrame, n_points: int) -> str:
    """A warning when a design is too small for its feature scores, or the scores cannot be told from equal shares."""
    k = len(scores)
    if not k:
        return ""
    equal = 1 / k
    values = scores.to_numpy(float)
    flat = bool(((values < 1.5 * equal) & (values > equal / 1.5)).all())
    small = n_points < POINTS_PER_INPUT * k
    if not (small or flat):
        return ""
    why = []
    if small:
        why.append(f"{n_points} points for {k} inputs is fewer than {POINTS_PER_INPUT} per input "
                   f"(at least {POINTS_PER_INPUT * k} needed)")
    if flat:
        why.append(f"every score is within a factor 1.5 of the equal share 1/{k} = {equal:.2f}")
    return ("Warning: these feature scores cannot rank the inputs: " + "; ".join(why)
            + ". Sample more points before reading an order into them.")


def box_limits(boxes: pd.DataFrame, x: pd.DataFrame) -> dict[str, str]:
    """Each CART box's limits on the inputs it restricts, as text (``a in [0.59, 1.00]; style in {shared}``)."""
    out = {}
    if boxes.empty:
        return out
    for box in dict.fromkeys(boxes.columns.get_level_values(0)):
        parts = []
        for name in boxes.index:
            lo, hi = boxes.loc[name, (box, "min")], boxes.loc[name, (box, "max")]
            if isinstance(lo, set):
                every = set(x[name].astype(str).unique()) if name in x else set()
                if {str(v) for v in lo} != every:
                    parts.append(f"{name} in {{{', '.join(sorted(map(str, lo)))}}}")
            elif name in x and (float(lo) > float(x[name].min()) or float(hi) < float(x[name].max())):
                parts.append(f"{name} in [{float(lo):.3g}, {float(hi):.3g}]")
        out[str(box)] = "; ".join(parts) or "the whole sample"
    return out


# ------------------------------------------------------------------ report
def _table(frame: pd.DataFrame, index_name: str = "", digits: int = 2) -> dict[str, Any]:
    def cell(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "–" if not np.isfinite(v) else f"{v:.{digits}f}"
        return str(v)

    return {"header": [index_name, *map(str, frame.columns)],
            "rows": [[str(i), *(cell(v) for v in row)] for i, row in zip(frame.index, frame.to_numpy(), strict=True)]}


def robustness_sections(res: Any, settings: Any, out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Report sections and figures of a Latin-hypercube sweep."""
    from analysis.load import ALIASES

    spec = res.first_meta.get("sensitivity") or {}
    summary = res.summary.copy()
    for u in spec.get("parameters") or {}:
        if u not in summary and ALIASES.get(u) in summary:  # problem.K is stored once, as K
            summary[u] = summary[ALIASES[u]]
    uncertainties = [u for u in (spec.get("parameters") or {}) if u in summary]
    factor = settings.factor if settings.factor in summary else "leadership"
    outcomes = [o for o in settings.outcomes if o in summary]
    wanted = list(dict.fromkeys(outcomes + ([parse_condition(settings.discover)[0]] if settings.discover else [])))
    means = point_means(summary, uncertainties, factor, wanted)
    ranges = ", ".join(f"{u} in [{lo:g}, {hi:g}]" for u, (lo, hi) in (spec.get("parameters") or {}).items())
    n_points = means["sample_row"].nunique()
    sections: list[dict[str, Any]] = []
    figs: list[dict[str, Any]] = []
    maps = {}
    for outcome in outcomes:
        h = settings.smallest.get(outcome, 0.0)
        maps[outcome] = robustness_map(means, factor, outcome, h)
        better = "lower" if outcome in LOWER_IS_BETTER else "higher"
        sections.append({"title": f"Robustness map: {outcome}", "intro": [
            f"Share of the {n_points} sampled points at which the row's {factor} beats the column's by more than "
            f"{h:g} ({better} is better), comparing per-point means over "
            f"{int(means['replications'].median())} replications on the same seeds. Valid for the sampled ranges "
            f"only: {ranges}."], "table": _table(maps[outcome], f"{factor} (row) beats (column)")})
    if maps:
        figs.append(_save(out, "robustness_map", _map_figure(maps, settings), "Robustness map",
                          f"Share of {n_points} sampled points where the row beats the column by more than the "
                          f"smallest effect of interest; valid for the sampled ranges only ({ranges})."))
    x = means[uncertainties].astype(float)
    scores = feature_scores(x, means[outcomes]) if outcomes and len(means) > 10 else pd.DataFrame()
    if not scores.empty:
        intro = ["Extra-trees feature scores (EMA Workbench) of each key outcome's per-point mean on the "
                 "uncertainties, over all styles: which parts of the context move the outcome most."]
        warning = feature_score_warning(scores, n_points)
        if warning:
            intro.insert(0, warning)
        sections.append({"title": "Feature scoring", "intro": intro, "table": _table(scores, "input")})
    if outcomes and getattr(settings, "reference", None):
        sections += contrast_sign_sections(means, uncertainties, factor, outcomes[0], str(settings.reference))
    if settings.discover:
        outcome, op, threshold = parse_condition(settings.discover)
        if outcome not in summary:
            sections.append({"title": "Scenario discovery", "intro": [f"{outcome} is not in these results."]})
        else:
            y = holds(means[outcome].to_numpy(float), op, threshold)
            rep_share = float(holds(summary[outcome].to_numpy(float), op, threshold).mean())
            xin = means[uncertainties].astype(float).assign(**{factor: pd.Categorical(means[factor].astype(str))})
            found = discover(xin, y) if 0 < y.sum() < len(y) else None
            intro = [f"Condition {outcome} {op} {threshold:g} holds for {int(y.sum())} of {len(y)} (point, {factor}) "
                     f"means ({y.mean():.0%}; {rep_share:.0%} of single replications). PRIM and CART (EMA Workbench) "
                     f"on per-point means, with the uncertainties and {factor} as inputs."]
            if found is None or found["chosen"] is None:
                intro.append("No box: the condition holds everywhere or nowhere in the sample.")
                sections.append({"title": "Scenario discovery", "intro": intro})
            else:
                tr = found["trajectory"]
                row = tr.loc[found["chosen"]]
                intro.append(f"PRIM box chosen on the peeling trajectory by the largest coverage × density: coverage "
                             f"{row['coverage']:.2f}, density {row['density']:.2f}, mass {row['mass']:.2f}, "
                             f"{int(row['res_dim'])} restricted inputs. Valid for the sampled ranges only.")
                sections.append({"title": "Scenario discovery: PRIM box", "intro": intro,
                                 "table": _table(found["box"].set_index("input"), "input", 3)})
                sections.append({"title": "Scenario discovery: box stability", "intro": [
                    f"Resampling ({RESAMPLES} half-samples, EMA Workbench): percentage of resampled PRIM runs whose "
                    "box at the same coverage (or density) restricts each input. Inputs near 100 % are stable."],
                    "table": _table(found["stability"], "input", 0)})
                if found["cart"].empty:
                    sections.append({"title": "Scenario discovery: CART", "intro": [
                        f"CART not run: {len(y)} cases are too few for leaves of at least 5 % (two cases)."]})
                else:
                    limits = box_limits(found["cart_boxes"], xin)
                    cart_table = found["cart"].assign(limits=[limits.get(str(b), "") for b in found["cart"].index])
                    sections.append({"title": "Scenario discovery: CART", "intro": [
                        "CART boxes (EMA Workbench): coverage and density of each leaf for the condition, and its "
                        "limits on the inputs it restricts (an input not named spans its whole sampled range)."],
                        "table": _table(cart_table, "box", 2)})
                figs.append(_save(out, "prim_tradeoff", _tradeoff_figure(tr, found["chosen"], settings.discover),
                                  "PRIM coverage–density trade-off",
                                  "Each point is a box on PRIM's peeling trajectory; the ringed one is reported."))
    return sections, figs


def contrast_sign_sections(means: pd.DataFrame, uncertainties: Sequence[str], factor: str, outcome: str,
                           reference: str) -> list[dict[str, Any]]:
    """Where each level's contrast with the reference changes sign: PRIM on the contrast itself.

    For each level, the per-point contrast (level minus reference, signed so that positive is
    better) is computed at every sampled point; where it is positive at some points and not at
    others, PRIM (EMA Workbench) finds the region of the uncertainties where it is not positive.
    """
    wide = means.pivot(index="sample_row", columns=factor, values=outcome)
    if reference not in wide.columns:
        return []
    x_all = means.groupby("sample_row")[list(uncertainties)].first().astype(float)
    sign = -1.0 if outcome in LOWER_IS_BETTER else 1.0
    rows, sections = [], []
    for level in [lv for lv in figures.order_of(means, factor) if lv in wide.columns and lv != reference]:
        d = (sign * (wide[level] - wide[reference])).dropna()
        not_better = (d <= 0).to_numpy()
        rows.append({"level": level, "points": len(d), "better at": f"{1 - not_better.mean():.0%}",
                     "median contrast": f"{d.median():+.3f}"})
        if min(not_better.sum(), len(d) - not_better.sum()) >= MIN_CASES and len(uncertainties):
            found = discover(x_all.loc[d.index], not_better, resamples=0)
            if found["chosen"] is not None and not found["box"].empty:
                tr = found["trajectory"].loc[found["chosen"]]
                sections.append({"title": f"Where {level} is not better than {reference}: PRIM box", "intro": [
                    f"PRIM on the contrast itself ({outcome}, {level} − {reference}, per-point means): the box of "
                    f"the uncertainties where the contrast is not positive; coverage {tr['coverage']:.2f}, density "
                    f"{tr['density']:.2f}. Valid for the sampled ranges only."],
                    "table": _table(found["box"].set_index("input"), "input", 3)})
    head = {"title": f"Where contrasts with {reference} change sign ({outcome})", "intro": [
        f"For each {factor}, the share of sampled points at which it is better than {reference} on {outcome} "
        "(per-point means, same seeds); a share strictly between 0 and 100 % means the contrast changes sign "
        f"somewhere in the sampled space, and where at least {MIN_CASES} points lie on each side a PRIM box "
        "below says where."],
        "table": _table(pd.DataFrame(rows).set_index("level"), factor)}
    return [head, *sections]


def _save(out: Path, name: str, fig: Any, title: str, caption: str) -> dict[str, Any]:
    png = figures.save(fig, out / "figures", name)[0]
    print(f"govsim-report: figure {name}", flush=True)
    return {"name": name, "file": png.name, "path": png, "title": title, "caption": caption}


def _map_figure(maps: dict[str, pd.DataFrame], settings: Any) -> Any:
    import matplotlib.pyplot as plt
    import seaborn as sns

    figures.set_style()
    n = len(maps)
    size = max(len(t) for t in maps.values())
    ncol = min(2, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=((0.75 * size + 2.6) * ncol + 1.0, (0.55 * size + 2.4) * nrow),
                             squeeze=False)
    for k, (outcome, table) in enumerate(maps.items()):
        ax = axes.flat[k]
        sns.heatmap(table.astype(float), vmin=0, vmax=1, cmap=SEQUENTIAL, annot=True, fmt=".2f", ax=ax,
                    cbar=k % ncol == ncol - 1 or k == n - 1, cbar_kws={"label": "share of sampled points"})
        ax.set_title(f"{figures.label(outcome, 0)} (by more than {settings.smallest.get(outcome, 0):g})", fontsize=9)
        ax.set_xlabel("is beaten (column)")
        ax.set_ylabel("row beats" if k % ncol == 0 else "")
        ax.tick_params(axis="x", rotation=35)
        ax.tick_params(axis="y", rotation=0)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    for ax in list(axes.flat)[n:]:
        ax.remove()
    fig.suptitle("Robustness over the sampled context (valid for the sampled ranges only)", fontsize=10)
    fig.tight_layout()
    return fig


def _tradeoff_figure(trajectory: pd.DataFrame, chosen: int, condition: str) -> Any:
    import matplotlib.pyplot as plt

    figures.set_style()
    fig, ax = plt.subplots(figsize=(5.6, 4.2))
    sc = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap=SEQUENTIAL, s=22)
    ax.scatter([trajectory.loc[chosen, "coverage"]], [trajectory.loc[chosen, "density"]], s=140,
               facecolors="none", edgecolors="black", linewidths=1.4)
    fig.colorbar(sc, ax=ax, label="restricted inputs")
    ax.set_xlabel("Coverage (share of cases of interest inside the box)")
    ax.set_ylabel("Density (share of the box that are cases)")
    ax.set_title(f"PRIM peeling trajectory for {condition}", fontsize=10)
    fig.tight_layout()
    return fig
