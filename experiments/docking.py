"""Docking jobs: a `docking` config section runs a published model's setup instead of govsim's.

``govsim -m experiment=docking_nk`` (and ``docking_lazer_friedman``,
``docking_hong_page``) compose a ``docking`` section that :mod:`sim.docking`
turns into typed parameters. A job writes the same files as a model job —
``timeseries.parquet``, ``summary.parquet`` and ``meta.json`` (last) — so
resuming, failure reports and ``govsim-report`` work unchanged; the report draws
the published figure of the study (:mod:`analysis.docking`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from experiments.provenance import provenance
from experiments.run import write_json, write_parquet
from sim.docking import DockingParams, build_docking, labels, run_docking
from sim.params import ModelParams

log = logging.getLogger("govsim")


def docking_params(cfg: DictConfig) -> DockingParams:
    """Typed docking parameters of a composed config (raises ConfigError on bad input)."""
    section = OmegaConf.to_container(cfg.docking, resolve=True)
    assert isinstance(section, dict) or section is None
    return build_docking(section if section is not None else {})


def run_docking_job(cfg: DictConfig, out_dir: Path, overrides: list[str], digest: str,
                    params: ModelParams) -> Path:
    """Run a docking study with the experiment seed ``run.seed`` and write its results."""
    dock = docking_params(cfg)
    tag = ", ".join(f"{k}={v}" for k, v in labels(dock).items())
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    every = max(1, dock.landscapes // 10)

    def progress(done: int, total: int) -> None:
        if done % every == 0 or done == total:
            log.info("[%s] landscape %d/%d done (%.1f s)", tag, done, total, time.perf_counter() - t0)

    timeseries, summary = run_docking(dock, params.run.seed, progress)
    write_parquet(timeseries, out_dir / "timeseries.parquet")
    write_parquet(summary, out_dir / "summary.parquet")
    meta: dict[str, Any] = {
        "model": "govsim docking",
        "config_hash": digest,
        "labels": labels(dock),
        "overrides": overrides,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "docking": {k: getattr(dock, k) for k in dock.__dataclass_fields__},
        "seed": params.run.seed,
        "replications_scheduled": dock.landscapes,
        "replications_completed": int(summary["replication"].nunique()),
        "steps": int(timeseries["step"].max()),
        **provenance(t0),
    }
    write_json(meta, out_dir / "meta.json")
    log.info("wrote %s", out_dir)
    return out_dir
