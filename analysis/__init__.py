"""Analysis of govsim results: loading, statistics, figures, reports, robustness (reads results only).

``from analysis import load_results, mean_ci, effect_sizes`` gives the three functions a
notebook needs first.
"""

from analysis.load import Results, load_results
from analysis.stats import effect_sizes, mean_ci, paired_differences, seed_means

__all__ = ["Results", "effect_sizes", "load_results", "mean_ci", "paired_differences", "seed_means"]
