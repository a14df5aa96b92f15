"""What a command refuses before anything runs: absurd sizes, blank names, paths for names, taken folders.

Each check raises a one-line error (:class:`sim.params.ConfigError` for a config value,
:class:`experiments.sweep.SweepRefused` for a folder); the commands print it and exit with
code 2 before any folder is created or any model runs. Two refusals can be lifted from the
command line, through the config's ``allow`` section (``configs/config.yaml``):

- ``allow.overwrite=true``: a single run may replace another run's results in its folder;
- ``allow.large=true``: a job may run beyond the size limits of :func:`check_size`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim.params import MEMORY_ENV, ConfigError, ModelParams, memory_limit

SECONDS_PER_PROFESSIONAL_STEP = 6e-6
"""CPU seconds one professional costs per step of one replication (default scenario, measured on a 2-core laptop)."""
BYTES_PER_STEP = 500
"""Memory of one row of ``timeseries.parquet`` while a job collects it (52 columns)."""
BYTES_PER_AGENT_STEP = 250
"""Memory of one row of ``agents.parquet`` (``run.collect_agents``) while a job collects it."""
MAX_JOB_SECONDS = 24 * 3600
"""A job estimated to run longer than this (CPU time) is refused unless ``allow.large=true``."""
ALLOW_KEYS = ("overwrite", "large")


def allowed(container: Mapping[str, Any], what: str) -> bool:
    """Whether the config's ``allow`` section lifts the refusal ``what`` (``overwrite`` or ``large``).

    Raises:
        ConfigError: If the section holds an unknown key or a value that is not true or false.
    """
    section = container.get("allow") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("allow", section, "must be a mapping of " + ", ".join(ALLOW_KEYS))
    for key, value in section.items():
        if key not in ALLOW_KEYS:
            raise ConfigError(f"allow.{key}", value, "unknown key; keys: " + ", ".join(ALLOW_KEYS))
        if not isinstance(value, bool):
            raise ConfigError(f"allow.{key}", value, "must be true or false")
    return bool(section.get(what, False))


def estimate(params: ModelParams, points: int = 1) -> tuple[float, int]:
    """A job's CPU seconds and peak memory in bytes, roughly (within a factor of a few), before it runs.

    Args:
        params: The job's parameters.
        points: Parameter points the job runs (a sensitivity block's rows; 1 otherwise).
    """
    reps, steps = params.run.replications, params.run.steps
    people = params.scenario.n_professionals
    twins = 2 if params.problem.shocks else 1  # a shocked run is compared with its no-shock twin
    seconds = points * twins * reps * steps * people * SECONDS_PER_PROFESSIONAL_STEP
    rows = points * reps * (steps + 1)
    memory = 2 * rows * BYTES_PER_STEP  # collected, then concatenated
    if params.run.collect_agents:
        memory += 2 * rows * people * BYTES_PER_AGENT_STEP
    return seconds, memory


def check_size(params: ModelParams, container: Mapping[str, Any], points: int = 1) -> None:
    """Refuse a job whose estimate (:func:`estimate`) exceeds a day of CPU or the memory one job may use.

    The memory limit is the model's own (:func:`sim.params.memory_limit`, which its landscape check uses):
    ``GOVSIM_MAX_JOB_MEMORY_GB``, else half the machine's memory.

    Raises:
        ConfigError: Naming the estimate, the limit and how to lift it (``allow.large=true``).
    """
    if allowed(container, "large"):
        return
    seconds, memory = estimate(params, points)
    size = f"{params.run.replications} replications x {params.run.steps} steps"
    if seconds > MAX_JOB_SECONDS:
        raise ConfigError("run", size, f"estimated at {_human_seconds(seconds)} of CPU per job, beyond the limit of "
                          f"{_human_seconds(MAX_JOB_SECONDS)}; lower run.replications or run.steps, or give "
                          "allow.large=true")
    limit = memory_limit()
    if memory > limit:
        raise ConfigError("run", size + (" with run.collect_agents" if params.run.collect_agents else ""),
                          f"estimated at {_human_bytes(memory)} of memory per job, beyond the limit of "
                          f"{_human_bytes(limit)} ({MEMORY_ENV}, else half this machine's memory); lower "
                          "run.replications or run.steps"
                          + (", or set run.collect_agents=false" if params.run.collect_agents else "")
                          + ", or give allow.large=true")


def _human_seconds(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 365:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / (86400 * 365):.2g} years"


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"


def check_names(node: Any, path: str = "") -> None:
    """Refuse a blank name anywhere in a config (an organisation named ``' '``, a scenario named ``''``).

    Raises:
        ConfigError: Naming the field.
    """
    if isinstance(node, Mapping):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "name" and isinstance(value, str) and not value.strip():
                raise ConfigError(where, value, "must not be blank")
            check_names(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            check_names(value, f"{path}.{i}")


def check_choices(choices: Mapping[str, Any]) -> None:
    """Refuse a config-group choice that is a path (``experiment=../scenario/default``), not a name of its group.

    Hydra follows ``..`` out of the group's folder and loads whatever file it finds there.

    Raises:
        ConfigError: Naming the group and the choice.
    """
    for group, choice in choices.items():
        if group.startswith("hydra") or "/" in str(group) or choice is None:
            continue
        text = str(choice)
        if "/" in text or "\\" in text or text.startswith("."):
            raise ConfigError(group, text, f"must be the name of a file in configs/{group}/, not a path")


def _sweep_record(path: Path) -> bool:
    """Whether ``path`` is a govsim sweep's record (a ``sweep.json`` listing jobs)."""
    try:
        return isinstance(json.loads(path.read_text()).get("jobs"), list)
    except (OSError, ValueError, AttributeError):
        return False


def check_run_folder(out_dir: Path, digest: str, overrides: list[str], overwrite: bool) -> None:
    """Refuse a single run's folder that holds a sweep, lies in a sweep, or holds another run's results.

    A folder holding results of the same config (same hash) is left to the run, which skips it as
    complete. ``overwrite`` (``allow.overwrite=true``) lets the run replace another run's results,
    never a sweep's.

    Raises:
        SweepRefused: With a one-line reason.
    """
    from experiments.sweep import RECORD, SweepRefused

    here = Path(out_dir).absolute()
    for folder in (here, *here.parents[:3]):  # a sweep's job folder is its subdir, at most a few levels down
        if _sweep_record(folder / RECORD):
            what = "is" if folder == here else f"lies inside ({here.relative_to(folder)})"
            raise SweepRefused(f"hydra.run.dir={out_dir} {what} the sweep folder {folder}; a single run never writes "
                               "into a sweep (rerun the sweep's own command to rerun its jobs)")
    if overwrite:
        return
    for name, key, mine in (("meta.json", "config_hash", digest), ("error.json", "overrides", overrides)):
        path = here / name
        if not path.exists():
            continue
        try:
            theirs = json.loads(path.read_text()).get(key)
        except (OSError, ValueError, AttributeError):
            theirs = None
        if theirs != mine:
            kind = "results" if name == "meta.json" else "a failed run"
            raise SweepRefused(f"hydra.run.dir={out_dir} holds {kind} of another config ({name}); choose another "
                               "folder, or give allow.overwrite=true to replace them")


def group_options(config_dir: Path, group: str) -> list[str]:
    """The options of a config group: the names of the YAML files in its folder."""
    return sorted(p.stem for p in (Path(config_dir) / group).glob("*.yaml"))


def check_group_overrides(arguments: list[str], config_dir: Path | str) -> None:
    """Refuse a config group set to null on the command line (``run=null``, ``-m leadership=shared,null``).

    Hydra fails on it with a 28-line traceback (``Config group override must be a string or a
    list``). Arguments that are options (``-m``) or that Hydra cannot parse are left to Hydra.

    Raises:
        ConfigError: Naming the group and its options.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for argument in arguments:
        if argument.startswith("-"):
            continue
        try:
            override = parser.parse_override(argument)
        except HydraException:
            continue
        group = override.key_or_group
        if override.is_hydra_override() or override.is_delete() or not (Path(config_dir) / group).is_dir():
            continue
        value = override.value()
        if isinstance(value, ChoiceSweep):
            values = list(value.list)
        elif override.is_sweep_override():  # glob(...), ranges: no null among them
            continue
        else:
            values = value if isinstance(value, list) else [value]
        if any(v is None for v in values):
            raise ConfigError(group, "null", "a config group needs one of its options: "
                              + ", ".join(group_options(Path(config_dir), group)))


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse's own print the usage first), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``<prog>: <message> (see <prog> --help)`` on stderr and exit with code 2."""
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

