"""docs/ODD.md stays true to the code: every parameter, metric and sub-model appears in it, and nothing else."""

from __future__ import annotations

import dataclasses
import importlib.util
import pkgutil
import re
import typing
from pathlib import Path

import sim
from sim import params as P
from sim.docking import DockingParams
from sim.metrics import METRICS

ROOT = Path(__file__).resolve().parent.parent
ODD = (ROOT / "docs" / "ODD.md").read_text()


def field_paths(cls: type, prefix: str) -> list[str]:
    """Dotted paths of every leaf field of a parameter dataclass, walked independently of the generator."""
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint, path = hints[f.name], prefix + f.name
        inner = typing.get_args(hint)
        if dataclasses.is_dataclass(hint):
            out += field_paths(hint, path + ".")
        elif inner and dataclasses.is_dataclass(inner[0]):
            out += field_paths(inner[0], path + "[].")
        elif f.name == "climates":
            out += [f"{path}.{style}.{c.name}" for style in P.STYLES for c in dataclasses.fields(P.Climate)]
        else:
            out.append(path)
    return out


def table_names(section: str) -> list[str]:
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    body = ODD.split(start, 1)[1].split(end, 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", body, flags=re.M)


def test_every_typed_parameter_is_in_the_odd_table_and_nothing_else() -> None:
    documented = table_names("param-table:model")
    expected = field_paths(P.ModelParams, "")
    assert sorted(documented) == sorted(expected)
    assert len(documented) == len(set(documented))
    assert len(expected) > 90  # the walk found the whole configuration


def test_every_docking_parameter_is_in_the_odd_table_and_nothing_else() -> None:
    assert sorted(table_names("param-table:docking")) == sorted(field_paths(DockingParams, "docking."))


def test_every_metric_is_in_the_odd_table_and_nothing_else() -> None:
    assert table_names("metric-table") == list(METRICS)


def test_every_submodel_file_is_named_in_the_odd() -> None:
    modules = [m.name for m in pkgutil.iter_modules(sim.__path__) if not m.name.startswith("_")]
    missing = [m for m in modules if f"sim/{m}.py" not in ODD]
    assert not missing
    named = set(re.findall(r"`sim/(\w+)\.py`", ODD))
    assert named <= set(modules)  # and the ODD names no module that does not exist


def test_defaults_allowed_values_and_meanings_are_current() -> None:
    spec = importlib.util.spec_from_file_location("param_table", ROOT / "docs" / "param_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(ODD) == ODD, "run: python docs/param_table.py"
