"""Analysis of govsim results: loading, statistics, figures, reports, sensitivity indices (reads results only)."""
