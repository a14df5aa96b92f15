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

import itertools
import json
import sys
from pathlib import Path
from typing import Any

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

from sim.params import ConfigError, build_params


def validate(cfg: DictConfig) -> None:
    """Build typed parameters (and a sensitivity block's sample points, or a docking setup) from a config.

    Raises:
        ConfigError: On the first bad value.
    """
    from experiments import sensitivity
    from experiments.run import model_config

    if "hydra" in cfg:
        cfg = cfg.copy()
        with open_dict(cfg):
            del cfg["hydra"]
    model_cfg = model_config(cfg)
    build_params(model_cfg)
    if cfg.get("docking") is not None:
        from experiments.docking import docking_params

        docking_params(cfg)
    if cfg.get("sensitivity"):
        spec = OmegaConf.to_container(cfg.sensitivity, resolve=True)
        assert isinstance(spec, dict)
        if "block" in spec:
            sensitivity.points(model_cfg, spec)
        else:
            sensitivity.sample(spec)


def fail(err: ConfigError) -> None:
    """Print the one-line error and stop with exit code 2."""
    print(f"govsim: invalid config: {err}", file=sys.stderr)
    sys.exit(2)


def sweep_overrides(config: DictConfig) -> list[list[str]]:
    """Overrides of every job the basic sweeper would launch for this multirun config."""
    parser = OverridesParser.create()
    task = list(config.hydra.overrides.task)
    params = config.hydra.sweeper.get("params") or {}
    task_keys = {o.key_or_group for o in parser.parse_overrides(task)}
    items = [f"{k}={v}" for k, v in params.items() if k not in task_keys] + task
    lists = []
    for override in parser.parse_overrides(items):
        if override.is_sweep_override():
            key = override.get_key_element()
            lists.append([f"{key}={v}" for v in override.sweep_string_iterator()])
        else:
            lists.append([override.input_line or f"{override.get_key_element()}={override.get_value_element_as_str()}"])
    return [list(c) for c in itertools.product(*lists)]


class ValidateBeforeRun(Callback):
    """Validate the run, or every point of the sweep, before any output is written."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Validate a single run's config."""
        try:
            validate(config)
        except ConfigError as err:
            fail(err)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Compose and validate every point of the sweep."""
        loader = GlobalHydra.instance().config_loader()
        try:
            jobs = sweep_overrides(config)
        except Exception:  # noqa: BLE001 - sweepers other than the basic one: validate per job instead
            return
        for overrides in jobs:
            try:
                validate(loader.load_sweep_config(config, overrides))
            except ConfigError as err:
                fail(err)


class FailureSummary(Callback):
    """At the end of a sweep, list failed points and exit non-zero if there were any."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Scan the sweep directory for ``error.json`` files."""
        sweep = Path(str(config.hydra.sweep.dir))
        failed = []
        for err_file in sorted(sweep.glob("*/error.json"), key=lambda p: (len(p.parent.name), p.parent.name)):
            err = json.loads(err_file.read_text())
            failed.append(f"  job {err_file.parent.name}: {' '.join(err.get('overrides', []))}: {err.get('error')}")
        if failed:
            print(f"govsim: {len(failed)} job(s) of the sweep failed (details in each job's error.json):",
                  file=sys.stderr)
            print("\n".join(failed), file=sys.stderr)
            print(f"govsim: rerun the same command with hydra.sweep.dir={sweep} to run only the missing and "
                  "failed jobs", file=sys.stderr)
            sys.exit(1)
