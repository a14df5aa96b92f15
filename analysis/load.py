"""Collect the results of one run or a whole multirun into tidy frames, robustly.

A job directory holds ``timeseries.parquet``, ``summary.parquet`` and ``meta.json``
(written last, so its presence marks a finished job); a failed job holds
``error.json``. A job counts as complete only when its Parquet files can be read and
hold the rows its ``meta.json`` announces. A sweep directory holds the record of its
expected jobs, ``sweep.json``, written at sweep start from Hydra itself; when it is
absent (older sweeps) the expected jobs are rebuilt from Hydra's ``multirun.yaml``,
and the report says so. Nothing here writes: damaged, unreadable or missing jobs are
listed by name and the rest is read.
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
REPORT_MARKER = ".govsim-report"
"""File that marks a report folder, so it is never read as a job or a sweep."""


class ResultsError(Exception):
    """The path given cannot be read as results (one line, no traceback)."""


@dataclass
class Results:
    """Everything read from a run or a sweep.

    Attributes:
        root: The directory read.
        timeseries: A row per job x replication x step.
        summary: A row per job x replication.
        meta: ``meta.json`` of each complete job, by job name.
        missing: Expected jobs without results, as ``"job <name>: <overrides>"``.
        failed: Jobs that recorded an error, as ``"job <name>: <overrides>: <error>"``.
        unreadable: Jobs whose files are damaged or cannot be read, with the reason.
        note: How the directory was interpreted (e.g. which sweep was chosen).
        notes: Further remarks for the report (where the expected jobs came from,
            mixed code versions, resumes).
        expected: Number of jobs the sweep launches (0 for a single run or unknown).
        sweep_record: The sweep's ``sweep.json`` (empty if absent).
    """

    root: Path
    timeseries: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    note: str = ""
    notes: list[str] = field(default_factory=list)
    expected: int = 0
    sweep_record: dict[str, Any] = field(default_factory=dict)

    @property
    def first_meta(self) -> dict[str, Any]:
        """Metadata of the first complete job (for provenance)."""
        return next(iter(self.meta.values()), {})


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def is_report(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``govsim-report``."""
    return _exists(path / REPORT_MARKER)


def is_job(path: Path) -> bool:
    """Whether ``path`` is a job directory (complete, failed or started)."""
    return not is_report(path) and any(_exists(path / f) for f in (*RESULT_FILES, "error.json", ".hydra"))


def _subdirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return []


def is_sweep(path: Path) -> bool:
    """Whether ``path`` is a sweep directory."""
    if is_report(path):
        return False
    return _exists(path / "sweep.json") or _exists(path / "multirun.yaml") or any(
        p.name.isdigit() and is_job(p) for p in _subdirs(path))


def resolve(path: Path) -> tuple[Path, str]:
    """The job or sweep directory to read at ``path``, and a note on the choice.

    If ``path`` holds neither, the most recently modified sweep or job below it
    (one level, e.g. timestamped sweeps of a named study) is used.

    Raises:
        ResultsError: The path does not exist, is a file, or holds no results.
    """
    path = Path(path)
    if not _exists(path):
        raise ResultsError(f"no such directory: {path}")
    if not path.is_dir():
        raise ResultsError(f"{path} is a file; give a job directory, a sweep directory or a folder of sweeps")
    if is_report(path):
        raise ResultsError(f"{path} is a report folder written by govsim-report; give the results it was made from")
    if _exists(path / "meta.json") or _exists(path / "error.json") or is_sweep(path):
        return path, ""
    children = [p for p in _subdirs(path) if is_sweep(p) or is_job(p)]
    if not children:
        raise ResultsError(f"no govsim results in {path}")
    latest = max(children, key=lambda p: (p.stat().st_mtime, p.name))
    return latest, f"{path} holds {len(children)} result folders; using the latest, {latest.name}"


# ------------------------------------------------------------------ expected jobs
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
    """Overrides of every job a sweep launches, rebuilt from ``multirun.yaml`` (fallback only).

    Used only when a sweep has no ``sweep.json``: the sweeper's configured ``params``
    first, then the command line's task overrides; the jobs are their cartesian
    product. Hydra's own order can differ for some sweeps, so the report says when
    this fallback was used.
    """
    path = sweep / "multirun.yaml"
    if not _exists(path):
        return []
    cfg = yaml.safe_load(path.read_text()) or {}
    if not isinstance(cfg, dict):
        raise ValueError("multirun.yaml does not hold a mapping")
    hydra = cfg.get("hydra") or {}
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


def read_sweep_record(sweep: Path) -> dict[str, Any]:
    """The sweep's ``sweep.json`` (jobs recorded at sweep start), or {} if absent.

    Raises:
        ValueError: The file exists but is not a valid record.
    """
    path = sweep / "sweep.json"
    if not _exists(path):
        return {}
    record = json.loads(path.read_text())
    if not isinstance(record, dict) or not isinstance(record.get("jobs"), list):
        raise ValueError("sweep.json has no list of jobs")
    for job in record["jobs"]:
        if not isinstance(job, dict) or "dir" not in job:
            raise ValueError(f"sweep.json has a job without a dir: {job!r}"[:200])
    return record


# ------------------------------------------------------------------ reading one job
def _job_overrides(job: Path) -> list[str]:
    try:
        data = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
        return [str(x) for x in data] if isinstance(data, list) else []
    except (OSError, yaml.YAMLError):
        return []


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def read_job(job: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Read one finished job and check it is complete.

    Raises:
        ValueError: A file is damaged or holds fewer rows than ``meta.json`` announces.
        OSError: A file cannot be read.
    """
    try:
        meta = json.loads((job / "meta.json").read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"meta.json is not valid JSON ({err.msg})") from err
    if not isinstance(meta, dict):
        raise ValueError("meta.json does not hold a mapping")
    try:
        summary = pd.read_parquet(job / "summary.parquet")
    except (OSError, ValueError) as err:
        raise ValueError(f"summary.parquet unreadable: {_first_line(err)}") from err
    except Exception as err:  # noqa: BLE001 - pyarrow raises its own error types
        raise ValueError(f"summary.parquet unreadable: {_first_line(err)}") from err
    ts = pd.DataFrame()
    if _exists(job / "timeseries.parquet"):
        try:
            ts = pd.read_parquet(job / "timeseries.parquet")
        except Exception as err:  # noqa: BLE001
            raise ValueError(f"timeseries.parquet unreadable: {_first_line(err)}") from err
    done = meta.get("replications_completed")
    if isinstance(done, int) and len(summary) != done:
        raise ValueError(f"summary.parquet holds {len(summary)} rows, meta.json announces {done}")
    steps = meta.get("steps")
    if not ts.empty and "step" in ts and isinstance(steps, int) and "docking" not in summary \
            and len(ts) != len(summary) * (steps + 1):
        raise ValueError(f"timeseries.parquet holds {len(ts)} rows, expected {len(summary) * (steps + 1)}")
    return ts, summary, meta


def check_recorded(meta: dict[str, Any], overrides: list[str], config_hash: Any) -> None:
    """Check that a job's results are of the config ``sweep.json`` records for it.

    A job folder can hold another run's results (written there by hand, or by a govsim older
    than the checks that refuse it); they are left out of the sweep's report, named.

    Raises:
        ValueError: Saying what the job's ``meta.json`` records instead.
    """
    ran = meta.get("overrides")
    if isinstance(ran, list) and [str(o) for o in ran] != overrides:
        raise ValueError(f"left out: its results are another config's (meta.json records '{' '.join(map(str, ran))}'"
                         f", sweep.json this job as '{' '.join(overrides)}')")
    if config_hash and meta.get("config_hash") not in (None, config_hash):
        raise ValueError(f"left out: its results are another config's (config hash {meta.get('config_hash')}, "
                         f"sweep.json records {config_hash})")


def _error_line(job: Path) -> str:
    try:
        err = json.loads((job / "error.json").read_text())
        message = str(err.get("error") or err.get("traceback", "")).strip().splitlines()
        return message[-1] if message else "error"
    except (OSError, ValueError, AttributeError) as exc:
        return f"error.json unreadable ({_first_line(exc)})"


def load_results(path: Path | str, progress: bool = False) -> Results:
    """Read a job or a sweep (or the latest one below ``path``) into tidy frames.

    Args:
        path: A job directory, a sweep directory, or a folder of sweeps.
        progress: Print how many jobs have been read, every 10 jobs.

    Returns:
        The results; ``missing``, ``failed`` and ``unreadable`` name every expected
        job without usable results.

    Raises:
        ResultsError: ``path`` cannot be read as results at all.
    """
    root, note = resolve(Path(path))
    notes: list[str] = []
    record: dict[str, Any] = {}
    expected: list[tuple[str, list[str]]] = []
    recorded_hash: dict[str, Any] = {}
    if _exists(root / "meta.json") or _exists(root / "error.json"):
        jobs = [(root.name, root, [])]
    else:
        try:
            record = read_sweep_record(root)
        except (OSError, ValueError) as err:
            notes.append(f"sweep.json is damaged ({_first_line(err)}); expected jobs rebuilt from multirun.yaml")
        if record:
            expected = [(str(j["dir"]), [str(o) for o in j.get("overrides") or []]) for j in record["jobs"]]
            hashes = record.get("config_hash") if isinstance(record.get("config_hash"), dict) else {}
            recorded_hash = {str(j["dir"]): hashes.get(str(j.get("num"))) for j in record["jobs"]}
        else:
            if not notes:
                notes.append("no sweep.json (a sweep from an older govsim): expected jobs rebuilt from Hydra's "
                             "multirun.yaml, whose order can differ from Hydra's own")
            try:
                expected = [(str(i), o) for i, o in enumerate(expected_jobs(root))]
            except (OSError, ValueError, yaml.YAMLError) as err:
                notes.append(f"multirun.yaml is damaged ({_first_line(err)}); only the jobs found are listed")
        names = [name for name, _ in expected]
        found = sorted((p for p in _subdirs(root) if p.name.isdigit() and p.name not in names and is_job(p)),
                       key=lambda p: int(p.name))
        jobs = [(name, root / name, overrides) for name, overrides in expected]
        if record and found:  # folders the sweep's record does not list belong to no job of this sweep
            notes.append(f"ignored {len(found)} job folder(s) that sweep.json does not list: "
                         + ", ".join(p.name for p in found[:10]) + (" ..." if len(found) > 10 else ""))
        elif found:
            jobs += [(p.name, p, []) for p in found]
    frames, summaries, metas = [], [], {}
    missing, failed, unreadable = [], [], []
    for i, (name, job, overrides) in enumerate(jobs):
        described = " ".join(overrides or _job_overrides(job)) or "(no overrides)"
        label = f"job {name}: {described}"
        if _exists(job / "meta.json"):
            try:
                ts, summary, meta = read_job(job)
                if record:
                    check_recorded(meta, overrides, recorded_hash.get(name))
            except (OSError, ValueError) as err:
                unreadable.append(f"{label}: {err}")
            else:
                frames.append(ts.assign(job=name))
                summaries.append(summary.assign(job=name))
                metas[name] = meta
        elif _exists(job / "error.json"):
            failed.append(f"{label}: {_error_line(job)}")
        else:
            missing.append(label)
        if progress and (i + 1) % 10 == 0:
            print(f"govsim-report: reading jobs: {i + 1} of {len(jobs)} read so far", flush=True)
    notes += version_notes(metas)
    for resume in record.get("resumes") or []:
        notes.append(f"resumed: {str(resume)[:200]}")
    timeseries = drop_aliases(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    summary = drop_aliases(pd.concat(summaries, ignore_index=True)) if summaries else pd.DataFrame()
    return Results(root=root, timeseries=timeseries, summary=summary, meta=metas, missing=missing, failed=failed,
                   unreadable=unreadable, note=note, notes=notes, expected=len(expected), sweep_record=record)


def version_notes(metas: dict[str, dict[str, Any]]) -> list[str]:
    """Say when jobs carry different git commits, uncommitted changes or package versions."""
    notes = []
    commits: dict[str, list[str]] = {}
    for name, meta in metas.items():
        git = meta.get("git") or {}
        key = str(git.get("commit") or "unknown")[:12] + (" (uncommitted changes)" if git.get("dirty") else "")
        commits.setdefault(key, []).append(name)
    if len(commits) > 1:
        notes.append("jobs carry different code versions: " + "; ".join(
            f"{c}: jobs {', '.join(v[:8])}{' ...' if len(v) > 8 else ''}" for c, v in commits.items()))
    packages: dict[str, set[str]] = {}
    for meta in metas.values():
        versions = meta.get("versions") or {}
        if isinstance(versions, dict):
            for pkg, v in versions.items():
                packages.setdefault(str(pkg), set()).add(str(v))
    mixed = {p: sorted(v) for p, v in packages.items() if len(v) > 1}
    if mixed:
        notes.append("jobs carry different package versions: " + "; ".join(
            f"{p} {', '.join(v)}" for p, v in sorted(mixed.items())))
    return notes


NON_PARAMETER = {"replication", "seed", "step", "job", "sample_row"}


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that describe the parameter point (those before ``replication``)."""
    cols = list(frame.columns)
    stop = cols.index("replication") if "replication" in cols else len(cols)
    return [c for c in cols[:stop] if c not in NON_PARAMETER]


ALIASES = {"problem.N": "N", "problem.K": "K", "problem.cross_boundary": "cross_boundary",
           "leadership.style": "leadership", "scenario.name": "scenario", "roles.name": "roles",
           "network.structure": "network"}
"""Dotted override names that duplicate a main parameter column (a swept field of a group, a swept name)."""


def drop_aliases(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop override columns (``problem.K``) that repeat a main parameter column (``K``) value for value."""
    drop = [c for c, main in ALIASES.items() if c in frame and main in frame
            and frame[c].astype(str).equals(frame[main].astype(str))]
    return frame.drop(columns=drop)


def varied_parameters(frame: pd.DataFrame) -> list[str]:
    """Parameter columns that take more than one value, in column order, each parameter once.

    A swept ``problem.K`` appears both as the main column ``K`` and as the override
    column ``problem.K``; only the main column is counted.
    """
    cols = parameter_columns(frame)
    out = []
    for c in cols:
        if ALIASES.get(c) in cols:
            continue
        if frame[c].astype(str).nunique() > 1:
            out.append(c)
    return out
