"""Tables of a case's sweep for docs/scenarios.md: every swept point, key outcomes with 95 % intervals.

Reads the jobs' ``timeseries.parquet`` and ``meta.json`` (never runs the model). An outcome is first
summarised per replication (mean over the last 10 % of steps for states, mean over all steps for
flows), then averaged over replications with a 95 % t interval; the replication is the unit.

    python -m analysis.casebook outputs/safety_network [--out table.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.ablation import jobs, latest_sweep

STATES = {"value_delivered": "value delivered", "public_value": "public value", "mean_trust": "trust",
          "energy": "energy", "safety": "safety", "voice_equity": "voice equity",
          "informal_leader_share": "informal leaders"}
FLOWS = {"production": "production", "failure_work": "failure work", "burnout_rate": "burnout"}


def per_replication(sweep: Path) -> pd.DataFrame:
    """A row per job x replication: swept overrides and the replication's outcomes."""
    rows = []
    for factors, ts in jobs(sweep):
        steps = int(ts.step.max())
        window = ts[ts.step > steps - max(1, steps // 10)].groupby("replication")
        body = ts[ts.step > 0].groupby("replication")
        out = window[list(STATES)].mean().join(body[list(FLOWS)].mean())
        for key, value in factors.items():
            out[key] = value
        rows.append(out.reset_index())
    return pd.concat(rows, ignore_index=True)


def cell(values: pd.Series) -> str:
    """Mean [95 % t interval] over replications."""
    v = values.dropna().to_numpy(dtype=float)
    if len(v) < 2:
        return f"{v.mean():.2f}" if len(v) else "n/a"
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{v.mean():.2f} [{v.mean() - half:.2f}, {v.mean() + half:.2f}]"


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """Swept points as rows, outcomes as columns."""
    factors = [c for c in frame.columns if c not in (*STATES, *FLOWS, "replication")]
    out = frame.groupby(factors).agg({c: cell for c in (*STATES, *FLOWS)})
    return out.rename(columns={**STATES, **FLOWS}).reset_index()


def main() -> None:
    """Print (or write) the table of a sweep."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sweep = latest_sweep(args.path)
    frame = per_replication(sweep)
    text = (f"{frame.replication.nunique()} replications per point; states: mean over the last 10 % of steps; "
            "flows (production, failure work, burnout): mean over the run; mean [95 % t interval]\n\n"
            + table(frame).to_markdown(index=False) + "\n")
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
