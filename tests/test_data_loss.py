"""Issue 27's reproductions: folders no override escapes, locks only their holder removes, orphans that stop,
a failing job folder that fails its job only, an optimiser journal that survives a kill, CSV cells that
stay text, reports for any sweep shape and of the right jobs only."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.csvsafe import csv_bytes, neutralise
from analysis.load import load_results
from analysis.report import main as report_main
from experiments.sweep import FolderLock, PlannedJob, SweepRefused, check_job_dirs, removed_on_failure
from tests.conftest import ROOT

SMALL = ["run.steps=4", "run.replications=2", "problem.N=10"]


def govsim(*args: str, cwd: Path, wait: bool = True) -> subprocess.CompletedProcess | subprocess.Popen:
    cmd = [sys.executable, "-m", "experiments.run", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def jobs(*dirs: str) -> list[PlannedJob]:
    return [PlannedJob(k, d, [f"run.seed={k}"], "h") for k, d in enumerate(dirs)]


# ------------------------------------------------------------------ 1, 2: job folders
def test_job_folders_must_be_distinct_folders_inside_the_sweep_folder(tmp_path: Path) -> None:
    sweep = tmp_path / "B"
    check_job_dirs(sweep, jobs("0", "1", "a/0", "a/1"))  # nested but distinct: fine
    for bad, words in ((("../A/0", "../A/1"), "outside"), (("same", "same"), "share a folder"),
                       (("a", "a/b"), "share a folder"), (("a/b", "a"), "share a folder"),
                       (("x/0/..", "x/1/.."), "share a folder"), ((".",), "outside"), (("report",), "reserved"),
                       ((str(tmp_path / "elsewhere"),), "outside"), ((), "no jobs")):
        with pytest.raises(SweepRefused, match=words):
            check_job_dirs(sweep, jobs(*bad))


def test_a_symbolic_link_out_of_the_sweep_folder_is_followed_and_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "B"
    sweep.mkdir()
    (tmp_path / "A").mkdir()
    (sweep / "link").symlink_to(tmp_path / "A")
    with pytest.raises(SweepRefused, match="outside"):
        check_job_dirs(sweep, jobs("link/0"))


def test_a_subdir_into_another_sweep_leaves_it_untouched(tmp_path: Path) -> None:
    done = govsim("-m", "leadership=directive,shared", *SMALL, "hydra.sweep.dir=A", "hydra/launcher=basic",
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-800:]
    before = (tmp_path / "A" / "0" / "meta.json").read_bytes()
    res = govsim("-m", "leadership=laissez_faire,transactional", *SMALL, "hydra.sweep.dir=B",
                 "hydra.sweep.subdir=../A/${hydra.job.num}", "hydra/launcher=basic", cwd=tmp_path)
    assert res.returncode == 2 and "outside the sweep folder" in res.stderr
    assert (tmp_path / "A" / "0" / "meta.json").read_bytes() == before and not (tmp_path / "B").exists()


# ------------------------------------------------------------------ 3: a single run's folder
def test_a_single_run_replaces_another_runs_results_only_when_told(tmp_path: Path) -> None:
    assert govsim("leadership=directive", *SMALL, "hydra.run.dir=R", cwd=tmp_path).returncode == 0
    res = govsim("leadership=shared", *SMALL, "hydra.run.dir=R", cwd=tmp_path)
    assert res.returncode == 2 and "allow.overwrite=true" in res.stderr
    assert json.loads((tmp_path / "R" / "meta.json").read_text())["labels"]["leadership"] == "directive"
    assert govsim("leadership=shared", *SMALL, "hydra.run.dir=R", "allow.overwrite=true", cwd=tmp_path).returncode == 0
    assert json.loads((tmp_path / "R" / "meta.json").read_text())["labels"]["leadership"] == "shared"


# ------------------------------------------------------------------ 4: the lock
def test_only_the_locks_holder_removes_it(tmp_path: Path) -> None:
    holder, other = FolderLock(tmp_path), FolderLock(tmp_path)
    holder.acquire()
    with pytest.raises(SweepRefused, match="is writing into"):
        other.acquire()
    other.remove()  # not the holder: nothing happens
    assert holder.path.exists()
    with pytest.raises(SweepRefused):
        FolderLock(tmp_path).acquire()
    holder.release()


def test_a_lock_file_removed_after_it_was_opened_is_not_taken_as_the_lock(tmp_path: Path) -> None:
    holder = FolderLock(tmp_path)
    holder.acquire()
    late = FolderLock(tmp_path)
    opened = open(late.path)  # as a process that opened the file just before its holder removed it
    holder.remove()
    assert not late._still_the_file(opened)  # type: ignore[arg-type]
    opened.close()
    late.acquire()  # locks the file now at the name
    assert late._still_the_file(late.fh)  # type: ignore[arg-type]
    with pytest.raises(SweepRefused):
        FolderLock(tmp_path).acquire()
    late.release()


# ------------------------------------------------------------------ 5: orphans
def _descendants(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            out += [child, *_descendants(child)]
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux only (parent-death signal)")
def test_a_killed_sweeps_workers_and_server_die_with_it_and_write_nothing_after(tmp_path: Path) -> None:
    sweep = tmp_path / "K"
    main = govsim("-m", "leadership=directive,shared,facilitative", "run.steps=300", "run.replications=60",
                  f"hydra.sweep.dir={sweep}", "hydra.launcher.n_jobs=2", cwd=tmp_path, wait=False)
    deadline = time.monotonic() + 120
    while not all((sweep / d / "network.graphml").exists() for d in ("0", "1")):  # both workers are in a job
        assert time.monotonic() < deadline and main.poll() is None
        time.sleep(0.2)
    family = _descendants(main.pid)
    assert len(family) >= 3  # the server and two workers (and multiprocessing's resource tracker)
    os.kill(main.pid, signal.SIGKILL)
    main.wait()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in family):
        assert time.monotonic() < deadline, [p for p in family if _alive(p)]
        time.sleep(0.1)
    time.sleep(1.0)
    assert not list(sweep.glob("*/meta.json")) and not list(sweep.glob("*/*.tmp"))


POOL_SCRIPT = """
import os, sys, time
from experiments.sweep import start_workers, worker_pool
pool = worker_pool(2, start_workers({}, preload="experiments.mix_worker"))  # as the optimiser's Evaluator
print(sorted({f.result() for f in [pool.submit(os.getpid) for _ in range(8)]}), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="Linux only (parent-death signal)")
def test_the_optimisers_pool_dies_with_its_process(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT], cwd=tmp_path, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    workers = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
    family = _descendants(proc.pid)
    assert workers and set(workers) <= set(family)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in family):
        assert time.monotonic() < deadline, [p for p in family if _alive(p)]
        time.sleep(0.1)


# ------------------------------------------------------------------ 6: a failing job folder
def test_a_job_folder_whose_log_cannot_be_opened_fails_that_job_only(tmp_path: Path) -> None:
    sweep = tmp_path / "S"
    (sweep / "0" / "govsim.log").mkdir(parents=True)  # Hydra's log handler cannot open it
    res = govsim("-m", "leadership=directive,shared", *SMALL, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic",
                 cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert [line for line in res.stderr.splitlines() if line.startswith("govsim: job 0:")] == [
        f"govsim: job 0: cannot write: Is a directory ({sweep / '0' / 'govsim.log'}); the sweep goes on with the "
        "other jobs"]
    assert (sweep / "1" / "meta.json").exists() and "1 complete" in res.stderr and "1 failed" in res.stderr


# ------------------------------------------------------------------ 7: the optimiser's journal
def test_a_truncated_last_journal_line_is_dropped_with_a_warning_and_a_damaged_middle_refused(tmp_path: Path) -> None:
    from experiments.optimise import JournalDamaged, repair_journal

    journal = tmp_path / "study.journal"
    whole = b'{"op_code": 0}\n{"op_code": 1}\n'
    journal.write_bytes(whole)
    assert repair_journal(journal) is None and journal.read_bytes() == whole
    journal.write_bytes(whole + b'{"op_code": 4, "va')
    assert "truncated last line" in repair_journal(journal) and journal.read_bytes() == whole
    journal.write_bytes(whole + b'{"op_code": 4, "va\n')
    assert repair_journal(journal) and journal.read_bytes() == whole
    journal.write_bytes(b'{"op_code": 0}\n{"op_co\n{"op_code": 1}\n')
    with pytest.raises(JournalDamaged, match="line 2"):
        repair_journal(journal)


def test_a_study_opens_at_once_after_a_kill_left_a_dangling_lock_and_a_cut_line(tmp_path: Path) -> None:
    from experiments import optimise as opt

    _, settings, _ = opt.prepare(opt.compose(["optimise.trials=2"]))
    folder = tmp_path / "opt"
    folder.mkdir()
    study = opt.open_study(folder, settings, "s")
    study.enqueue_trial({})  # one line in the journal
    (folder / "study.journal").open("ab").write(b'{"op_code": 5, "cut')
    (folder / "study.journal.lock").symlink_to("relative/target/that/does/not/resolve")
    previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("spinning")))
    signal.alarm(20)
    try:
        again = opt.open_study(folder, settings, "s")
        again.enqueue_trial({})  # the next append after the cut line: Optuna read the journal whole
        assert len(opt.open_study(folder, settings, "s").get_trials()) == 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not (folder / "study.journal.lock").is_symlink()


# ------------------------------------------------------------------ 8: CSV cells
def test_cells_a_spreadsheet_would_run_are_prefixed_and_numbers_kept() -> None:
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"x\")", "-2+3+cmd|calc!A0", "+1", "@SUM(A1)", "\tx", "\rx", "ok",
                                   "a=b"], "value": [-1.5, 2, 3, -4, 5, 6, 7, 8]})
    rows = list(csv.reader(io.StringIO(csv_bytes(frame).decode())))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"x\")", "'-2+3+cmd|calc!A0", "'+1", "'@SUM(A1)", "'\tx", "'\rx",
                                        "ok", "a=b"]
    assert [r[1] for r in rows[1:]][:2] == ["-1.5", "2.0"]
    categories = pd.DataFrame({"level": pd.Categorical(["=1+1", "b"]), "mixed": ["-x", 3]})
    assert csv_bytes(categories).decode().splitlines()[1:] == ["'=1+1,'-x", "b,3"]
    assert neutralise(-3) == -3 and neutralise("=1") == "'=1"


def test_no_csv_is_written_without_the_neutralising_helper() -> None:
    """Every CSV govsim writes outside the classroom and the lesson goes through analysis.csvsafe."""
    offenders = []
    for folder in ("analysis", "experiments", "docs", "sim"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "csvsafe.py" or {"classroom", "lesson"} & set(path.parts):
                continue
            text = path.read_text()
            if ".to_csv(" in text or "csv.writer(" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# ------------------------------------------------------------------ 10, 1: reports of any sweep shape, right jobs only
@pytest.fixture(scope="module")
def name_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("names")
    res = govsim("-m", "scenario.name='=HYPERLINK(1)','-2+3+cmd|calc!A0'", *SMALL, "hydra.sweep.dir=S",
                 "hydra/launcher=basic", cwd=root)
    assert res.returncode == 0, res.stderr[-800:]
    return root / "S"


def test_a_sweep_over_a_name_reports_and_its_csv_holds_no_formula(name_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert report_main([str(name_sweep), "--out", str(out)]) == 0
    rows = list(csv.reader(io.StringIO((out / "differences.csv").read_text())))
    assert len(rows) > 1
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not _number(c))]
    assert any(c.startswith("'=HYPERLINK(1)") or c.startswith("'-2+3") for c in cells)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_a_sweep_over_a_groups_field_reports(tmp_path: Path) -> None:
    res = govsim("-m", "leadership.style=directive,shared", *SMALL, "hydra.sweep.dir=S", "hydra/launcher=basic",
                 cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-800:]
    assert report_main([str(tmp_path / "S")]) == 0
    assert (tmp_path / "S" / "report" / "differences.csv").exists()
    # the swept field names the group's column, which the report compares
    assert report_main([str(tmp_path / "S"), "--factor", "leadership.style", "--reference", "shared",
                        "--out", str(tmp_path / "r")]) == 0
    assert "reference: shared" in (tmp_path / "r" / "report.md").read_text()


def test_the_report_leaves_out_a_job_holding_another_configs_results(name_sweep: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "S"
    shutil.copytree(name_sweep, sweep)
    meta = json.loads((sweep / "0" / "meta.json").read_text())
    meta["overrides"] = ["leadership=directive", *SMALL]  # as a single run written into the job's folder left it
    meta["config_hash"] = "0123456789abcdef"
    (sweep / "0" / "meta.json").write_text(json.dumps(meta))
    res = load_results(sweep)
    assert list(res.meta) == ["1"] and set(res.summary["job"]) == {"1"}
    assert len(res.unreadable) == 1 and "another config's" in res.unreadable[0]


# ------------------------------------------------------------------ 13: temporary files
def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    tmp = tmp_path / "network.graphml.tmp"
    with pytest.raises(OSError), removed_on_failure(tmp):
        tmp.write_text("half")
        raise OSError(28, "No space left on device")
    assert not tmp.exists()
