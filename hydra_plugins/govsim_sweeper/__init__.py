"""govsim's Hydra sweeper plugin (see :mod:`experiments.sweep`)."""
