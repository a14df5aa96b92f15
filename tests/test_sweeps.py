"""Nothing lost, nothing injected: unique folders, one sweep per folder, sweep.json, worker deaths, write errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from experiments.sweep import FolderLock
from tests.conftest import ROOT

SMALL = ["run.steps=5", "run.replications=1", "problem.N=10"]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "experiments.run", *args]


def environment(extra: dict | None = None) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), **(extra or {})}


def govsim(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=environment(env))


def together(*commands: list[str], cwd: Path) -> list[subprocess.CompletedProcess]:
    """Start the commands at once and wait for all."""
    procs = [subprocess.Popen(c, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=environment()) for c in commands]
    out = []
    for proc, cmd in zip(procs, commands, strict=True):
        stdout, stderr = proc.communicate(timeout=300)
        out.append(subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr))
    return out


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_runs_started_together_keep_both_results(tmp_path: Path) -> None:
    runs = together(command(*SMALL, "run.seed=1"), command(*SMALL, "run.seed=2"), cwd=tmp_path)
    assert [r.returncode for r in runs] == [0, 0], [r.stderr[-800:] for r in runs]
    metas = sorted((tmp_path / "outputs" / "runs").glob("*/meta.json"))
    assert len(metas) == 2 and len({m.parent for m in metas}) == 2
    assert sorted(json.loads(m.read_text())["seed"] for m in metas) == [1, 2]


def test_two_sweeps_started_together_keep_all_jobs(tmp_path: Path) -> None:
    sweep = ["-m", "leadership=directive,shared", *SMALL, "hydra/launcher=basic"]
    runs = together(command(*sweep, "run.seed=1"), command(*sweep, "run.seed=2"), cwd=tmp_path)
    assert [r.returncode for r in runs] == [0, 0], [r.stderr[-800:] for r in runs]
    folders = sorted((tmp_path / "outputs" / "sweeps").iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert sorted(p.parent.name for p in folder.glob("*/meta.json")) == ["0", "1"]
        assert len({json.loads(m.read_text())["seed"] for m in folder.glob("*/meta.json")}) == 1


def test_a_second_writer_into_a_locked_sweep_folder_is_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    lock = FolderLock(sweep)
    lock.acquire()
    try:
        res = govsim("-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}",
                     "hydra/launcher=basic", cwd=tmp_path)
    finally:
        lock.release()
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [line for line in res.stderr.strip().splitlines()
                                               if "is writing into" in line]
    assert sorted(p.name for p in sweep.iterdir()) == [".govsim.lock"]


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    lock = FolderLock(out)
    lock.acquire()
    try:
        res = govsim(*SMALL, f"hydra.run.dir={out}", cwd=tmp_path)
    finally:
        lock.release()
    assert res.returncode == 2 and "is writing into" in res.stderr and not (out / "meta.json").exists()
    assert govsim(*SMALL, f"hydra.run.dir={out}", cwd=tmp_path).returncode == 0 and (out / "meta.json").exists()


def test_another_sweep_into_a_used_folder_is_refused_and_the_same_sweep_resumes(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    first = ["-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic"]
    assert govsim(*first, cwd=tmp_path).returncode == 0
    before = snapshot(sweep)
    for other in (["-m", "leadership=directive,laissez_faire"], ["-m", "leadership=directive,shared,facilitative"],
                  ["-m", "leadership=directive,shared", "run.seed=9"]):
        res = govsim(*other, *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic", cwd=tmp_path)
        lines = res.stderr.strip().splitlines()
        assert res.returncode == 2 and len(lines) == 1 and "holds another sweep" in lines[0], res.stderr
        assert snapshot(sweep) == before, "a refused sweep must not write anything"
    res = govsim(*first, cwd=tmp_path)
    assert res.returncode == 0 and (res.stdout + res.stderr).count("skipping") == 2
    record = json.loads((sweep / "sweep.json").read_text())
    assert len(record["resumes"]) == 1 and record["resumes"][0]["differences"] == []


def test_a_folder_of_an_older_sweep_without_record_is_checked_by_its_jobs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    first = ["-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic"]
    assert govsim(*first, cwd=tmp_path).returncode == 0
    (sweep / "sweep.json").unlink()
    res = govsim("-m", "leadership=shared,directive", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic",
                 cwd=tmp_path)
    assert res.returncode == 2 and "holds another sweep" in res.stderr and not (sweep / "sweep.json").exists()
    assert govsim(*first, cwd=tmp_path).returncode == 0 and (sweep / "sweep.json").exists()


def test_sweep_json_records_the_jobs_hydra_launched(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    res = govsim("-m", "leadership=glob([d*,s*])", "problem.K=2,3", *SMALL, f"hydra.sweep.dir={sweep}",
                 "hydra/launcher=basic", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    record = json.loads((sweep / "sweep.json").read_text())
    assert set(record) >= {"jobs", "overrides", "created", "git", "versions", "config_hash"}
    assert record["overrides"] == ["leadership=glob([d*,s*])", "problem.K=2,3", *SMALL]
    assert len(record["jobs"]) == 6 and [j["num"] for j in record["jobs"]] == list(range(6))
    styles = {o for j in record["jobs"] for o in j["overrides"] if o.startswith("leadership=")}
    assert styles == {"leadership=directive", "leadership=shared", "leadership=situational"}
    for job in record["jobs"]:
        folder = sweep / job["dir"]
        launched = (folder / ".hydra" / "overrides.yaml").read_text().split("\n")
        assert [line[2:] for line in launched if line.startswith("- ")] == job["overrides"]
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["config_hash"] == record["config_hash"][str(job["num"])]
    assert record["git"]["commit"] and record["versions"]["numpy"]


def test_resuming_with_other_code_says_so_and_records_it(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = ["-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic"]
    assert govsim(*args, cwd=tmp_path).returncode == 0
    meta_file = sweep / "0" / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["git"]["commit"] = "0123456789abcdef"
    meta["versions"]["numpy"] = "1.0.0"
    meta_file.write_text(json.dumps(meta))
    (sweep / "1" / "meta.json").unlink()  # an unfinished job to resume
    res = govsim(*args, cwd=tmp_path)
    assert res.returncode == 0
    warnings = [line for line in res.stderr.splitlines() if "warning: resuming" in line]
    assert len(warnings) == 1 and "0123456789" in warnings[0] and "numpy 1.0.0 (jobs 0)" in warnings[0]
    resume = json.loads((sweep / "sweep.json").read_text())["resumes"][-1]
    assert any("numpy" in d for d in resume["differences"]) and resume["versions"]["numpy"] != "1.0.0"


def test_a_sigkilled_joblib_worker_leaves_the_other_jobs_complete_and_is_listed(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    res = govsim("-m", "leadership=directive,shared,facilitative,laissez_faire", *SMALL, f"hydra.sweep.dir={sweep}",
                 "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", cwd=tmp_path, env={"GOVSIM_FAULT_JOBS": "1:kill"})
    assert res.returncode == 1, res.stderr[-1500:]
    assert sorted(p.parent.name for p in sweep.glob("*/meta.json")) == ["0", "2", "3"]
    err = json.loads((sweep / "1" / "error.json").read_text())
    assert "killed by SIGKILL" in err["error"] and "leadership=shared" in err["overrides"]
    assert err["config"]["leadership"]["style"] == "shared"
    assert "1 job(s) of the sweep failed" in res.stderr and "job 1: leadership=shared" in res.stderr
    assert "3 complete" in res.stderr and f"govsim-report {sweep}" in res.stderr
    assert "4/4 jobs done, 1 failed" in res.stderr  # progress, one line per finished job off a terminal
    assert "Traceback" not in res.stderr


def test_a_refused_joblib_sweep_stops_its_workers_server_and_writes_nothing(tmp_path: Path) -> None:
    from experiments import sweep as sw

    sweep = tmp_path / "sweep"
    res = govsim("-m", "problem.K=2,20", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=joblib",
                 "hydra.launcher.n_jobs=2", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [
        "govsim: invalid config: problem.K=20 is not allowed: must be smaller than problem.N=10"], res.stderr[-1500:]
    assert not sweep.exists()
    sw.stop_workers(kill=True)  # none started in this process: nothing to stop
    ctx = sw.start_workers({})
    assert ctx.get_start_method() == "forkserver"
    sw.stop_workers(kill=True)
    assert sw._SERVER == {}


FORK_PROBE = """
import os, sys, threading
def report(fd):
    import gc
    import threadpoolctl
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        target = None
    blas = sorted({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})
    return {"marker": "govsim_probe_marker" in sys.modules, "fd": target, "blas": blas,
            "server": os.getppid(), "frozen": gc.get_freeze_count()}
"""

FORK_SCRIPT = """
import json, os, select, sys, threading, types
import numpy  # its BLAS loaded before the server starts, without a thread limit
sys.modules["govsim_probe_marker"] = types.ModuleType("govsim_probe_marker")  # only a fork of this process has it
from concurrent.futures import ProcessPoolExecutor
from experiments import sweep as sw
import probe
read_end, write_end = os.pipe()
release = threading.Event()
if sys.argv[1] == "with a thread":
    threading.Thread(target=release.wait).start()
elif sys.argv[1] == "with a thread outside threading":  # as a library's own thread: threading does not count it
    import _thread
    _thread.start_new_thread(release.wait, ())
ctx = sw.start_workers({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
server = sw._SERVER and __import__("multiprocessing.forkserver").forkserver._forkserver._forkserver_pid
os.close(write_end)  # the only holder of the pipe's write end left should be this process: EOF at once
eof = bool(select.select([read_end], [], [], 20)[0]) and os.read(read_end, 1) == b""
with ProcessPoolExecutor(1, mp_context=ctx) as pool:
    out = pool.submit(probe.report, write_end).result(timeout=120)
sw.stop_workers()  # returns once the server has ended
release.set()
print(json.dumps({**out, "eof": eof, "server_is_parent": out["server"] == server}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the server is forked from the sweep only on Linux")
def test_the_workers_server_is_a_fork_of_the_sweep_without_its_descriptors_and_with_the_thread_limit(
        tmp_path: Path) -> None:
    """A fork of the sweep serves the workers: no descriptor held, BLAS limited, imports frozen; else a new Python."""
    (tmp_path / "probe.py").write_text(FORK_PROBE)
    env = {k: v for k, v in environment().items() if not k.endswith("_NUM_THREADS")}
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{env['PYTHONPATH']}"
    seen = {}
    for case in ("alone", "with a thread", "with a thread outside threading"):
        res = subprocess.run([sys.executable, "-c", FORK_SCRIPT, case], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120, env=env)
        assert res.returncode == 0, res.stderr[-1500:]
        seen[case] = json.loads(res.stdout.strip().splitlines()[-1])
    forked = seen["alone"]
    assert forked["marker"] and forked["server_is_parent"]  # a fork of the sweep's process serves the worker
    assert forked["fd"] == "/dev/null"  # the sweep's other descriptors: released, their numbers kept taken
    for case, out in seen.items():
        assert out["eof"], case  # no server holds the pipe's write end
        assert out["blas"] == [1], case  # joblib's limit, though NumPy was loaded before the server started
        assert out["server_is_parent"], case
        assert out["frozen"] > 10_000, case  # what the server loaded is out of the collector's way
        if case != "alone":  # another thread at the fork: the server is a new Python, as before
            assert not out["marker"], case


def test_multirun_asked_reads_hydras_flag_and_its_abbreviations() -> None:
    from experiments.run import multirun_asked

    for argv in (["-m", "leadership=shared"], ["leadership=shared", "--multirun"], ["--multi"], ["--m"]):
        assert multirun_asked(argv), argv
    for argv in ([], ["leadership=shared"], ["run.name=-m"], ["-c", "job"], ["--cfg", "job"], ["--multirunx"]):
        assert not multirun_asked(argv), argv


COUNT_COMPOSITIONS = """
import atexit, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
calls = []
load = ConfigLoaderImpl.load_configuration
def counted(self, *args, **kwargs):
    calls.append(1)
    return load(self, *args, **kwargs)
ConfigLoaderImpl.load_configuration = counted
atexit.register(lambda: print("compositions:", len(calls), file=sys.stderr))
from experiments.run import cli
sys.argv = ["govsim", *sys.argv[1:]]
cli()
"""


@pytest.mark.parametrize("multirun", ["-m", ""])
def test_a_sweep_composes_its_config_once_before_planning_and_records_the_multirun_mode(tmp_path: Path,
                                                                                        multirun: str) -> None:
    """With -m, Hydra's first composition (only to read hydra.mode) is skipped; the jobs' records are unchanged.

    Without -m, an experiment that sets ``hydra.mode: MULTIRUN`` still sweeps: Hydra reads the mode as before.
    """
    sweep = tmp_path / "sweep"
    args = [*([multirun] if multirun else []), "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}"]
    if not multirun:  # the mode comes from the config: an experiment's hydra.mode, set here as an override
        args.append("hydra.mode=MULTIRUN")
    res = subprocess.run([sys.executable, "-c", COUNT_COMPOSITIONS, *args], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env=environment())
    assert res.returncode == 0, res.stderr[-1500:]
    # the primary config, Hydra's reading of the mode (only without -m), one per group choice of the plan
    assert f"compositions: {1 + (0 if multirun else 1) + 2}" in res.stderr, res.stderr[-800:]
    for job in ("0", "1"):
        hydra_cfg = (sweep / job / ".hydra" / "hydra.yaml").read_text()
        assert "mode: MULTIRUN" in hydra_cfg and "- hydra.mode=MULTIRUN" in hydra_cfg
        assert (sweep / job / "meta.json").exists()


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_disk_full_and_unwritable_folders_give_one_line_each_and_the_sweep_goes_on(tmp_path: Path,
                                                                                  launcher: str) -> None:
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "3").write_text("a file where job 3's folder should be")  # Hydra cannot create the job folder
    res = govsim("-m", "leadership=directive,shared,facilitative,laissez_faire,transactional", *SMALL,
                 f"hydra.sweep.dir={sweep}", f"hydra/launcher={launcher}",
                 *(["hydra.launcher.n_jobs=2"] if launcher == "joblib" else []), cwd=tmp_path,
                 env={"GOVSIM_FAULT_JOBS": "1:enospc,2:readonly"})
    assert res.returncode == 1, res.stderr[-1500:]
    lines = res.stderr.splitlines()
    assert len([line for line in lines if line.startswith("govsim: job 1: disk full")]) == 1
    assert len([line for line in lines if line.startswith("govsim: job 2: not writable")]) == 1
    assert len([line for line in lines if line.startswith("govsim: job 3: cannot write")]) == 1
    assert "Traceback" not in res.stderr
    assert sorted(p.parent.name for p in sweep.glob("*/meta.json")) == ["0", "4"]
    # job 3 could not even write its error.json: the summary still counts it as failed, with its line
    assert "2 complete" in res.stderr and "3 failed, 0 did not finish" in res.stderr


def test_a_run_folder_that_cannot_be_created_gives_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the run folder should be")
    res = govsim(*SMALL, f"hydra.run.dir={blocker / 'run'}", cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [line for line in res.stderr.strip().splitlines()
                                               if line.startswith("govsim: cannot write")]
    res = govsim("-m", "run.seed=1,2", *SMALL, f"hydra.sweep.dir={blocker / 'sweep'}", "hydra/launcher=basic",
                 cwd=tmp_path)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "no job was started" in res.stderr


def test_the_same_overrides_in_another_order_give_identical_bytes(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert govsim(*SMALL, "problem.K=3", "network.degree=4", f"hydra.run.dir={one}", cwd=tmp_path).returncode == 0
    assert govsim("network.degree=4", "problem.K=3", *reversed(SMALL), f"hydra.run.dir={two}",
                  cwd=tmp_path).returncode == 0
    for name in ("timeseries.parquet", "summary.parquet"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_collect_agents_writes_the_agent_records(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = govsim("run.steps=3", "run.replications=2", "problem.N=10", "run.collect_agents=true",
                 f"hydra.run.dir={out}", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    agents = pd.read_parquet(out / "agents.parquet")
    heads = json.loads((out / "meta.json").read_text())["params"]["scenario"]["organisations"]
    professionals = sum(org["size"] for org in heads)
    assert len(agents) == professionals * 4 * 2
    assert {"replication", "seed", "step", "agent", "energy", "burnt_out"} <= set(agents.columns)
    assert sorted(agents["step"].unique()) == [0, 1, 2, 3]
    assert not (tmp_path / "plain").exists()
    assert govsim("run.steps=3", "run.replications=1", "problem.N=10", f"hydra.run.dir={tmp_path / 'plain'}",
                  cwd=tmp_path).returncode == 0
    assert not (tmp_path / "plain" / "agents.parquet").exists()


@pytest.mark.parametrize("job", [
    ["experiment=sensitivity_sobol", "+sensitivity.block=3", "run.steps=3"],
    ["scenario=crisis_aftershock", "scenario.organisations.0.size=3", "leadership.style=shared"],
    ["leadership=facilitative", "problem.shocks=[{step:2,share:0.5}]", "run.steps=4", "run.collect_agents=true"],
    ["experiment=docking_hong_page", "docking.l=6"],
    ["roles=expert_heavy", "problem.K=2", "network.initial_trust=0.3", "~problem.shocks"],
])
def test_planned_config_hash_equals_hydras_own_composition(job: list[str]) -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import open_dict

    from experiments.run import config_hash
    from experiments.sweep import plan_jobs

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
            master = compose(config_name="config", return_hydra_config=True)
            with open_dict(master):
                master.hydra.job.config_name = "config"
            loader = GlobalHydra.instance().config_loader()
            planned = plan_jobs(master, loader, [job])[0]
            full = loader.load_sweep_config(master, job)
            with open_dict(full):
                del full["hydra"]
            assert planned.config_hash == config_hash(full) and planned.dir == "0"
    finally:
        GlobalHydra.instance().clear()


# ------------------------------------------------------------------ the job's config and files, as Hydra makes them
JOBS = [
    ["leadership=facilitative"],
    ["leadership=shared", "run.seed=3", "problem.K=2", "roles=expert_heavy"],
    ["experiment=sensitivity_sobol", "+sensitivity.block=3", "run.steps=3"],
    ["scenario=crisis_aftershock", "scenario.organisations.0.size=3", "leadership.style=shared"],
    ["leadership=facilitative", "problem.shocks=[{step:2,share:0.5}]", "run.steps=4", "run.collect_agents=true"],
    ["experiment=docking_hong_page", "docking.l=6"],
    ["roles=expert_heavy", "problem.K=2", "network.initial_trust=0.3", "~problem.shocks"],
    ["run.steps=${run.replications}", "+report.stamp=${now:%Y}", "network=siloed"],
]
MASTER_OVERRIDES = ["+hydra.job.env_set.GOVSIM_TEST_ENV=on", "hydra.verbose=false"]


def structure(node, path: str = "") -> list:
    """Every node of a config: its path, node type, flags, types and (for a leaf) its raw value."""
    from omegaconf import DictConfig, ListConfig

    meta = node._metadata
    row = [path, type(node).__name__, dict(meta.flags), str(meta.ref_type), str(meta.object_type), meta.optional,
           str(meta.key)]
    if isinstance(node, DictConfig):
        if node._is_none() or node._is_missing() or node._is_interpolation():
            return [[*row, node._value()]]
        return [row, *[r for key in node.keys() for r in structure(node._get_node(key), f"{path}.{key}")]]
    if isinstance(node, ListConfig):
        if node._is_none() or node._is_missing() or node._is_interpolation():
            return [[*row, node._value()]]
        return [row, *[r for i in range(len(node)) for r in structure(node._get_node(i), f"{path}[{i}]")]]
    return [[*row, node._value()]]


@pytest.fixture
def sweep_master(tmp_path: Path):
    """A sweep's primary config as Hydra's multirun has it, and its config loader."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode
    from omegaconf import OmegaConf, open_dict

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3", job_name="govsim"):
            loader = GlobalHydra.instance().config_loader()
            master = loader.load_configuration("config", [*MASTER_OVERRIDES, f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                                               RunMode.MULTIRUN)
            with open_dict(master):
                master.hydra.mode = RunMode.MULTIRUN
            OmegaConf.select(master, "hydra.sweep.dir")  # resolved once, as the sweeper does: ${now:} cached
            yield master, loader
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.parametrize("job", JOBS)
def test_a_job_config_made_from_the_plan_equals_hydras_own_composition(sweep_master, job: list[str]) -> None:
    from omegaconf import OmegaConf, open_dict

    from experiments.sweep import JobConfigs, plan_jobs

    master, loader = sweep_master
    configs = JobConfigs(master, loader)
    plan_jobs(master, loader, [job], configs=configs)
    made, task = configs.recipe(job).build(master)
    hydras = loader.load_sweep_config(master, job)
    assert OmegaConf.to_yaml(made) == OmegaConf.to_yaml(hydras)
    assert structure(made) == structure(hydras)
    assert OmegaConf.get_cache(made) == OmegaConf.get_cache(hydras)
    with open_dict(hydras):
        del hydras["hydra"]
    assert OmegaConf.to_yaml(task) == OmegaConf.to_yaml(hydras) and structure(task) == structure(hydras)
    assert OmegaConf.to_container(task, resolve=True) == OmegaConf.to_container(hydras, resolve=True)


def test_jobs_that_hydra_must_compose_where_they_run_get_no_recipe(sweep_master) -> None:
    from omegaconf import open_dict

    from experiments.sweep import JobConfigs

    master, loader = sweep_master
    assert JobConfigs(master, loader).recipe(["leadership=shared"]) is not None
    with open_dict(master):
        master.hydra.job.env_copy = ["HOME"]  # copied from the environment where the job runs
    assert JobConfigs(master, loader).recipe(["leadership=shared"]) is None


@pytest.mark.parametrize("job", JOBS)
def test_a_planned_job_writes_the_files_and_sees_the_config_of_hydras_run_job(sweep_master, job: list[str]) -> None:
    import logging

    from hydra._internal.callbacks import Callbacks
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import JobStatus, run_job
    from hydra.types import HydraContext
    from omegaconf import OmegaConf, open_dict

    from experiments.sweep import JobConfigs, JobSetting, execute_job, plain_job, plan_jobs

    master, loader = sweep_master
    seen: list[dict] = []

    def task(cfg) -> str:
        hc = HydraConfig.get()
        logging.getLogger("govsim").info("job %s in %s", hc.job.num, hc.runtime.output_dir)
        seen.append({"yaml": OmegaConf.to_yaml(cfg), "structure": structure(cfg), "cache": OmegaConf.get_cache(cfg),
                     "resolved": OmegaConf.to_container(cfg, resolve=True), "hydra": OmegaConf.to_yaml(hc),
                     "hydra_structure": structure(hc), "env": os.environ.get("GOVSIM_TEST_ENV")})
        return "done"

    context = HydraContext(config_loader=loader, callbacks=Callbacks())
    sweep = Path(str(OmegaConf.select(master, "hydra.sweep.dir")))
    hydras = loader.load_sweep_config(master, job)  # as execute_job did before, and Hydra's launchers do
    with open_dict(hydras):
        hydras.hydra.job.id, hydras.hydra.job.num = "govsim_0", 0
    HydraConfig.instance().set_config(hydras)
    ret = run_job(hydra_context=context, task_function=task, config=hydras, job_dir_key="hydra.sweep.dir",
                  job_subdir_key="hydra.sweep.subdir")
    assert ret.status == JobStatus.COMPLETED, ret._return_value
    (sweep / "0").rename(sweep / "hydra")

    configs = JobConfigs(master, loader)
    plan_jobs(master, loader, [job], configs=configs)
    recipe = configs.recipe(job)
    assert plain_job(recipe.build(master)[0], context)
    assert execute_job(0, job, JobSetting(context, master, task, None), recipe) is None
    assert seen[0] == seen[1]
    assert os.environ.get("GOVSIM_TEST_ENV") is None and seen[0]["env"] == "on"
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        assert (sweep / "0" / ".hydra" / name).read_bytes() == (sweep / "hydra" / ".hydra" / name).read_bytes(), name
    logs = [sorted(p.name for p in (sweep / d).iterdir()) for d in ("hydra", "0")]
    assert logs[0] == logs[1] and "govsim.log" in logs[0]
    lines = [[line.split("]", 1)[1] for line in (sweep / d / "govsim.log").read_text().splitlines()]
             for d in ("hydra", "0")]
    assert lines[0] == lines[1] and len(lines[0]) == 1


def test_a_job_callback_or_a_working_directory_change_runs_the_job_in_hydras_run_job(sweep_master) -> None:
    from hydra._internal.callbacks import Callbacks
    from hydra.experimental.callback import Callback
    from hydra.types import HydraContext
    from omegaconf import open_dict

    from experiments.sweep import JobConfigs, plain_job, plan_jobs

    class OnJobEnd(Callback):
        def on_job_end(self, config, job_return, **kwargs) -> None:
            pass

    master, loader = sweep_master
    configs = JobConfigs(master, loader)
    plan_jobs(master, loader, [["leadership=shared"]], configs=configs)
    cfg, _ = configs.recipe(["leadership=shared"]).build(master)
    plain, with_callback = Callbacks(), Callbacks()
    with_callback.callbacks.append(OnJobEnd())
    assert plain_job(cfg, HydraContext(config_loader=loader, callbacks=plain))
    assert not plain_job(cfg, HydraContext(config_loader=loader, callbacks=with_callback))
    with open_dict(cfg):
        cfg.hydra.job.chdir = True
    assert not plain_job(cfg, HydraContext(config_loader=loader, callbacks=plain))


def test_a_worker_sets_hydras_state_once_per_sweep() -> None:
    from hydra.core.singleton import Singleton

    from experiments import sweep as sw

    one = sw.pack_setting(sw.JobSetting("context one", None, print, {"instances": {}, "omegaconf_resolvers": {}}))
    two = sw.pack_setting(sw.JobSetting("context two", None, print, {"instances": {}, "omegaconf_resolvers": {}}))
    assert one[0] != two[0]
    saved = Singleton.get_state()  # unpacking sets Hydra's state (here: empty) as a worker would
    from hydra.core.plugins import Plugins

    registry = Plugins.instance()  # found once, as in the workers' server
    try:
        first = sw.unpack_setting(one)
        assert first.hydra_context == "context one" and sw.unpack_setting(one) is first
        assert Plugins.instance() is registry  # kept, not scanned again
        assert sw.unpack_setting(two).hydra_context == "context two"
        assert Plugins.instance() is registry
    finally:
        Singleton.set_state(saved)  # the tests after this one compose configs in this process


def test_jobs_record_the_code_the_sweep_found_when_it_started(tmp_path: Path) -> None:
    from experiments import provenance

    outside = provenance.git_state()
    with provenance.sweep_code({"commit": "abc", "dirty": False}, {"numpy": "0.1"}):
        assert provenance.git_state() == {"commit": "abc", "dirty": False}
        assert provenance.package_versions() == {"numpy": "0.1"}
        provenance.package_versions()["numpy"] = "changed by a caller"
        assert provenance.package_versions() == {"numpy": "0.1"}
    assert provenance.git_state() == outside and provenance.package_versions()["numpy"] != "0.1"
    sweep = tmp_path / "sweep"
    res = govsim("-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=joblib",
                 "hydra.launcher.n_jobs=2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-1500:]
    record = json.loads((sweep / "sweep.json").read_text())
    for job in ("0", "1"):
        meta = json.loads((sweep / job / "meta.json").read_text())
        assert meta["git"] == record["git"] and meta["versions"] == record["versions"]


def test_a_joblib_sweep_where_there_is_no_fork_server_spawns_its_workers(tmp_path: Path) -> None:
    """Windows has no fork server: the workers are spawned and the results are those of forked workers."""
    # records the start methods the sweep asks multiprocessing for, and can hide the fork server
    recorder = ("import atexit, multiprocessing, sys; asked = []; get = multiprocessing.get_context; "
                "multiprocessing.get_context = lambda method=None: (asked.append(method), get(method))[1]; "
                "atexit.register(lambda: print('start methods:', sorted(set(asked)), file=sys.stderr)); ")
    runs = {}
    for name, hide in (("forked", False), ("spawned", True)):
        sweep = tmp_path / name
        argv = ["govsim", "-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}",
                "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
        code = (recorder + ("multiprocessing.get_all_start_methods = lambda: ['spawn']; " if hide else "")
                + f"from experiments.run import main; sys.argv = {argv!r}; main()")
        res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                             env=environment())
        assert res.returncode == 0, res.stderr[-1500:]
        assert f"start methods: {['spawn'] if hide else ['forkserver']}" in res.stderr, res.stderr[-1500:]
        runs[name] = {job: pd.read_parquet(sweep / job / "timeseries.parquet") for job in ("0", "1")}
    for job in ("0", "1"):
        pd.testing.assert_frame_equal(runs["forked"][job], runs["spawned"][job])
