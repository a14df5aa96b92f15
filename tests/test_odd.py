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
        elif f.name == "behaviours":  # a profile per style
            out += [f"{path}.{style}.{b.name}" for style in P.STYLES for b in dataclasses.fields(P.Behaviour)]
        else:
            out.append(path)
    return out


def table_body(section: str) -> str:
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    return ODD.split(start, 1)[1].split(end, 1)[0]


def table_names(section: str) -> list[str]:
    return re.findall(r"^\| `([^`]+)` \|", table_body(section), flags=re.M)


def source_cells(section: str) -> dict[str, str]:
    """The last cell (source) of each parameter row."""
    rows = re.findall(r"^\| `([^`]+)` \|(.*)\|\s*$", table_body(section), flags=re.M)
    return {name: re.split(r"(?<!\\)\|", rest)[-1].strip() for name, rest in rows}


CITED = re.compile(r"([A-Z][\w-]+)[^;()]*?((?:19|20)\d\d)")


def test_every_typed_parameter_is_in_the_odd_table_and_nothing_else() -> None:
    documented = table_names("param-table:model")
    expected = field_paths(P.ModelParams, "")
    assert sorted(documented) == sorted(expected)
    assert len(documented) == len(set(documented))
    assert len(expected) > 150  # the walk found the whole configuration
    assert "leadership.behaviours.laissez_faire.openness" in documented
    assert not [p for p in documented if ".climates." in p]  # the climates of the first version are gone


def test_every_parameter_row_names_its_source_or_says_assumption() -> None:
    references = ODD.split("## References", 1)[1]
    for section in ("param-table:model", "param-table:docking"):
        cells = source_cells(section)
        assert set(cells) == set(table_names(section))
        for name, cell in cells.items():
            cited = CITED.findall(cell)
            assert cited or re.fullmatch(r"(profile value: )?assumption", cell) \
                or re.fullmatch(r"not applicable \((label|run control|ablation switch)\)", cell), (name, cell)
            if name.startswith("leadership.behaviours."):
                assert "profile value: assumption" in cell, name  # style profiles are assumed, and say so
            for author, year in cited:  # every source named is in the reference list
                assert re.search(rf"{author}[^.]*?\({year}\)|{author}[^()]*?{year}", references), (name, author, year)


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
