"""govsim: an agent-based model of collaborative governance in the public sector.

The package is Hydra-free: build :class:`~sim.params.ModelParams` (directly or
with :func:`~sim.params.build_params` from a plain mapping), then either drive a
:class:`~sim.model.GovernanceModel` step by step or run replications with
:func:`~sim.runner.run_point`.

The names below are imported on first use, so ``import sim.params`` (validating a
sweep's configs) does not load Mesa and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.model import GovernanceModel
    from sim.params import ConfigError, ModelParams, build_params
    from sim.runner import run_point, run_replication

__all__ = ["ConfigError", "GovernanceModel", "ModelParams", "build_params", "run_point", "run_replication"]
__version__ = "0.1.0"

_HOMES = {"GovernanceModel": "sim.model", "ConfigError": "sim.params", "ModelParams": "sim.params",
          "build_params": "sim.params", "run_point": "sim.runner", "run_replication": "sim.runner"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
