"""Run the contingencies declared in docs/patterns.md and report each as found.

Every pattern is a set of conditions (configs) run on the same 30 seeds (paired, common random
numbers) and a paired statistic over them, tested against its smallest effect of interest. The
settings here are the ones docs/patterns.md declares; ``--write`` replaces the results section of
that file with the table this run produces (the declarations above it are never rewritten).

    python -m experiments.contingencies [--seeds 30] [--jobs 2] [--write]
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from sim import build_params
from sim.model import GovernanceModel
from sim.runner import fresh, no_shock_twin, replication_seeds

SEED = 20261208
STEPS = 150
DOC = Path(__file__).resolve().parents[1] / "docs" / "patterns.md"
MARK = "## Results, as found"


def merge(base: dict, *overlays: dict) -> dict:
    """``base`` with each overlay merged in (nested mappings merged, the rest replaced)."""
    out = copy.deepcopy(base)
    for overlay in overlays:
        for key, value in overlay.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def orgs(n: int, size: int, **extra) -> dict:
    """A scenario of ``n`` equal organisations of ``size``."""
    return {"scenario": {"organisations": [{"name": f"org{i + 1}", "size": size, **extra} for i in range(n)]}}


def style(name: str) -> dict:
    """Every organisation led in style ``name``."""
    return {"leadership": {"style": name}}


BASE = {"run": {"steps": STEPS}}
WIDE = {"problem": {"cross_boundary": 0.75}}
CRISIS = {"problem": {"shocks": [{"step": 50, "share": 0.5}]},
          "scenario": {"shock_workload": 1.0, "surge_reserve": 0.1}}


def run_condition(config: dict, seq: np.random.SeedSequence) -> dict[str, float]:
    """Outcomes of one seed under one condition (with the value lost in the acute phase after a shock)."""
    params = build_params(config)
    ts = _series(params, seq)
    out = {
        "value_delivered_auc": float(ts["value_delivered"][1:].mean()),
        "network_wait": float(np.nanmean(ts["network_wait"][1:])) if np.isfinite(ts["network_wait"][1:]).any()
        else float("nan"),
        "final_mean_trust": float(ts["mean_trust"][-1]),
    }
    if params.problem.shocks:
        twin = _series(no_shock_twin(params), seq)
        step = params.problem.shocks[0].step
        out["acute_loss"] = float((twin["value_delivered"] - ts["value_delivered"])[step:step + 12].mean())
    return out


def _series(params, seq) -> dict[str, np.ndarray]:
    model = GovernanceModel(params, rng=fresh(seq))
    for _ in range(params.run.steps):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    return {c: frame[c].to_numpy(dtype=float) for c in ("value_delivered", "network_wait", "mean_trust")}


@dataclass
class Pattern:
    """A declared pattern: conditions, a paired statistic per seed, its predicted sign and smallest effect."""

    key: str
    title: str
    conditions: dict[str, dict]
    statistic: Callable[[dict[str, dict[str, float]]], float]
    sign: int
    delta: float
    unit: str
    extra: Callable[[dict[str, np.ndarray]], str] | None = None


def contrast(outcome: str, a: str, b: str) -> Callable:
    """Per seed: ``outcome`` under condition ``a`` minus under ``b``."""
    return lambda r: r[a][outcome] - r[b][outcome]


def did(outcome: str, a1: str, b1: str, a0: str, b0: str) -> Callable:
    """Per seed: the difference in differences ``(a1 - b1) - (a0 - b0)``."""
    return lambda r: (r[a1][outcome] - r[b1][outcome]) - (r[a0][outcome] - r[b0][outcome])


def _sides(parts: dict[str, np.ndarray], a: str, b: str) -> str:
    return f"{a}: {_ci(parts[a])}; {b}: {_ci(parts[b])}"


def patterns() -> list[Pattern]:
    """The patterns of docs/patterns.md, with exactly its settings."""
    fac = merge(BASE, WIDE, style("facilitative"))
    shared_fav = merge(fac, orgs(4, 50), {"network": {"initial_trust": 0.8}, "scenario": {"goal_orientation": 0.2}})
    lead_fav = merge(fac, orgs(8, 25), {"network": {"initial_trust": 0.2}, "scenario": {"goal_orientation": 0.7}})
    lead = {"network": {"governance": "lead_organisation"}}
    power = [{"name": f"org{i + 1}", "size": 50, "power": p} for i, p in enumerate((20.0, 1.0, 1.0, 1.0))]
    return [
        Pattern("P1a", "Collaborative inertia: more parties, longer wait",
                {"four": merge(fac, orgs(4, 50)), "eight": merge(fac, orgs(8, 25))},
                contrast("network_wait", "eight", "four"), +1, 0.5, "steps"),
        Pattern("P1b", "Collaborative inertia: less trust, longer wait",
                {"t02": merge(fac, {"network": {"initial_trust": 0.2}}),
                 "t08": merge(fac, {"network": {"initial_trust": 0.8}})},
                contrast("network_wait", "t02", "t08"), +1, 0.5, "steps"),
        Pattern("P2", "Provan & Kenis: lead organisation where partners are many, distrustful and apart",
                {"s_part": shared_fav, "s_lead": merge(shared_fav, lead),
                 "l_part": lead_fav, "l_lead": merge(lead_fav, lead)},
                did("value_delivered_auc", "l_lead", "l_part", "s_lead", "s_part"), +1, 0.01, "value delivered",
                extra=lambda parts: "lead − participant, shared-favourable " + _ci(parts["shared"])
                + "; lead-favourable " + _ci(parts["lead"])),
        Pattern("P3", "Acute crisis: directive loses less in the acute phase",
                {"dir": merge(BASE, CRISIS, style("directive")), "fac": merge(BASE, CRISIS, style("facilitative"))},
                contrast("acute_loss", "dir", "fac"), -1, 0.01, "value delivered lost"),
        Pattern("P4", "Conflict prehistory shrinks the facilitative − directive contrast",
                {"f07": merge(BASE, style("facilitative"), {"network": {"initial_trust": 0.7}}),
                 "d07": merge(BASE, style("directive"), {"network": {"initial_trust": 0.7}}),
                 "f01": merge(BASE, style("facilitative"), {"network": {"initial_trust": 0.1}}),
                 "d01": merge(BASE, style("directive"), {"network": {"initial_trust": 0.1}})},
                did("value_delivered_auc", "f07", "d07", "f01", "d01"), +1, 0.01, "value delivered",
                extra=lambda parts: "facilitative − directive at trust 0.7 " + _ci(parts["high"])
                + "; at 0.1 " + _ci(parts["low"])),
        Pattern("P5", "Power imbalance lowers trust",
                {"imbalance": merge(BASE, style("facilitative"), {"scenario": {"organisations": power}}),
                 "equal": merge(BASE, style("facilitative"))},
                contrast("final_mean_trust", "imbalance", "equal"), -1, 0.01, "trust"),
        Pattern("P6", "Trust grows from small wins",
                {"fac": merge(BASE, style("facilitative"), {"network": {"initial_trust": 0.3}})},
                lambda r: r["fac"]["final_mean_trust"] - 0.3, +1, 0.02, "trust"),
        Pattern("P7", "No interdependence, no network advantage",
                {"f75": merge(BASE, WIDE, style("facilitative")), "d75": merge(BASE, WIDE, style("directive")),
                 "f0": merge(BASE, style("facilitative"), {"problem": {"cross_boundary": 0.0}}),
                 "d0": merge(BASE, style("directive"), {"problem": {"cross_boundary": 0.0}})},
                did("value_delivered_auc", "f75", "d75", "f0", "d0"), +1, 0.01, "value delivered",
                extra=lambda parts: "facilitative − directive at cross_boundary 0.75 " + _ci(parts["high"])
                + "; at 0 " + _ci(parts["low"])),
    ]


SIDE_PARTS = {
    "P2": {"shared": contrast("value_delivered_auc", "s_lead", "s_part"),
           "lead": contrast("value_delivered_auc", "l_lead", "l_part")},
    "P4": {"high": contrast("value_delivered_auc", "f07", "d07"), "low": contrast("value_delivered_auc", "f01", "d01")},
    "P7": {"high": contrast("value_delivered_auc", "f75", "d75"), "low": contrast("value_delivered_auc", "f0", "d0")},
}


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    values = values[np.isfinite(values)]
    n = len(values)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return mean, mean - half, mean + half


def _ci(values: np.ndarray) -> str:
    mean, lo, hi = _interval(values)
    return f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def verdict(values: np.ndarray, sign: int, delta: float) -> str:
    """Reproduced, contradicted, no effect or inconclusive, against ``delta`` in the direction ``sign``."""
    _, lo, hi = _interval(values)
    if sign > 0 and lo > delta or sign < 0 and hi < -delta:
        return "reproduced"
    if sign > 0 and hi < -delta or sign < 0 and lo > delta:
        return "contradicted"
    if -delta < lo and hi < delta:
        return "no effect"
    return "inconclusive"


def _task(args: tuple[dict, np.random.SeedSequence]) -> dict[str, float]:
    return run_condition(*args)


def evaluate(seeds: int, jobs: int, only: set[str] | None = None,
             seed: int = SEED) -> list[tuple[Pattern, np.ndarray, str]]:
    """Run every pattern (or those in ``only``) and return each with its per-seed statistic and side note."""
    seqs = replication_seeds(seed, seeds)
    chosen = [p for p in patterns() if only is None or p.key in only]
    tasks = [(p.key, name, i) for p in chosen for name in p.conditions for i in range(seeds)]
    configs = {p.key: p.conditions for p in chosen}
    results: dict[str, dict[str, list]] = {p.key: {c: [None] * seeds for c in p.conditions} for p in chosen}
    work = [(configs[k][c], seqs[i]) for k, c, i in tasks]
    pool = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
    try:
        outs = pool.map(_task, work, chunksize=4) if pool else map(_task, work)
        for done, ((key, name, i), out) in enumerate(zip(tasks, outs, strict=True), 1):
            results[key][name][i] = out
            if done % 20 == 0 or done == len(tasks):
                print(f"contingencies: {done}/{len(tasks)} runs", file=sys.stderr, flush=True)
    finally:
        if pool:
            pool.shutdown()
    found = []
    for p in chosen:
        per_seed = [{c: results[p.key][c][i] for c in p.conditions} for i in range(seeds)]
        values = np.array([p.statistic(r) for r in per_seed])
        note = ""
        if p.extra is not None:
            parts = {name: np.array([f(r) for r in per_seed]) for name, f in SIDE_PARTS[p.key].items()}
            note = p.extra(parts)
        found.append((p, values, note))
    return found


def table(found: list[tuple[Pattern, np.ndarray, str]], seeds: int, seed: int = SEED, heading: str = MARK) -> str:
    """Markdown table of the results."""
    lines = [heading, "", f"Run by `python -m experiments.contingencies` ({seeds} seeds, {STEPS} steps, "
             f"seed {seed}); 95 % t-intervals over seeds.", "",
             "| pattern | prediction | paired statistic | δ | verdict | detail |", "|---|---|---|---|---|---|"]
    for p, values, note in found:
        direction = ">" if p.sign > 0 else "<"
        lines.append(f"| {p.key} {p.title} | {direction} {'+' if p.sign > 0 else '−'}{p.delta:g} {p.unit} | "
                     f"{_ci(values)} | {p.delta:g} | **{verdict(values, p.sign, p.delta)}** | {note} |")
    return "\n".join(lines) + "\n"


def write(text: str) -> None:
    """Replace the results section of docs/patterns.md (everything from its heading on)."""
    doc = DOC.read_text()
    head = doc.split(MARK)[0].rstrip() + "\n\n"
    tail = ""
    match = re.search(r"^## Changes after the first run.*", doc, flags=re.M | re.S)
    if match:
        tail = "\n" + match.group(0)
    DOC.write_text(head + text + tail)


def main(argv: list[str] | None = None) -> None:
    """Command line: run the declared patterns and print (or write) the results table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated pattern keys (default: all)")
    ap.add_argument("--write", action="store_true", help="write the results into docs/patterns.md")
    ap.add_argument("--seed", type=int, default=SEED, help="experiment seed (a fresh one to re-test after a change)")
    args = ap.parse_args(argv)
    if args.seeds < 2 or args.jobs < 1:
        ap.error("--seeds must be at least 2 and --jobs at least 1")
    only = {k.strip() for k in args.only.split(",") if k.strip()} or None
    text = table(evaluate(args.seeds, args.jobs, only, args.seed), args.seeds, args.seed)
    print(text)
    if args.write and args.seed == SEED and only is None:
        write(text)
    elif args.write:
        ap.error("--write replaces the declared run's results: only with the declared seed and every pattern")


if __name__ == "__main__":
    main()
