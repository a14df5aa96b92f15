"""Numbers quoted in the docs, computed from the seed and settings they name.

A doc quotes a number as ``<!-- num:KEY -->0.80<!-- /num -->``; KEY is a row of :data:`NUMBERS`:
the demo run it comes from (case, style, settings, seed 42 unless given), the step, and the
metric. ``python docs/doc_numbers.py`` rewrites every quoted number from the model;
``python docs/doc_numbers.py --check`` (and tests/test_doc_numbers.py) fails when a doc's number is
not what the model gives, so the docs cannot drift from the model again.
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import cache
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SPAN = re.compile(r"<!-- num:([\w.]+) -->(.*?)<!-- /num -->")


def _run(case: str, style: str, steps: int, **settings) -> tuple:
    from experiments.lesson.config import make_model

    model = make_model(case=case, leadership=style, **settings)
    for _ in range(steps):
        model.step()
    return model


@cache
def series(case: str, style: str, steps: int, settings: tuple = ()) -> object:
    """The metrics of one demo run, a row per step (0..steps)."""
    return _run(case, style, steps, **dict(settings)).datacollector.get_model_vars_dataframe()


def at(case: str, style: str, step: int, metric: str, settings: tuple = (), steps: int | None = None,
       fmt: str = "{:.2f}", scale: float = 1.0) -> str:
    """``metric`` at ``step`` of the demo run (case, style, settings), formatted."""
    ts = series(case, style, steps or step, settings)
    return fmt.format(float(ts[metric].iloc[step]) * scale)


def peak(case: str, style: str, metric: str, steps: int, settings: tuple = (), fmt: str = "{:.0f}",
         scale: float = 100.0) -> str:
    """The largest value of ``metric`` over a demo run, formatted."""
    return fmt.format(float(series(case, style, steps, settings)[metric].max()) * scale)


SAFETY, CRISIS, INCLUSIVE = "safety_network", "crisis_aftershock", "inclusive_municipality"
WIDE = (("cross_boundary", 0.8),)
NUMBERS = {
    # the safety network lesson: directive against facilitative at step 60, then cross-boundary 0.8
    "safety.directive.production": lambda: at(SAFETY, "directive", 60, "production"),
    "safety.facilitative.production": lambda: at(SAFETY, "facilitative", 60, "production"),
    "safety.directive.failure": lambda: at(SAFETY, "directive", 60, "failure_work"),
    "safety.facilitative.failure": lambda: at(SAFETY, "facilitative", 60, "failure_work"),
    "safety.directive.value": lambda: at(SAFETY, "directive", 60, "public_value"),
    "safety.facilitative.value": lambda: at(SAFETY, "facilitative", 60, "public_value"),
    "safety.directive.delivered": lambda: at(SAFETY, "directive", 60, "value_delivered"),
    "safety.facilitative.delivered": lambda: at(SAFETY, "facilitative", 60, "value_delivered"),
    "safety.directive.wide.value": lambda: at(SAFETY, "directive", 60, "public_value", WIDE),
    "safety.facilitative.wide.value": lambda: at(SAFETY, "facilitative", 60, "public_value", WIDE),
    # the crisis lesson: the shock at step 60, twenty steps later, and burnout at its peak
    "crisis.directive.before": lambda: at(CRISIS, "directive", 59, "public_value", steps=100),
    "crisis.directive.after": lambda: at(CRISIS, "directive", 60, "public_value", steps=100),
    "crisis.directive.later": lambda: at(CRISIS, "directive", 80, "public_value", steps=100),
    "crisis.facilitative.before": lambda: at(CRISIS, "facilitative", 59, "public_value", steps=100),
    "crisis.facilitative.after": lambda: at(CRISIS, "facilitative", 60, "public_value", steps=100),
    "crisis.facilitative.later": lambda: at(CRISIS, "facilitative", 80, "public_value", steps=100),
    "crisis.directive.burnout": lambda: peak(CRISIS, "directive", "burnout_rate", 100),
    "crisis.facilitative.burnout": lambda: peak(CRISIS, "facilitative", "burnout_rate", 100),
    # whose voice is heard: voice equity and safety at step 60
    "voice.directive.equity": lambda: at(INCLUSIVE, "directive", 60, "voice_equity"),
    "voice.shared.equity": lambda: at(INCLUSIVE, "shared", 60, "voice_equity"),
    "voice.directive.safety": lambda: at(INCLUSIVE, "directive", 60, "safety"),
    "voice.shared.safety": lambda: at(INCLUSIVE, "shared", 60, "safety"),
}


def quoted(path: Path) -> list[tuple[str, str]]:
    """``(key, text)`` of every number quoted in a doc."""
    return SPAN.findall(path.read_text())


def docs_with_numbers() -> list[Path]:
    """The docs that quote numbers."""
    return sorted(p for p in DOCS.glob("*.md") if SPAN.search(p.read_text()))


def rewrite(path: Path) -> int:
    """Rewrite every quoted number of ``path`` from the model; returns how many changed."""
    text = path.read_text()
    changed = 0

    def fill(m: re.Match) -> str:
        nonlocal changed
        value = NUMBERS[m.group(1)]()
        changed += value != m.group(2)
        return f"<!-- num:{m.group(1)} -->{value}<!-- /num -->"

    path.write_text(SPAN.sub(fill, text))
    return changed


def main(argv: list[str] | None = None) -> int:
    """Command line: rewrite (default) or ``--check`` the quoted numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail when a quoted number is stale")
    args = ap.parse_args(argv)
    stale = []
    for path in docs_with_numbers():
        if args.check:
            stale += [f"{path.name}: {k} quotes {v}, the model gives {NUMBERS[k]()}"
                      for k, v in quoted(path) if NUMBERS[k]() != v]
        else:
            print(f"{path.name}: {rewrite(path)} numbers changed")
    for line in stale:
        print(line, file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.path.insert(0, str(DOCS.parent))
    raise SystemExit(main())
