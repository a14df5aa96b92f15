"""Global sensitivity analysis and robustness designs as a Hydra sweep: samples applied to model parameters.

Methods: ``morris`` and ``sobol`` (SALib samples, for sensitivity indices) and ``lhs``
(a Latin hypercube from ``scipy.stats.qmc``, for robustness maps and scenario
discovery; ``configs/experiment/robustness_lhs.yaml`` crosses every point with all
leadership styles on the same seeds).

A ``sensitivity`` config section (see ``configs/experiment/sensitivity_*.yaml``)
declares the method (``morris`` or ``sobol``), the parameters with their bounds
(dotted model-config names), the sample size, a seed, and how many ``blocks`` the
sample is split into; the sweep runs one Hydra job per block
(``sensitivity.block=range(0, blocks)``). Every job regenerates the same sample
from the seed, so nothing but the config is needed to reproduce it, and runs its
rows. ``govsim-report`` computes the indices (:mod:`analysis.sensitivity`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.params import ConfigError, ModelParams, build_params

METHODS = ("morris", "sobol", "lhs")


def salib_problem(spec: Mapping[str, Any]) -> dict[str, Any]:
    """SALib problem definition from the ``sensitivity`` section."""
    params = spec.get("parameters") or {}
    if not params:
        raise ConfigError("sensitivity.parameters", params, "needs at least one `dotted.name: [low, high]`")
    names, bounds = [], []
    for name, bound in params.items():
        if not isinstance(bound, (list, tuple)) or len(bound) != 2 or not bound[0] < bound[1]:
            raise ConfigError(f"sensitivity.parameters.{name}", bound, "must be [low, high] with low < high")
        names.append(str(name))
        bounds.append([float(bound[0]), float(bound[1])])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def sample(spec: Mapping[str, Any]) -> np.ndarray:
    """The full sample matrix (rows x parameters), regenerated from the section's seed."""
    method = spec.get("method")
    if method not in METHODS:
        raise ConfigError("sensitivity.method", method, "must be one of " + ", ".join(METHODS))
    problem = salib_problem(spec)
    n = int(spec.get("samples", 0))
    if n < 2:
        raise ConfigError("sensitivity.samples", spec.get("samples"), "must be an integer >= 2")
    seed = int(spec.get("seed", 0))
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=problem["num_vars"], seed=np.random.default_rng(seed)).random(n)
        bounds = np.array(problem["bounds"])
        return qmc.scale(unit, bounds[:, 0], bounds[:, 1])
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=int(spec.get("levels", 4)), seed=seed)
    from SALib.sample import sobol

    return sobol.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)


def block_rows(n_rows: int, blocks: int, block: int) -> range:
    """Rows of the sample that job ``block`` of ``blocks`` runs."""
    if not 0 <= block < blocks:
        raise ConfigError("sensitivity.block", block, f"must lie in [0, {blocks - 1}]")
    size = int(np.ceil(n_rows / blocks))
    return range(block * size, min(n_rows, (block + 1) * size))


def _set(config: dict[str, Any], dotted: str, value: Any) -> None:
    node = config
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _is_int(defaults: ModelParams, dotted: str) -> bool:
    node: Any = defaults
    for part in dotted.split("."):
        node = getattr(node, part, None)
    return isinstance(node, int) and not isinstance(node, bool)


def points(model_cfg: Mapping[str, Any], spec: Mapping[str, Any]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """The parameter points of this job's block.

    Args:
        model_cfg: The model sections of the composed config.
        spec: The ``sensitivity`` section (with ``block`` and ``blocks``).

    Returns:
        ``(sample_row, model_config, labels)`` per row; integer parameters are rounded.
    """
    x = sample(spec)
    problem = salib_problem(spec)
    defaults = ModelParams()
    rows = block_rows(len(x), int(spec.get("blocks", 1)), int(spec.get("block", 0)))
    out = []
    for r in rows:
        cfg = copy.deepcopy(dict(model_cfg))
        labels: dict[str, Any] = {"sample_row": r}
        for name, value in zip(problem["names"], x[r], strict=True):
            v: Any = int(round(value)) if _is_int(defaults, name) else float(value)
            _set(cfg, name, v)
            labels[name] = v
        build_params(cfg)  # validate before running
        out.append((r, cfg, labels))
    return out
