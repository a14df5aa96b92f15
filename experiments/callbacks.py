"""Hydra callbacks that make sweeps survive: validate first, summarise failures last.

Registered in ``configs/config.yaml`` under ``hydra.callbacks``:

- :class:`ValidateBeforeRun` composes and validates the config of a single run,
  or of **every** point of a sweep, before Hydra creates any output directory. A
  bad value stops everything with one line naming the field, the value and what is
  allowed, and exit code 2.
- :class:`FailureSummary` reads the sweep's job directories when the sweep ends and,
  if any job recorded an ``error.json``, prints which points failed and exits with
  code 1 (after every other job has run).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import OmegaConfBaseException

from sim.params import ConfigError, build_params


def validate(cfg: DictConfig) -> None:
    """Build typed parameters (and a sensitivity block's sample points, or a docking setup) from a config.

    Raises:
        ConfigError: On the first bad value.
    """
    validate_and_hash(cfg)


def validate_and_hash(cfg: DictConfig) -> str:
    """Validate a composed config like :func:`validate` and return its config hash.

    An interpolation that does not resolve (``problem.N=${nope}``,
    ``${oc.env:MISSING}``) is a bad value of the field that holds it.

    Raises:
        ConfigError: On the first bad value.
    """
    if "hydra" in cfg:
        cfg = cfg.copy()
        with open_dict(cfg):
            del cfg["hydra"]
    try:
        container = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        raise unresolved(cfg, exc) from None
    assert isinstance(container, dict)
    return validate_container(container)


def validate_container(container: dict[str, Any]) -> str:
    """Validate a resolved config container (no ``hydra`` node) and return its config hash.

    Raises:
        ConfigError: On the first bad value.
    """
    from experiments import sensitivity
    from experiments.guard import allowed, check_names, check_size
    from experiments.run import container_hash, model_sections

    model_cfg = model_sections(container)
    allowed(container, "large")  # the allow section's keys and values
    check_names(model_cfg)
    params = build_params(model_cfg)
    points = 1
    if container.get("docking") is not None:
        from experiments.docking import docking_params

        docking_params(OmegaConf.create({"docking": container["docking"]}))
    spec = container.get("sensitivity")
    if spec:
        if not isinstance(spec, dict):
            raise ConfigError("sensitivity", spec, "must be a mapping")
        if "block" in spec:
            points = len(sensitivity.points(model_cfg, spec))
        else:
            sensitivity.sample(spec)
    check_size(params, container, points)
    return container_hash(container)


def unresolved(cfg: DictConfig, exc: Exception) -> ConfigError:
    """The config error of an interpolation that does not resolve, naming its field and raw value."""
    key = str(getattr(exc, "full_key", "") or "config")
    raw: Any = OmegaConf.to_container(cfg, resolve=False)
    for part in key.split("."):
        if isinstance(raw, dict) and part in raw:
            raw = raw[part]
        elif isinstance(raw, list) and part.isdigit() and int(part) < len(raw):
            raw = raw[int(part)]
        else:
            raw = "?"
            break
    lines = str(exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    return ConfigError(key, raw, f"must resolve to a value ({reason})")


def fail(err: ConfigError) -> None:
    """Print the one-line error and stop with exit code 2."""
    print(f"govsim: invalid config: {err}", file=sys.stderr)
    sys.exit(2)


def check_folder_before_run(config: DictConfig) -> None:
    """Refuse a single run's existing folder that is not its own (:func:`experiments.guard.check_run_folder`).

    Here, before Hydra writes the run's ``.hydra`` files and log into the folder; the run checks
    again once it holds the folder's lock.
    """
    from experiments.guard import allowed, check_run_folder
    from experiments.run import config_hash
    from experiments.sweep import SweepRefused

    out_dir = Path(str(config.hydra.run.dir))
    if not out_dir.exists():
        return
    task = config.copy()
    with open_dict(task):
        del task["hydra"]
    try:
        check_run_folder(out_dir, config_hash(task), [str(o) for o in config.hydra.overrides.task],
                         allowed(OmegaConf.to_container(task), "overwrite"))
    except SweepRefused as exc:
        print(f"govsim: {exc}", file=sys.stderr)
        sys.exit(2)


def sweep_overrides(config: DictConfig) -> list[list[str]]:
    """Overrides of every job the basic sweeper would launch for this multirun config (Hydra's own expansion)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    loader = GlobalHydra.instance().config_loader()
    parser = OverridesParser.create(config_loader=loader)
    params = config.hydra.sweeper.get("params") or {}
    items = [f"{k}={v}" for k, v in params.items()] + list(config.hydra.overrides.task)
    return [job for batch in BasicSweeper.split_arguments(parser.parse_overrides(items), None) for job in batch]


def _own_sweeper(config: DictConfig) -> bool:
    return str(config.hydra.sweeper.get("_target_", "")).endswith("GovsimSweeper")


class ValidateBeforeRun(Callback):
    """Validate the run, or every point of the sweep, before any output is written.

    govsim's own sweeper (:mod:`experiments.sweep`) validates a sweep itself; this
    callback validates sweeps only under other sweepers.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Validate a single run's config."""
        from experiments.guard import check_choices

        try:
            check_choices(config.hydra.runtime.choices)
            validate(config)
        except ConfigError as err:
            fail(err)
        check_folder_before_run(config)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Compose and validate every point of the sweep (unless govsim's sweeper does it)."""
        if _own_sweeper(config):
            return
        from experiments.sweep import plan_jobs

        try:
            jobs = sweep_overrides(config)
        except Exception:  # noqa: BLE001 - sweepers other than the basic one: validate per job instead
            return
        from experiments.sweep import SweepRefused

        try:
            plan_jobs(config, GlobalHydra.instance().config_loader(), jobs)
        except ConfigError as err:
            fail(err)
        except SweepRefused as exc:  # jobs sharing a folder or writing outside the sweep's, or no jobs
            print(f"govsim: {exc}", file=sys.stderr)
            sys.exit(2)


class FailureSummary(Callback):
    """At the end of a sweep: a one-screen summary; exit code 1 if any job failed or did not finish."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Read the job folders and summarise: completed, skipped, failed, missing, where, how to report."""
        from experiments import sweep as sw

        sweep = Path(str(config.hydra.sweep.dir))
        state = sw.STATE.get("sweep")
        failed, missing = [], []
        if state is not None:
            complete = 0
            for job in state.jobs:
                status = sw.job_status(state.sweep_dir, job)
                if status == "complete":
                    complete += 1
                elif status == "failed":
                    failed.append((job.dir, job.overrides, self._error(state.sweep_dir / job.dir)))
                elif job.num in state.extra.get("problems", {}):  # it failed before it could write error.json
                    failed.append((job.dir, job.overrides, (state.extra["problems"][job.num], [])))
                else:
                    missing.append((job.dir, job.overrides))
            took = sw._duration(time.time() - state.started)
            print(f"govsim: sweep of {len(state.jobs)} jobs ended after {took}: {complete} complete "
                  f"({len(state.skipped)} skipped as already complete), {len(failed)} failed, "
                  f"{len(missing)} did not finish", file=sys.stderr)
            print(f"govsim: results in {sweep}; report: govsim-report {sweep}", file=sys.stderr)
        else:
            for err_file in sorted(sweep.glob("*/error.json"), key=lambda p: (len(p.parent.name), p.parent.name)):
                failed.append((err_file.parent.name, None, self._error(err_file.parent)))
        if failed:
            print(f"govsim: {len(failed)} job(s) of the sweep failed (details in each job's error.json):",
                  file=sys.stderr)
            for name, overrides, (error, recorded) in failed:
                print(f"  job {name}: {' '.join(overrides if overrides is not None else recorded)}: {error}",
                      file=sys.stderr)
        if missing:
            print(f"govsim: {len(missing)} job(s) did not finish (no results, no error.json):", file=sys.stderr)
            for name, overrides in missing:
                print(f"  job {name}: {' '.join(overrides)}", file=sys.stderr)
        if failed or missing:
            print(f"govsim: rerun the same command with hydra.sweep.dir={sweep} to run only the missing and "
                  "failed jobs", file=sys.stderr)
            sys.exit(1)

    @staticmethod
    def _error(job_dir: Path) -> tuple[str, list[str]]:
        try:
            err = json.loads((job_dir / "error.json").read_text())
            return str(err.get("error")), [str(o) for o in err.get("overrides", [])]
        except (OSError, ValueError, AttributeError):
            return "unreadable error.json", []
