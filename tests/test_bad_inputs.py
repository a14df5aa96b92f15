"""A table of bad inputs to every command: one line on stderr, exit code 2, nothing written, no hang.

Each row is run in this process (``govsim``'s Hydra entry point with ``sys.argv`` set, the other
commands' ``main(argv)``) in an empty folder, or one prepared by the row's setup; the folder must
be byte for byte the same afterwards. A sample of rows also runs as real processes, in parallel,
to show the same from the outside.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from tests.conftest import ROOT

SMALL = ["run.steps=4", "run.replications=1", "problem.N=10"]
LIMIT_S = 30.0
"""No row may take longer (a hang is a failure, not a stuck suite)."""


@dataclass
class Row:
    """A bad input: the command, its arguments, and what to prepare in the folder first."""

    command: str
    args: list[str]
    setup: Callable[[Path], list[str]] | None = None
    """Prepares the folder; returns arguments appended to ``args`` (e.g. a folder it made)."""

    def id(self) -> str:
        return f"{self.command} {' '.join(self.args)}"[:90]


def tree(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with its content's hash (folders: ``dir``)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# ------------------------------------------------------------------ setups (made once, copied per row)
def _run_results(folder: Path, name: str, style: str) -> Path:
    import shutil

    cache = CACHE / f"run-{style}"
    if not cache.exists():
        _govsim_process(f"leadership={style}", *SMALL, f"hydra.run.dir={cache}")
    shutil.copytree(cache, folder / name)
    return folder / name


def _sweep_results(folder: Path, name: str) -> Path:
    import shutil

    cache = CACHE / "sweep"
    if not cache.exists():
        _govsim_process("-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={cache}",
                        "hydra/launcher=basic")
    shutil.copytree(cache, folder / name)
    return folder / name


def _govsim_process(*args: str) -> None:
    res = subprocess.run([sys.executable, "-m", "experiments.run", *args], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=CACHE)
    assert res.returncode == 0, res.stderr[-1000:]


CACHE = Path()


def other_run(folder: Path) -> list[str]:
    return [f"hydra.run.dir={_run_results(folder, 'run', 'directive')}"]


def sweep_job(folder: Path) -> list[str]:
    return [f"hydra.run.dir={_sweep_results(folder, 'sweep') / '0'}"]


def sweep_itself(folder: Path) -> list[str]:
    return [f"hydra.run.dir={_sweep_results(folder, 'sweep')}"]


def other_sweep(folder: Path) -> list[str]:
    return [f"hydra.sweep.dir={_sweep_results(folder, 'sweep')}"]


def a_file(folder: Path) -> list[str]:
    (folder / "file").write_text("not a folder")
    return []


def sweep_dir_is_file(folder: Path) -> list[str]:
    a_file(folder)
    return [f"hydra.sweep.dir={folder / 'file'}"]


def subdir_outside(folder: Path) -> list[str]:
    return [f"hydra.sweep.dir={folder / 'B'}", f"hydra.sweep.subdir={folder / 'A'}/${{hydra.job.num}}"]


def report_of_sweep(folder: Path) -> list[str]:
    return [str(_sweep_results(folder, "sweep"))]


def report_of_run(folder: Path) -> list[str]:
    return [str(_run_results(folder, "run", "directive"))]


def report_folder(folder: Path) -> list[str]:
    (folder / "made").mkdir()
    (folder / "made" / ".govsim-report").touch()
    return [str(folder / "made")]


def report_out(where: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        sweep = _sweep_results(folder, "sweep")
        if where == "file":
            a_file(folder)
        target = {"sweep": sweep, "parent": folder, "job": sweep / "0" / "here", "file": folder / "file",
                  "proc": Path("/proc/nope/x")}[where]
        return [str(sweep), "--out", str(target)]
    return setup


def optimise_out(where: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        if where == "file":
            a_file(folder)
            return ["--out", str(folder / "file")]
        return ["--out", where]
    return setup


G, M = "govsim", ["-m", "hydra/launcher=basic"]  # sweeps run here on the basic launcher: no fork server
GOVSIM = [
    # config groups: null, unknown options, paths for names
    Row(G, ["run=null"]), Row(G, [*M, "leadership=null"]), Row(G, [*M, "leadership=shared,null"]),
    Row(G, ["experiment=null"]), Row(G, ["scenario=null"]), Row(G, ["leadership=nope"]), Row(G, ["scenario=nope"]),
    Row(G, ["experiment=nope"]), Row(G, ["network=nope"]), Row(G, ["roles=nope"]), Row(G, ["mechanisms=nope"]),
    Row(G, ["run=nope"]), Row(G, [*M, "leadership=directive,nope"]), Row(G, ["experiment=../scenario/default"]),
    Row(G, [*M, "experiment=../scenario/default"]), Row(G, ["scenario=../leadership/shared"]),
    Row(G, ["experiment=optimise_mix"]),
    # values out of range, of the wrong type, unresolved
    Row(G, ["problem.N=0"]), Row(G, ["problem.N=-1"]), Row(G, ["problem.N=abc"]), Row(G, ["problem.N=1e9"]),
    Row(G, ["problem.K=-1"]), Row(G, ["problem.K=100"]), Row(G, ["problem.cross_boundary=2"]),
    Row(G, ["problem.cross_boundary=-0.1"]), Row(G, ["run.steps=0"]), Row(G, ["run.steps=-5"]),
    Row(G, ["run.steps=1.5"]), Row(G, ["run.replications=0"]), Row(G, ["run.replications=abc"]),
    Row(G, ["run.seed=-1"]), Row(G, ["run.collect_agents=maybe"]), Row(G, ["network.degree=-1"]),
    Row(G, ["workforce.domain_size=0"]), Row(G, ["leadership.style=nope"]),
    Row(G, [*M, "leadership.style=directive,nope"]), Row(G, ["problem.N=${nope}"]),
    Row(G, ["problem.N=${oc.env:GOVSIM_NO_SUCH_VARIABLE}"]), Row(G, [*M, "run.steps=0,5"]),
    Row(G, [*M, "problem.N=10,abc"]), Row(G, ["scenario.organisations.0.size=0"]),
    # unknown keys and sections
    Row(G, ["nope.key=1"]), Row(G, ["+nope=1"]), Row(G, ["problem.nope=1"]), Row(G, ["+problem.nope=1"]),
    Row(G, ["allow.nope=true"]), Row(G, ["allow.large=maybe"]), Row(G, ["allow.overwrite=1"]),
    # blank names
    Row(G, ["scenario.organisations.0.name=' '"]), Row(G, ["scenario.organisations.0.name=''"]),
    Row(G, ["scenario.name=' '"]),
    # absurd sizes
    Row(G, ["run.steps=1000000", "run.replications=1000000"]),
    Row(G, [*M, "run.steps=1000000", "run.replications=1000000"]),
    Row(G, ["run.steps=1000", "run.replications=1000", "run.collect_agents=true"]),
    Row(G, ["run.steps=100000", "run.replications=10000"]),
    # sweeps: empty, launcher, job folders
    Row(G, [*M, "run.seed=range(0,0)"]), Row(G, ["-m", "hydra.launcher.n_jobs=0", "leadership=directive,shared"]),
    Row(G, [*M, "hydra.sweep.subdir=same", "leadership=directive,shared,facilitative"]),
    Row(G, [*M, "hydra.sweep.subdir=../../escape_${hydra.job.num}", "leadership=directive,shared"]),
    Row(G, [*M, "hydra.sweep.subdir=../A/${hydra.job.num}", "leadership=directive,shared"]),
    Row(G, [*M, "hydra.sweep.subdir=report", "leadership=directive"]),
    Row(G, [*M, "hydra.sweep.subdir=.", "leadership=directive"]),
    Row(G, [*M, "hydra.sweep.subdir=x/${hydra.job.num}/..", "leadership=directive,shared"]),
    Row(G, [*M, "leadership=directive,shared"], subdir_outside),
    Row(G, [*M, "leadership=laissez_faire,transactional", *SMALL], other_sweep),
    Row(G, [*M, "leadership=directive,shared", *SMALL], sweep_dir_is_file),
    # a single run into a folder that is not its own
    Row(G, ["leadership=shared", *SMALL], other_run), Row(G, ["leadership=shared", *SMALL], sweep_job),
    Row(G, ["leadership=directive", *SMALL], sweep_itself),
    # Hydra's own usage errors
    Row(G, ["-m", "--cfg", "job", "leadership=directive,shared"]),
]

OP = "govsim-optimise"
OPTIMISE = [
    Row(OP, ["leadership=null"]), Row(OP, ["scenario=nope"]), Row(OP, ["experiment=../scenario/default"]),
    Row(OP, ["optimise.trials=0"]), Row(OP, ["optimise.trials=-1"]), Row(OP, ["optimise.trials=abc"]),
    Row(OP, ["optimise.batch=0"]), Row(OP, ["optimise.workers=-1"]), Row(OP, ["optimise.sampler=nope"]),
    Row(OP, ["optimise.selection=nope"]), Row(OP, ["optimise.undefined=nope"]),
    Row(OP, ["optimise.undefined_value=nan"]), Row(OP, ["optimise.reevaluate=1"]), Row(OP, ["optimise.choose=0"]),
    Row(OP, ["optimise.population=1"]), Row(OP, ["optimise.seed=-1"]), Row(OP, ["optimise.robustness.points=-1"]),
    Row(OP, ["optimise.robustness.replications=0"]),
    Row(OP, ["optimise.robustness.points=3", "optimise.robustness.parameters=null"]),
    Row(OP, ["optimise.robustness.points=3", "optimise.robustness.parameters={nope.x:[0,1]}"]),
    Row(OP, ["optimise.robustness.points=3", "optimise.robustness.parameters={problem.K:[5,1]}"]),
    Row(OP, ["+optimise.robustness.nope=1"]), Row(OP, ["problem.N=0"]),
    Row(OP, ["run.steps=1000000", "run.replications=1000000"]), Row(OP, ["scenario.organisations.0.name=' '"]),
    Row(OP, [], optimise_out("/dev/null")), Row(OP, [], optimise_out("/proc/nope/x")),
    Row(OP, [], optimise_out("file")),
    Row(OP, ["--nope"]), Row(OP, ["--out"]),
]

R = "govsim-report"
REPORT = [
    Row(R, []), Row(R, ["no/such/folder"]), Row(R, [], lambda f: (a_file(f), [str(f / "file")])[1]),
    Row(R, [], lambda f: (f / "empty").mkdir() or [str(f / "empty")]), Row(R, [], report_folder),
    Row(R, ["--nope"], report_of_sweep),
    *(Row(R, ["--smallest-effect", value], report_of_sweep) for value in (
        "gap_closed_auc", "gap_closed_auc=", "=1", "gap_closed_auc=abc", "gap_closed_auc=nan", "gap_closed_auc=inf",
        "gap_closed_auc=-inf", "gap_closed_auc=1e400", "gap_closed_auc=-1", "nope=1")),
    Row(R, ["--reference", "nope"], report_of_sweep), Row(R, ["--factor", "nope"], report_of_sweep),
    Row(R, ["--factor", "N"], report_of_sweep), Row(R, ["--reference", "x"], report_of_run),
    Row(R, ["--outcomes", ","], report_of_sweep), Row(R, ["--outcomes", "nope"], report_of_sweep),
    Row(R, ["--outcomes", " "], report_of_sweep), Row(R, ["--factor", ""], report_of_sweep),
    Row(R, ["--discover", "nonsense"], report_of_sweep),
    *(Row(R, [], report_out(where)) for where in ("sweep", "parent", "job", "file", "proc")),
]

D = "govsim-demo"
DEMO = [
    Row(D, ["--port", "0"]), Row(D, ["--port", "70000"]), Row(D, ["--port", "-1"]), Row(D, ["--port", "x"]),
    Row(D, ["--lang", "fr"]), Row(D, ["--lang", ""]), Row(D, ["--check"]), Row(D, ["--token", "short"]),
    Row(D, ["--token", "with spaces in it"]), Row(D, ["--token", "x" * 201]), Row(D, ["--host", "203.0.113.5"]),
    Row(D, ["--nope"]),
]

ROWS = GOVSIM + OPTIMISE + REPORT + DEMO


def test_the_table_holds_at_least_120_bad_inputs_across_the_four_commands() -> None:
    assert len(ROWS) >= 120
    assert {r.command for r in ROWS} == {G, OP, R, D}
    assert len({r.id() + str(r.setup) for r in ROWS}) == len(ROWS)  # no row twice


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    global CACHE
    CACHE = tmp_path_factory.mktemp("made-once")


class Hung(Exception):
    """A row ran longer than :data:`LIMIT_S`."""


def _hung(signum: int, frame: object) -> None:
    raise Hung(f"still running after {LIMIT_S} s")


def run_in_process(row: Row, args: list[str]) -> int:
    """The command's exit code, run in this process, interrupted after :data:`LIMIT_S` seconds."""
    previous = signal.signal(signal.SIGALRM, _hung)
    signal.setitimer(signal.ITIMER_REAL, LIMIT_S)
    try:
        return _run(row, args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run(row: Row, args: list[str]) -> int:
    if row.command == G:
        from experiments.run import cli

        saved = sys.argv
        sys.argv = ["govsim", *args]
        try:
            cli()
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = saved
            GlobalHydra.instance().clear()
        return 0
    from analysis.report import main as report_main
    from experiments.demo import main as demo_main
    from experiments.optimise import main as optimise_main

    main = {OP: optimise_main, R: report_main, D: demo_main}[row.command]
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


@pytest.mark.parametrize("row", ROWS, ids=[r.id() for r in ROWS])
def test_a_bad_input_gives_one_line_exit_2_and_writes_nothing(row: Row, tmp_path: Path, monkeypatch,
                                                              capsys) -> None:
    extra = row.setup(tmp_path) if row.setup else []
    before = tree(tmp_path)
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    code = run_in_process(row, [*row.args, *extra])
    took = time.perf_counter() - started
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.strip()]
    assert code == 2, out.err[-1500:]
    assert len(lines) == 1, out.err[-1500:]
    assert lines[0].startswith(f"{row.command}: ") and "Traceback" not in out.err
    assert tree(tmp_path) == before
    assert took < LIMIT_S


PROCESS_IDS = (
    "govsim run=null", "govsim -m hydra/launcher=basic leadership=null",
    "govsim -m hydra.launcher.n_jobs=0 leadership=directive,shared", "govsim experiment=../scenario/default",
    "govsim run.steps=1000000 run.replications=1000000", "govsim -m hydra/launcher=basic run.seed=range(0,0)",
    "govsim-optimise leadership=null", "govsim-optimise optimise.trials=0", "govsim-report no/such/folder",
    "govsim-demo --port 0", "govsim-demo --nope",
)
PROCESS_ROWS = [r for r in ROWS if r.id() in PROCESS_IDS and r.setup is None]
"""Rows of every command, the joblib launcher's among them, as real processes."""


def test_a_sample_of_the_table_run_as_processes_gives_the_same(tmp_path: Path) -> None:
    assert len(PROCESS_ROWS) == len(PROCESS_IDS)
    scripts = {G: "experiments.run", OP: "experiments.optimise", R: "analysis.report", D: "experiments.demo"}

    def one(k: int) -> tuple[Row, subprocess.CompletedProcess, dict, dict]:
        row = PROCESS_ROWS[k]
        folder = tmp_path / str(k)
        folder.mkdir()
        before = tree(folder)
        res = subprocess.run([sys.executable, "-m", scripts[row.command], *row.args], cwd=folder, capture_output=True,
                             text=True, timeout=LIMIT_S, env={**os.environ, "PYTHONPATH": str(ROOT)})
        return row, res, before, tree(folder)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for row, res, before, after in pool.map(one, range(len(PROCESS_ROWS))):
            lines = [line for line in res.stderr.splitlines() if line.strip()]
            assert res.returncode == 2 and len(lines) == 1, (row.id(), res.stderr[-1500:])
            assert after == before, row.id()
