"""The proof that the optimiser works (docs/optimisation.md): grid, searches, re-evaluations, figures.

Stages (each resumable; results go under ``--out``, default ``outputs/optimisation_proof``):

``grid``      every mix of six styles over the safety network's five organisations (7,776 mixes),
              once, on replication 0, with reduced steps;
``reeval``    the grid's best mixes on 30 fresh replications (a disjoint seed set);
``search``    ten optimiser seeds (TPE that skips mixes already run), ten of Optuna's independent
              TPE and ten random-search seeds at the same budget, each ending with its final mix;
``confirm``   the halving searches on held-out seeds 10-19;
``heldout``   the halving searches on held-out seeds 20-29, and the surrogate's rules on their seeds
              (each takes over the search proper of the same seed: only the choice of the final mix differs);
``check``     the grid's tied winners and every search's final mix on 150 further replications
              (disjoint from every replication the grid or the searches chose with), paired;
``pareto``    the multi-objective search against random search and the grid, by hypervolume;
``figures``   the figures and tables of docs/optimisation.md.

Usage: ``python docs/make_optimisation.py grid`` (then the next stages, or ``all``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.csvsafe import csv_bytes  # noqa: E402
from experiments import optimise as opt  # noqa: E402
from experiments.mixes import REEVALUATION_START, MixSpace, evaluate_rows  # noqa: E402

CASE = "safety_network"
STEPS = 60  # reduced from the case's 200 (documented in docs/optimisation.md)
OUTCOMES = ("gap_closed_auc", "production_mean", "burnout_rate_mean", "window_voice_equity",
            "window_public_value_gap_closed", "person_steps_lost")
CHUNK = 96
OBJECTIVE = "gap_closed_auc"
GRID_TOP = 20          # the grid's best mixes re-evaluated
FRESH = 30             # fresh replications per re-evaluated mix
SEEDS = range(10)      # optimiser seeds (and random-search seeds)
CONFIRM_SEEDS = range(10, 20)  # held-out seeds: the halving searches, run after the halving rule was fixed
CONFIRM = ("tpe_r4_halving", "random_r4_halving")
HELD_OUT_SEEDS = range(20, 30)  # second held-out set: run after the surrogate's rule was fixed
SURROGATE_KINDS = ("tpe_r4_surrogate", "random_r4_surrogate")
SWAP_KINDS = ("tpe_r4_swap", "random_r4_swap")  # the surrogate's first try, seeds 0-19 only
SHIPPED = "tpe_r4_surrogate"  # the kind optimise_mix ships
SURROGATE = 5          # *_surrogate: the ten best trials and five mixes the surrogate proposes, raced on RACE_RUNS
                       # *_swap: five best trials and five of the surrogate's, raced on RACE_RUNS
CHECK_START, CHECK = 2000, 150  # replications 2000..2149: the check of the final mixes against the grid's best
CHOOSE = 3             # a search's best trials re-evaluated before it names its final mix
RACE_CHOOSE = 10       # *_halving searches: best trials raced by sequential halving ...
RACE_RUNS = CHOOSE * FRESH  # ... on the same number of fresh runs as three mixes on 30
MO_OBJECTIVES = ["gap_closed_auc", "production_mean", "burnout_rate_mean", "window_voice_equity"]
MO_SEEDS = range(3)
MO_FRONT = 10          # front members re-evaluated (the grid's and each search's)


def case_config(steps: int = STEPS) -> dict:
    """The safety-network case's model config with reduced steps."""
    from hydra import compose, initialize_config_dir

    from experiments.run import CONFIG_DIR, model_config
    with initialize_config_dir(str(CONFIG_DIR), version_base=None):
        cfg = compose("config", overrides=[f"scenario={CASE}", f"run.steps={steps}"])
    return model_config(cfg)


def space_of(config: dict) -> MixSpace:
    """Each organisation's style, over all six styles."""
    return MixSpace(tuple(o["name"] for o in config["scenario"]["organisations"]))


def stage_grid(out: Path, workers: int) -> pd.DataFrame:
    """All 7,776 mixes on replication 0; parts are written as they finish (resumable)."""
    config = case_config()
    mixes = list(space_of(config).grid())
    parts = out / "grid"
    parts.mkdir(parents=True, exist_ok=True)
    chunks = [(i, mixes[i:i + CHUNK]) for i in range(0, len(mixes), CHUNK)]
    todo = [(i, c) for i, c in chunks if not (parts / f"part-{i:05d}.parquet").exists()]

    def run(i: int, chunk: list) -> tuple[int, list]:
        return i, evaluate_rows(config, chunk, [0], OUTCOMES)

    start = time.perf_counter()
    with tqdm(total=len(mixes), initial=len(mixes) - sum(len(c) for _, c in todo), unit="mix",
              desc="grid") as bar:
        for i, rows in Parallel(n_jobs=workers, return_as="generator_unordered")(
                delayed(run)(i, c) for i, c in todo):
            tmp = parts / f"part-{i:05d}.parquet.tmp"
            pd.DataFrame(rows).to_parquet(tmp, index=False)
            tmp.replace(parts / f"part-{i:05d}.parquet")
            bar.update(len(rows))
    grid = pd.concat([pd.read_parquet(p) for p in sorted(parts.glob("part-*.parquet"))], ignore_index=True)
    print(f"grid: {len(grid)} runs, {time.perf_counter() - start:.0f} s this time", flush=True)
    return grid


def load_grid(out: Path) -> pd.DataFrame:
    """The grid's runs."""
    return pd.concat([pd.read_parquet(p) for p in sorted((out / "grid").glob("part-*.parquet"))], ignore_index=True)


def budget(out: Path) -> int:
    """10 % of the grid's model runs."""
    return len(load_grid(out)) // 10


def fresh_rows(config: dict, mixes: list[dict], workers: int, outcomes=OUTCOMES) -> pd.DataFrame:
    """``mixes`` on the fresh replications, in parallel."""
    reps = list(range(REEVALUATION_START, REEVALUATION_START + FRESH))

    def run(i: int, mix: dict) -> list:
        return [{"mix_id": i, **row} for row in evaluate_rows(config, [mix], reps, outcomes)]

    rows = []
    with tqdm(total=len(mixes), unit="mix", desc="re-evaluate") as bar:
        for part in Parallel(n_jobs=workers, return_as="generator")(delayed(run)(i, m) for i, m in enumerate(mixes)):
            rows.extend(part)
            bar.update(1)
    return pd.DataFrame(rows)


def stage_reeval(out: Path, workers: int) -> None:
    """The grid's best mixes, and its re-evaluated Pareto front, on fresh replications."""
    config = case_config()
    levers = space_of(config).levers
    grid = load_grid(out)
    target = out / "grid_reeval.parquet"
    if not target.exists():
        top = grid.sort_values(OBJECTIVE, ascending=False).head(GRID_TOP)
        fresh_rows(config, top[levers].to_dict("records"), workers).to_parquet(target, index=False)
    target = out / "grid_front_reeval.parquet"
    if not target.exists():
        values = grid[MO_OBJECTIVES].fillna(0.0).to_numpy()  # undefined voice equity: no voice
        front = grid[opt.pareto_mask(values, [opt.OBJECTIVES[o] for o in MO_OBJECTIVES])]
        print(f"grid Pareto front (replication 0): {len(front)} mixes", flush=True)
        pick = front.sort_values(OBJECTIVE).iloc[
            sorted(set(np.linspace(0, len(front) - 1, MO_FRONT).round().astype(int)))]
        rows = fresh_rows(config, pick[levers].to_dict("records"), workers)
        rows.to_parquet(target, index=False)


def search_folder(out: Path, kind: str, seed: int) -> Path:
    """Where one search of the proof lives."""
    return out / "search" / f"{kind}-{seed}"


def _kind_parts(kind: str) -> tuple[str, str]:
    """A search kind's search proper (``tpe_r4``) and its rule for the final mix.

    The rule is ``three`` (three best on 30 runs), ``halving``, ``surrogate`` (halving over the ten
    best trials and the surrogate's five best proposals) or ``swap`` (halving over ten: five of each).
    """
    for rule in ("halving", "surrogate", "swap"):
        if kind.endswith(f"_{rule}"):
            return kind.removesuffix(f"_{rule}"), rule
    return kind, "three"


def seeds_of(kind: str) -> range:
    """The seeds a kind of search is run on."""
    if kind in SURROGATE_KINDS or kind in CONFIRM:
        return range(SEEDS.start, HELD_OUT_SEEDS.stop)
    if kind in SWAP_KINDS:
        return range(SEEDS.start, CONFIRM_SEEDS.stop)
    return SEEDS


def run_search(out: Path, kind: str, seed: int, workers: int, objectives: list[str], choose: int) -> dict:
    """One search of the proof (resumable in its folder), within the budget with its re-evaluations."""
    total = budget(out)
    base, rule = _kind_parts(kind)
    raced = rule != "three"
    search_runs = (total - (RACE_RUNS if raced else choose * FRESH)) // 2 * 2
    sampler = {"tpe": "tpe", "tpe_independent": "tpe", "tpe_r4": "tpe", "random_r4": "random", "random": "random",
               "nsga3": "nsga3", "mo-random": "random"}[base]
    # tpe_independent: Optuna's TPE as it comes (levers one by one, repeats allowed), the first proof's sampler
    variant = ["optimise.multivariate=false", "optimise.avoid_repeats=false"] if kind == "tpe_independent" else []
    # *_r4: four replications per trial instead of two (half as many mixes, half the trial's variance)
    replications = 4 if "_r4" in kind else 2
    # *_halving: the final mix raced from the ten best trials by sequential halving;
    # *_surrogate: raced from those ten and the surrogate's five best proposals (as optimise_mix ships);
    # *_swap: raced from ten, five of them the surrogate's
    choose_raced = RACE_CHOOSE - (SURROGATE if rule == "swap" else 0)  # best trials; the surrogate's come on top
    selection = (["optimise.selection=halving", f"optimise.choose={choose_raced}",
                  f"optimise.selection_runs={RACE_RUNS}",
                  f"optimise.surrogate={SURROGATE if rule in ('surrogate', 'swap') else 0}"] if raced else
                 ["optimise.selection=all", f"optimise.choose={choose}", "optimise.surrogate=0"])
    overrides = [*variant, "experiment=optimise_mix", f"optimise.seed={seed}", f"optimise.sampler={sampler}",
                 f"optimise.budget={search_runs}", "optimise.trials=20000", *selection,
                 f"optimise.reevaluate={FRESH}", f"optimise.workers={workers}", f"optimise.replications={replications}",
                 "optimise.objectives=[" + ",".join(objectives) + "]"]
    model_cfg, settings, record = opt.prepare(opt.compose(overrides), "optimise_mix")
    if model_cfg != case_config():
        raise SystemExit("the optimisation's model config differs from the grid's")
    folder = search_folder(out, kind, seed)
    meta = folder / "optimise.json"
    if meta.exists() and json.loads(meta.read_text()).get("status") == "complete":
        return json.loads(meta.read_text())
    if raced and not (folder / "study.journal").exists():
        # The search proper is the same for every rule of the final mix (same seed, sampler and search
        # budget), so a finished search's journal is taken over and the optimisation resumes from it into
        # its own choice, as after a kill; docs/optimisation.md reports a seed rerun from scratch that
        # gives the same trials.
        for sibling in (base, f"{base}_halving", f"{base}_surrogate", f"{base}_swap"):
            done = search_folder(out, sibling, seed) / "optimise.json"
            if sibling != kind and done.exists() and json.loads(done.read_text()).get("status") == "complete":
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(done.parent / "study.journal", folder / "study.journal")
                break
    final = opt.optimise(model_cfg, settings, folder, record, show_progress=True)
    if final["runs_used"] > total:
        raise SystemExit(f"{kind}-{seed} used {final['runs_used']} runs, over the budget of {total}")
    return final


FIRST_SEARCHES = ("tpe", "tpe_independent", "random", "tpe_r4", "random_r4", "tpe_r4_halving", "random_r4_halving")
SEARCHES = (*FIRST_SEARCHES, *SWAP_KINDS, *SURROGATE_KINDS)


def _run_searches(out: Path, workers: int, runs: Iterable[tuple[str, int]], objectives: Sequence[str] = (OBJECTIVE,),
                  choose: int = CHOOSE) -> None:
    """Each ``(kind, seed)`` search in order (each resumable), printing the model runs it used."""
    for kind, seed in runs:
        f = run_search(out, kind, seed, workers, list(objectives), choose)
        print(f"{kind}-{seed}: {f['runs_used']} runs", flush=True)


def stage_search(out: Path, workers: int) -> None:
    """Ten searches of each kind for public value, at the same budget."""
    _run_searches(out, workers, ((kind, seed) for seed in SEEDS for kind in FIRST_SEARCHES))


def stage_confirm(out: Path, workers: int) -> None:
    """The halving searches on held-out seeds, from scratch."""
    _run_searches(out, workers, ((kind, seed) for seed in CONFIRM_SEEDS for kind in CONFIRM))


def stage_heldout(out: Path, workers: int) -> None:
    """The halving searches on the second held-out seeds, then the surrogate's rules on their seeds."""
    _run_searches(out, workers, ((kind, seed) for seed in HELD_OUT_SEEDS for kind in CONFIRM))
    _run_searches(out, workers, ((kind, seed) for kind in (*SWAP_KINDS, *SURROGATE_KINDS) for seed in seeds_of(kind)))


def _grid_tied(out: Path) -> tuple[pd.DataFrame, int]:
    """The grid's re-evaluated mixes (30 fresh runs) tied with its best, and the best's ``mix_id``."""
    config = case_config()
    levers = space_of(config).levers
    gre = pd.read_parquet(out / "grid_reeval.parquet").sort_values(["mix_id", "replication"])
    by_mix = {i: g[OBJECTIVE].to_numpy() for i, g in gre.groupby("mix_id")}
    best = max(by_mix, key=lambda i: by_mix[i].mean())
    keep = [i for i in by_mix if i == best or _tied(by_mix[i], by_mix[best])]
    return gre[gre["mix_id"].isin(keep)].drop_duplicates("mix_id").set_index("mix_id")[levers], best


def _final_mixes(out: Path) -> pd.DataFrame:
    """Every search's final mix (kind, seed and levers)."""
    levers = space_of(case_config()).levers
    rows = []
    for kind in SEARCHES:
        for seed in seeds_of(kind):
            folder = search_folder(out, kind, seed)
            if seed not in SEEDS and not (folder / "chosen.json").exists():
                continue  # the confirm or held-out stage has not run (yet)
            chosen = json.loads((folder / "chosen.json").read_text())
            re = pd.read_parquet(folder / "reevaluation.parquet")
            fin = re[re["mix_id"] == chosen["final"]].iloc[0]
            rows.append({"search": kind, "seed": seed, **{lev: fin[lev] for lev in levers}})
    return pd.DataFrame(rows)


def stage_check(out: Path, workers: int) -> None:
    """The grid's tied winners and every final mix on the check replications (each mix once; resumable)."""
    config = case_config()
    levers = space_of(config).levers
    tied, _ = _grid_tied(out)
    mixes = pd.concat([tied[levers], _final_mixes(out)[levers]]).drop_duplicates().to_dict("records")
    target = out / "check.parquet"
    have = pd.read_parquet(target) if target.exists() else pd.DataFrame(columns=[*levers, "replication"])
    done = {tuple(r) for r in have[levers].drop_duplicates().itertuples(index=False)}
    todo = [m for m in mixes if tuple(m[lev] for lev in levers) not in done]
    reps = list(range(CHECK_START, CHECK_START + CHECK))
    print(f"check: {len(mixes)} mixes, {len(todo)} to run on replications {reps[0]}-{reps[-1]}", flush=True)
    with tqdm(total=len(todo), unit="mix", desc="check") as bar:
        for rows in Parallel(n_jobs=workers, return_as="generator")(
                delayed(evaluate_rows)(config, [m], reps, OUTCOMES) for m in todo):
            have = pd.concat([have, pd.DataFrame(rows)], ignore_index=True) if len(have) else pd.DataFrame(rows)
            tmp = out / "check.parquet.tmp"
            have.to_parquet(tmp, index=False)
            tmp.replace(target)
            bar.update(1)


def stage_pareto(out: Path, workers: int) -> None:
    """Three NSGA-III and three random multi-objective searches."""
    _run_searches(out, workers, ((kind, seed) for seed in MO_SEEDS for kind in ("nsga3", "mo-random")),
                  MO_OBJECTIVES, MO_FRONT)


def main(argv: list[str] | None = None) -> None:
    """Run the stages named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="+",
                        choices=["grid", "reeval", "search", "confirm", "heldout", "check", "pareto", "figures",
                                 "all"])
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "optimisation_proof")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    stages = (["grid", "reeval", "search", "confirm", "heldout", "check", "pareto", "figures"] if "all" in args.stages
              else args.stages)
    for name in stages:
        {"grid": stage_grid, "reeval": stage_reeval, "search": stage_search, "confirm": stage_confirm,
         "heldout": stage_heldout,
         "check": stage_check,
         "pareto": stage_pareto,
         "figures": stage_figures}[name](args.out, args.workers)


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``a - b`` and its 95 % paired t interval."""
    from analysis.stats import t_interval

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.allclose(d, 0.0):
        return 0.0, 0.0, 0.0
    low, high = t_interval(d)
    return float(d.mean()), float(low), float(high)


def _tied(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the paired 95 % interval of ``a - b`` includes zero."""
    _, low, high = _paired(a, b)
    return low <= 0.0 <= high


def _wilson(hits: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval of a rate of ``hits`` in ``n`` (scipy's)."""
    from scipy.stats import binomtest

    ci = binomtest(hits, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _mix_text(row: pd.Series | dict, levers: list[str]) -> str:
    short = {"directive": "dir", "transactional": "tra", "facilitative": "fac", "shared": "sha",
             "situational": "sit", "laissez_faire": "lf"}
    return " / ".join(short[row[lever]] for lever in levers)


def _hypervolume(points: np.ndarray, directions: list[str], lo: np.ndarray, hi: np.ndarray) -> float:
    """Hypervolume of ``points`` (re-evaluated means) in [0, 1]-scaled, minimisation-oriented objectives.

    Each objective is scaled by the range ``[lo, hi]`` over every re-evaluated point compared; the
    reference point is 1.1 on every scaled axis (just beyond the worst value seen).
    """
    from analysis.optimisation import hypervolume

    scaled = (np.asarray(points, dtype=float) - lo) / np.where(hi > lo, hi - lo, 1.0)
    flip = np.array([d == "maximize" for d in directions])
    scaled[:, flip] = 1.0 - scaled[:, flip]
    return hypervolume(scaled, np.full(scaled.shape[1], 1.1))


def stage_figures(out: Path, workers: int) -> None:
    """Tables (Markdown, printed and written to ``out/tables.md``) and figures (docs/img/optimisation_*.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from analysis.figures import set_style

    set_style()
    img = ROOT / "docs" / "img"
    config = case_config()
    levers = space_of(config).levers
    total = budget(out)
    grid = load_grid(out)
    sesoi = opt.compose(["experiment=optimise_mix"])["optimise"]["smallest_effect"][OBJECTIVE]
    lines: list[str] = []

    # -- the grid's best, re-evaluated
    gre = pd.read_parquet(out / "grid_reeval.parquet").sort_values(["mix_id", "replication"])
    by_mix = {i: g[OBJECTIVE].to_numpy() for i, g in gre.groupby("mix_id")}
    means = {i: v.mean() for i, v in by_mix.items()}
    best = max(means, key=means.get)
    best_mix = gre[gre["mix_id"] == best].iloc[0]
    ref = by_mix[best]
    lines += [f"Grid: {len(grid)} runs (replication 0, {STEPS} steps); budget of a search: {total} runs.", "",
              "| rank in grid | mix (police / prosecution / probation / custody / municipality) | grid value "
              "(1 run) | fresh mean [95 % CI] | difference to the best [95 % paired CI] | tied |",
              "|---|---|---|---|---|---|"]
    top = grid.sort_values(OBJECTIVE, ascending=False).head(GRID_TOP).reset_index(drop=True)
    tied = []
    from analysis.stats import t_interval
    for i in range(len(top)):
        v = by_mix[i]
        lo, hi = t_interval(v)
        d, dlo, dhi = _paired(v, ref)
        is_tied = i == best or _tied(v, ref)
        tied.append(is_tied)
        lines.append(f"| {i + 1} | {_mix_text(top.iloc[i], levers)} | {top.iloc[i][OBJECTIVE]:.3f} | "
                     f"{v.mean():.3f} [{lo:.3f}, {hi:.3f}] | {d:+.3f} [{dlo:+.3f}, {dhi:+.3f}] | "
                     f"{'best' if i == best else ('yes' if is_tied else 'no')} |")
    lines.append("")

    # -- the check: the grid's tied winners and every final mix on replications 2000..2149
    check = pd.read_parquet(out / "check.parquet").sort_values([*levers, "replication"])
    on_check = {tuple(k): g[OBJECTIVE].to_numpy() for k, g in check.groupby(levers, sort=False)}
    reps_check = list(range(CHECK_START, CHECK_START + CHECK))
    for k, g in check.groupby(levers):
        if sorted(g["replication"]) != reps_check:
            raise SystemExit(f"check runs of {k} are not replications {reps_check[0]}-{reps_check[-1]}")
    tied_mixes, _ = _grid_tied(out)
    best_key = tuple(best_mix[lev] for lev in levers)
    ref_check = on_check[best_key]
    lines += [f"On the {CHECK} check replications ({CHECK_START}-{CHECK_START + CHECK - 1}), the grid's tied winners:",
              "", "| mix | check mean [95 % CI] | difference to the grid's best [95 % paired CI] |", "|---|---|---|"]
    for _, m in tied_mixes.iterrows():
        v = on_check[tuple(m[lev] for lev in levers)]
        lo, hi = t_interval(v)
        d, dlo, dhi = _paired(v, ref_check)
        lines.append(f"| {_mix_text(m, levers)}{' (best)' if tuple(m) == best_key else ''} | {v.mean():.3f} "
                     f"[{lo:.3f}, {hi:.3f}] | {d:+.3f} [{dlo:+.3f}, {dhi:+.3f}] |")
    lines.append("")

    # -- the searches
    names = {"tpe": "TPE", "tpe_independent": "independent TPE", "random": "random search",
             "tpe_r4": "TPE, 4 runs a trial",
             "random_r4": "random search, 4 runs a trial",
             "tpe_r4_halving": "TPE, 4 runs a trial, halving",
             "random_r4_halving": "random search, 4 runs a trial, halving",
             "tpe_r4_swap": "TPE, 4 runs a trial, halving, 5 + 5 surrogate",
             "random_r4_swap": "random search, 4 runs a trial, halving, 5 + 5 surrogate",
             "tpe_r4_surrogate": "TPE, 4 runs a trial, halving, 10 + 5 surrogate",
             "random_r4_surrogate": "random search, 4 runs a trial, halving, 10 + 5 surrogate"}
    names[SHIPPED] += " (shipped)"
    colours = {"tpe": "#1b9e77", "tpe_independent": "#7570b3", "random": "#d95f02", "tpe_r4": "#e7298a",
               "random_r4": "#a6761d", "tpe_r4_halving": "#c2185b", "random_r4_halving": "#666666",
               "tpe_r4_swap": "#66a61e", "random_r4_swap": "#bbbbbb", "tpe_r4_surrogate": "#1f4e9c",
               "random_r4_surrogate": "#333333"}
    rows = []
    curves = []
    finals = _final_mixes(out)
    for _, f in finals.iterrows():
        kind, seed = f["search"], int(f["seed"])
        folder = search_folder(out, kind, seed)
        meta = json.loads((folder / "optimise.json").read_text())
        re = pd.read_parquet(folder / "reevaluation.parquet").sort_values(["mix_id", "replication"])
        chosen = json.loads((folder / "chosen.json").read_text())
        fin30 = re[re["mix_id"] == chosen["final"]]  # 30 runs; 24 (1000-1023) for a final raced by halving
        reps_best = list(gre[gre["mix_id"] == best]["replication"])
        if list(fin30["replication"]) != reps_best[:len(fin30)]:
            raise SystemExit("re-evaluations are not on the same replications")
        d30, dlo30, _ = _paired(fin30[OBJECTIVE].to_numpy(), ref[:len(fin30)])
        v = on_check[tuple(f[lev] for lev in levers)]
        d, dlo, dhi = _paired(v, ref_check)
        t = pd.read_parquet(folder / "trials.parquet").sort_values("slot")
        t = t[~t["interrupted"]]
        rows.append({"search": kind, "seed": seed, "mix": _mix_text(f, levers), "mean": v.mean(), "diff": d,
                     "low": dlo, "high": dhi, "ok": dlo >= -sesoi, "ok30": dlo30 >= -sesoi, "runs": meta["runs_used"],
                     "trials": len(t), "repeats": int((t["duplicate_of"] >= 0).sum()),
                     "same_as_grid_best": tuple(f[lev] for lev in levers) == best_key})
        t["runs"] = (t["duplicate_of"] < 0).cumsum() * (4 if "_r4" in kind else 2)
        t["best"] = t[f"value_{OBJECTIVE}"].cummax()
        base = _kind_parts(kind)[0]
        if not any(_kind_parts(k)[0] == base and seed in seeds_of(k) for k in SEARCHES[:SEARCHES.index(kind)]):
            curves.append(t.assign(search=kind, seed=seed)[["search", "seed", "runs", "best"]])  # a search once
    every = pd.DataFrame(rows)
    (out / "searches.csv").write_bytes(csv_bytes(every))
    res = every[every["seed"].isin(SEEDS)]

    def table(frame: pd.DataFrame) -> list[str]:
        head = [f"| search | seed | final mix | check mean | difference to the grid's best [95 % paired CI] | "
                f"within {sesoi} | trials (repeats) | model runs |", "|---|---|---|---|---|---|---|---|"]
        return head + [f"| {names[r['search']]} | {r['seed']} | {r['mix']} | {r['mean']:.3f} | {r['diff']:+.3f} "
                       f"[{r['low']:+.3f}, {r['high']:+.3f}] | {'yes' if r['ok'] else 'no'} | {r['trials']} "
                       f"({r['repeats']}) | {r['runs']} |" for _, r in frame.iterrows()] + [""]

    def summary(frame: pd.DataFrame, kinds: list[str], pairs: list[tuple[str, str]], where: str) -> list[str]:
        by = {k: frame[frame["search"] == k].sort_values("seed") for k in names}
        out_lines = [f"- {names[k]}{where}: within {sesoi} of the grid's best in {int(p['ok'].sum())} of {len(p)} "
                     f"seeds on the check replications ({int(p['ok30'].sum())} of {len(p)} on its own fresh runs); "
                     f"check mean of the final mixes {p['mean'].mean():.3f}." for k, p in by.items()
                     if k in kinds and len(p)]
        for a_, b_ in pairs:
            common = sorted(set(by[a_]["seed"]) & set(by[b_]["seed"]))
            if common:
                d, dlo, dhi = _paired(by[a_].set_index("seed").loc[common, "mean"].to_numpy(),
                                      by[b_].set_index("seed").loc[common, "mean"].to_numpy())
                out_lines.append(f"- {names[a_]} final minus {names[b_]} final{where}, paired by seed "
                                 f"({len(common)} seeds): {d:+.3f} [{dlo:+.3f}, {dhi:+.3f}].")
        return out_lines

    lines += table(res)
    lines += summary(res, list(names), [
        ("tpe", "random"), ("tpe", "tpe_independent"), ("tpe_independent", "random"), ("tpe_r4", "random"),
        ("tpe_r4", "tpe"), ("tpe_r4", "random_r4"), ("random_r4", "random"), ("tpe_r4_halving", "tpe_r4"),
        ("tpe_r4_halving", "random_r4_halving"), ("tpe_r4_halving", "random_r4"), ("random_r4_halving", "random_r4"),
        ("tpe_r4_swap", "tpe_r4_halving"), ("tpe_r4_surrogate", "tpe_r4_halving"),
        ("tpe_r4_surrogate", "random_r4_surrogate"), ("random_r4_surrogate", "random_r4_halving")], "")
    lines += [f"- Largest number of model runs of a search, re-evaluations included: {int(every['runs'].max())} "
              f"(budget {total}).", ""]
    key_pairs = [("tpe_r4_halving", "random_r4_halving"), ("tpe_r4_swap", "tpe_r4_halving"),
                 ("tpe_r4_surrogate", "tpe_r4_halving"), ("tpe_r4_surrogate", "random_r4_surrogate"),
                 ("random_r4_surrogate", "random_r4_halving")]
    for seeds, why in ((CONFIRM_SEEDS, "held out for the halving rule: run from scratch after it was fixed; the "
                        "surrogate's rules, designed on these seeds, take over their trials"),
                       (HELD_OUT_SEEDS, "held out for the surrogate's rule (10 + 5): run from scratch after it was "
                        "fixed")):
        part = every[every["seed"].isin(seeds)]
        if len(part):
            where = f", seeds {seeds[0]}-{seeds[-1]}"
            lines += [f"Seeds {seeds[0]}-{seeds[-1]} ({why}):", "", *table(part),
                      *summary(part, [k for k in names if (part["search"] == k).any()], key_pairs, where), ""]
    lines += ["All seeds each kind ran on:", "",
              *summary(every, [k for k in names if k in (*CONFIRM, *SWAP_KINDS, *SURROGATE_KINDS)], key_pairs,
                       ", all its seeds"), ""]
    for k in (*CONFIRM, *SURROGATE_KINDS):
        p = every[every["search"] == k]
        lo, hi = _wilson(int(p["ok"].sum()), len(p))
        lines.append(f"- {names[k]}: {int(p['ok'].sum())} of {len(p)} seeds within {sesoi} (95 % Wilson interval "
                     f"for the rate: {lo:.2f}-{hi:.2f}).")
    lines.append("")
    by = {k: every[every["search"] == k].sort_values("seed") for k in names}

    # -- figure: the grid's distribution (top) and where each kind of search ended, every seed (below)
    kinds = [k for k in names if len(by[k])]
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(9, 3.4 + 0.42 * len(kinds)),
                                 gridspec_kw={"height_ratios": [2.6, 0.42 * len(kinds)]})
    sns.histplot(grid[OBJECTIVE], bins=60, color="0.75", ax=ax, label="all 7,776 mixes (1 run each)")
    ref_mean = ref_check.mean()
    for a in (ax, bx):
        a.axvline(ref_mean, color="black", linestyle="--", label="grid's best, check mean" if a is ax else None)
        a.axvspan(ref_mean - sesoi, ref_mean, color="black", alpha=0.08, label=f"within {sesoi}" if a is ax else None)
    jitter = np.random.default_rng(0)  # vertical jitter of the dots only
    for i, kind in enumerate(kinds):
        part = by[kind]
        bx.scatter(part["mean"], i + jitter.uniform(-0.18, 0.18, len(part)), color=colours[kind], s=22, alpha=0.8)
        bx.text(1.005, i, f"{int(part['ok'].sum())}/{len(part)}", transform=bx.get_yaxis_transform(),
                va="center", fontsize=8)
    bx.set_yticks(range(len(kinds)), [names[k] for k in kinds], fontsize=8)
    bx.invert_yaxis()
    shown = pd.concat([by[k]["mean"] for k in kinds])
    bx.set_xlim(min(shown.min(), ref_mean - sesoi) - 0.02, shown.max() + 0.02)
    bx.set_xlabel("final mix of each seed: check mean (150 fresh runs); shaded: within 0.05 below the grid's best")
    ax.set_xlabel("public value: share of the gap closed, area under the curve (one run per mix)")
    ax.set_ylabel("mixes")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title("Safety network: 7,776 leadership mixes, one run each", fontsize=10)
    bx.set_title("Each search's final mix, every seed it ran (right: seeds whose final mix is within 0.05)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(img / "optimisation_grid.png", dpi=130)
    plt.close(fig)

    # -- figure: best trial value against model runs
    cur = pd.concat(curves)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    labelled = set()
    for (kind, seed), g in cur.groupby(["search", "seed"]):
        ax.step(g["runs"], g["best"], where="post", color=colours[kind], alpha=0.6, lw=1.2,
                label=None if kind in labelled else names[kind] + (" (held-out seeds)" if seed not in SEEDS
                                                                   else ""))
        labelled.add(kind)
    ax.axhline(grid[OBJECTIVE].max(), color="0.4", linestyle=":", label="grid's best single run (replication 0)")
    ax.set_xlabel("model runs of the search")
    ax.set_ylabel("best trial value (mean of the trial's runs)")
    ax.set_title("Best trial so far (noisy trial values; the choice is made on fresh runs)")
    ax.legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(img / "optimisation_search.png", dpi=130)
    plt.close(fig)

    # -- multi-objective: hypervolume of re-evaluated fronts
    dirs = [opt.OBJECTIVES[o] for o in MO_OBJECTIVES]
    fronts = {}
    gf = pd.read_parquet(out / "grid_front_reeval.parquet")
    fronts["grid front"] = gf.groupby("mix_id")[MO_OBJECTIVES].mean()
    for kind in ("nsga3", "mo-random"):
        for seed in MO_SEEDS:
            folder = search_folder(out, kind, seed)
            if not (folder / "reevaluation.parquet").exists():
                continue
            fronts[f"{kind}-{seed}"] = pd.read_parquet(folder / "reevaluation.parquet").groupby(
                "mix_id")[MO_OBJECTIVES].mean()
    if len(fronts) > 1:
        allp = pd.concat(fronts.values()).fillna(0.0).to_numpy()
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        lines += ["| front (re-evaluated on 30 fresh runs) | members re-evaluated | non-dominated | hypervolume |",
                  "|---|---|---|---|"]
        hv_rows = []
        for name, f in fronts.items():
            pts = f.fillna(0.0).to_numpy()
            hv = _hypervolume(pts, dirs, lo, hi)
            hv_rows.append({"front": name, "hv": hv})
            lines.append(f"| {name} | {len(pts)} | {int(opt.pareto_mask(pts, dirs).sum())} | {hv:.4f} |")
        (out / "hypervolume.csv").write_bytes(csv_bytes(pd.DataFrame(hv_rows)))
        lines.append("")
        fig, axes = plt.subplots(1, 3, figsize=(12, 4))
        pairs = [("production_mean", "gap_closed_auc"), ("burnout_rate_mean", "gap_closed_auc"),
                 ("window_voice_equity", "gap_closed_auc")]
        colours = {"grid front": "black", "nsga3": "#1b9e77", "mo-random": "#d95f02"}
        for ax, (x, y) in zip(axes, pairs, strict=True):
            ax.scatter(grid[x], grid[y], s=2, color="0.85", label="grid (1 run per mix)")
            for name, f in fronts.items():
                kind = name if name == "grid front" else name.rsplit("-", 1)[0]
                ax.scatter(f[x], f[y], s=30, color=colours[kind], alpha=0.8,
                           label={"grid front": "grid front, re-evaluated", "nsga3": "NSGA-III, re-evaluated",
                                  "mo-random": "random search, re-evaluated"}[kind]
                           if name in ("grid front", "nsga3-0", "mo-random-0") else None)
            ax.set_xlabel(x.replace("_", " "))
            ax.set_ylabel("public value (gap closed, AUC)")
        axes[0].legend(fontsize=8)
        fig.suptitle("Four objectives: fronts re-evaluated on fresh runs (two of the four axes per panel)")
        fig.tight_layout()
        fig.savefig(img / "optimisation_pareto.png", dpi=130)
        plt.close(fig)

    text = "\n".join(lines)
    (out / "tables.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
