"""govsim-report on optimisation folders: statistics on constructed data, the front and its hypervolume,
robustness shares, escaping of names from the data, and one-line errors for damaged folders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from analysis import optimisation as op
from analysis.report import main as report_main
from tests.conftest import chromium_path, open_offline

STYLES = ("directive", "transactional", "facilitative", "shared", "situational", "laissez_faire")
ORGS = ("police", "health", "youth_care", "housing", "school")
OBJECTIVES = {
    "gap_closed_auc": ("maximize", 0.03),
    "production_mean": ("maximize", 0.02),
    "burnout_rate_mean": ("minimize", 0.01),
    "window_voice_equity": ("maximize", 0.1),
}


def spec(objectives: list[str], levers: list[str], **extra: object) -> dict:
    return {"kind": "optimisation", "experiment": "optimise_mix", "case": "safety_network",
            "objectives": [{"name": n, "direction": OBJECTIVES[n][0], "smallest_effect": OBJECTIVES[n][1]}
                           for n in objectives],
            "levers": levers, "trials_planned": 60, "replications": 4, "reevaluate": 30, "sampler": "TPESampler",
            "seed": 3, "runs_used": 420, "status": "complete",
            "provenance": {"git": {"commit": "abc123", "dirty": False}, "versions": {"optuna": "5.0.0"}},
            "config": {"scenario": {"name": "safety_network", "description": "Five partners.",
                                    "source": "https://example.org/case"}}, **extra}


def write_folder(root: Path, reev: pd.DataFrame, chosen: dict, trials: pd.DataFrame, objectives: list[str],
                 levers: list[str], robustness: pd.DataFrame | None = None, **extra: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "optimise.json").write_text(json.dumps(spec(objectives, levers, **extra)))
    trials.to_parquet(root / "trials.parquet", index=False)
    reev.to_parquet(root / "reevaluation.parquet", index=False)
    (root / "chosen.json").write_text(json.dumps(chosen))
    if robustness is not None:
        robustness.to_parquet(root / "robustness.parquet", index=False)
    return root


def plain_trials(levers: list[str], objectives: list[str], values: list[list[float]]) -> pd.DataFrame:
    rows = []
    for i, vals in enumerate(values):
        rows.append({"number": i, "slot": i % 2, "state": "COMPLETE", "interrupted": False, "error": None,
                     **{lv: "shared" for lv in levers},
                     **{f"value_{o}": v for o, v in zip(objectives, vals, strict=True)},
                     **{f"defined_{o}": 1.0 for o in objectives}, "feasible": True, "duration_s": 1.0})
    return pd.DataFrame(rows)


def constructed(root: Path, offsets: dict[int, tuple[float, float]], objective: str = "gap_closed_auc",
                n: int = 10) -> Path:
    """Mix 0 has seeded noisy values; mix m equals mix 0 plus offset + spread * (+1, -1, +1, ...)."""
    rng = np.random.default_rng(5)
    base = 0.6 + rng.normal(0, 0.04, n)
    signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    levers = ["police.style"]
    rows = []
    for m, (offset, spread) in {0: (0.0, 0.0), **offsets}.items():
        for r in range(n):
            rows.append({"mix_id": m, "trial": m, "police.style": STYLES[m], "replication": 1000 + r,
                         objective: base[r] + offset + spread * signs[r]})
    trials = plain_trials(levers, [objective], [[0.6]] * (len(offsets) + 1))
    return write_folder(root, pd.DataFrame(rows), {"final": 0, "candidates": sorted([0, *offsets]), "front": []},
                        trials, [objective], levers)


def test_paired_differences_to_the_final_mix_recover_known_gaps(tmp_path: Path) -> None:
    n = 10
    opt = op.load_optimisation(constructed(tmp_path / "o", {1: (-0.02, 0.001), 2: (-0.10, 0.001),
                                                            3: (-0.02, 0.06)}, n=n))
    d = op.differences_to_best(opt).set_index("mix_id")
    assert (d["best"] == 0).all()
    # alternating ± spread over an even n: mean is the offset exactly, sd is spread * sqrt(n / (n - 1))
    for m, (offset, spread) in {1: (-0.02, 0.001), 2: (-0.10, 0.001), 3: (-0.02, 0.06)}.items():
        half = st.t.ppf(0.975, n - 1) * spread * np.sqrt(n / (n - 1)) / np.sqrt(n)
        assert d.loc[m, "difference"] == pytest.approx(offset)
        assert d.loc[m, "ci_low"] == pytest.approx(offset - half)
        assert d.loc[m, "ci_high"] == pytest.approx(offset + half)
        assert d.loc[m, "n"] == n
    assert d.loc[1, "tied"] and not d.loc[1, "worse"]          # 0.02 worse, well inside 0.03
    assert not d.loc[2, "tied"] and d.loc[2, "worse"]          # 0.10 worse, beyond 0.03
    assert not d.loc[3, "tied"] and not d.loc[3, "worse"]      # 0.02 worse but too noisy to tell
    means = op.reevaluated_means(opt).set_index("mix_id")
    v = opt.reevaluation.loc[opt.reevaluation["mix_id"] == 2, "gap_closed_auc"].to_numpy()
    h = st.t.ppf(0.975, n - 1) * v.std(ddof=1) / np.sqrt(n)
    assert means.loc[2, "ci_low"] == pytest.approx(v.mean() - h) and means.loc[2, "ci_high"] == pytest.approx(
        v.mean() + h)


def test_a_minimised_objective_is_judged_the_right_way_round(tmp_path: Path) -> None:
    opt = op.load_optimisation(constructed(tmp_path / "o", {1: (0.005, 0.0005), 2: (0.03, 0.0005),
                                                            3: (-0.02, 0.0005)}, objective="burnout_rate_mean"))
    means = op.reevaluated_means(opt)
    assert op.best_mix(means, opt.objectives[0]) == 3          # the lowest burnout
    d = op.differences_to_best(opt).set_index("mix_id")
    assert (d["best"] == 0).all()                               # the final mix is the reference of the primary
    assert d.loc[1, "tied"] and d.loc[2, "worse"] and not d.loc[2, "tied"]
    assert d.loc[3, "tied"]                                     # lower burnout than the final: not worse


def two_objective_folder(root: Path, means: dict[int, tuple[float, float]], front: list[int]) -> Path:
    rng = np.random.default_rng(9)
    noise = rng.normal(0, 0.01, (8, 2))
    objectives = ["gap_closed_auc", "burnout_rate_mean"]
    rows = [{"mix_id": m, "trial": m, "police.style": STYLES[m], "replication": 1000 + r,
             "gap_closed_auc": g + noise[r, 0] - noise[:, 0].mean(),
             "burnout_rate_mean": b + noise[r, 1] - noise[:, 1].mean()}
            for m, (g, b) in means.items() for r in range(8)]
    trials = plain_trials(["police.style"], objectives, [[0.55, 0.02], [0.4, 0.05]])
    return write_folder(root, pd.DataFrame(rows), {"final": None, "candidates": list(means), "front": front},
                        trials, objectives, ["police.style"])


def test_the_front_excludes_a_dominated_mix(tmp_path: Path) -> None:
    root = two_objective_folder(tmp_path / "o", {0: (0.6, 0.02), 1: (0.5, 0.01), 2: (0.5, 0.03), 3: (0.55, 0.02)},
                                front=[0, 1])
    opt = op.load_optimisation(root)
    front = op.pareto_front(opt, reference=np.array([0.0, 0.1]))
    assert front.mix_ids == [0, 1]                 # 2 is beaten by 0 and 1 on both; 3 by 0
    # by hand, as losses (-gap, burnout) up to (0, 0.1): mix 0 -> (-0.6, 0.02) spans 0.6 x 0.08 = 0.048,
    # mix 1 -> (-0.5, 0.01) spans 0.5 x 0.09 = 0.045, overlapping in 0.5 x 0.08 = 0.040: union 0.053
    assert front.hypervolume == pytest.approx(0.053)
    assert list(front.reference) == [0.0, 0.1]


def test_hypervolume_on_hand_checkable_cases() -> None:
    # a staircase in 2-D: widths 1, 1, 1 with heights 1, 2, 3 -> 6; a dominated point adds nothing
    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert op.hypervolume(pts, np.array([4.0, 4.0])) == pytest.approx(6.0)
    assert op.hypervolume(np.vstack([pts, [[3.0, 3.0]]]), np.array([4.0, 4.0])) == pytest.approx(6.0)
    # one box in 3-D, and two overlapping boxes: 1*2*3 + 2*1*3 - 1*1*3 = 9
    assert op.hypervolume(np.array([[1.0, 1.0, 1.0]]), np.array([2.0, 3.0, 4.0])) == pytest.approx(6.0)
    assert op.hypervolume(np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]]), np.array([2.0, 3.0, 4.0])) == pytest.approx(9)
    # points beyond the reference and NaN rows count for nothing
    assert op.hypervolume(np.array([[5.0, 1.0], [np.nan, 0.0]]), np.array([4.0, 4.0])) == 0.0


def test_robustness_counts_points_within_the_smallest_effect_of_the_best(tmp_path: Path) -> None:
    root = constructed(tmp_path / "o", {1: (-0.01, 0.0), 2: (-0.2, 0.0)})
    # point means (gap_closed_auc, delta 0.03): mix 0 / 1 / 2
    table = {0: (0.60, 0.58, 0.40), 1: (0.50, 0.55, 0.30), 2: (0.70, 0.60, 0.69), 3: (0.20, 0.20, 0.25)}
    rows = []
    for point, values in table.items():
        for m, v in enumerate(values):
            for r, e in enumerate((-0.01, 0.01)):  # two replications whose mean is v exactly
                rows.append({"mix_id": m, "point": point, "problem.K": 2 + point, "replication": 2000 + r,
                             "gap_closed_auc": v + e})
    pd.DataFrame(rows).to_parquet(root / "robustness.parquet", index=False)
    opt = op.load_optimisation(root)
    s = op.robustness_summary(opt).set_index("mix_id")
    # point 0: best 0.60 -> 0 (0), 1 (0.02) within; point 1: best 0.55 -> 0 (0.05) out, 1 in;
    # point 2: best 0.70 -> 0 in, 1 (0.10) out, 2 (0.01) in; point 3: best 0.25 -> 0, 1 out (0.05), 2 in
    assert s.loc[0, "within"] == 2 and s.loc[1, "within"] == 2 and s.loc[2, "within"] == 2
    assert s.loc[0, "best_at"] == 2 and s.loc[1, "best_at"] == 1 and s.loc[2, "best_at"] == 1
    assert s.loc[2, "max_shortfall"] == pytest.approx(0.25)
    assert (s["points"] == 4).all() and s.loc[0, "share"] == 0.5
    assert op.uncertain_parameters(opt) == ["problem.K"]


def realistic(root: Path, multi: bool = False, orgs: tuple[str, ...] = ORGS, robustness: bool = True) -> Path:
    """A search of 60 trials over five organisations' styles (plus convening), as the optimiser writes it."""
    rng = np.random.default_rng(2026)
    objectives = list(OBJECTIVES) if multi else ["gap_closed_auc"]
    levers = [f"{o}.style" for o in orgs] + [f"{orgs[0]}.convening"]
    effect = {(o, s): rng.normal(0, 0.03) for o in orgs for s in STYLES}
    effort = {(o, s): rng.normal(0, 0.02) for o in orgs for s in STYLES}

    def truth(mix: dict) -> dict[str, float]:
        gap = 0.5 + sum(effect[(o, mix[f"{o}.style"])] for o in orgs) + 0.05 * mix[f"{orgs[0]}.convening"]
        work = sum(effort[(o, mix[f"{o}.style"])] for o in orgs)
        return {"gap_closed_auc": gap, "production_mean": 0.7 - 0.2 * (gap - 0.5) + work,
                "burnout_rate_mean": 0.03 + 0.05 * (gap - 0.5) + 0.2 * max(0.0, work),
                "window_voice_equity": 0.6 + gap - 0.5}

    trial_rows, mixes_by_trial = [], {}
    for number in range(60):
        mix = {f"{o}.style": str(rng.choice(STYLES)) for o in orgs} | {f"{orgs[0]}.convening": float(rng.uniform())}
        mixes_by_trial[number] = mix
        failed = number in (7, 31)
        tv = truth(mix)
        row = {"number": number, "slot": number % 2, "state": "FAIL" if failed else "COMPLETE",
               "interrupted": number == 31, "error": "RuntimeError: model crashed <b>here</b>" if number == 7 else
               ("interrupted" if failed else None), **mix, "feasible": not failed and number != 12,
               "duration_s": float(rng.uniform(2, 4))}
        for o in objectives:
            v = tv[o] + rng.normal(0, {"burnout_rate_mean": 0.003}.get(o, 0.015))
            row[f"value_{o}"] = np.nan if failed else v
            row[f"defined_{o}"] = (0.75 if o == "window_voice_equity" and number % 5 == 0 else 1.0) if not failed \
                else 0.0
        trial_rows.append(row)
    trials = pd.DataFrame(trial_rows)
    ok = trials[trials["state"] == "COMPLETE"].sort_values(f"value_{objectives[0]}", ascending=False)
    chosen_trials = list(ok["number"].iloc[:5]) + ([int(ok["number"].iloc[-1])] if multi else [])
    reps = np.arange(1000, 1030)
    shared = rng.normal(0, 0.025, len(reps))  # common random numbers: a replication is hard or easy for all
    reev = []
    for mix_id, number in enumerate(chosen_trials):
        tv = truth(mixes_by_trial[number])
        for i, r in enumerate(reps):
            row = {"mix_id": mix_id, "trial": int(number), **mixes_by_trial[number], "replication": int(r)}
            for o in OBJECTIVES if multi else objectives:
                scale = {"burnout_rate_mean": 0.003}.get(o, 0.015)
                row[o] = tv[o] + shared[i] * scale / 0.015 + rng.normal(0, scale)
            if multi and i % 7 == 0:
                row["window_voice_equity"] = np.nan
            row["steps_to_half_gap"] = float(rng.integers(10, 40))
            reev.append(row)
    if multi:  # the case's current mix, given by hand: mix 0's levers made worse on every objective
        base = [dict(r) for r in reev if r["mix_id"] == 0]
        for row in base:
            worse = {o: row[o] - OBJECTIVES[o][1] * (1 if OBJECTIVES[o][0] == "maximize" else -1) * 2
                     for o in OBJECTIVES}
            reev.append({**row, "mix_id": len(chosen_trials), "trial": -1, f"{orgs[0]}.convening": 0.0, **worse})
        chosen_trials.append(-1)
    reev = pd.DataFrame(reev)
    means = reev.groupby("mix_id")["gap_closed_auc"].mean()
    chosen = {"final": None if multi else int(means.idxmax()), "candidates": list(range(len(chosen_trials))),
              "front": [0, 1] if multi else []}
    rob = None
    if robustness:
        rob_rows = []
        for point in range(20):
            k, share = int(rng.integers(1, 6)), float(rng.uniform(0, 0.5))
            tilt = {m: rng.normal(0, 0.03) for m in range(len(chosen_trials))}
            for m, number in enumerate(chosen_trials):
                if number < 0:  # the hand-given mix is not part of the robustness experiment
                    continue
                tv = truth(mixes_by_trial[number])
                for r in range(3):
                    rob_rows.append({"mix_id": m, "point": point, "problem.K": k, "workforce.minority_share": share,
                                     "replication": 2000 + r,
                                     **{o: tv[o] - 0.02 * k + tilt[m] * (o != "burnout_rate_mean")
                                        + rng.normal(0, 0.01) for o in objectives}})
        rob = pd.DataFrame(rob_rows)
    return write_folder(root, reev, chosen, trials, objectives, levers, rob)


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "report" not in p.relative_to(folder).parts}


@pytest.mark.parametrize("multi", [False, True], ids=["single", "multi"])
def test_report_of_a_realistic_optimisation(tmp_path: Path, multi: bool, capsys: pytest.CaptureFixture[str]) -> None:
    root = realistic(tmp_path / "opt", multi=multi)
    before = digest(root)
    assert report_main([str(root)]) == 0
    out = root / "report"
    assert digest(root) == before                   # the optimisation's own files are untouched
    md = (out / "report.md").read_text()
    for heading in ("## Chosen mixes on fresh replications", "## Against the best mix", "## Trials",
                    "## Robustness over uncertain parameters"):
        assert heading in md
    assert ("## Pareto front (re-evaluated means)" in md) == multi
    expected = {"trials", "chosen_mixes", "robustness"} | ({"pareto_front"} if multi else set())
    assert {p.stem for p in (out / "figures").glob("*.png")} == expected
    assert r"RuntimeError: model crashed \<b\>here\</b\>" in md  # backslash-escaped, no HTML entities
    assert "1 complete trial was infeasible" in md       # trial 12; the two failed trials are not counted
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["outcome"]) == set(op.load_optimisation(root).names)
    html = (out / "report.html").read_text()
    assert "Content-Security-Policy" in html and html.count("data:image/png;base64,") == len(expected)
    assert "Traceback" not in capsys.readouterr().err


def test_a_report_on_optimise_json_itself_and_with_a_smallest_effect_override(tmp_path: Path) -> None:
    root = constructed(tmp_path / "o", {1: (-0.04, 0.001)})
    out = tmp_path / "r"
    assert report_main([str(root / "optimise.json"), "--out", str(out)]) == 0
    before = pd.read_csv(out / "differences.csv").set_index("mix_id")
    assert not before.loc[1, "tied"]                # 0.04 worse against 0.03
    assert report_main([str(root), "--out", str(out), "--smallest-effect", "gap_closed_auc=0.05"]) == 0
    after = pd.read_csv(out / "differences.csv").set_index("mix_id")
    assert after.loc[1, "tied"]
    assert "from the command line" in (out / "report.md").read_text()


HOSTILE_ORG = "<script>window.pwned=1</script>$x$"


def test_hostile_organisation_names_are_escaped(tmp_path: Path) -> None:
    root = realistic(tmp_path / "opt", orgs=(HOSTILE_ORG, "<img src=x onerror=alert(2)>", "a|b"))
    out = tmp_path / "r"
    assert report_main([str(root), "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "<script>window" not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;$x$.style" in html
    md = (out / "report.md").read_text()
    assert "<script>" not in md and r"\<img src=x onerror=alert(2)\>" in md and "a\\|b.style" in md
    assert "&lt;" not in md
    chromium = chromium_path()
    if chromium is None:
        return  # the escaping above is checked; the browser check needs chromium (Debian: apt-get install chromium)
    seen = open_offline(out / "report.html", chromium)
    pwned, text, dialogs = seen["pwned"], seen["text"], seen["dialogs"]
    assert pwned and not dialogs
    assert f"{HOSTILE_ORG}.style" in text and "<img src=x onerror=alert(2)>.style" in text


def damage(root: Path, what: str) -> None:
    if what == "no trials":
        (root / "trials.parquet").unlink()
    elif what == "garbage reevaluation":
        (root / "reevaluation.parquet").write_bytes(b"PAR1 not really")
    elif what == "bad chosen JSON":
        (root / "chosen.json").write_text('{"final": 0,')
    elif what == "unknown final":
        (root / "chosen.json").write_text(json.dumps({"final": 9, "candidates": [0], "front": []}))
    elif what == "bad direction":
        s = json.loads((root / "optimise.json").read_text())
        s["objectives"][0]["direction"] = "maximise"
        (root / "optimise.json").write_text(json.dumps(s))
    elif what == "missing column":
        t = pd.read_parquet(root / "trials.parquet").drop(columns=["value_gap_closed_auc"])
        t.to_parquet(root / "trials.parquet", index=False)
    elif what == "truncated robustness":
        (root / "robustness.parquet").write_bytes(b"")


DAMAGES = {"no trials": ("trials.parquet", "missing"), "garbage reevaluation": ("reevaluation.parquet", "Parquet"),
           "bad chosen JSON": ("chosen.json", "not valid JSON"), "unknown final": ("chosen.json", "mix 9"),
           "bad direction": ("optimise.json", "'maximise'"),
           "missing column": ("trials.parquet", "value_gap_closed_auc"),
           "truncated robustness": ("robustness.parquet", "Parquet")}


@pytest.mark.parametrize("what", list(DAMAGES))
def test_a_damaged_or_missing_file_gives_one_line_and_exit_2(tmp_path: Path, what: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = realistic(tmp_path / "opt")
    damage(root, what)
    before = digest(root)
    assert report_main([str(root)]) == 2
    err = capsys.readouterr().err.strip()
    file, fragment = DAMAGES[what]
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"govsim-report: {file}:") and fragment in err
    assert digest(root) == before and not (root / "report").exists()


def test_the_report_never_writes_into_the_optimisation_folder_itself(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = constructed(tmp_path / "o", {1: (-0.04, 0.001)})
    before = digest(root)
    assert report_main([str(root), "--out", str(root)]) == 2
    assert "optimisation folder itself" in capsys.readouterr().err
    assert report_main([str(root), "--smallest-effect", "production_mean=0.1"]) == 2
    assert "not an objective" in capsys.readouterr().err
    assert digest(root) == before and sorted(p.name for p in root.iterdir()) == sorted(
        ["optimise.json", "trials.parquet", "reevaluation.parquet", "chosen.json"])
