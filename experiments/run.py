"""`govsim`: one Hydra job = one parameter point x `run.replications` replications.

Writes into the job's Hydra output directory:

- ``timeseries.parquet``: a row per replication x step (parameter columns,
  ``replication``, ``seed``, ``step``, every metric of :mod:`sim.metrics`);
- ``summary.parquet``: a row per replication (final and aggregate outcomes);
- ``meta.json``: resolved config, seeds, package versions, git commit, wall time;
- ``agents.parquet`` with ``run.collect_agents=true``: a row per professional x step x replication.

A sweep (``-m``) is planned, validated and recorded in ``<sweep dir>/sweep.json`` by
govsim's sweeper before any job starts (:mod:`experiments.sweep`).

Examples::

    govsim
    govsim leadership=facilitative problem.K=6 run.replications=20
    govsim -m leadership=directive,facilitative,shared roles=expert_heavy,partner_heavy
    govsim -m experiment=leadership_styles
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import secrets
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from experiments import sensitivity
from experiments.guard import allowed, check_run_folder
from experiments.provenance import git_state, provenance
from experiments.sweep import FolderLock, SweepRefused, describe_os_error, fsync_dir, removed_on_failure, write_json
from sim.params import ConfigError, ModelParams, build_params, params_to_dict

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("govsim")
CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")
MODEL_SECTIONS = ("problem", "scenario", "roles", "leadership", "network", "workforce", "trust", "mechanisms",
                  "run")
RESULT_SECTIONS = ("sensitivity", "docking")
"""Sections beside the model's that change what a job computes (and so its config hash)."""
OTHER_SECTIONS = ("experiment", "report", "allow", *RESULT_SECTIONS)
"""Sections that do not change results: ``report`` holds what govsim-report shows (key outcomes, reference),
``allow`` the refusals lifted from the command line (:mod:`experiments.guard`)."""


def model_config(cfg: DictConfig) -> dict[str, Any]:
    """The model sections of a composed config as a plain dict."""
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return model_sections(container)


def model_sections(container: dict[str, Any]) -> dict[str, Any]:
    """The model sections of a resolved config container; an unknown top-level section is an error."""
    if "optimise" in container:
        raise ConfigError("optimise", "(an optimisation experiment)",
                          "an optimisation is run by govsim-optimise, e.g. govsim-optimise experiment=optimise_mix")
    extra = sorted(str(k) for k in container if k not in MODEL_SECTIONS and k not in OTHER_SECTIONS)
    if extra:
        raise ConfigError(extra[0], container[extra[0]],
                          "unknown section; sections: " + ", ".join((*MODEL_SECTIONS, *RESULT_SECTIONS)))
    return {k: container[k] for k in MODEL_SECTIONS if k in container}


def point_labels(params: ModelParams, overrides: list[str]) -> dict[str, Any]:
    """Parameter columns for every result row: the main design factors plus swept overrides."""
    labels: dict[str, Any] = {
        "scenario": params.scenario.name,
        "leadership": params.leadership.style,
        "roles": params.roles.name,
        "network": params.network.structure,
        "N": params.problem.N,
        "K": params.problem.K,
        "cross_boundary": params.problem.cross_boundary,
    }
    flat = _flatten(params_to_dict(params))
    given = {item.split("=", 1)[0].lstrip("+~"): item.split("=", 1)[-1] for item in overrides}
    for key in sorted(given):  # sorted: the same overrides in any order give the same columns
        if key in ("experiment",) or key.startswith("hydra"):
            continue
        if key in flat and key not in labels:
            labels[key] = flat[key]
        elif key == "mechanisms":  # a config group option (an ablation): its name is the label
            labels[key] = given[key]
    return labels


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out.update(_flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = d
    return out


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file atomically: to a temporary name, flushed to disk, then renamed."""
    tmp = path.with_name(path.name + ".tmp")
    with removed_on_failure(tmp):
        frame.to_parquet(tmp, index=False)
        _fsync(tmp)
        os.replace(tmp, path)
    fsync_dir(path.parent)


def run_job(cfg: DictConfig, out_dir: Path, overrides: list[str], digest: str | None = None) -> Path:
    """Validate the config, run the point and write its results to ``out_dir``.

    Returns:
        The output directory.
    """
    import pandas as pd  # here, not at the top: a sweep's main process plans and validates without pandas or Mesa

    from sim.runner import replication_seeds, run_point, seed_label

    model_cfg = model_config(cfg)
    params = build_params(model_cfg)
    if cfg.get("docking") is not None:  # a published model's setup on the same engine
        from experiments.docking import run_docking_job

        return run_docking_job(cfg, out_dir, overrides, digest or config_hash(cfg), params)
    labels = point_labels(params, overrides)
    spec = OmegaConf.to_container(cfg.sensitivity, resolve=True) if cfg.get("sensitivity") else None
    # a sensitivity job runs the sample rows of its block (experiments/sensitivity.py)
    todo = [(params, labels)]
    if spec is not None:
        todo = [(p, {**point_labels(p, overrides), **row_labels}) for p, row_labels in
                ((build_params(point_cfg), row_labels) for _, point_cfg, row_labels in
                 sensitivity.points(model_cfg, spec))]
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    frames, summaries, agents = [], [], []
    aside = [0.0]  # CPU of the runs' callbacks (log lines, the network file): inside the runs' time, not the model
    model_cpu = 0.0
    for k, (point, point_labels_) in enumerate(todo):
        tag = ", ".join(f"{key}={v}" for key, v in point_labels_.items())

        def progress(done: int, total: int, seconds: float, tag: str = tag, k: int = k) -> None:
            cpu = time.process_time()
            where = f"point {k + 1}/{len(todo)}, " if len(todo) > 1 else ""
            log.info("[%s] %sreplication %d/%d done (%.1f s)", tag, where, done, total, seconds)
            aside[0] += time.process_time() - cpu

        def keep_network(r: int, model: Any, k: int = k) -> None:
            if r == 0 and k == 0:  # the final network of the first replication, for the report's figure
                import networkx as nx

                cpu = time.process_time()
                tmp = out_dir / "network.graphml.tmp"
                with removed_on_failure(tmp):
                    nx.write_graphml(model.final_network(), tmp)
                    os.replace(tmp, out_dir / "network.graphml")
                aside[0] += time.process_time() - cpu

        cpu = time.process_time()
        ts, sm = run_point(point, point_labels_, progress, agents, keep_network)
        model_cpu += time.process_time() - cpu
        frames.append(ts)
        summaries.append(sm)
    timeseries, summary = pd.concat(frames, ignore_index=True), pd.concat(summaries, ignore_index=True)
    write_parquet(timeseries, out_dir / "timeseries.parquet")
    write_parquet(summary, out_dir / "summary.parquet")
    if agents:  # run.collect_agents: a row per professional x step x replication
        write_parquet(pd.concat(agents, ignore_index=True), out_dir / "agents.parquet")
    seqs = replication_seeds(params.run.seed, params.run.replications)
    meta = {
        "model": "govsim",
        "config_hash": digest or config_hash(cfg),
        "labels": labels,
        "overrides": overrides,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "params": params_to_dict(params),
        "seed": params.run.seed,
        "replication_seeds": [seed_label(s) for s in seqs],
        "replications_scheduled": params.run.replications,
        "replications_completed": int(len(summary)),
        "sensitivity": spec,
        "steps": params.run.steps,
        "optimum_method": "exact enumeration" if params.problem.N <= params.problem.exact_optimum_max_n
        else "estimate: best of 512 steepest-ascent walks",
        **provenance(t0),
        "model_cpu_s": round(model_cpu - aside[0], 3),
    }
    write_json(meta, out_dir / "meta.json")
    log.info("wrote %s", out_dir)
    return out_dir


def config_hash(cfg: DictConfig) -> str:
    """Hash of everything that determines a job's results (model sections, sensitivity and docking blocks)."""
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return container_hash(container)


def container_hash(container: dict[str, Any]) -> str:
    """:func:`config_hash` of an already resolved config container."""
    relevant = {k: container[k] for k in (*MODEL_SECTIONS, *RESULT_SECTIONS) if k in container}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


def is_complete(out_dir: Path, digest: str) -> bool:
    """Whether ``out_dir`` already holds complete results of a config with this hash."""
    meta = out_dir / "meta.json"
    if not meta.exists() or not all((out_dir / f).exists() for f in ("timeseries.parquet", "summary.parquet")):
        return False
    try:
        return json.loads(meta.read_text()).get("config_hash") == digest
    except (OSError, ValueError):
        return False


FAULT_ENV = "GOVSIM_FAULT_JOBS"
"""Fault injection for tests of crash isolation: comma-separated job numbers, each optionally with a kind:
``3`` or ``3:raise`` raises an exception, ``3:kill`` kills the job's own process with SIGKILL (as the
out-of-memory killer does), ``3:enospc`` and ``3:readonly`` raise the write errors of a full disk and of
an unwritable folder."""


def _injected_fault(hc: Any, out_dir: Path) -> None:
    if hc.mode != RunMode.MULTIRUN:
        return
    for item in os.environ.get(FAULT_ENV, "").split(","):
        job, _, kind = item.strip().partition(":")
        if job != str(hc.job.num):
            continue
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out_dir / "timeseries.parquet"))
        if kind == "readonly":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out_dir))
        raise RuntimeError(f"fault injected into job {hc.job.num} by {FAULT_ENV}")


def write_error(out_dir: Path, cfg: DictConfig, overrides: list[str], exc: BaseException) -> None:
    """Record a failed job in ``error.json``: error, traceback, overrides and resolved config."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json({
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc(),
        "overrides": overrides,
        "config": OmegaConf.to_container(cfg, resolve=False),
        "git": git_state(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }, out_dir / "error.json")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: run one job, or skip it if its results are already complete.

    A job whose directory already holds results of the same config (hash in
    ``meta.json``) is skipped, so rerunning a sweep into the same
    ``hydra.sweep.dir`` resumes it. An exception is recorded in the job's
    ``error.json``; in a sweep the other jobs go on and the sweep ends non-zero.
    """
    hc = HydraConfig.get()
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    digest = config_hash(cfg)
    multirun = hc.mode == RunMode.MULTIRUN
    if not multirun:  # a sweep's folder is locked by the sweeper; a run's folder here
        try:
            FolderLock(out_dir).acquire()  # held until this process ends
            check_run_folder(out_dir, digest, overrides, allowed(OmegaConf.to_container(cfg), "overwrite"))
        except SweepRefused as exc:
            print(f"govsim: {exc}", file=sys.stderr)
            sys.exit(2)
    if is_complete(out_dir, digest):
        log.info("skipping %s: results of this config are complete", out_dir)
        return
    where = f"job {hc.job.num}: " if multirun else ""
    try:
        for stale in ("meta.json", "error.json"):
            (out_dir / stale).unlink(missing_ok=True)  # incomplete until this run writes meta.json last
        _injected_fault(hc, out_dir)
        run_job(cfg, out_dir, overrides, digest)
    except ConfigError as err:
        print(f"govsim: invalid config: {err}", file=sys.stderr)
        if not multirun:
            sys.exit(2)
        with contextlib.suppress(OSError):
            write_error(out_dir, cfg, overrides, err)
    except OSError as exc:  # a full disk or an unwritable folder: one line, and the sweep goes on
        print(f"govsim: {where}{describe_os_error(exc)}" + ("; the sweep goes on with the other jobs"
                                                           if multirun else ""), file=sys.stderr)
        with contextlib.suppress(OSError):
            write_error(out_dir, cfg, overrides, exc)
        if not multirun:
            sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - isolate the crash, keep the sweep going
        write_error(out_dir, cfg, overrides, exc)
        log.error("job failed: %s: %s (details in %s)", type(exc).__name__, exc, out_dir / "error.json")
        if not multirun:
            sys.exit(1)


def _invocation_id() -> str:
    """A short id of this invocation (process id and random hex), for unique output folders."""
    return f"{os.getpid()}-{secrets.token_hex(3)}"


if not OmegaConf.has_resolver("govsim_uid"):
    # cached like Hydra's ${now:}: resolved once per invocation, the same in every job of a sweep
    OmegaConf.register_new_resolver("govsim_uid", _invocation_id, use_cache=True)


def cli() -> None:
    """The ``govsim`` command: :func:`main`, with Hydra's own config errors on one line and exit code 2.

    An unknown group option or a misspelled key is found by Hydra while composing,
    before any folder exists; Hydra would print several lines and exit with 1.
    ``HYDRA_FULL_ERROR=1`` keeps Hydra's full report.
    """
    from hydra._internal import utils as hydra_utils
    from hydra._internal.hydra import Hydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from experiments.sweep import hydra_error_line

    original = hydra_utils.run_and_report

    def run_and_report(func: Any) -> Any:
        def guarded() -> Any:
            try:
                return func()
            except (HydraException, OmegaConfBaseException) as exc:
                if os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise
                print(f"govsim: invalid config: {hydra_error_line(exc)}", file=sys.stderr)
                sys.exit(2)
            except OSError as exc:  # Hydra cannot create the run folder or write its files there
                if os.environ.get("HYDRA_FULL_ERROR") == "1":
                    raise
                print(f"govsim: {describe_os_error(exc)}", file=sys.stderr)
                sys.exit(1)
        return original(guarded)

    from experiments.guard import check_group_overrides

    try:
        check_group_overrides(sys.argv[1:], CONFIG_DIR)
    except ConfigError as err:
        print(f"govsim: invalid config: {err}", file=sys.stderr)
        sys.exit(2)
    hydra_utils.run_and_report = run_and_report
    get_mode = Hydra.get_mode
    if multirun_asked(sys.argv[1:]):
        Hydra.get_mode = _no_mode  # type: ignore[method-assign]
    try:
        main()
    except ValueError as exc:  # Hydra's own usage errors (-m with --cfg): the task's errors never reach here
        if os.environ.get("HYDRA_FULL_ERROR") == "1":
            raise
        print(f"govsim: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}", file=sys.stderr)
        sys.exit(2)
    finally:
        hydra_utils.run_and_report = original
        Hydra.get_mode = get_mode  # type: ignore[method-assign]


def multirun_asked(argv: list[str]) -> bool:
    """Whether the command line asks Hydra for a multirun: ``-m``, ``--multirun`` or a prefix of it Hydra accepts."""
    return any(arg == "-m" or (len(arg) >= 3 and "--multirun".startswith(arg)) for arg in argv)


def _no_mode(self: Any, config_name: str | None, overrides: list[str]) -> None:
    """Hydra's ``get_mode`` for a ``--multirun`` command: no mode, without composing the config to read it.

    Hydra composes the whole config once only to read ``hydra.mode``, then again to run. With
    ``--multirun`` it runs a multirun whatever that says, adding ``hydra.mode=MULTIRUN`` to its
    overrides when the mode is not set (as in govsim's base config), so the first composition (about
    0.15 s of every sweep's start) is skipped. The sweep is the same; two things differ where a
    config sets ``hydra.mode`` itself (govsim's experiments set MULTIRUN): ``hydra.mode=MULTIRUN``
    is listed among the sweep's Hydra overrides, and a config that sets RUN is not warned about.
    """
    return None


if __name__ == "__main__":
    cli()
