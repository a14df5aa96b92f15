"""Collect the results of one run or a whole multirun into tidy frames.

A job directory holds ``timeseries.parquet``, ``summary.parquet`` and ``meta.json``
(written last, so its presence marks a complete job); a failed job holds
``error.json``. A sweep directory holds Hydra's ``multirun.yaml`` and numbered job
directories. Expected jobs are derived from the sweep's overrides (the cartesian
product Hydra's basic sweeper launches), so jobs that never ran are reported by
name, not silently dropped.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

RESULT_FILES = ("timeseries.parquet", "summary.parquet", "meta.json")


@dataclass
class Results:
    """Everything read from a run or a sweep.

    Attributes:
        root: The directory read.
        timeseries: A row per job x replication x step.
        summary: A row per job x replication.
        meta: ``meta.json`` of each complete job, by job name.
        missing: Expected jobs without results, as ``"<job>: <overrides>"``.
        failed: Jobs that recorded an error, as ``"<job>: <overrides>: <error>"``.
        note: How the directory was interpreted (e.g. which sweep was chosen).
    """

    root: Path
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def first_meta(self) -> dict[str, Any]:
        """Metadata of the first complete job (for provenance)."""
        return next(iter(self.meta.values()), {})


def is_job(path: Path) -> bool:
    """Whether ``path`` is a job directory (complete, failed or started)."""
    return any((path / f).exists() for f in (*RESULT_FILES, "error.json", ".hydra"))


def is_sweep(path: Path) -> bool:
    """Whether ``path`` is a sweep directory."""
    return (path / "multirun.yaml").exists() or any(
        p.is_dir() and p.name.isdigit() and is_job(p) for p in path.iterdir())


def resolve(path: Path) -> tuple[Path, str]:
    """The job or sweep directory to read at ``path``, and a note on the choice.

    If ``path`` holds neither, the most recently modified sweep or job below it
    (one level, e.g. timestamped sweeps of a named study) is used.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such directory: {path}")
    if (path / "meta.json").exists() or (path / "error.json").exists() or is_sweep(path):
        return path, ""
    children = [p for p in path.iterdir() if p.is_dir() and (is_sweep(p) or is_job(p))]
    if not children:
        raise FileNotFoundError(f"no govsim results in {path}")
    latest = max(children, key=lambda p: (p.stat().st_mtime, p.name))
    return latest, f"{path} holds {len(children)} result folders; using the latest, {latest.name}"


def split_sweep_values(value: str) -> list[str]:
    """Split a Hydra sweep value ``a,b,c`` at top-level commas (not inside brackets/quotes)."""
    parts, depth, quote, cur = [], 0, "", ""
    for ch in str(value):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[({":
            depth += 1
        elif ch in "])}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    parts.append(cur.strip())
    return parts


def _expand(key: str, value: str) -> list[str]:
    value = str(value)
    m = re.fullmatch(r"range\((.*)\)", value.strip())
    if m:
        args = [float(a) for a in m.group(1).split(",")]
        if all(a.is_integer() for a in args):
            return [f"{key}={v}" for v in range(*(int(a) for a in args))]
    if value.startswith("choice(") and value.endswith(")"):
        value = value[len("choice("):-1]
    return [f"{key}={v}" for v in split_sweep_values(value)]


def expected_jobs(sweep: Path) -> list[list[str]]:
    """Overrides of every job a sweep launches, in Hydra's basic-sweeper order.

    The sweeper's configured ``params`` come first, then the command line's task
    overrides; the jobs are their cartesian product.
    """
    path = sweep / "multirun.yaml"
    if not path.exists():
        return []
    cfg = yaml.safe_load(path.read_text()) or {}
    hydra = cfg.get("hydra", {})
    lists: list[list[str]] = []
    params = (hydra.get("sweeper") or {}).get("params") or {}
    task = list((hydra.get("overrides") or {}).get("task") or [])
    task_keys = {t.split("=", 1)[0] for t in task}
    for key, value in params.items():
        if key not in task_keys:
            lists.append(_expand(key, value))
    for item in task:
        key, _, value = item.partition("=")
        lists.append(_expand(key, value))
    return [list(c) for c in itertools.product(*lists)]


def _job_overrides(job: Path) -> list[str]:
    path = job / ".hydra" / "overrides.yaml"
    return list(yaml.safe_load(path.read_text()) or []) if path.exists() else []


def _read_job(job: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    meta = json.loads((job / "meta.json").read_text())
    ts = pd.read_parquet(job / "timeseries.parquet") if (job / "timeseries.parquet").exists() else pd.DataFrame()
    summary = pd.read_parquet(job / "summary.parquet")
    return ts, summary, meta


def load_results(path: Path | str, progress: bool = False) -> Results:
    """Read a job or a sweep (or the latest one below ``path``) into tidy frames.

    Args:
        path: A job directory, a sweep directory, or a folder of sweeps.
        progress: Print a progress line every 10 jobs.

    Returns:
        The results; ``missing`` and ``failed`` name every expected job without results.
    """
    root, note = resolve(Path(path))
    if (root / "meta.json").exists() or (root / "error.json").exists():
        jobs = [root]
        expected: list[list[str]] = []
    else:
        jobs = sorted((p for p in root.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))
        expected = expected_jobs(root)
    frames, summaries, metas, failed = [], [], {}, []
    done: set[str] = set()
    for i, job in enumerate(jobs):
        name = job.name if job != root else root.name
        overrides = " ".join(_job_overrides(job))
        if (job / "meta.json").exists() and (job / "summary.parquet").exists():
            ts, summary, meta = _read_job(job)
            frames.append(ts.assign(job=name))
            summaries.append(summary.assign(job=name))
            metas[name] = meta
            done.add(name)
        elif (job / "error.json").exists():
            err = json.loads((job / "error.json").read_text())
            message = str(err.get("error") or err.get("traceback", "")).strip().splitlines()
            failed.append(f"job {name}: {overrides or '(no overrides)'}: {message[-1] if message else 'error'}")
            done.add(name)
        if progress and (i + 1) % 10 == 0:
            print(f"govsim-report: read {i + 1}/{len(jobs)} jobs", flush=True)
    missing = []
    for number, overrides in enumerate(expected):
        if str(number) not in done:
            missing.append(f"job {number}: {' '.join(overrides)}")
    for job in jobs:
        if job.name not in done and not any(m.startswith(f"job {job.name}:") for m in missing):
            missing.append(f"job {job.name}: {' '.join(_job_overrides(job)) or '(incomplete)'}")
    timeseries = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    return Results(root=root, timeseries=timeseries, summary=summary, meta=metas, missing=missing, failed=failed,
                   note=note)


NON_PARAMETER = {"replication", "seed", "step", "job"}


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that describe the parameter point (those before ``replication``)."""
    cols = list(frame.columns)
    stop = cols.index("replication") if "replication" in cols else len(cols)
    return [c for c in cols[:stop] if c not in NON_PARAMETER]


def varied_parameters(frame: pd.DataFrame) -> list[str]:
    """Parameter columns that take more than one value, in column order."""
    return [c for c in parameter_columns(frame) if frame[c].astype(str).nunique() > 1]
