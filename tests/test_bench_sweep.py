"""The sweep-overhead benchmark's own parts work (its figures are printed by the script, never tested here)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import ROOT


def bench_module():
    spec = importlib.util.spec_from_file_location("bench_sweep", ROOT / "benchmarks" / "bench_sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_sweep"] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_the_plain_side_runs_the_planned_job_in_a_fresh_process() -> None:
    bench = bench_module()
    args = bench.parse_args(["--styles", "1", "--replications", "2", "--steps", "3", "--workers", "1"])
    jobs = bench.planned_jobs(args)
    assert len(jobs) == 1 and jobs[0]["labels"]["leadership"] == "directive"
    assert jobs[0]["model"]["run"]["steps"] == 3 and jobs[0]["model"]["run"]["replications"] == 2
    plain = bench.run_plain(jobs, workers=1)
    assert plain.replications == 2
    assert plain.wall > 0 and plain.cpu > 0  # a child process ran and was waited for


def test_the_benchmark_refuses_bad_flags_and_sweeps_the_same_jobs_it_runs_plainly(
        capsys: pytest.CaptureFixture[str]) -> None:
    bench = bench_module()
    with pytest.raises(SystemExit):
        bench.parse_args(["--workers", "0"])
    assert "--workers=0: allowed at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # run.steps must be at least 1: the planning would fail on 0
        bench.parse_args(["--steps", "0"])
    assert "--steps=0: allowed at least 1" in capsys.readouterr().err
    args = bench.parse_args(["--styles", "3", "--seeds", "2"])
    jobs = bench.job_overrides(args)
    assert len(jobs) == 6 and len({tuple(j) for j in jobs}) == 6
    swept = bench.sweep_overrides(args)
    assert swept[0] == "leadership=directive,transactional,facilitative" and swept[1] == "run.seed=1,2"
