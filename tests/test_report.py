"""govsim-report on real and damaged sweeps: failed jobs named, crisis outcomes, robustness to bad files,
never writing into a job, hostile strings shown literally in a browser, and kills that damage nothing."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import figures
from analysis.load import load_results
from analysis.palette import STYLE_COLOURS
from analysis.report import main as report_main
from analysis.report import safe_url
from tests.conftest import ROOT, chromium_path, open_offline

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def govsim(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "experiments.run", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env or ENV)


@pytest.fixture(scope="module")
def crisis_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 3-job crisis sweep whose job 1 fails (fault injection)."""
    tmp = tmp_path_factory.mktemp("crisis")
    sweep = tmp / "sweep"
    res = govsim("-m", "experiment=crisis_aftershock", "leadership=directive,shared,situational",
                 "scenario.surge_reserve=0.2", "run.steps=24", "run.replications=3", "problem.N=10", "problem.K=2",
                 "problem.shocks=[{step:8,share:0.6}]", "hydra/launcher=basic", f"hydra.sweep.dir={sweep}", cwd=tmp,
                 env={**ENV, "GOVSIM_FAULT_JOBS": "1"})
    assert (sweep / "0" / "meta.json").exists(), res.stderr[-2000:]
    assert (sweep / "1" / "error.json").exists()
    return sweep


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "report" not in p.relative_to(folder).parts}


def test_report_on_a_sweep_with_a_failed_job_renders_and_names_it(crisis_sweep: Path, tmp_path: Path) -> None:
    before = digest(crisis_sweep)
    out = tmp_path / "r"
    assert report_main([str(crisis_sweep), "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    failed = [line for line in md.splitlines() if line.startswith("- failed: job 1:")]
    assert len(failed) == 1 and "leadership=shared" in failed[0] and "fault injected" in failed[0]
    assert "2 complete of 3 expected jobs" in md
    assert digest(crisis_sweep) == before  # nothing in any job changed


def test_crisis_report_contains_drop_and_recovery(crisis_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert report_main([str(crisis_sweep), "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "## Shock: drop and recovery" in md and "never recovered" in md and "runs without a drop" in md
    conditions = md.split("## Conditions", 1)[1].split("##", 1)[0]
    assert "shock_drop" in conditions and "shock_recovery_steps" in conditions  # the experiment's key outcomes
    assert "directive" in md.split("## Paired differences", 1)[1]  # the experiment's reference condition


def test_outcomes_and_reference_can_be_chosen_on_the_command_line(crisis_sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert report_main([str(crisis_sweep), "--out", str(out), "--outcomes", "production_mean",
                        "--reference", "situational", "--smallest-effect", "production_mean=0.03"]) == 0
    md = (out / "report.md").read_text()
    assert "directive − situational" in md and "production_mean ±0.03 (declared)" in md
    assert report_main([str(crisis_sweep), "--out", str(out), "--outcomes", "nope"]) == 2


def test_default_output_is_never_inside_a_job(crisis_sweep: Path, tmp_path: Path) -> None:
    run = tmp_path / "runs" / "one"
    shutil.copytree(crisis_sweep / "0", run)
    before = digest(run)
    assert report_main([str(run)]) == 0
    assert (tmp_path / "runs" / "one-report" / "report.html").exists()
    assert digest(run) == before and not (run / "report").exists()
    assert report_main([str(run), "--out", str(run / "here")]) == 2 and not (run / "here").exists()
    res = load_results(tmp_path / "runs")  # the report folder is never taken for results
    assert res.root == run


def write_job(job: Path, style: str, scenario: dict | None = None, reps: int = 3, steps: int = 4,
              overrides: list[str] | None = None, k: int = 4) -> None:
    (job / ".hydra").mkdir(parents=True, exist_ok=True)
    (job / ".hydra" / "overrides.yaml").write_text(json.dumps(overrides or [f"leadership={style}"]))
    rng = np.random.default_rng(len(style))
    ts = pd.DataFrame({"scenario": (scenario or {}).get("name", "default"), "leadership": style, "K": k,
                       "replication": np.repeat(range(reps), steps + 1), "seed": np.repeat(range(reps), steps + 1),
                       "step": np.tile(range(steps + 1), reps),
                       "public_value_gap_closed": rng.random(reps * (steps + 1)),
                       "mean_trust": 0.5, "production": 0.6, "burnout_rate": 0.0, "energy": 0.7})
    summary = pd.DataFrame({"scenario": (scenario or {}).get("name", "default"), "leadership": style, "K": k,
                            "replication": range(reps), "seed": range(reps),
                            "window_public_value_gap_closed": rng.random(reps), "production_mean": 0.6,
                            "burnout_rate_mean": 0.0, "any_burnout": 0.0, "person_steps_lost": 0.0})
    ts.to_parquet(job / "timeseries.parquet", index=False)
    summary.to_parquet(job / "summary.parquet", index=False)
    meta = {"labels": {"leadership": style}, "overrides": overrides or [f"leadership={style}"],
            "replications_scheduled": reps, "replications_completed": reps, "steps": steps,
            "params": {"scenario": scenario or {"name": "default"}}, "git": {"commit": "abc", "dirty": False},
            "versions": {"numpy": "2.0"}, "config": {"scenario": scenario or {}}}
    (job / "meta.json").write_text(json.dumps(meta))


def write_sweep(root: Path, styles: tuple[str, ...] = ("directive", "shared", "laissez_faire"), **kw: object) -> Path:
    root.mkdir(parents=True)
    jobs = []
    for i, style in enumerate(styles):
        write_job(root / str(i), style, **kw)  # type: ignore[arg-type]
        # the job's overrides as it recorded them: the report checks each job against its record
        jobs.append({"num": i, "dir": str(i), "overrides": kw.get("overrides") or [f"leadership={style}"]})
    (root / "sweep.json").write_text(json.dumps({"jobs": jobs, "overrides": ["leadership=" + ",".join(styles)]}))
    return root


def test_damaged_jobs_are_listed_and_the_rest_reported(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s", styles=("directive", "shared", "laissez_faire", "facilitative", "situational",
                                                "transactional"))
    data = (sweep / "0" / "summary.parquet").read_bytes()
    (sweep / "0" / "summary.parquet").write_bytes(data[: len(data) // 2])  # truncated
    (sweep / "1" / "meta.json").write_text("{not json")  # broken meta.json
    (sweep / "2" / "meta.json").unlink()
    (sweep / "2" / "error.json").write_text("[[[")  # broken error.json
    (sweep / "3" / "timeseries.parquet").write_bytes(b"")  # 0-byte file, as a killed writer leaves
    shutil.rmtree(sweep / "4")  # never ran
    res = load_results(sweep)
    assert len(res.meta) == 1 and res.missing == ["job 4: leadership=situational"]
    assert len(res.unreadable) == 3 and any("job 0" in u and "summary.parquet" in u for u in res.unreadable)
    assert any("job 1" in u and "meta.json" in u for u in res.unreadable)
    assert res.failed and "error.json unreadable" in res.failed[0]
    assert report_main([str(sweep), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "unreadable: job 0" in md and "missing: job 4" in md
    (sweep / "sweep.json").write_text("{")
    (sweep / "multirun.yaml").write_text("hydra: [unclosed")
    res = load_results(sweep)
    assert any("sweep.json is damaged" in n for n in res.notes) and any("multirun.yaml" in n for n in res.notes)


def test_jobs_not_in_the_sweep_record_are_ignored_and_said(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s", styles=("directive", "shared"))
    write_job(sweep / "7", "transactional")  # a job folder of another sweep
    res = load_results(sweep)
    assert set(res.meta) == {"0", "1"} and any("does not list: 7" in n for n in res.notes)


def test_mixed_code_versions_are_reported(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s")
    meta = json.loads((sweep / "2" / "meta.json").read_text())
    meta["git"]["commit"] = "def"
    meta["versions"]["numpy"] = "2.1"
    (sweep / "2" / "meta.json").write_text(json.dumps(meta))
    res = load_results(sweep)
    assert any("different code versions" in n for n in res.notes)
    assert any("numpy 2.0, 2.1" in n for n in res.notes)


def test_bad_paths_and_outputs_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_sweep(tmp_path / "s")
    assert report_main([str(sweep / "0" / "meta.json")]) == 2
    assert "is a file" in capsys.readouterr().err
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    assert report_main([str(sweep), "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot write the report" in err and "Traceback" not in err
    if os.geteuid() != 0:  # root can write anywhere; the file-as-folder case above covers it
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        assert report_main([str(sweep), "--out", str(ro / "x")]) == 2


def test_a_style_has_the_same_colour_in_reports_of_different_subsets() -> None:
    def colours(styles: list[str]) -> dict[str, str]:
        ts = pd.concat([pd.DataFrame({"leadership": s, "replication": 0, "step": range(3),
                                      "public_value_gap_closed": [0.1, 0.2, 0.3]}) for s in styles])
        fig = figures.trajectories(ts, ("public_value_gap_closed",), hue="leadership")
        import matplotlib.colors as mc

        return {line.get_label(): mc.to_hex(line.get_color()) for line in fig.axes[0].get_lines()}

    two = colours(["shared", "laissez_faire"])
    six = colours(list(STYLE_COLOURS))
    assert two["shared"] == six["shared"] == STYLE_COLOURS["shared"].lower()
    assert two["laissez_faire"] == six["laissez_faire"]


HOSTILE = {
    "name": "x<script>document.title='XSS';window.pwned=1</script>",
    "description": "<img src=x onerror=\"window.pwned=2\"> **bold** <b>raw</b>",
    "source": "javascript:window.pwned=3",
    "organisations": [{"name": "<svg onload=window.pwned=4>"}, {"name": "[link](javascript:window.pwned=5)"}],
}


def test_links_only_for_http() -> None:
    assert safe_url("https://example.org/a") == "https://example.org/a"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert safe_url("https://x.org/\"onmouseover=alert(1)") is None


def test_hostile_names_are_shown_literally_and_run_no_script(tmp_path: Path) -> None:
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    sweep = write_sweep(tmp_path / "s", scenario=HOSTILE, overrides=["scenario.name=<script>window.pwned=6</script>"])
    (sweep / "1" / "meta.json").unlink()
    (sweep / "1" / "error.json").write_text(json.dumps({"error": "ValueError: <script>window.pwned=7</script>"}))
    out = tmp_path / "r"
    assert report_main([str(sweep), "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "<script>" not in html and 'href="javascript:' not in html
    seen = open_offline(out / "report.html", chromium)
    assert seen["title"] == "govsim report: s"
    assert seen["pwned"]
    text, dialogs = seen["text"], seen["dialogs"]
    assert not dialogs
    for literal in (HOSTILE["name"], "<img src=x onerror=", "javascript:window.pwned=3", "<svg onload=window.pwned=4>",
                    "<script>window.pwned=7</script>"):
        assert literal in text


KILL_SCRIPT = """
import sys
from analysis.report import main
sys.exit(main([sys.argv[1], "--out", sys.argv[2]]))
"""


def test_killing_the_report_never_damages_a_job(crisis_sweep: Path, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    shutil.copytree(crisis_sweep, sweep)
    shutil.rmtree(sweep / "report", ignore_errors=True)
    before = digest(sweep)
    rng = np.random.default_rng(11)
    for k in range(4):
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(sweep), str(sweep / "report")],
                                cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(0.5, 4.0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert digest(sweep) == before, f"kill {k} changed a job's files"
        res = load_results(sweep)
        assert len(res.meta) == 2 and not res.unreadable


def test_every_condition_shows_replications_used_and_missing(tmp_path: Path) -> None:
    root = tmp_path / "s"
    jobs = []
    for i, (style, k) in enumerate([(s, k) for s in ("directive", "shared") for k in (2, 4)]):
        write_job(root / str(i), style, k=k, overrides=[f"leadership={style}", f"problem.K={k}"])
        jobs.append({"num": i, "dir": str(i), "overrides": [f"leadership={style}", f"problem.K={k}"]})
    (root / "sweep.json").write_text(json.dumps({"jobs": jobs}))
    shutil.rmtree(root / "3")  # shared at K=4 never ran
    assert report_main([str(root), "--out", str(tmp_path / "r"), "--factor", "leadership"]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    conditions = md.split("## Conditions", 1)[1].split("## ", 1)[0]
    assert "| directive | 4 | 3 (0) |" in conditions and "| shared | 4 | 0 (3) | – |" in conditions
    assert "missing: job 3: leadership=shared problem.K=4" in md
