"""Sweeps that survive: plan, validate, record, launch in isolation, show progress.

:class:`hydra_plugins.govsim_sweeper.GovsimSweeper` (Hydra's basic sweeper plus the
steps below) calls into this module. Before anything is written it

1. expands the sweep with Hydra's own parser and :meth:`BasicSweeper.split_arguments`
   (so glob sweeps and ``hydra.sweeper.params`` give exactly the jobs Hydra launches);
2. composes and validates every job (:func:`plan_jobs`): a bad value stops the sweep
   with one line and exit code 2, and no folder is created;
3. refuses a folder that holds another sweep's jobs (:func:`check_folder`) and takes a
   lock on the sweep folder, so a second writer is refused too;
4. records the planned jobs once in ``<sweep dir>/sweep.json`` (:func:`sweep_record`);
   a resume keeps the file and appends to its ``resumes`` list, warning when complete
   jobs ran other code (:func:`code_differences`).

It then launches the jobs so that one job's death does not stop the others
(:func:`launch_isolated`): the basic and joblib launchers run each job behind a
guard that turns a failed write into one line, and a joblib worker killed by a signal
(the out-of-memory killer) only fails its own job. Progress (done / total, failures,
time left) goes to stderr (:class:`SweepProgress`).

On those two launchers a job costs little beyond its model runs: it gets its config from
the compositions of step 2 (:class:`JobRecipe`) instead of Hydra composing it again, runs
in :func:`run_planned_job` (Hydra's ``run_job`` with one copy of the config instead of four,
the same files), and records the git state and package versions found in step 4; a
worker process sets Hydra's global state once per sweep, not once per job. The joblib
launcher's workers are forked from a server that imported what a job needs once
(:func:`start_workers`), instead of each importing it as a fresh Python process; on Linux the
server is a fork of the sweep's process, so what that process imported is not imported again.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import errno
import fcntl
import json
import os
import pickle
import shutil
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from omegaconf import DictConfig, OmegaConf, open_dict

from experiments.provenance import git_state, package_versions

RECORD = "sweep.json"
LOCK = ".govsim.lock"
STATE: dict[str, Any] = {}
"""What the sweep of this process planned and saw, for the end-of-sweep summary."""


class SweepRefused(Exception):
    """The sweep cannot start: a one-line reason (exit code 2, nothing written)."""


@dataclass
class PlannedJob:
    """One job of a sweep as Hydra will launch it."""

    num: int
    dir: str
    overrides: list[str]
    config_hash: str


# ------------------------------------------------------------------ planning and validation
def hydra_error_line(exc: BaseException) -> str:
    """A Hydra/OmegaConf error on one line: its message, the options it lists, its cause."""
    lines = str(exc).splitlines()
    parts: list[str] = []
    options: list[str] = []
    label = ""
    listing = False
    for n, raw in enumerate(lines):
        text = raw.strip()
        if text.startswith("Available options"):
            label, listing = text.rstrip(":"), True
            continue
        if listing and raw.startswith(("\t", " ")):
            options.append(text)
            continue
        listing = False
        if not text or text.startswith(("Config search path", "Set the environment variable", "provider=")):
            continue
        if n > 0 and raw.startswith(("\t", " ")):
            continue
        parts.append(text.rstrip("."))
    cause = exc.__cause__
    if cause is not None and str(cause).strip():
        first = str(cause).strip().splitlines()[0].rstrip(".")
        if first not in parts:
            parts.append(first)
    line = "; ".join(parts) or type(exc).__name__
    if options:
        line += f"; {label.lower()}: {', '.join(options)}"
    return line


class JobConfigs:
    """The configs of a sweep's jobs, composed by Hydra once per distinct config-group choice.

    :func:`plan_jobs` validates every job from these; the launch hands each job the parts of
    its config (:meth:`recipe`), so a worker does not compose it again.
    """

    def __init__(self, config: DictConfig, loader: Any) -> None:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        self.master, self.loader = config, loader
        self.parser = OverridesParser.create()
        self.hydra_overrides = list(OmegaConf.to_container(config.hydra.overrides.hydra, resolve=False) or [])
        self.config_name = config.hydra.job.config_name
        self.parsed: dict[str, Any] = {}
        self.is_group: dict[str, bool] = {}
        self.bases: dict[tuple[str, ...], tuple[DictConfig, dict[str, Any], bool]] = {}
        self.bare: dict[tuple[str, ...], DictConfig] = {}
        self.packed: dict[tuple[str, ...], tuple[bytes, bytes]] = {}

    def split(self, overrides: Sequence[str]) -> tuple[list[Any], list[Any]]:
        """A job's overrides parsed, as (config-group choices, value overrides), in the job's order."""
        groups, values = [], []
        for line in overrides:
            if line not in self.parsed:
                self.parsed[line] = self.parser.parse_override(line)
            o = self.parsed[line]
            key = o.key_or_group
            if key not in self.is_group:
                self.is_group[key] = self.loader.repository.group_exists(key)
            is_group = o.package is not None or (self.is_group[key] and not isinstance(o.value(), dict))
            (groups if is_group else values).append(o)
        return groups, values

    def base(self, groups: list[Any]) -> tuple[DictConfig, dict[str, Any], bool]:
        """The config composed with these group choices, hydra node included.

        Returns:
            The config; it as a plain container without the hydra node; whether that holds
            interpolations or missing values.
        """
        gkey = tuple(o.input_line for o in groups)
        if gkey not in self.bases:
            full = self.loader.load_configuration(config_name=self.config_name,
                                                  overrides=self.hydra_overrides + list(gkey), run_mode=_run_mode())
            from experiments.guard import check_choices

            check_choices(full.hydra.runtime.choices)
            plain = OmegaConf.to_container(full, resolve=False)
            assert isinstance(plain, dict)
            del plain["hydra"]
            text = json.dumps(plain, default=str)
            self.bases[gkey] = (full, plain, "${" in text or '"???"' in text)
        return self.bases[gkey]

    def without_hydra(self, groups: list[Any]) -> DictConfig:
        """:meth:`base` without its hydra node."""
        gkey = tuple(o.input_line for o in groups)
        if gkey not in self.bare:
            bare = copy.deepcopy(self.base(groups)[0])
            with open_dict(bare):
                del bare["hydra"]
            self.bare[gkey] = bare
        return self.bare[gkey]

    def recipe(self, overrides: Sequence[str]) -> JobRecipe | None:
        """How to make the job's config where it runs without composing it (:meth:`JobRecipe.build`).

        Returns:
            None when the job's overrides touch the hydra node or choose a package, or when
            Hydra would copy environment variables into the config (``hydra.job.env_copy``,
            read where the job runs): Hydra composes such a job's config where it runs.
        """
        if self.master.hydra.job.env_copy:
            return None
        groups, values = self.split(overrides)
        parsed = [self.parsed[line] for line in overrides]
        if any(o.is_hydra_override() or o.package is not None for o in parsed):
            return None
        gkey = tuple(o.input_line for o in groups)
        if gkey not in self.packed:  # pickled once: unpickling is a copy three times cheaper than deepcopy
            full = pickle.dumps(self.base(groups)[0])
            bare = pickle.loads(full)
            with open_dict(bare):
                del bare["hydra"]
            self.packed[gkey] = (full, pickle.dumps(bare))
        full, bare = self.packed[gkey]
        return JobRecipe(full, bare, values, parsed)


@dataclass
class JobRecipe:
    """A job's config in parts, to be made where the job runs.

    The composed config of the job's group choices, pickled with and without its hydra node,
    and the job's overrides parsed: its value overrides, and all of them in the job's order.
    """

    full: bytes
    bare: bytes
    values: list[Any]
    overrides: list[Any]

    def build(self, master: DictConfig) -> tuple[DictConfig, DictConfig]:
        """The job's whole config as Hydra's ``load_sweep_config`` composes it, and that without its hydra node.

        After composing, Hydra's ``load_configuration`` applies the value overrides and records
        the overrides in the hydra node; ``load_sweep_config`` then copies the sweep's resolver
        cache. Here the same steps run on a copy of the composed config of the job's group choices.
        """
        from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname

        cfg, task_cfg = pickle.loads(self.full), pickle.loads(self.bare)
        ConfigLoaderImpl._apply_overrides_to_config(self.values, cfg)
        ConfigLoaderImpl._apply_overrides_to_config(self.values, task_cfg)
        cfg.hydra.overrides.task = [o.input_line for o in self.overrides]
        dirname = cfg.hydra.job.config.override_dirname
        cfg.hydra.job.override_dirname = get_overrides_dirname(overrides=self.overrides, kv_sep=dirname.kv_sep,
                                                               item_sep=dirname.item_sep,
                                                               exclude_keys=dirname.exclude_keys)
        OmegaConf.copy_cache(from_config=master, to_config=cfg)
        return cfg, task_cfg


def plan_jobs(config: DictConfig, loader: Any, jobs: Sequence[Sequence[str]],
              initial_idx: int = 0, configs: JobConfigs | None = None) -> list[PlannedJob]:
    """Compose and validate every job; return each job's folder and config hash.

    A job's config is composed as Hydra composes it: the defaults list with the job's
    config-group overrides (composed once per distinct group choice, kept in ``configs``),
    then Hydra's own ``_apply_overrides_to_config`` with its value overrides.

    Raises:
        ConfigError: On the first bad value (names the field, the value, what is allowed).
        SweepRefused: On a composition error (unknown group option, misspelled key).
    """
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from experiments.callbacks import validate_and_hash, validate_container

    configs = configs or JobConfigs(config, loader)
    subdir = OmegaConf.to_container(config.hydra.sweep, resolve=False).get("subdir")  # type: ignore[union-attr]
    default_subdir = subdir in ("${hydra.job.num}", None)
    planned: list[PlannedJob] = []
    for k, overrides in enumerate(jobs):
        num = initial_idx + k
        try:
            groups, values = configs.split(overrides)
            _, plain, interpolated = configs.base(groups)
            container = None
            if not interpolated and all(_plain_change(o, plain) for o in values):
                # the common case, set on a plain copy: the same values Hydra's update sets, 20x faster
                container = copy.deepcopy(plain)
                for o in values:
                    _set_path(container, o.key_or_group.split("."), o.value())
            else:  # additions, deletions, interpolations: Hydra's own code on a copy of the composed config
                cfg = copy.deepcopy(configs.without_hydra(groups))
                ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        except (HydraException, OmegaConfBaseException) as exc:
            raise SweepRefused(f"invalid config: job {num} ({' '.join(overrides)}): {hydra_error_line(exc)}") from None
        digest = validate_container(container) if container is not None else validate_and_hash(cfg)
        if default_subdir:
            job_dir = str(num)
        else:  # a custom subdir template: resolve it on the job's full config, as Hydra does
            full = loader.load_sweep_config(config, list(overrides))
            with open_dict(full):
                full.hydra.job.num = num
                full.hydra.job.id = f"{full.hydra.job.name}_{num}"
            job_dir = str(OmegaConf.select(full, "hydra.sweep.subdir"))
        planned.append(PlannedJob(num, job_dir, list(overrides), digest))
    check_job_dirs(Path(str(config.hydra.sweep.dir)), planned)
    return planned


RESERVED_DIRS = ("report", ".hydra")
"""Names a job folder's first part may not take: govsim-report's default output, Hydra's own files."""


def check_job_dirs(sweep_dir: Path, jobs: Sequence[PlannedJob]) -> None:
    """Refuse a sweep without jobs, or whose jobs' folders are not distinct folders inside ``sweep_dir``.

    Each job folder is resolved (``..`` and symbolic links followed) and must lie strictly inside
    the resolved sweep folder, the one the sweep locks; no job folder may be another's or lie
    inside another's, so no job writes over another job's results or outside the locked folder.

    Raises:
        SweepRefused: Naming the first offending job and its folder.
    """
    if not jobs:
        raise SweepRefused("the sweep has no jobs (an empty sweep, e.g. range(0,0)); nothing to run")
    root = sweep_dir.resolve()
    seen: dict[Path, PlannedJob] = {}
    above: dict[Path, PlannedJob] = {}  # the folders that hold a job's folder, up to the sweep folder
    for job in jobs:
        where = (root / job.dir).resolve()
        if where == root or not where.is_relative_to(root):
            raise SweepRefused(f"job {job.num}'s folder hydra.sweep.subdir={job.dir} lies outside the sweep folder "
                               f"{sweep_dir}; a job folder must be a folder inside it")
        if where.relative_to(root).parts[0] in RESERVED_DIRS:
            raise SweepRefused(f"job {job.num}'s folder hydra.sweep.subdir={job.dir} is reserved (report and .hydra "
                               "are govsim-report's and Hydra's); choose another subdir")
        parents = list(where.parents)[:len(where.relative_to(root).parts) - 1]
        other = seen.get(where) or above.get(where) or next((seen[p] for p in parents if p in seen), None)
        if other is not None:
            raise SweepRefused(f"jobs {other.num} and {job.num} would share a folder (hydra.sweep.subdir gives "
                               f"{other.dir} and {job.dir}); each job needs a folder of its own, e.g. "
                               "hydra.sweep.subdir=${hydra.job.num}")
        seen[where] = job
        above.update((p, job) for p in parents)


def _plain_change(override: Any, plain: Any) -> bool:
    """Whether an override just changes an existing key to a value without interpolations."""
    from hydra.core.override_parser.types import OverrideType

    if override.type != OverrideType.CHANGE or override.package is not None:
        return False
    value = override.value()
    if isinstance(value, dict) or "${" in json.dumps(value, default=str):
        return False
    node = plain
    for part in override.key_or_group.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return not isinstance(node, dict)  # a mapping would be merged, not replaced


def _set_path(node: Any, parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value


def _run_mode() -> Any:
    from hydra.types import RunMode

    return RunMode.RUN


# ------------------------------------------------------------------ the record and the folder
def now_iso() -> str:
    """Local time with offset, ISO 8601."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def sweep_record(config: DictConfig, jobs: list[PlannedJob], git: dict[str, Any] | None = None,
                 versions: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The ``sweep.json`` record of a new sweep (``git`` and ``versions`` found now unless given)."""
    return {
        "jobs": [{"num": j.num, "dir": j.dir, "overrides": j.overrides} for j in jobs],
        "overrides": list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False) or []),
        "created": now_iso(),
        "git": git if git is not None else git_state(),
        "versions": versions if versions is not None else package_versions(),
        "config_hash": {str(j.num): j.config_hash for j in jobs},
    }


def _job_overrides(job_dir: Path) -> list[str] | None:
    for name in ("meta.json", "error.json"):
        try:
            data = json.loads((job_dir / name).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("overrides"), list):
            return [str(o) for o in data["overrides"]]
    return None


def check_folder(sweep_dir: Path, jobs: list[PlannedJob]) -> dict[str, Any] | None:
    """Whether this sweep may write into ``sweep_dir``; its existing record if it resumes.

    Raises:
        SweepRefused: If the folder holds another sweep's jobs.
    """
    if not sweep_dir.exists():
        return None
    if not sweep_dir.is_dir():
        raise SweepRefused(f"hydra.sweep.dir={sweep_dir} is a file, not a folder")
    planned = [(j.num, j.overrides) for j in jobs]
    record_file = sweep_dir / RECORD
    if record_file.exists():
        try:
            record = json.loads(record_file.read_text())
            recorded = [(int(j["num"]), [str(o) for o in j["overrides"]]) for j in record["jobs"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SweepRefused(f"hydra.sweep.dir={sweep_dir} holds an unreadable {RECORD} ({exc}); "
                               "choose another folder") from None
        if recorded != planned:
            raise SweepRefused(f"hydra.sweep.dir={sweep_dir} holds another sweep ({_difference(recorded, planned)}); "
                               "choose another folder, or rerun that sweep's own command to resume it")
        return record
    by_dir = {j.dir: j for j in jobs}
    for sub in sorted(p for p in sweep_dir.iterdir() if p.is_dir()):
        found = _job_overrides(sub)
        if found is None:
            continue
        job = by_dir.get(sub.name)
        if job is None or found != job.overrides:
            mine = " ".join(job.overrides) if job else "no such job"
            raise SweepRefused(f"hydra.sweep.dir={sweep_dir} holds another sweep (its job {sub.name} ran "
                               f"'{' '.join(found)}', this sweep's is '{mine}'); choose another folder")
    return None


def _difference(recorded: list[tuple[int, list[str]]], planned: list[tuple[int, list[str]]]) -> str:
    if len(recorded) != len(planned):
        return f"{len(recorded)} jobs, this sweep has {len(planned)}"
    for (num, old), (_, new) in zip(recorded, planned, strict=True):
        if old != new:
            return f"its job {num} is '{' '.join(old)}', this sweep's is '{' '.join(new)}'"
    return "different jobs"


def code_differences(sweep_dir: Path, jobs: list[PlannedJob], git: dict[str, Any],
                     versions: dict[str, Any]) -> list[str]:
    """How the code of the complete jobs differs from the current code (git commit, package versions)."""
    from experiments.run import is_complete

    seen: dict[str, dict[str, list[str]]] = {}
    for job in jobs:
        out = sweep_dir / job.dir
        if not is_complete(out, job.config_hash):
            continue
        try:
            meta = json.loads((out / "meta.json").read_text())
        except (OSError, ValueError):
            continue
        commit = (meta.get("git") or {}).get("commit")
        if commit != git.get("commit"):
            seen.setdefault("git commit", {}).setdefault(str(commit)[:10], []).append(job.dir)
        for name, version in (meta.get("versions") or {}).items():
            if name in versions and version != versions[name]:
                seen.setdefault(name, {}).setdefault(str(version), []).append(job.dir)
    out_lines = []
    for name, olds in seen.items():
        now = str(git.get("commit"))[:10] if name == "git commit" else str(versions.get(name))
        old = ", ".join(f"{v} (jobs {_jobs_text(d)})" for v, d in olds.items())
        out_lines.append(f"{name} {old} -> {now} now")
    return out_lines


def _jobs_text(dirs: list[str]) -> str:
    return ", ".join(dirs) if len(dirs) <= 4 else f"{', '.join(dirs[:4])} and {len(dirs) - 4} more"


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (the renames in it) to disk, where the platform allows."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write JSON atomically: to a temporary name, flushed to disk, then renamed (and the folder flushed)."""
    tmp = path.with_name(path.name + ".tmp")
    with removed_on_failure(tmp):
        with open(tmp, "w") as fh:
            fh.write(json.dumps(data, indent=2, default=str))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def removed_on_failure(tmp: Path) -> Any:
    """Remove the temporary file ``tmp`` if the block writing (and renaming) it fails (a full disk leaves none)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class FolderLock:
    """An exclusive lock on a sweep folder, held while the sweep runs (released when the process ends)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK
        self.fh: TextIO | None = None

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            SweepRefused: If another process holds it.
        """
        for _ in range(20):
            fh = open(self.path, "a+")
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                other = fh.read().strip() or "another process"
                fh.close()
                raise SweepRefused(f"another govsim ({other}) is writing into {self.path.parent}; wait for it to "
                                   "finish or choose another folder") from None
            if self._still_the_file(fh):
                break
            fh.close()  # its holder removed the file after we opened it: lock the file now at that name
        else:
            raise SweepRefused(f"the lock {self.path} keeps being replaced; another govsim is starting there")
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self.fh = fh

    def _still_the_file(self, fh: TextIO) -> bool:
        """Whether the file locked through ``fh`` is still the one at :attr:`path` (not removed or replaced)."""
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fh.fileno())
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self.fh is not None

    def remove(self) -> None:
        """Remove the lock file and release the lock; only its holder may (a no-op for anyone else).

        Removed while still held: a process that opened the file meanwhile finds, once it has the
        lock, that the file is no longer at its name (:meth:`_still_the_file`) and locks the new one.
        """
        if self.fh is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.release()

    def release(self) -> None:
        """Release the lock."""
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)
            self.fh.close()
            self.fh = None


def prepare_folder(config: DictConfig, jobs: list[PlannedJob]) -> tuple[Path, FolderLock, dict[str, Any]]:
    """Check, create and lock the sweep folder; write or update ``sweep.json``.

    Returns:
        The folder, its lock, and the code's provenance found now (``git``, ``versions``), for the jobs.

    Raises:
        SweepRefused: If the folder holds another sweep, or another process writes into it.
    """
    sweep_dir = Path(str(config.hydra.sweep.dir))
    check_folder(sweep_dir, jobs)  # before anything is created
    created = not sweep_dir.exists()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(sweep_dir)
    try:
        lock.acquire()
        record = check_folder(sweep_dir, jobs)  # again, under the lock
    except SweepRefused:
        if created and lock.held:  # only the lock's holder removes it, with the folder it created
            lock.remove()
            with contextlib.suppress(OSError):
                sweep_dir.rmdir()
        lock.release()
        raise
    git, versions = git_state(), package_versions()
    if record is None:
        record = sweep_record(config, jobs, git, versions)
    else:
        differences = code_differences(sweep_dir, jobs, git, versions)
        if differences:
            print("govsim: warning: resuming a sweep whose complete jobs ran other code: " + "; ".join(differences),
                  file=sys.stderr)
        record.setdefault("resumes", []).append(
            {"time": now_iso(), "git": git, "versions": versions, "differences": differences})
    write_json(record, sweep_dir / RECORD)
    OmegaConf.save(config, sweep_dir / "multirun.yaml")
    return sweep_dir, lock, {"git": git, "versions": versions}


# ------------------------------------------------------------------ job status
def job_status(sweep_dir: Path, job: PlannedJob, since: float = 0.0) -> str | None:
    """``complete``, ``failed`` (an ``error.json`` written after ``since``) or None."""
    from experiments.run import is_complete

    out = sweep_dir / job.dir
    if is_complete(out, job.config_hash):
        return "complete"
    err = out / "error.json"
    with contextlib.suppress(OSError):
        if err.stat().st_mtime >= since:
            return "failed"
    return None


class SweepProgress:
    """Jobs done / total, failures so far and time left, on stderr.

    On a terminal a tqdm bar; otherwise (logs, pipes) one short line per finished job.
    """

    def __init__(self, total: int, skipped: set[int], stream: TextIO | None = None) -> None:
        self.total, self.skipped_jobs, self.skipped = total, skipped, len(skipped)
        self.done, self.failed = self.skipped, 0
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()
        self.lock = threading.Lock()
        self.bar: Any = None
        if self.stream.isatty():
            from tqdm import tqdm

            size = shutil.get_terminal_size((100, 20))  # falls back when a terminal reports no size
            self.bar = tqdm(total=total, initial=self.skipped, desc="govsim sweep", unit="job", file=self.stream,
                            ncols=size.columns or 100, nrows=size.lines or 20, leave=False)
            self.bar.set_postfix_str("failed 0")

    def job_finished(self, num: int, failed: bool) -> None:
        """Count one finished job (jobs complete before the sweep started are counted already)."""
        with self.lock:
            if num in self.skipped_jobs:
                return
            self.done += 1
            self.failed += int(failed)
            if self.bar is not None:
                self.bar.set_postfix_str(f"failed {self.failed}", refresh=False)
                self.bar.update(1)
                return
            ran = self.done - self.skipped
            left = self.total - self.done
            elapsed = time.perf_counter() - self.started
            eta = f", about {_duration(elapsed / ran * left)} left" if ran and left else ""
            print(f"govsim: {self.done}/{self.total} jobs done, {self.failed} failed{eta}", file=self.stream,
                  flush=True)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class FolderWatcher(threading.Thread):
    """Progress for launchers that run jobs elsewhere: polls the job folders."""

    def __init__(self, sweep_dir: Path, jobs: list[PlannedJob], progress: SweepProgress, since: float) -> None:
        super().__init__(daemon=True)
        self.sweep_dir, self.progress, self.since = sweep_dir, progress, since
        self.waiting = list(jobs)
        self.stopped = threading.Event()

    def poll(self) -> None:
        """Count the jobs that finished since the last poll."""
        still = []
        for job in self.waiting:
            status = job_status(self.sweep_dir, job, self.since)
            if status is None:
                still.append(job)
            else:
                self.progress.job_finished(job.num, status == "failed")
        self.waiting = still

    def run(self) -> None:
        """Poll until stopped."""
        while not self.stopped.wait(1.0):
            self.poll()

    def stop(self) -> None:
        """Stop polling (after one last look)."""
        self.stopped.set()
        self.join(timeout=5)
        self.poll()


# ------------------------------------------------------------------ launching in isolation
def describe_os_error(exc: OSError) -> str:
    """``disk full`` / ``not writable`` / the system's words, and the path."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full{where}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"not writable{where}"
    return f"cannot write: {exc.strerror or exc}{where}"


@dataclass
class JobSetting:
    """What every job of a sweep shares: Hydra's context, the sweep's config, the task, the code's provenance."""

    hydra_context: Any
    config: DictConfig
    task_function: Callable[..., Any]
    singleton_state: dict[Any, Any] | None
    """Hydra's global state, set once in each worker process; None when the jobs run in this process."""
    git: dict[str, Any] | None = None
    versions: dict[str, str | None] | None = None


_WORKER: dict[str, Any] = {}
"""The setting a worker process unpacked last, by its key (a worker can outlive one sweep)."""


def pack_setting(setting: JobSetting) -> tuple[str, bytes]:
    """The setting pickled once for all of a sweep's jobs, with a key that is new for every sweep."""
    import cloudpickle  # the task function is not importable by name (Hydra's decorator wraps it)

    return f"{os.getpid()}-{time.time_ns()}-{id(setting)}", cloudpickle.dumps(setting)


def unpack_setting(packed: tuple[str, bytes]) -> JobSetting:
    """The sweep's setting in a worker process: unpickled, and Hydra's state set, on its first job only.

    Hydra's state is sent without its plugin registry, which ``Singleton.set_state`` builds again by
    scanning every installed plugin (about 0.03 s). A worker forked from the server that preloaded
    :mod:`experiments.sweep_worker` has that registry already, found in the same installation, so
    it is kept instead.
    """
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton
    from hydra.core.utils import setup_globals

    key, data = packed
    if _WORKER.get("key") != key:
        setting = pickle.loads(data)
        setup_globals()
        state = setting.singleton_state
        found = Singleton._instances.get(Plugins)
        if found is not None and state is not None and Plugins not in state["instances"]:
            state = {**state, "instances": {**state["instances"], Plugins: found}}
        Singleton.set_state(state)
        _WORKER.clear()
        _WORKER.update(key=key, setting=setting)
    return _WORKER["setting"]


def execute_job(idx: int, overrides: Sequence[str], setting: JobSetting | tuple[str, bytes],
                recipe: JobRecipe | None = None) -> str | None:
    """Run one job as Hydra's launchers do; return None, or a one-line problem that stopped it.

    ``setting`` is packed (:func:`pack_setting`) for a worker process. With a ``recipe`` the
    job's config is made from the sweep's plan (:meth:`JobRecipe.build`) and the job runs in
    :func:`run_planned_job`; without one, Hydra composes the config here (``load_sweep_config``)
    and runs the job (``run_job``), as its own launchers do. A write error in Hydra's own
    steps (creating the job folder, its ``.hydra`` files or log) or escaping the job's error
    handling becomes a line, not an exception.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobStatus, run_job

    from experiments.provenance import sweep_code

    in_worker = not isinstance(setting, JobSetting)
    if in_worker:
        setting = unpack_setting(setting)
    assert isinstance(setting, JobSetting)
    code = (sweep_code(setting.git, setting.versions) if setting.git is not None and setting.versions is not None
            else contextlib.nullcontext())
    try:
        task_cfg = None
        if recipe is not None:
            sweep_config, task_cfg = recipe.build(setting.config)
        else:
            sweep_config = setting.hydra_context.config_loader.load_sweep_config(setting.config, list(overrides))
        with open_dict(sweep_config):
            sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
            sweep_config.hydra.job.num = idx
        if not in_worker:  # as Hydra's basic launcher: the last job's config stays set after the sweep
            HydraConfig.instance().set_config(sweep_config)
        with code:
            if task_cfg is not None and plain_job(sweep_config, setting.hydra_context):
                status, value = run_planned_job(setting.task_function, sweep_config, task_cfg)
            else:
                ret = run_job(hydra_context=setting.hydra_context, task_function=setting.task_function,
                              config=sweep_config, job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
                status, value = ret.status, ret._return_value
    except OSError as exc:
        return describe_os_error(exc)
    except Exception as exc:  # noqa: BLE001 - Hydra's own steps for this job (its log handler, its files) failed
        return job_setup_problem(exc)
    if status == JobStatus.FAILED:
        if isinstance(value, OSError):
            return describe_os_error(value)
        return f"{type(value).__name__}: {value}"
    return None


def job_setup_problem(exc: BaseException) -> str:
    """One line for a failure of Hydra's steps around a job (the task's own exceptions are caught inside them).

    Logging's ``Unable to configure handler 'file'`` is a ValueError whose cause is the
    OSError of the job's log file: the OSError is described instead (``not writable (...)``).
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            return describe_os_error(seen)
        seen = seen.__cause__ or seen.__context__
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def plain_job(config: DictConfig, hydra_context: Any) -> bool:
    """Whether :func:`run_planned_job` does all that Hydra's ``run_job`` would for this job.

    It does not change the working directory (``hydra.job.chdir``) and calls no job callbacks:
    a job that needs either runs in Hydra's ``run_job``.
    """
    from hydra import version
    from hydra.experimental.callback import Callback

    chdir = config.hydra.job.chdir
    if chdir or (chdir is None and not version.base_at_least("1.2")):
        return False
    return not any(type(c).on_job_start is not Callback.on_job_start or type(c).on_job_end is not Callback.on_job_end
                   for c in getattr(hydra_context.callbacks, "callbacks", []))


def run_planned_job(task_function: Callable[..., Any], config: DictConfig, task_cfg: DictConfig) -> tuple[Any, Any]:
    """Hydra's ``run_job`` for a sweep job (hydra/core/utils.py), given the job's config without its hydra node.

    The same steps with the same files: the hydra node set as Hydra's config, the job's
    output folder, its logging, ``.hydra/config.yaml``, ``hydra.yaml`` and ``overrides.yaml``,
    ``hydra.job.env_set`` around the task. Hydra's copies the whole config twice and the
    hydra node twice more; here the config arrives in its two parts (:meth:`JobRecipe.build`),
    and the hydra node is copied once. Only for :func:`plain_job` jobs.

    Returns:
        Hydra's job status and the task's return value or exception.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobStatus, _flush_loggers, _save_config, configure_log, env_override
    from omegaconf import read_write

    hydra_config = HydraConfig.instance()
    before = hydra_config.cfg
    hydra_config.set_config(config)
    try:
        output_dir = os.path.join(str(OmegaConf.select(config, "hydra.sweep.dir")),
                                  str(OmegaConf.select(config, "hydra.sweep.subdir")))
        for runtime in (config.hydra.runtime, hydra_config.cfg.hydra.runtime):
            with read_write(runtime), open_dict(runtime):
                runtime.output_dir = os.path.abspath(output_dir)
        OmegaConf.copy_cache(from_config=config, to_config=task_cfg)  # what Hydra's copy of the config holds
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        configure_log(config.hydra.job_logging, config.hydra.verbose)
        if config.hydra.output_subdir is not None:
            hydra_output = Path(config.hydra.runtime.output_dir) / Path(config.hydra.output_subdir)
            _save_config(task_cfg, "config.yaml", hydra_output)
            _save_config(hydra_config.cfg, "hydra.yaml", hydra_output)
            _save_config(config.hydra.overrides.task, "overrides.yaml", hydra_output)
        with env_override(hydra_config.cfg.hydra.job.env_set):
            try:
                status, value = JobStatus.COMPLETED, task_function(task_cfg)
            except Exception as exc:  # noqa: BLE001 - as Hydra's run_job: the job failed, the sweep goes on
                status, value = JobStatus.FAILED, exc
        _flush_loggers()
        return status, value
    finally:
        hydra_config.cfg = before


def record_death(job_dir: Path, job: PlannedJob, what: str, launcher: Any = None) -> None:
    """Write ``error.json`` for a job whose process died (best effort), with its config as the job saw it."""
    config = None
    with contextlib.suppress(Exception):
        full = launcher.hydra_context.config_loader.load_sweep_config(launcher.config, list(job.overrides))
        with open_dict(full):
            del full["hydra"]
        config = OmegaConf.to_container(full, resolve=False)
    with contextlib.suppress(OSError):
        job_dir.mkdir(parents=True, exist_ok=True)
        write_json({"error": what, "traceback": "", "overrides": job.overrides, "config": config,
                    "git": git_state(), "finished": now_iso()}, job_dir / "error.json")


def launch_isolated(launcher: Any, batch: Sequence[Sequence[str]], initial_idx: int,
                    plan: dict[int, PlannedJob], sweep_dir: Path, progress: SweepProgress,
                    configs: JobConfigs | None = None, code: dict[str, Any] | None = None) -> list[Any]:
    """Launch a batch so that one job's failure or death leaves the others running.

    On the basic and joblib launchers each job gets its config from ``configs`` (composed
    when the sweep was planned) and the code's provenance ``code`` (``git``, ``versions``)
    found when the sweep started, instead of finding either again.
    """
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher
    from hydra.core.utils import JobReturn, JobStatus, configure_log, setup_globals

    def finished(idx: int, problem: str | None) -> None:
        if problem is not None:
            print(f"govsim: job {idx}: {problem}; the sweep goes on with the other jobs", file=sys.stderr)
            state = STATE.get("sweep")
            if state is not None:  # for the summary, when the job could not even write its error.json
                state.extra.setdefault("problems", {})[idx] = problem
        job = plan.get(idx)
        failed = problem is not None or (job is not None and job_status(sweep_dir, job) != "complete")
        progress.job_finished(idx, failed)

    def recipe(overrides: Sequence[str]) -> JobRecipe | None:
        return configs.recipe(overrides) if configs is not None else None

    returns = []
    kind = _launcher_kind(launcher)
    code = code or {}
    setting = JobSetting(launcher.hydra_context, launcher.config, launcher.task_function, None, code.get("git"),
                         code.get("versions"))
    if kind == "basic":
        assert isinstance(launcher, BasicLauncher)
        setup_globals()
        configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
        for k, overrides in enumerate(batch):
            idx = initial_idx + k
            problem = execute_job(idx, overrides, setting, recipe(overrides))
            configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
            finished(idx, problem)
            returns.append(JobReturn(overrides=list(overrides), status=JobStatus.UNKNOWN))
        return returns
    if kind == "joblib":
        _launch_joblib(launcher, batch, initial_idx, plan, sweep_dir, finished, setting, recipe)
        return [JobReturn(overrides=list(o), status=JobStatus.UNKNOWN) for o in batch]
    watcher = FolderWatcher(sweep_dir, [plan[initial_idx + k] for k in range(len(batch))], progress, time.time())
    watcher.start()
    try:
        return list(launcher.launch(batch, initial_job_idx=initial_idx))
    except Exception as exc:  # noqa: BLE001 - e.g. submitit's UncompletedJobError for a task killed by SLURM
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"govsim: the launcher stopped: {type(exc).__name__}: {first}; the summary lists the jobs "
              "that did not finish", file=sys.stderr)
        return [JobReturn(overrides=list(o), status=JobStatus.UNKNOWN) for o in batch]
    finally:
        watcher.stop()


def _launcher_kind(launcher: Any) -> str:
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher

    if type(launcher) is BasicLauncher:
        return "basic"
    try:
        from hydra_plugins.hydra_joblib_launcher.joblib_launcher import JoblibLauncher
    except ImportError:  # pragma: no cover - a declared dependency
        return "other"
    return "joblib" if type(launcher) is JoblibLauncher else "other"


KILLED = ("its worker process was killed{signal} (as by the out-of-memory killer); "
          "rerun the sweep to retry it, with fewer parallel jobs if memory is short")

_SERVER: dict[str, Any] = {}
"""The environment the workers' fork server was started with, while it runs."""


def joblib_workers(launcher: Any) -> tuple[int, dict[str, str]]:
    """The joblib launcher's number of workers, and the thread limits joblib gives its workers.

    The limits keep numerical libraries from oversubscribing the cores (``OMP_NUM_THREADS`` and
    the like: the cores over the workers, unless set already).
    """
    from joblib import effective_n_jobs

    n = max(1, effective_n_jobs(launcher.joblib.get("n_jobs", -1)))
    return n, worker_env(n)


def worker_env(n: int) -> dict[str, str]:
    """The thread limits joblib gives each of ``n`` worker processes (the cores over ``n``, unless set already)."""
    try:
        from joblib._parallel_backends import LokyBackend

        return LokyBackend()._prepare_worker_env(n_jobs=n)
    except Exception:  # noqa: BLE001 - a private helper; without it the workers use the defaults
        return {}


def limit_worker_threads() -> int | None:
    """Apply the workers' thread limit (``OMP_NUM_THREADS``, set by :func:`start_workers`) to the loaded libraries.

    A numerical library reads the variable when it is loaded; a server forked from the sweep's
    process finds NumPy's BLAS loaded already, with that process's limits, so the server calls this
    (threadpoolctl; :func:`settle_server`), once, and every worker forked afterwards inherits the limit.

    Returns:
        The limit applied, or None where the variable is not set to a positive whole number.
    """
    import threadpoolctl

    value = os.environ.get("OMP_NUM_THREADS", "")
    if not value.isdigit() or int(value) < 1:
        return None
    threadpoolctl.threadpool_limits(int(value))
    return int(value)


PARENT_ENV = "GOVSIM_WORKERS_PARENT"
"""The process id of the sweep (or optimisation) that started the workers' server, in the server's environment."""


def die_with_parent(parent: int | None) -> None:
    """Have the kernel kill this process (SIGKILL) when its parent ends; end now if it has ended already.

    Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG)``): the workers' server asks for it
    against the sweep's process, each worker against the server, so a sweep killed with SIGKILL
    takes its server and workers with it at once and none of them writes into the folder after the
    sweep is gone (a resume may then take the folder). Where the parent ended before the signal was
    asked for, its pid is no longer this process's parent, and this process ends at once. A no-op
    elsewhere than on Linux, and when ``parent`` is None.
    """
    if parent is None or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0) != 0:
        return
    if os.getppid() != parent:
        os._exit(1)


def _server_pid() -> int | None:
    """The workers' fork server's process id, while it runs (multiprocessing keeps it on its server object)."""
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def _worker_started(server: int | None) -> None:
    """A pool worker's first step: die with the server it was forked from (:func:`die_with_parent`)."""
    die_with_parent(server)


def worker_pool(n: int, ctx: Any) -> Any:
    """A ``ProcessPoolExecutor`` of ``n`` workers from ``ctx`` (:func:`start_workers`), each dying with its server."""
    from concurrent.futures import ProcessPoolExecutor

    server = _server_pid() if ctx.get_start_method() == "forkserver" else os.getpid()
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_worker_started, initargs=(server,))


def settle_server() -> None:
    """End a workers' server's preloading: the thread limit applied, and what it has loaded frozen for the collector.

    Everything loaded so far (modules, Hydra's state, the sweep's own objects in a server forked
    from the sweep) lives as long as the server and its workers. ``gc.freeze`` moves it out of the
    cyclic garbage collector's generations, so a full collection in a worker does not traverse it
    again (nor touch, and so copy, the pages it shares with the server), as Python's documentation
    advises before forking. Measured on 4 jobs of 10 replications: the workers' CPU around the model
    runs fell from 0.9-1.1 s to 0.6-0.7 s, most of it a full collection during the network file.
    """
    import gc

    parent = os.environ.get(PARENT_ENV, "")
    die_with_parent(int(parent) if parent.isdigit() else None)
    limit_worker_threads()
    gc.freeze()


def start_workers(env: dict[str, str], preload: str = "experiments.sweep_worker") -> Any:
    """Start the fork server the workers are forked from (if not running), without waiting for it.

    The server imports ``preload`` once: for a sweep :mod:`experiments.sweep_worker` (Hydra, pandas,
    Mesa, pyarrow, the model), for an optimisation :mod:`experiments.mix_worker`. Each worker is a
    fork of it, so c workers do not import all that c times, each as a fresh
    Python process as loky's workers did. On Linux the server is itself a fork of this process
    (:func:`_server_forked_from_here`), so what this process has imported is not imported again. It
    is started with ``env`` (the workers' thread limits, which the server applies to the numerical
    libraries, loaded before or after it started); this process keeps its own environment.
    :func:`stop_workers` ends it.

    Where there is no fork server (Windows), the workers are spawned: each a fresh Python
    process that imports what its jobs need, as loky's workers did, with the default thread limits.

    Returns:
        The multiprocessing context whose processes are forked from that server (or spawned).
    """
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    key = [*sorted(env.items()), ("preload", preload)]
    if _SERVER.get("env", key) != key:  # its workers would have other thread limits or other modules
        stop_workers()
    ctx.set_forkserver_preload([preload])
    env = {**env, PARENT_ENV: str(os.getpid())}  # the server dies with this process (settle_server)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with _server_forked_from_here():
            forkserver.ensure_running()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    _SERVER["env"] = key
    return ctx


def _can_fork_here() -> bool:
    """Whether this process may be forked into the workers' fork server, as far as can be known before forking.

    Only on Linux (``/proc/self`` lists the descriptors to release and the threads) and only while
    no other Python thread runs: a fork copies no other thread, and a lock another thread held would
    stay held in the copy. Threads started outside Python are checked once forked
    (:func:`_fork_python`).
    """
    return sys.platform.startswith("linux") and os.path.isdir("/proc/self/task") and threading.active_count() == 1


def _threads() -> int:
    """The number of this process's threads, as the system counts them."""
    return len(os.listdir("/proc/self/task"))


@contextlib.contextmanager
def _server_forked_from_here() -> Any:
    """While starting the fork server, fork it from this process instead of starting a new Python.

    multiprocessing starts its fork server as a fresh interpreter (``python -c "from
    multiprocessing.forkserver import main; main(...)"``, through ``util.spawnv_passfds``), which
    imports Python, Hydra, OmegaConf and NumPy again before the modules it preloads. A sweep's
    process has imported all of those already when it starts the server, so here the same command
    runs in a fork of this process (:func:`_fork_python`): measured, the server's CPU fell from about
    1.9 s to 1.2 s. Any other process multiprocessing starts meanwhile (its resource tracker), and
    any command of another shape, is started as before, and so is the server where this process
    cannot be forked safely.
    """
    from multiprocessing import util

    original = util.spawnv_passfds

    def spawn(path: str, args: Sequence[str], passfds: Sequence[int]) -> int:
        if (len(args) >= 2 and args[-2] == "-c" and args[-1].startswith("from multiprocessing.forkserver import main")
                and _can_fork_here()):
            pid = _fork_python(args[-1], passfds)
            if pid is not None:
                return pid
        return original(path, args, passfds)

    util.spawnv_passfds = spawn
    try:
        yield
    finally:
        util.spawnv_passfds = original


def _fork_python(code: str, passfds: Sequence[int]) -> int | None:
    """Run ``code`` in a fork of this process, as ``python -c code`` would with ``passfds`` passed.

    The child first waits for the parent's word. The parent counts its threads just after the fork:
    any thread besides its own (one started outside Python, which :func:`_can_fork_here` cannot
    see) was not copied, and what it held may stay held in the child, so the child is told to end
    and None is returned. (NumPy's OpenBLAS ends its threads before a fork and starts them again
    when next needed, so they do not count.)

    The child keeps standard input, output and error and ``passfds``; every other descriptor it
    inherited is pointed at ``/dev/null`` (``dup2``), which releases what it referred to (a pipe's
    end: the fork server sees its clients leave only when no other process holds their end) while
    the number stays taken, so an object of this process that still holds the number cannot close or
    write to a file the child opens later. The child's Python signal handlers are reset as in a new
    interpreter (SIGINT's stays Python's), multiprocessing's own fork bookkeeping is done as for its
    forked processes, and the child ends with ``code``'s exit status without running this process's
    exit handlers.

    Returns:
        The child's process id, or None if this process was not alone in it when forked.
    """
    import warnings

    keep = {0, 1, 2, *passfds}
    with contextlib.suppress(Exception):  # else the child would hold, and write again, what is buffered here
        sys.stdout.flush()
        sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    parent = os.getpid()
    word_r, word_w = os.pipe()
    try:
        with warnings.catch_warnings():  # Python's warning of a fork with threads: they are counted below
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except BaseException:
        for fd in (devnull, word_r, word_w):
            os.close(fd)
        raise
    if pid:
        alone = _threads() == 1
        for fd in (devnull, word_r):
            os.close(fd)
        os.write(word_w, b"1" if alone else b"0")
        os.close(word_w)
        if alone:
            return pid
        os.waitpid(pid, 0)
        return None
    status = 1
    try:
        os.close(word_w)
        go = os.read(word_r, 1) == b"1"
        os.close(word_r)
        if not go:
            os._exit(0)
        die_with_parent(parent)  # here too, not only when it preloads (a module imported already is not run)
        for fd in [int(name) for name in os.listdir("/proc/self/fd")]:
            if fd in keep or fd == devnull:
                continue
            with contextlib.suppress(OSError):  # the listing's own descriptor is closed by now
                fcntl.fcntl(fd, fcntl.F_GETFD)
                os.dup2(devnull, fd)
        os.close(devnull)
        for sig in signal.valid_signals():
            with contextlib.suppress(OSError, ValueError):
                handler = signal.getsignal(sig)
                if callable(handler) and handler is not signal.default_int_handler:
                    signal.signal(sig, signal.SIG_DFL)
        from multiprocessing import forkserver, process, util

        forkserver._forkserver._lock = threading.Lock()  # held by this process's ensure_running while it forked
        process._children = set()
        util._finalizer_registry.clear()
        util._run_after_forkers()
        exec(compile(code, "<fork server>", "exec"), {"__name__": "__main__"})  # noqa: S102 - multiprocessing's own command
        status = 0
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:  # noqa: BLE001 - reported as a new interpreter would report it
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def stop_workers(kill: bool = False) -> None:
    """Stop the workers' fork server, if this process started one, and wait for it.

    Waited for, the server and the workers it forked count in this process's children's
    CPU time (``getrusage``), and none is left running after the sweep. With ``kill`` (a
    sweep that runs no job) it is stopped at once, not after its imports.
    """
    if _SERVER.pop("env", None) is None:
        return
    from multiprocessing import forkserver

    server = forkserver._forkserver
    pid = getattr(server, "_forkserver_pid", None)
    if kill and pid is not None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    server._stop()  # the method multiprocessing's own tests stop the server with


def check_launcher(launcher: Any) -> None:
    """Refuse a joblib launcher whose ``n_jobs`` joblib cannot use (0, not a whole number).

    Raises:
        SweepRefused: Naming the value and what is allowed.
    """
    if _launcher_kind(launcher) != "joblib":
        return
    value = launcher.joblib.get("n_jobs", -1)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value == 0:
        raise SweepRefused(f"hydra.launcher.n_jobs={value} is not allowed: a whole number of parallel jobs, not 0 "
                           "(-1: one per core, -2: all cores but one)")


def prepare_workers(launcher: Any) -> None:
    """Start the joblib launcher's fork server (:func:`start_workers`) now: it imports while the sweep is planned."""
    if _launcher_kind(launcher) == "joblib":
        start_workers(joblib_workers(launcher)[1])


def _launch_joblib(launcher: Any, batch: Sequence[Sequence[str]], initial_idx: int, plan: dict[int, PlannedJob],
                   sweep_dir: Path, finished: Callable[[int, str | None], None], setting: JobSetting,
                   recipe: Callable[[Sequence[str]], JobRecipe | None]) -> None:
    """Run the batch on ``n_jobs`` worker processes at a time, surviving worker deaths.

    The workers are forked from a server that has imported what a job needs (:func:`start_workers`),
    with the thread limits joblib's own workers get. What the jobs share (:class:`JobSetting`, with
    Hydra's global state) is pickled once and unpickled once per worker; each job brings its own config.

    When a worker dies (SIGKILL, out of memory), the pool fails every job in flight. Those
    jobs are rerun one at a time, each in a process of its own: the ones that finish were
    bystanders; a job whose process dies again when it runs alone is recorded as killed in
    its ``error.json``.
    """
    from concurrent.futures.process import BrokenProcessPool

    from hydra.core.singleton import Singleton

    n, env = joblib_workers(launcher)
    ctx = start_workers(env)
    packed = pack_setting(dataclasses.replace(setting, singleton_state=Singleton.get_state()))
    todo = deque((initial_idx + k, list(o)) for k, o in enumerate(batch))
    running: dict[Any, tuple[int, list[str]]] = {}
    suspects: list[tuple[int, list[str]]] = []
    executor = worker_pool(n, ctx)
    broken = False
    try:
        while todo or running or suspects:
            while todo and not suspects and not broken and len(running) < n:
                idx, overrides = todo.popleft()
                try:
                    running[executor.submit(execute_job, idx, overrides, packed, recipe(overrides))] = (idx, overrides)
                except BrokenProcessPool:  # a worker died: the jobs in flight fail next, then this one runs
                    todo.appendleft((idx, overrides))
                    broken = True
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    idx, overrides = running.pop(fut)
                    try:
                        finished(idx, fut.result())
                    except BrokenProcessPool:
                        suspects.append((idx, overrides))
                continue
            executor.shutdown(wait=True)
            for idx, overrides in suspects:  # the pool broke: rerun the jobs it took down, alone
                problem, exitcode = _run_alone(ctx, idx, overrides, packed, recipe(overrides))
                if exitcode is not None:
                    sig = " by SIGKILL" if exitcode == -signal.SIGKILL else " by a signal"
                    problem = KILLED.format(signal=sig)
                    record_death(sweep_dir / plan[idx].dir, plan[idx], problem, launcher)
                finished(idx, problem)
            suspects, broken = [], False
            executor = worker_pool(n, ctx)
    finally:
        executor.shutdown(wait=True)


def _run_alone(ctx: Any, idx: int, overrides: Sequence[str], packed: tuple[str, bytes],
               recipe: JobRecipe | None) -> tuple[str | None, int | None]:
    """:func:`execute_job` in a process of its own.

    Returns:
        The job's problem (None if it had none), and None; or None and the process's exit
        code if it died before answering (negative: the number of the signal that killed it).

    Raises:
        Exception: What the job raised.
    """
    receive, send = ctx.Pipe(duplex=False)
    server = _server_pid() if ctx.get_start_method() == "forkserver" else os.getpid()
    proc = ctx.Process(target=_answer, args=(send, idx, overrides, packed, recipe, server))
    proc.start()
    send.close()
    try:
        outcome, value = receive.recv()
    except EOFError:
        outcome, value = "died", None
    finally:
        receive.close()
        proc.join()
    if outcome == "raised":
        raise value
    if outcome == "died":
        return None, proc.exitcode
    return value, None


def _answer(send: Any, idx: int, overrides: Sequence[str], packed: tuple[str, bytes],
            recipe: JobRecipe | None, server: int | None = None) -> None:
    die_with_parent(server)
    try:
        answer = ("done", execute_job(idx, overrides, packed, recipe))
    except Exception as exc:  # noqa: BLE001 - handed to the sweep's process, as a pool hands it on
        answer = ("raised", exc)
    send.send(answer)
    send.close()


@dataclass
class SweepState:
    """What one sweep planned and saw (for the summary at its end)."""

    sweep_dir: Path
    jobs: list[PlannedJob]
    skipped: set[int]
    started: float
    progress: SweepProgress | None = None
    extra: dict[str, Any] = field(default_factory=dict)
