"""What a run records to be reproduced: versions, code revision, machine."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PACKAGES = ("govsim", "mesa", "numpy", "pandas", "pyarrow", "hydra-core", "omegaconf", "networkx", "seaborn",
            "SALib", "hydra-joblib-launcher", "hydra-submitit-launcher")
REPO_ROOT = Path(__file__).resolve().parent.parent


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on (None if absent)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Commit hash of the code and whether the work tree had uncommitted changes."""
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
