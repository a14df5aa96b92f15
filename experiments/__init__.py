"""Entry points: turn a Hydra config into typed parameters, run, and write results."""
