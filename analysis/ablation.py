"""Evidence that the model's answers emerge: mechanism ablation and style-versus-state variance.

Reads what the jobs of a sweep wrote (``timeseries.parquet`` and ``meta.json`` of every job; it never
runs the model) and writes Markdown tables:

- for ``experiment=mechanism_ablation``: each style's paired contrast with the reference style
  (laissez-faire) on the primary outcomes, with all mechanisms on and with each mechanism switched
  off, as mean differences with 95 % paired-t intervals over replications (common random numbers:
  replication ``r`` of every job has the same seed);
- for ``experiment=style_vs_state``: the share of the variance between runs of each outcome
  explained by the style and by each condition of the world (main effects of a balanced full
  factorial: sums of squares of the level means), and by their interactions and the replications.

    python -m analysis.ablation outputs/mechanism_ablation [--out docs/mechanisms_tables.md]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

PRIMARY = {
    "value_delivered": "value delivered (mean over steps)",
    "public_value": "public value (mean over steps)",
    "value_work": "value work per professional",
    "failure_work": "failure work per professional",
    "energy": "energy",
    "voice_equity": "voice equity (final)",
    "mean_trust": "trust between organisations",
}
"""Primary outcomes of the declared contrasts, by time-series column."""

REFERENCE = "laissez_faire"
"""Reference style of the declared contrasts: abdication, the absence of leadership."""


def latest_sweep(path: Path) -> Path:
    """``path`` itself if it holds jobs, else its most recent sub-folder that does."""
    if any(path.glob("*/timeseries.parquet")):
        return path
    sweeps = sorted(p for p in path.iterdir() if p.is_dir() and any(p.glob("*/timeseries.parquet")))
    if not sweeps:
        raise SystemExit(f"no sweep with results under {path}")
    return sweeps[-1]


def jobs(sweep: Path) -> Iterator[tuple[dict[str, str], pd.DataFrame]]:
    """Each job's swept overrides (``{key: value}``, the experiment left out) and its time series."""
    for job in sorted(sweep.glob("*/timeseries.parquet")):
        meta = json.loads((job.parent / "meta.json").read_text())
        factors = dict(item.split("=", 1) for item in meta["overrides"] if not item.startswith("experiment="))
        yield factors, pd.read_parquet(job)


def run_outcomes(sweep: Path) -> pd.DataFrame:
    """One row per job x replication: the job's overrides as columns, and the outcomes of the run."""
    rows = []
    for factors, ts in jobs(sweep):
        body = ts[ts.step > 0]
        g = body.groupby("replication")
        out = g[[c for c in PRIMARY if c != "voice_equity"]].mean()
        out["voice_equity"] = ts.groupby("replication").voice_equity.last()
        out["burnout_person_steps"] = g.burnout_rate.sum()
        out["production"] = g.production.mean()
        for key, value in factors.items():
            out[key] = value
        rows.append(out.reset_index())
    return pd.concat(rows, ignore_index=True)


def paired_contrast(diff: pd.Series, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean paired difference with a ``level`` paired-t interval (NaN where it is undefined)."""
    d = diff.dropna()
    n = len(d)
    if n < 2:
        return float(d.mean()) if n else float("nan"), float("nan"), float("nan"), n
    half = stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / np.sqrt(n)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half), n


def ablation_table(frame: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Contrast of every style with the reference, per mechanism variant (rows: styles, columns: variants)."""
    cells = {}
    for variant, part in frame.groupby("mechanisms"):
        wide = part.pivot_table(index="replication", columns="leadership", values=outcome)
        if REFERENCE not in wide:
            continue
        for style in wide.columns:
            if style == REFERENCE:
                continue
            mean, low, high, n = paired_contrast(wide[style] - wide[REFERENCE])
            cells[(style, variant)] = f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]"
    table = pd.Series(cells).unstack()
    order = ["default"] + sorted(c for c in table.columns if c != "default")
    return table[[c for c in order if c in table.columns]]


def variance_shares(frame: pd.DataFrame, factors: list[str], outcome: str) -> dict[str, float]:
    """Share of the variance between runs explained by each factor's main effect (balanced design)."""
    y = frame[outcome].astype(float)
    total = float(((y - y.mean()) ** 2).sum())
    shares = {}
    for f in factors:
        means = frame.groupby(f)[outcome].transform("mean")
        shares[f] = float(((means - y.mean()) ** 2).sum()) / total if total > 0 else float("nan")
    shares["interactions and replications"] = 1.0 - sum(shares.values())
    return shares


def markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub Markdown table."""
    return table.to_markdown()


def main() -> None:
    """Write the tables of an ablation or a style-versus-state sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="Markdown file to write (default: print)")
    args = parser.parse_args()
    sweep = latest_sweep(args.path)
    frame = run_outcomes(sweep)
    parts = [f"<!-- generated by python -m analysis.ablation from {sweep.name} -->\n"]
    if "mechanisms" in frame:
        for outcome, label in PRIMARY.items():
            parts.append(f"\n**{label}**: style minus {REFERENCE}, mean [95 % paired-t interval], "
                         f"n = {frame.replication.nunique()} replications; columns: mechanism switched off\n\n")
            parts.append(markdown(ablation_table(frame, outcome)) + "\n")
    else:
        factors = [c for c in frame.columns if c in ("leadership", "problem.shocks", "problem.K",
                                                        "problem.cross_boundary", "problem.mandate_correlation")]
        rows = {o: variance_shares(frame, factors, o) for o in [*PRIMARY, "production", "burnout_person_steps"]}
        table = pd.DataFrame(rows).T.rename(columns={"leadership": "style", "problem.shocks": "crisis",
                                                     "problem.K": "K", "problem.cross_boundary": "cross_boundary",
                                                     "problem.mandate_correlation": "mandate correlation"})
        parts.append(f"\nShare of the variance between runs ({len(frame)} runs: {frame.groupby(factors).ngroups} "
                     f"points x {frame.replication.nunique()} replications) explained by each main effect\n\n")
        parts.append(table.round(3).to_markdown() + "\n")
    text = "".join(parts)
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
