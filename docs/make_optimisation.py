"""The proof that the optimiser works (docs/optimisation.md): grid, searches, re-evaluations, figures.

Stages (each resumable; results go under ``--out``, default ``outputs/optimisation_proof``):

``grid``      every mix of six styles over the safety network's five organisations (7,776 mixes),
              once, on replication 0, with reduced steps;
``reeval``    the grid's best mixes on 30 fresh replications (a disjoint seed set);
``search``    ten optimiser seeds and ten random-search seeds at the same budget, each ending
              with its final mix re-evaluated the same way;
``pareto``    the multi-objective search against random search and the grid, by hypervolume;
``figures``   the figures and tables of docs/optimisation.md.

Usage: ``python docs/make_optimisation.py grid`` (then the next stages, or ``all``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.mixes import MixSpace, evaluate_rows  # noqa: E402

CASE = "safety_network"
STEPS = 60  # reduced from the case's 200 (documented in docs/optimisation.md)
OUTCOMES = ("gap_closed_auc", "production_mean", "burnout_rate_mean", "window_voice_equity",
            "window_public_value_gap_closed", "person_steps_lost")
CHUNK = 96


def case_config(steps: int = STEPS) -> dict:
    """The safety-network case's model config with reduced steps."""
    from hydra import compose, initialize_config_dir

    from experiments.run import CONFIG_DIR, model_config
    with initialize_config_dir(str(CONFIG_DIR), version_base=None):
        cfg = compose("config", overrides=[f"scenario={CASE}", f"run.steps={steps}"])
    return model_config(cfg)


def space_of(config: dict) -> MixSpace:
    """Each organisation's style, over all six styles."""
    return MixSpace(tuple(o["name"] for o in config["scenario"]["organisations"]))


def stage_grid(out: Path, workers: int) -> pd.DataFrame:
    """All 7,776 mixes on replication 0; parts are written as they finish (resumable)."""
    config = case_config()
    mixes = list(space_of(config).grid())
    parts = out / "grid"
    parts.mkdir(parents=True, exist_ok=True)
    chunks = [(i, mixes[i:i + CHUNK]) for i in range(0, len(mixes), CHUNK)]
    todo = [(i, c) for i, c in chunks if not (parts / f"part-{i:05d}.parquet").exists()]

    def run(i: int, chunk: list) -> tuple[int, list]:
        return i, evaluate_rows(config, chunk, [0], OUTCOMES)

    start = time.perf_counter()
    with tqdm(total=len(mixes), initial=len(mixes) - sum(len(c) for _, c in todo), unit="mix",
              desc="grid") as bar:
        for i, rows in Parallel(n_jobs=workers, return_as="generator_unordered")(
                delayed(run)(i, c) for i, c in todo):
            tmp = parts / f"part-{i:05d}.parquet.tmp"
            pd.DataFrame(rows).to_parquet(tmp, index=False)
            tmp.replace(parts / f"part-{i:05d}.parquet")
            bar.update(len(rows))
    grid = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("part-*.parquet"))], ignore_index=True)
    print(f"grid: {len(grid)} runs, {time.perf_counter() - start:.0f} s this time", flush=True)
    return grid


def main(argv: list[str] | None = None) -> None:
    """Run the stages named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="+", choices=["grid", "reeval", "search", "pareto", "figures", "all"])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "optimisation_proof")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    stages = ["grid", "reeval", "search", "pareto", "figures"] if "all" in args.stages else args.stages
    if "grid" in stages:
        stage_grid(args.out, args.workers)


if __name__ == "__main__":
    main()
