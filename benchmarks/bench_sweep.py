"""Overhead of a sweep: ``govsim -m`` on c joblib workers against the same runs in c plain processes.

Alternates, ``--repeats`` times, (a) a real sweep through govsim's entry point
(``python -m experiments.run -m leadership=... hydra/launcher=joblib``, ``n_jobs`` = c)
with (b) the same jobs (parameter points x replications) run in c fresh plain Python
processes: each imports the model (``sim.params``, ``sim.runner``), takes the next job
from this script and runs it with :func:`sim.runner.run_point`, with no Hydra, no
sweep machinery and no files written. Each job's parameters are composed by Hydra in
this script before any timing. Both sides start c processes and schedule jobs to
whichever is free, so the difference is what the sweep adds: Hydra's start-up and
composition, the sweeper's validation pass and ``sweep.json``, the per-job Hydra
config and log files, provenance, the results' Parquet and JSON files, and joblib's
workers.

Per pair it prints both wall times, the ratio sweep / plain and the extra CPU per
job (user + system CPU of all child processes, from ``getrusage(RUSAGE_CHILDREN)``
deltas, sweep minus plain, divided by the number of jobs); then the medians, next to
the targets (issue 15): median ratio at most 1.18, at most 0.15 s extra CPU per job; and the median
ratio of the CPU times (no target), which other work on a shared machine disturbs less than wall time.
The load average is printed before each pair and at the end: the machine is shared.

Both sides also count the CPU of their model runs alone (each sweep job's ``model_cpu_s`` in its
``meta.json``; the plain processes time ``run_point`` themselves), and the same extra CPU per job is
printed with each side's model-run CPU taken out ("beyond the model runs"), next to the same target,
with the median ratio of the model runs' own CPU. On a shared machine the same runs' CPU varies by
10-25 % between pairs, seconds where the sweep's own cost is tenths; taking it out leaves what the
sweep adds around the runs. A sweep that slowed the runs themselves would show in that ratio, not in
that line, so both are printed.

    .venv/bin/python benchmarks/bench_sweep.py                       # 4 styles x 10 replications, 5 pairs
    .venv/bin/python benchmarks/bench_sweep.py --workers 2 --repeats 7
    .venv/bin/python benchmarks/bench_sweep.py --quick               # a smoke run (about 15 s)
    .venv/bin/python benchmarks/bench_sweep.py --optimise            # the optimiser's loop instead

``--optimise`` holds an optimisation's own loop to the same bound per trial: it alternates
``govsim-optimise experiment=optimise_mix`` (``--trials`` trials of ``--replications``
replications, ``optimise.batch`` = ``optimise.workers`` = c, then one mix re-evaluated on two
fresh replications) with the same model runs (every trial that ran a model, and the
re-evaluation, read from the optimisation's own tables) in c plain processes, one trial per
task; the extra CPU is per trial run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.18
TARGET_EXTRA_CPU = 0.15
STYLES = ("directive", "transactional", "facilitative", "shared", "situational", "laissez_faire")

# The plain worker: imports the model once, then runs one job per line of stdin (its labels and
# model config as JSON) and answers with one line; an empty line ends it.
PLAIN_WORKER = """
import json, sys, time
from sim.params import build_params
from sim.runner import run_point
for line in sys.stdin:
    if not line.strip():
        break
    job = json.loads(line)
    params = build_params(job["model"])
    cpu = time.process_time()
    ts, summary = run_point(params, job["labels"])
    cpu = time.process_time() - cpu
    print(json.dumps({"rows": len(ts), "replications": len(summary), "model_cpu": cpu}), flush=True)
"""

# The plain worker of --optimise: one trial (a mix on its replications) per line, with the runner the
# optimiser's workers use.
PLAIN_MIX_WORKER = """
import json, sys
from experiments.mixes import evaluate
for line in sys.stdin:
    if not line.strip():
        break
    job = json.loads(line)
    rows = evaluate(job["model"], job["mix"], job["replications"], job["outcomes"])
    print(json.dumps({"rows": len(rows), "replications": len(rows)}), flush=True)
"""


@dataclass
class Measurement:
    """Wall time and children's CPU time of one side of a pair."""

    wall: float
    cpu: float
    replications: int = 0
    """Replications the plain processes reported (the sweep's are checked by their files)."""
    model_cpu: float = float("nan")
    """CPU seconds of the model runs alone (the jobs' ``model_cpu_s``; the plain processes' own count)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--quick`` shrinks the design to a smoke run."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5, help="pairs of (sweep, plain) runs (default 5)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes at a time on both sides (default: the number of cores)")
    ap.add_argument("--styles", type=int, default=4, help=f"leadership styles swept, 1-{len(STYLES)} (default 4)")
    ap.add_argument("--replications", type=int, default=10, help="run.replications of each job (default 10)")
    ap.add_argument("--seeds", type=int, default=1,
                    help="run.seed values 1..S swept per style (default 1: the configured seed); styles x S jobs")
    ap.add_argument("--steps", type=int, default=200, help="run.steps of each replication (default 200)")
    ap.add_argument("--optimise", action="store_true",
                    help="time govsim-optimise's loop instead of a sweep (see the module docstring)")
    ap.add_argument("--trials", type=int, default=40, help="--optimise: trials of the optimisation (default 40)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 2 styles x 2 replications x 20 steps, one pair")
    args = ap.parse_args(argv)
    if args.optimise and "--replications" not in (argv or sys.argv[1:]):
        args.replications = 2
    if args.optimise and "--steps" not in (argv or sys.argv[1:]):
        args.steps = 60
    if args.quick:
        args.repeats, args.styles, args.replications, args.steps, args.trials = 1, 2, 2, 20, 6
    for name, low, high in (("trials", 1, None),
                            ("repeats", 1, None), ("workers", 1, None), ("styles", 1, len(STYLES)), ("seeds", 1, None),
                            ("replications", 1, None), ("steps", 1, None)):
        value = getattr(args, name)
        if value < low or (high is not None and value > high):
            allowed = f"{low}-{high}" if high is not None else f"at least {low}"
            ap.error(f"--{name}={value}: allowed {allowed}")
    return args


def sweep_overrides(args: argparse.Namespace) -> list[str]:
    """The sweep's design as ``govsim -m`` overrides (without the folder and the launcher)."""
    seeds = [f"run.seed={','.join(str(s) for s in range(1, args.seeds + 1))}"] if args.seeds > 1 else []
    return [f"leadership={','.join(STYLES[:args.styles])}", *seeds, f"run.replications={args.replications}",
            f"run.steps={args.steps}"]


def job_overrides(args: argparse.Namespace) -> list[list[str]]:
    """Each job's overrides, in the sweep's order (the last factor varies fastest)."""
    seeds = [[f"run.seed={s}"] for s in range(1, args.seeds + 1)] if args.seeds > 1 else [[]]
    return [[f"leadership={style}", *seed, f"run.replications={args.replications}", f"run.steps={args.steps}"]
            for style in STYLES[:args.styles] for seed in seeds]


def planned_jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each job's labels and model config, composed by Hydra as the sweep composes them."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from experiments.run import CONFIG_DIR, model_config, point_labels
    from sim.params import build_params

    jobs = []
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        for overrides in job_overrides(args):
            cfg = compose(config_name="config", overrides=overrides)  # without the hydra node
            model = model_config(cfg)
            labels = point_labels(build_params(model), overrides)
            jobs.append({"model": json.loads(json.dumps(model, default=str)), "labels": labels})
            assert OmegaConf.select(cfg, "run.replications") == args.replications
    return jobs


def children_cpu() -> float:
    """User + system CPU seconds of all waited-for child processes (and theirs) so far."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def env() -> dict[str, str]:
    """The environment of both sides: this checkout first on the path, no thread oversubscription."""
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_sweep(args: argparse.Namespace, folder: Path) -> Measurement:
    """One real sweep through govsim's entry point on ``args.workers`` joblib workers."""
    cmd = [sys.executable, "-m", "experiments.run", "-m", *sweep_overrides(args), "hydra/launcher=joblib",
           f"hydra.launcher.n_jobs={args.workers}", f"hydra.sweep.dir={folder}"]
    cpu0, t0 = children_cpu(), time.perf_counter()
    res = subprocess.run(cmd, cwd=folder.parent, capture_output=True, text=True, env=env())
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if res.returncode != 0:
        raise SystemExit(f"bench_sweep: the sweep failed (exit {res.returncode}): {res.stderr.strip()[-800:]}")
    metas = [json.loads(p.read_text()) for p in folder.glob("*/meta.json")]
    if len(metas) != args.styles * args.seeds:
        raise SystemExit(f"bench_sweep: the sweep completed {len(metas)} of {args.styles * args.seeds} jobs")
    return Measurement(wall, cpu, model_cpu=sum(m["model_cpu_s"] for m in metas))


def run_optimise(args: argparse.Namespace, folder: Path, seed: int) -> tuple[Measurement, list[dict[str, Any]]]:
    """One real optimisation through govsim-optimise; also the model runs it made, as plain jobs."""
    import pandas as pd

    from experiments import optimise as opt

    overrides = ["experiment=optimise_mix", f"run.steps={args.steps}", f"optimise.trials={args.trials}",
                 f"optimise.replications={args.replications}", f"optimise.workers={args.workers}",
                 f"optimise.batch={args.workers}", "optimise.choose=1", "optimise.selection=all",
                 "optimise.surrogate=0",
                 "optimise.reevaluate=2", f"optimise.seed={seed}"]
    cmd = [sys.executable, "-m", "experiments.optimise", *overrides, "--quiet", "--out", str(folder)]
    cpu0, t0 = children_cpu(), time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env())
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if res.returncode != 0:
        raise SystemExit(f"bench_sweep: the optimisation failed (exit {res.returncode}): {res.stderr.strip()[-800:]}")
    model_cfg, settings, _ = opt.prepare(opt.compose(overrides), "optimise_mix")
    outcomes = opt.outcomes_of(settings)
    levers = settings.space.levers
    trials = pd.read_parquet(folder / "trials.parquet")
    ran = trials[(trials["duplicate_of"] < 0) & (trials["state"] == "COMPLETE")]
    jobs = [{"model": model_cfg, "mix": {lv: row[lv] for lv in levers}, "outcomes": outcomes,
             "replications": list(range(args.replications))} for _, row in ran.iterrows()]
    reeval = pd.read_parquet(folder / "reevaluation.parquet")
    for _, group in reeval.groupby("mix_id"):
        jobs.append({"model": model_cfg, "mix": {lv: group.iloc[0][lv] for lv in levers}, "outcomes": outcomes,
                     "replications": [int(r) for r in group["replication"]]})
    return Measurement(wall, cpu, len(ran) * args.replications + len(reeval)), jobs


def run_plain(jobs: list[dict[str, Any]], workers: int, worker: str = PLAIN_WORKER) -> Measurement:
    """The same jobs in ``workers`` fresh plain Python processes, each job to the next free process.

    Returns:
        Wall time from the first process's start to the last one's exit, and their CPU time.
    """
    cpu0, t0 = children_cpu(), time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", worker], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env(), cwd=ROOT)
             for _ in range(min(workers, len(jobs)))]
    todo = list(jobs)
    sel = selectors.DefaultSelector()
    done = replications = 0
    model_cpu = 0.0
    try:
        for proc in procs:  # one job each to start with
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(todo.pop(0)) + "\n")
            proc.stdin.flush()
            sel.register(proc.stdout, selectors.EVENT_READ, proc)
        while done < len(jobs):
            for key, _ in sel.select():
                proc = key.data
                line = proc.stdout.readline()
                if not line:
                    raise SystemExit(f"bench_sweep: a plain worker died (exit {proc.wait()})")
                answer = json.loads(line)
                replications += answer["replications"]
                model_cpu += answer.get("model_cpu", float("nan"))
                done += 1
                if todo:
                    proc.stdin.write(json.dumps(todo.pop(0)) + "\n")
                    proc.stdin.flush()
                else:  # nothing left: this process ends
                    sel.unregister(proc.stdout)
                    proc.stdin.close()
        for proc in procs:
            proc.wait()
    finally:
        sel.close()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return Measurement(time.perf_counter() - t0, children_cpu() - cpu0, replications, model_cpu)


def load() -> str:
    """The load average (1, 5, 15 min) as text."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def medians(side: str, unit: str, ratios: list[float], extras: list[float],
            cpu_ratios: list[float], beyond: list[float] | None = None,
            model_ratios: list[float] | None = None) -> dict[str, float]:
    """Print the medians of the pairs next to the targets, and the load; return them.

    ``beyond`` (sweeps only): the extra CPU per job with each side's model-run CPU taken out, and
    ``model_ratios``: the ratio of the model runs' own CPU, sweep / plain.
    """
    med_ratio, med_extra = statistics.median(ratios), statistics.median(extras)
    print(f"median ratio {side}/plain: {med_ratio:.3f} (target <= {TARGET_RATIO}: "
          f"{'met' if med_ratio <= TARGET_RATIO else 'MISSED'})")
    print(f"median extra CPU per {unit}: {med_extra:+.3f} s (target <= {TARGET_EXTRA_CPU} s: "
          f"{'met' if med_extra <= TARGET_EXTRA_CPU else 'MISSED'}; pairs {min(extras):+.3f} to {max(extras):+.3f} s)")
    out = {"ratio": med_ratio, "extra_cpu": med_extra}
    if beyond:
        med_beyond, med_model = statistics.median(beyond), statistics.median(model_ratios or [float("nan")])
        print(f"median extra CPU per {unit} beyond the model runs: {med_beyond:+.3f} s "
              f"(target <= {TARGET_EXTRA_CPU} s: {'met' if med_beyond <= TARGET_EXTRA_CPU else 'MISSED'}; "
              f"pairs {min(beyond):+.3f} to {max(beyond):+.3f} s): the same difference with each side's model "
              "runs' own CPU taken out, which the machine's speed moves by more than the sweep costs")
        print(f"median CPU ratio of the model runs alone {side}/plain: {med_model:.3f} (no target; above 1 would "
              "mean the sweep slows the runs themselves, which the line above does not count)")
        out.update(extra_cpu_beyond_runs=med_beyond, model_cpu_ratio=med_model)
    print(f"median CPU ratio {side}/plain: {statistics.median(cpu_ratios):.3f} (no target; less sensitive than wall "
          "time to other work on the machine)")
    print(f"load average (1, 5, 15 min): {load()}")
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the pairs and print the figures; returns the medians (ratio, extra CPU per job)."""
    args = parse_args(argv)
    if args.optimise:
        return main_optimise(args)
    n_jobs = args.styles * args.seeds
    print(f"design: {args.styles} styles x {args.seeds} seed(s) x {args.replications} replications x {args.steps} "
          f"steps ({n_jobs} jobs), "
          f"{args.workers} worker(s) on {os.cpu_count()} cores, {args.repeats} pair(s)", flush=True)
    jobs = planned_jobs(args)
    ratios, extras, cpu_ratios, beyond, model_ratios = [], [], [], [], []
    work = Path(tempfile.mkdtemp(prefix="govsim-bench-sweep-"))
    try:
        for k in range(args.repeats):
            before = load()
            sweep = run_sweep(args, work / f"sweep{k}")
            shutil.rmtree(work / f"sweep{k}")
            plain = run_plain(jobs, args.workers)
            if plain.replications != n_jobs * args.replications:
                raise SystemExit(f"bench_sweep: the plain processes ran {plain.replications} replications")
            ratio = sweep.wall / plain.wall
            extra = (sweep.cpu - plain.cpu) / n_jobs
            ratios.append(ratio)
            cpu_ratios.append(sweep.cpu / plain.cpu)
            extras.append(extra)
            beyond.append(((sweep.cpu - sweep.model_cpu) - (plain.cpu - plain.model_cpu)) / n_jobs)
            model_ratios.append(sweep.model_cpu / plain.model_cpu)
            print(f"pair {k + 1}: sweep {sweep.wall:.2f} s (CPU {sweep.cpu:.2f} s, model runs "
                  f"{sweep.model_cpu:.2f} s), plain {plain.wall:.2f} s (CPU {plain.cpu:.2f} s, model runs "
                  f"{plain.model_cpu:.2f} s); "
                  f"ratio {ratio:.3f}, extra CPU per job {extra:+.3f} s, beyond the model runs {beyond[-1]:+.3f} s "
                  f"[load before {before}]", flush=True)
            if sweep.cpu < sweep.model_cpu:
                print("  warning: the sweep's CPU is below its model runs' own: its workers' CPU was not all counted")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return medians("sweep", "job", ratios, extras, cpu_ratios, beyond, model_ratios)


def main_optimise(args: argparse.Namespace) -> dict[str, float]:
    """The pairs of --optimise: govsim-optimise against its own model runs in plain processes."""
    print(f"design: govsim-optimise experiment=optimise_mix, {args.trials} trials x {args.replications} "
          f"replications x {args.steps} steps, {args.workers} worker(s) on {os.cpu_count()} cores, "
          f"{args.repeats} pair(s)", flush=True)
    ratios, extras, cpu_ratios = [], [], []
    work = Path(tempfile.mkdtemp(prefix="govsim-bench-optimise-"))
    try:
        for k in range(args.repeats):
            before = load()
            optimised, jobs = run_optimise(args, work / f"opt{k}", seed=k)
            shutil.rmtree(work / f"opt{k}")
            plain = run_plain(jobs, args.workers, PLAIN_MIX_WORKER)
            if plain.replications != optimised.replications:
                raise SystemExit(f"bench_sweep: the plain processes ran {plain.replications} runs, the optimisation "
                                 f"{optimised.replications}")
            trials = len(jobs) - 1  # the trials that ran a model (the last job is the re-evaluation)
            ratio = optimised.wall / plain.wall
            extra = (optimised.cpu - plain.cpu) / trials
            ratios.append(ratio)
            extras.append(extra)
            cpu_ratios.append(optimised.cpu / plain.cpu)
            print(f"pair {k + 1}: optimisation {optimised.wall:.2f} s (CPU {optimised.cpu:.2f} s), plain "
                  f"{plain.wall:.2f} s (CPU {plain.cpu:.2f} s) for {optimised.replications} runs of {trials} trials; "
                  f"ratio {ratio:.3f}, extra CPU per trial {extra:+.3f} s [load before {before}]", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return medians("optimisation", "trial", ratios, extras, cpu_ratios)


if __name__ == "__main__":
    main()
