"""The outcome table: one row per outcome that every report, table and figure reads.

Each outcome is declared once (EMA Workbench's ``ScalarOutcome(kind=...)`` does the same):
its unit, which direction is better, its axis label, the smallest effect of interest
(govsim's default; an experiment may declare its own), the bounds a value can take, the
spread below which a standardised effect is not given, and its **kind**, which decides
the interval a report computes (see :mod:`analysis.stats`):

- ``continuous``: a mean of many small contributions (gap closed, production): paired
  Student-t intervals, unless a t interval would leave the outcome's bounds.
- ``share``: a bounded share (0-1) that piles up near a bound (trust, burnout share):
  BCa bootstrap intervals, which stay inside the range the values take.
- ``count``: a non-negative, lumpy, often zero-inflated count (person-steps lost): BCa
  bootstrap; a 0/1 event per run (any burnout) is a count of runs, with a Wilson interval.
- ``censored``: a time restricted at the horizon (steps to half the gap, steps to
  recover): a restricted mean with a BCa bootstrap interval, bounded by 0 and the horizon.

Adding an outcome is one line of :data:`OUTCOMES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["continuous", "share", "count", "censored"]
KINDS: tuple[str, ...] = ("continuous", "share", "count", "censored")
KIND_NAMES = {"continuous": "continuous", "share": "bounded share", "count": "count", "censored": "censored time"}
INF = float("inf")


@dataclass(frozen=True)
class Outcome:
    """One outcome's declaration.

    Attributes:
        name: Column in ``summary.parquet``.
        label: Axis label with unit.
        unit: Unit in words ("share of the gap", "steps").
        direction: ``"higher"`` or ``"lower"`` is better.
        kind: One of :data:`KINDS`.
        smallest: govsim's default smallest effect of interest, in the outcome's units.
        bounds: ``(low, high)`` a value can take (``inf`` for none).
        sd_floor: No standardised effect (``d_av``) when either condition's sd is below this.
    """

    name: str
    label: str
    unit: str
    direction: str = "higher"
    kind: Kind = "continuous"
    smallest: float | None = None
    bounds: tuple[float, float] = (-INF, INF)
    sd_floor: float = 0.0

    def difference_bounds(self) -> tuple[float, float]:
        """Bounds of a difference of two values of this outcome."""
        lo, hi = self.bounds
        return lo - hi, hi - lo


SHARE = (0.0, 1.0)
OUTCOMES: tuple[Outcome, ...] = (
    # name, label, unit, direction, kind, smallest, bounds, sd_floor
    Outcome("value_delivered_auc", "Value delivered, mean over all steps (public value x share served)",
            "share of optimum", "higher", "share", 0.02, SHARE, 0.002),
    Outcome("window_value_delivered", "Value delivered, last 10 % of steps (public value x share served)",
            "share of optimum", "higher", "share", 0.02, SHARE, 0.002),
    Outcome("final_value_delivered", "Value delivered at the last step", "share of optimum", "higher", "share",
            0.02, SHARE, 0.002),
    Outcome("window_public_value_gap_closed", "Gap closed, mean of last 10 % of steps", "share of the gap",
            "higher", "continuous", 0.05, (-INF, 1.0), 0.005),
    Outcome("final_public_value_gap_closed", "Gap closed at the last step", "share of the gap", "higher",
            "continuous", 0.05, (-INF, 1.0), 0.005),
    Outcome("gap_closed_auc", "Gap closed, mean over all steps", "share of the gap", "higher", "continuous", 0.05,
            (-INF, 1.0), 0.005),
    Outcome("window_public_value", "Public value, last 10 % of steps (share of optimum)", "share of optimum",
            "higher", "share", 0.02, SHARE, 0.002),
    Outcome("final_public_value", "Public value at the last step (share of optimum)", "share of optimum", "higher",
            "share", 0.02, SHARE, 0.002),
    Outcome("public_value_auc", "Public value AUC (mean share of optimum)", "share of optimum", "higher", "share",
            0.02, SHARE, 0.002),
    Outcome("steps_to_half_gap", "Steps to close half the gap (censored at horizon)", "steps", "lower", "censored",
            10, (0.0, INF), 1.0),
    Outcome("production_mean", "Mean production (per professional, 0-1)", "share", "higher", "share", 0.02, SHARE,
            0.002),
    Outcome("window_mean_trust", "Trust, last 10 % of steps (0-1)", "trust (0-1)", "higher", "share", 0.05, SHARE,
            0.005),
    Outcome("final_mean_trust", "Trust at the last step (0-1)", "trust (0-1)", "higher", "share", 0.05, SHARE, 0.005),
    Outcome("burnout_rate_mean", "Mean share burnt out", "share of staff", "lower", "share", 0.01, SHARE, 0.001),
    Outcome("any_burnout", "Share of runs with any burnout", "share of runs", "lower", "count", 0.1, SHARE, 0.05),
    Outcome("person_steps_lost", "Person-steps lost to burnout", "person-steps", "lower", "count", 20, (0.0, INF),
            1.0),
    Outcome("window_voice_equity", "Voice equity, last 10 % of steps", "ratio", "higher", "continuous", 0.1,
            (0.0, INF), 0.01),
    Outcome("final_adoption_equity", "Adoption equity (minority / majority)", "ratio", "higher", "continuous", 0.1,
            (0.0, INF), 0.01),
    Outcome("window_informal_leader_share", "Informal leaders, last 10 % of steps", "share of staff", "higher", "share",
            0.05, SHARE, 0.005),
    Outcome("shock_drop", "Drop at shock vs no-shock twin (gap closed)", "share of the gap", "lower", "continuous",
            0.05, (-INF, INF), 0.005),
    Outcome("shock_drop_share", "Drop at shock as a share of the twin's level", "share of the twin's level",
            "lower", "continuous", 0.1, (-INF, INF), 0.01),
    Outcome("shock_area_lost", "Area lost against the no-shock twin (gap closed × steps)", "gap closed × steps",
            "lower", "continuous", 1.0, (-INF, INF), 0.1),
    Outcome("shock_recovery_steps", "Steps to recover to the twin (restricted mean)", "steps", "lower", "censored", 5,
            (0.0, INF), 1.0),
)
"""Every outcome govsim's reports know, once. An outcome not listed is treated as continuous, unbounded,
without a default smallest effect (its column name is its label)."""

BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}


def outcome(name: str) -> Outcome:
    """The declaration of ``name``, or a continuous, unbounded default for an outcome not in the table."""
    return BY_NAME.get(name) or Outcome(name, name.replace("_", " ").capitalize(), "outcome units")


def lower_is_better(name: str) -> bool:
    """Whether a lower value of ``name`` is better."""
    return outcome(name).direction == "lower"
