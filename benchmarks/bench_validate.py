"""Pre-validation speed of a sweep: points validated per second before any job starts.

Runs the real ``govsim -m`` command on sweeps whose last point is invalid, so the
command validates every point and then stops (exit code 2, nothing written). The time
of a one-point sweep (start-up of Python, Hydra and govsim) is subtracted.
Target (issue 12): at least 50 points per second, 500 points in under 10 s.

    .venv/bin/python benchmarks/bench_validate.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str], cwd: str) -> float:
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "experiments.run", "-m", *args, "hydra/launcher=basic"], cwd=cwd,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - t0
    assert res.returncode == 2 and "invalid config" in res.stderr, res.stderr[-500:]
    assert not any(Path(cwd).iterdir()), "validation must not write anything"
    return elapsed


def main() -> None:
    values = ",".join(f"{i / 500:.3f}" for i in range(500))
    designs = {
        "500 points, one value swept": [f"problem.cross_boundary={values}"],
        "500 points, 6 styles x 4 role mixes x 21 values": [
            "leadership=glob(*)", "roles=glob(*)",
            "problem.turbulence=" + ",".join(f"{i / 100:.2f}" for i in range(21))],
    }
    with tempfile.TemporaryDirectory() as cwd:
        startup = min(timed(["run.steps=0"], cwd) for _ in range(3))
        print(f"start-up (one invalid point): {startup:.2f} s")
        for name, args in designs.items():
            # the invalid value comes last in the product, so every valid point is validated first
            elapsed = timed(["run.steps=5,0", *args], cwd)
            points = 500 if "one value" in name else 504
            net = elapsed - startup
            print(f"{name}: {points} points validated in {net:.2f} s ({points / net:.0f} points/s; "
                  f"{elapsed:.2f} s with start-up)")


if __name__ == "__main__":
    main()
