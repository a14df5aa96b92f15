"""Redraw the gallery figures (docs/img/gallery_*.png) from finished sweeps with govsim-report.

Usage::

    python docs/make_gallery.py outputs/leadership_styles [--network outputs/safety_network]

Runs ``govsim-report`` on the sweep into a temporary folder and copies its figures, scaled to
1600 px wide, to ``docs/img/gallery_<name>.png``. The network figure comes from the second sweep's
report if a job there recorded its final network.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image

from analysis.report import main as report_main

IMG = Path(__file__).resolve().parent / "img"
MAIN_OUTCOMES = ("value_delivered_auc", "window_public_value_gap_closed", "steps_to_half_gap", "production_mean",
                 "window_mean_trust", "burnout_rate_mean")
FIGURES = ("trajectories", "final_outcomes", "differences", "tradeoff", "heatmap")
WIDTH = 1600


def copy(png: Path, name: str) -> None:
    """Scale ``png`` to :data:`WIDTH` pixels wide and save it as ``docs/img/gallery_<name>.png``."""
    image = Image.open(png)
    if image.width > WIDTH:
        image = image.resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    image.save(IMG / f"gallery_{name}.png", optimize=True)
    print(f"make_gallery: docs/img/gallery_{name}.png")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--network", type=Path, help="a sweep whose jobs recorded their final network")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "main"
        # the main study's outcomes (value delivered first) and facet, as its experiment now declares them
        if report_main([str(args.sweep), "--out", str(out), "--outcomes", ",".join(MAIN_OUTCOMES),
                        "--facet", "scenario.goal_orientation"]) != 0:
            return 1
        for name in FIGURES:
            if (out / "figures" / f"{name}.png").exists():
                copy(out / "figures" / f"{name}.png", name)
        if args.network:
            net = Path(tmp) / "network"
            if report_main([str(args.network), "--out", str(net)]) == 0 and (net / "figures" / "network.png").exists():
                copy(net / "figures" / "network.png", "network")
            else:
                print("make_gallery: no job of that sweep recorded its network; gallery_network.png kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
