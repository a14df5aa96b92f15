"""What a run records to be reproduced: versions, code revision, machine."""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PACKAGES = ("govsim", "mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf", "networkx", "seaborn",
            "SALib", "hydra-joblib-launcher", "hydra-submitit-launcher")
REPO_ROOT = Path(__file__).resolve().parent.parent
_GIVEN: dict[str, Any] = {}
"""The git state and package versions of the sweep a job runs in (see :func:`sweep_code`)."""


@contextlib.contextmanager
def sweep_code(git: dict[str, Any], versions: dict[str, str | None]) -> Iterator[None]:
    """Within: :func:`git_state` and :func:`package_versions` return these, as found once by the sweep.

    A sweep's main process finds the code's git state and package versions when the sweep
    starts (for ``sweep.json``) and hands them to every job, which would otherwise find the
    same again: two ``git`` processes and a dozen package lookups per job.
    """
    before = dict(_GIVEN)
    _GIVEN.update(git=git, versions=versions)
    try:
        yield
    finally:
        _GIVEN.clear()
        _GIVEN.update(before)


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (None if absent)."""
    if "versions" in _GIVEN:
        return copy.deepcopy(_GIVEN["versions"])
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Commit hash of the code and whether the work tree had uncommitted changes."""
    if "git" in _GIVEN and root == REPO_ROOT:
        return copy.deepcopy(_GIVEN["git"])

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def environment() -> dict[str, Any]:
    """Python and platform of the run."""
    return {"python": sys.version.split()[0], "platform": platform.platform(), "executable_args": sys.argv}


def provenance(started: float) -> dict[str, Any]:
    """The reproduction record every job's ``meta.json`` carries, for a job started at ``started``.

    Args:
        started: ``time.perf_counter()`` when the job started.
    """
    return {
        "versions": package_versions(),
        "git": git_state(),
        "environment": environment(),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
