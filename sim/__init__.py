"""govsim: an agent-based model of collaborative governance in the public sector.

The package is Hydra-free: build :class:`~sim.params.ModelParams` (directly or
with :func:`~sim.params.build_params` from a plain mapping), then either drive a
:class:`~sim.model.GovernanceModel` step by step or run replications with
:func:`~sim.runner.run_point`.
"""

from sim.model import GovernanceModel
from sim.params import ConfigError, ModelParams, build_params
from sim.runner import run_point, run_replication

__all__ = ["ConfigError", "GovernanceModel", "ModelParams", "build_params", "run_point", "run_replication"]
__version__ = "0.1.0"
