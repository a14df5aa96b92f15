"""Hydra's basic sweeper, made safe for long sweeps (the steps are in :mod:`experiments.sweep`).

Hydra only instantiates sweepers defined in the ``hydra_plugins`` package, so the class
lives here; ``configs/config.yaml`` selects it with ``hydra.sweeper._target_``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class GovsimSweeper(BasicSweeper):
    """The basic sweeper's jobs, validated and recorded before any folder exists, launched in isolation."""

    def sweep(self, arguments: list[str]) -> Any:
        """Plan, validate, record and launch the sweep; a bad sweep stops with one line and exit code 2."""
        from experiments import sweep as sw

        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        try:
            sw.check_launcher(self.launcher)
        except sw.SweepRefused as exc:
            print(f"govsim: {exc}", file=sys.stderr)
            sys.exit(2)
        sw.prepare_workers(self.launcher)  # the joblib workers' imports overlap the planning
        try:
            configs, jobs, sweep_dir, lock, code = self._plan(arguments)
        except BaseException:
            sw.stop_workers(kill=True)  # a refused sweep runs no job: its workers' imports are stopped
            raise
        plan = {j.num: j for j in jobs}
        skipped = {j.num for j in jobs if sw.job_status(sweep_dir, j) == "complete"}
        progress = sw.SweepProgress(len(jobs), skipped)
        sw.STATE.clear()
        sw.STATE["sweep"] = sw.SweepState(sweep_dir, jobs, skipped, time.time(), progress)
        returns = []
        initial_idx = 0
        try:
            while not self.is_done():
                batch = self.get_job_batch()
                returns.append(sw.launch_isolated(self.launcher, batch, initial_idx, plan, sweep_dir, progress,
                                                  configs, code))
                initial_idx += len(batch)
        finally:
            progress.close()
            sw.stop_workers()
            lock.release()
        return returns

    def _plan(self, arguments: list[str]) -> tuple[Any, list[Any], Any, Any, dict[str, Any]]:
        """Plan, validate and record the sweep (:mod:`experiments.sweep`); a bad sweep exits with code 2.

        Returns:
            The jobs' configs, the planned jobs, the sweep folder, its lock, the code's provenance.
        """
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        from experiments import sweep as sw
        from sim.params import ConfigError

        assert self.config is not None and self.hydra_context is not None
        loader = self.hydra_context.config_loader
        try:
            parser = OverridesParser.create(config_loader=loader)
            overrides = parser.parse_overrides([*self._parse_config(), *arguments])
            self.overrides = self.split_arguments(overrides, self.max_batch_size)
            configs = sw.JobConfigs(self.config, loader)  # kept: each job's config is made from them
            jobs = sw.plan_jobs(self.config, loader, [job for batch in self.overrides for job in batch],
                                configs=configs)
            sweep_dir, lock, code = sw.prepare_folder(self.config, jobs)
        except ConfigError as err:
            print(f"govsim: invalid config: {err}", file=sys.stderr)
            sys.exit(2)
        except (HydraException, OmegaConfBaseException) as exc:
            print(f"govsim: invalid sweep: {sw.hydra_error_line(exc)}", file=sys.stderr)
            sys.exit(2)
        except sw.SweepRefused as exc:
            print(f"govsim: {exc}", file=sys.stderr)
            sys.exit(2)
        except OSError as exc:  # the sweep folder cannot be created or written
            print(f"govsim: {sw.describe_os_error(exc)}; no job was started", file=sys.stderr)
            sys.exit(2)
        return configs, jobs, sweep_dir, lock, code
