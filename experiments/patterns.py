"""Pattern-oriented checks (Grimm et al. 2005): qualitative patterns from the literature at three levels.

Each pattern is measured on the full model and on an alternative sub-model that lacks the mechanism
meant to produce it; a pattern the alternative also shows would not discriminate, one it fails
rejects that alternative. None of the patterns is a ranking of styles. Prints a Markdown table for
docs/validation.md; it runs the model itself (like the docking studies), it is not part of a report.

    python -m experiments.patterns [--replications 20]
"""

from __future__ import annotations

import argparse
import copy

import numpy as np
import pandas as pd
from scipy import stats

from sim import build_params
from sim.model import GovernanceModel
from sim.runner import replication_seeds

STEPS = 150


def runs(config: dict, replications: int, probe=None) -> list:
    """Run ``replications`` models of ``config``; ``probe(model)`` is called after every step."""
    params = build_params(config)
    out = []
    for seq in replication_seeds(20261126, replications):
        model = GovernanceModel(params, rng=seq)
        record = []
        for _ in range(STEPS):
            model.step()
            if probe is not None:
                record.append(probe(model))
        out.append((model, record))
    return out


def with_changes(config: dict, **sections) -> dict:
    """A copy of ``config`` with sections updated."""
    out = copy.deepcopy(config)
    for name, values in sections.items():
        out[name] = {**out.get(name, {}), **values}
    return out


def ci(values) -> str:
    """Mean and 95 % t interval over replications."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{v.mean():+.3f} [{v.mean() - half:+.3f}, {v.mean() + half:+.3f}]"


def voice_futility(replications: int) -> list[tuple[str, str, str]]:
    """Individual: speaking up dies out where it goes unanswered (Morrison 2014; Detert & Burris 2007).

    Measured: change in the raising rate (raised per made proposal) from the first to the last third
    of the run, under leaders who answer nobody (responsiveness 0) minus under leaders who answer all.
    """
    def rates(config: dict) -> list[float]:
        res = []
        for _model, rec in runs(config, replications, lambda m: (m.counts["raised_minority"]
                                                               + m.counts["raised_majority"],
                                                               m.counts["made_minority"] + m.counts["made_majority"])):
            rec = np.array(rec, dtype=float)
            third = STEPS // 3
            first = rec[:third, 0].sum() / max(rec[:third, 1].sum(), 1)
            last = rec[-third:, 0].sum() / max(rec[-third:, 1].sum(), 1)
            res.append(last - first)
        return res

    out = []
    for label, mech in (("full model", {}), ("voice_dynamics off", {"voice_dynamics": False})):
        deaf = {"leadership": {"style": "directive", "behaviours": {"directive": {"responsiveness": 0.0}}},
                "mechanisms": mech}
        open_ = {"leadership": {"style": "directive", "behaviours": {"directive": {"responsiveness": 1.0,
                                                                                  "openness": 1.0}}},
                 "mechanisms": mech}
        diff = np.array(rates(deaf)) - np.array(rates(open_))
        out.append((label, ci(diff), "negative: voice decays where nobody answers"))
    return out


def burnout_clusters(replications: int) -> list[tuple[str, str, str]]:
    """Team: burnout clusters among tied colleagues (Bakker, Le Blanc & Schaufeli 2005).

    Measured over person-steps: the share of burnt-out ties of burnt-out professionals minus the
    share expected if their ties were drawn at random from their own organisation (the burnout rate
    of their colleagues). Common exposure to one organisation's workload is so taken out: what is
    left is clustering along ties (0 when burnout strikes independently of one's ties).
    """
    def excess(config: dict) -> list[float]:
        def probe(m):
            out = ~m.active
            if not out.any():
                return (0.0, 0.0, 0.0)
            e = m.network.edges
            tie_out = np.bincount(e[:, 0], out[e[:, 1]], m.n_professionals) + np.bincount(
                e[:, 1], out[e[:, 0]], m.n_professionals)
            deg = m.network.degree
            heads = np.bincount(m.org_of, minlength=m.n_orgs)
            burnt = np.bincount(m.org_of, out, m.n_orgs)
            colleagues = (burnt[m.org_of] - 1) / np.maximum(heads[m.org_of] - 1, 1)  # for a burnt-out ego
            return (float(tie_out[out].sum()), float(deg[out].sum()), float((colleagues * deg)[out].sum()))

        res = []
        for _, rec in runs(config, replications, probe):
            rec = np.array(rec)
            if rec[:, 1].sum() == 0:
                continue
            res.append((rec[:, 0].sum() - rec[:, 2].sum()) / rec[:, 1].sum())
        return res

    base = {"leadership": {"style": "transactional"}, "scenario": {"shock_workload": 1.5},
            "problem": {"shocks": [{"step": 50, "share": 0.6}]}}
    out = []
    for label, wf in (("full model", {}), ("no contagion (workforce.contagion = 0)", {"contagion": 0.0})):
        out.append((label, ci(excess(with_changes(base, workforce=wf))),
                    "positive: burnout clusters among tied colleagues"))
    return out


def firefighting(replications: int) -> list[tuple[str, str, str]]:
    """Organisation: the capability trap and gaming (Repenning & Sterman 2001; Bevan & Hood 2006).

    Measured: under high target pressure and little autonomy, the share of steps in which counted
    production rises while value work falls (targets that count failure work reward a worse solved
    problem).
    """
    def corr(config: dict) -> list[float]:
        res = []
        for _model, rec in runs(config, replications, lambda m: (m.production_per_capita,
                                                               float(m.work.value_work.sum()))):
            d = np.diff(np.array(rec), axis=0)
            res.append(float(((d[:, 0] > 1e-9) & (d[:, 1] < -1e-9)).mean()))
        return res

    base = {"leadership": {"style": "transactional", "behaviours": {"transactional": {"pressure": 1.0,
                                                                                      "autonomy": 0.1}}},
            "problem": {"turbulence": 0.02}}
    out = []
    for label, mech in (("full model", {}), ("failure_demand off", {"failure_demand": False})):
        out.append((label, ci(corr(with_changes(base, mechanisms=mech))),
                    "positive: counted production up while value work down"))
    return out


def small_wins(replications: int) -> list[tuple[str, str, str]]:
    """Network: forums build trust through small wins, not through meeting (Ansell & Gash 2008).

    Measured across replications of all-facilitative networks: the correlation between the number of
    forum decisions enacted and the change in trust between organisations.
    """
    def corr(config: dict) -> str:
        wins, trust = [], []
        for model, rec in runs(config, replications, lambda m: m.meeting.adopted if m.meeting.held else 0):
            wins.append(sum(rec))
            trust.append(model.datacollector.model_vars["mean_trust"][-1] - model.datacollector.model_vars[
                "mean_trust"][0])
        r, p = stats.pearsonr(wins, trust)
        z = np.arctanh(r)
        half = 1.96 / np.sqrt(len(wins) - 3)
        return f"{r:+.3f} [{np.tanh(z - half):+.3f}, {np.tanh(z + half):+.3f}]"

    base = {"leadership": {"style": "facilitative"}}
    return [(label, corr(with_changes(base, mechanisms=mech)), "positive: trust follows the forum's small wins")
            for label, mech in (("full model", {}), ("forum_trust off", {"forum_trust": False}))]


def main() -> None:
    """Measure every pattern and print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--only", default=None, help="measure one level only (individual, team, ...)")
    args = parser.parse_args()
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    rows = []
    for level, name, fn in (("individual", "voice dies where unanswered", voice_futility),
                            ("team", "burnout clusters among ties", burnout_clusters),
                            ("organisation", "firefighting: counted production parts from value", firefighting),
                            ("network", "trust follows small wins", small_wins)):
        if args.only and level != args.only:
            continue
        for variant, value, expected in fn(args.replications):
            rows.append({"level": level, "pattern": name, "sub-model": variant, "measured (95 % CI)": value,
                         "expected": expected})
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
