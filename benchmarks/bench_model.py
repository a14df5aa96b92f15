"""Speed and memory of the model, against Mesa's own BoltzmannWealth example, in one process.

Prints, for the default run (4 organisations, 200 professionals, N = 16, K = 3, 200
steps) and for a small and a large configuration: wall time per run (median of
repeats), cost per professional-step, and peak traced memory; then the cost per
agent-step of Mesa's BoltzmannWealth with 200 agents and the ratio. With ``--scale``
also one run of 100,000 professionals (20 organisations x 5,000) x 200 steps: build
time, step time and peak resident memory. Targets: the default run under 0.5 s; our
cost per professional-step at most BoltzmannWealth's per agent-step (ratio <= 1);
the scale run under 30 s in all and under 2 GB. Timings on a shared machine are
noisy: compare the ratio, which is measured within one run.

    python benchmarks/bench_model.py [--repeats 5] [--scale]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

from sim.model import GovernanceModel
from sim.params import ModelParams, build_params

CONFIGS = {
    "small": {"problem": {"N": 12, "K": 3},
              "scenario": {"organisations": [{"name": f"o{i}", "size": 10} for i in range(4)]},
              "network": {"degree": 4}},
    "default": {},
    # twenty organisations owning one decision each: every dependency crosses a boundary
    "large": {"problem": {"N": 20, "K": 5, "cross_boundary": 1.0},
              "scenario": {"organisations": [{"name": f"o{i}", "size": 50} for i in range(20)]}},
}
SCALE = {"problem": {"N": 20, "K": 5, "cross_boundary": 1.0},
         "scenario": {"organisations": [{"name": f"o{i}", "size": 5000} for i in range(20)]}}
STEPS = 200


def time_model(params: ModelParams, repeats: int) -> tuple[float, float]:
    """Median wall time of a full run (build + 200 steps) and of the steps alone."""
    totals, steps = [], []
    for r in range(repeats):
        t0 = time.perf_counter()
        model = GovernanceModel(params, rng=r)
        t1 = time.perf_counter()
        for _ in range(STEPS):
            model.step()
        t2 = time.perf_counter()
        totals.append(t2 - t0)
        steps.append(t2 - t1)
    return statistics.median(totals), statistics.median(steps)


def peak_memory(params: ModelParams) -> float:
    """Peak traced Python memory (MiB) of one full run."""
    tracemalloc.start()
    model = GovernanceModel(params, rng=0)
    for _ in range(STEPS):
        model.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def time_boltzmann(repeats: int, n: int = 200) -> float:
    """Median seconds per agent-step of BoltzmannWealth with ``n`` agents over 200 steps."""
    per = []
    for r in range(repeats):
        model = BoltzmannWealth(scenario=BoltzmannScenario(n=n, width=20, height=20, rng=r))
        t0 = time.perf_counter()
        for _ in range(STEPS):
            model.step()
        per.append((time.perf_counter() - t0) / (STEPS * n))
    return statistics.median(per)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scale", action="store_true", help="also run 100,000 professionals x 200 steps")
    args = parser.parse_args()
    import logging

    logging.getLogger("MESA").setLevel(logging.WARNING)
    GovernanceModel(build_params({"run": {"steps": 1}}), rng=0).step()  # warm imports and caches
    boltz = time_boltzmann(args.repeats)
    header = ("config", "profs", "run s", "steps s", "us/prof-step", "ratio", "peak MiB")
    print("{:8s} {:>6s} {:>8s} {:>8s} {:>13s} {:>6s} {:>9s}".format(*header))
    for name, overrides in CONFIGS.items():
        params = build_params(overrides)
        p = params.scenario.n_professionals
        total, steps = time_model(params, args.repeats)
        per = steps / (STEPS * p)
        mem = peak_memory(params)
        print(f"{name:8s} {p:6d} {total:8.3f} {steps:8.3f} {per * 1e6:13.2f} {per / boltz:6.2f} {mem:9.1f}")
    print(f"BoltzmannWealth (Mesa example, 200 agents): {boltz * 1e6:.2f} us per agent-step")
    default_total, _ = time_model(ModelParams(), args.repeats)
    print(f"default run: {default_total:.3f} s (target < 0.5 s)")
    if args.scale:
        import resource

        params = build_params(SCALE)
        t0 = time.perf_counter()
        model = GovernanceModel(params, rng=0)
        t1 = time.perf_counter()
        for _ in range(STEPS):
            model.step()
        t2 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux
        print(f"scale: {params.scenario.n_professionals} professionals x {STEPS} steps: build {t1 - t0:.1f} s, "
              f"steps {t2 - t1:.1f} s, total {t2 - t0:.1f} s (target < 30 s); peak RSS {rss:.0f} MiB "
              "(target < 2048 MiB)")


if __name__ == "__main__":
    main()
