"""Generate the parameter, metric and behaviour-profile tables of docs/ODD.md from the code.

Every row comes from the code: the dotted name from the dataclass fields of
:class:`sim.params.ModelParams` (and :class:`sim.docking.DockingParams`), the
default from the primary config composed by Hydra, the allowed values from the
validator's own error message for an out-of-range probe, the meaning from the
class docstring, and the source from the citations ("Author Year") that docstring
names, else "assumption". Run it after changing a parameter::

    python docs/param_table.py          # rewrite the tables in docs/ODD.md
    python docs/param_table.py --check  # exit 1 if docs/ODD.md is out of date

``tests/test_odd.py`` runs the check.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import re
import sys
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sim import params as P
from sim.docking import DockingParams, build_docking

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
MARKERS = {
    "model": ("<!-- param-table:model:start -->", "<!-- param-table:model:end -->"),
    "docking": ("<!-- param-table:docking:start -->", "<!-- param-table:docking:end -->"),
    "metrics": ("<!-- metric-table:start -->", "<!-- metric-table:end -->"),
    "behaviours": ("<!-- behaviour-table:start -->", "<!-- behaviour-table:end -->"),
}
CROSS_FIELD = {
    "problem.N": "at least the number of organisations",
    "problem.K": "smaller than problem.N",
    "problem.shocks[].step": "at most run.steps",
    "network.degree": "smaller than the number of professionals",
    "workforce.heuristic_k": "at most workforce.heuristic_l",
    "scenario.organisations[].name": "unique",
    "problem.cross_boundary": "realisable by the organisations' decisions at this K and N (checked at load; the error "
                              "names the realisable range)",
    "scenario.organisations[].decision_weight": "the resulting split of decisions must realise problem.cross_boundary",
    "docking.K": "smaller than docking.N",
    "docking.k": "at most docking.l",
    "docking.l": "smaller than docking.ring_size",
    "docking.group_sizes": "each at most the pool size l!/(l-k)! (1320 for l = 12)",
}
TYPE_ONLY = {"must be a number", "must be an integer", "must be a mapping", "must be a list", "must not be empty",
             "must be a finite number", "must be a string"}
FREE_TEXT = {"scenario.name", "scenario.description", "scenario.source", "roles.name",
             "scenario.organisations[].name"}
NOT_MODEL = {  # parameters that are no quantity of a mechanism: no source applies
    **{p: "not applicable (label)" for p in FREE_TEXT},
    "run.seed": "not applicable (run control)",
    "run.replications": "not applicable (run control)",
    "run.collect_agents": "not applicable (run control)",
}
CLASS_CITED = {"problem.type", "problem.N", "problem.K", "network.structure", "network.degree"}
"""Parameters whose source is the one their class docstring names in its first line (the model they define)."""


CITATION = re.compile(
    r"(?:[A-Z][\w-]+(?: [A-Z][\w-]+)*)"                       # first author (may be two words: Le Blanc)
    r"(?:(?:, | & )[A-Z][\w-]+(?: [A-Z][\w-]+)*)*"            # further authors
    r"(?: et al\.)? (?:19|20)\d\d"                            # year
)
NAMED_SOURCES = {  # sources a docstring names without a year, by the name it uses
    "Hong & Page's": "Hong & Page 2004",
    "Watts-Strogatz": "Watts & Strogatz 1998",
}
DOCKING_SOURCES = {  # the study a docking parameter's docstring tags it with
    "nk": "Kauffman 1993; Levinthal 1997",
    "lazer_friedman": "Lazer & Friedman 2007",
    "hong_page": "Hong & Page 2004",
}


def citations(text: str) -> list[str]:
    """Sources a docstring text names: "Author Year" citations and the names of :data:`NAMED_SOURCES`."""
    found = [m.group(0) for m in CITATION.finditer(text)]
    found += [source for name, source in NAMED_SOURCES.items() if name in text]
    return list(dict.fromkeys(found))


def style_sources(style: str) -> list[str]:
    """Sources of a style: its strategy class's docstring and its entry in :mod:`sim.leadership`'s docstring."""
    from sim import leadership

    entry = re.search(rf"^- ``{style}``.*?(?=^- ``|^\S|\Z)", leadership.__doc__ or "", flags=re.M | re.S)
    return citations((leadership.REGISTRY[style].__doc__ or "") + " " + (entry.group(0) if entry else ""))


def source_text(path: str, meaning: str, owner: type | None = None) -> str:
    """Source of one parameter: the citations of its docstring, else "assumption".

    A behaviour's row names the sources of the behaviour and says that the value of the
    style's profile is an assumption (after the style's sources, if any); a docking
    parameter's row names the published model it belongs to.
    """
    if ".behaviours." in path:
        style = path.split(".")[2]
        after = style_sources(style)
        value = "profile value: assumption" + (f" (after {'; '.join(after)})" if after else "")
        return "; ".join([*citations(meaning), value])
    if path in NOT_MODEL:
        return NOT_MODEL[path]
    if path.startswith("mechanisms."):
        return "not applicable (ablation switch)"
    found = citations(meaning)
    if path in CLASS_CITED and owner is not None:
        found += citations((owner.__doc__ or "").strip().splitlines()[0])
    if path.startswith("docking."):
        found += [DOCKING_SOURCES[s] for s in DOCKING_SOURCES if f"`{s}`" in meaning]
    return "; ".join(dict.fromkeys(found)) or "assumption"


def attribute_docs(cls: type) -> dict[str, str]:
    """Field descriptions from the ``Attributes:`` section of a Google-style class docstring."""
    doc = cls.__doc__ or ""
    if "Attributes:" not in doc:
        return {}
    out: dict[str, str] = {}
    current = None
    for line in doc.split("Attributes:", 1)[1].splitlines():
        m = re.match(r"^\s{8}([\w, ]+):\s*(.*)$", line)
        if m:
            names, text = [n.strip() for n in m.group(1).split(",")], m.group(2)
            current = names
            for name in names:
                out[name] = text
        elif current and line.strip():
            for name in current:
                out[name] += " " + line.strip()
    return out


def leaf_paths(cls: type, prefix: str) -> Iterator[tuple[str, type, dataclasses.Field]]:
    """Dotted paths of every leaf parameter of dataclass ``cls``: ``(path, owner class, field)``.

    Lists of dataclasses appear as ``name[]``; the behaviour profiles as ``behaviours.<style>``.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        path = f"{prefix}{f.name}"
        args = typing.get_args(hint)
        if dataclasses.is_dataclass(hint):
            yield from leaf_paths(hint, path + ".")
        elif typing.get_origin(hint) is tuple and args and dataclasses.is_dataclass(args[0]):
            yield from leaf_paths(args[0], path + "[].")
        elif f.name == "behaviours":
            for style in P.STYLES:
                yield from leaf_paths(P.Behaviour, f"{path}.{style}.")
        else:
            yield path, cls, f


def expected_paths() -> list[str]:
    """Every parameter path of the typed configuration (model, then docking)."""
    return [p for p, _, _ in leaf_paths(P.ModelParams, "")] + [p for p, _, _ in leaf_paths(DockingParams, "docking.")]


def _set(config: dict, path: str, value: Any) -> None:
    """Set ``path`` (with ``[]`` meaning the first element) in a nested plain config."""
    parts = path.replace("[]", ".0").split(".")
    node: Any = config
    for key in parts[:-1]:
        key_ = int(key) if key.isdigit() else key
        node = node[key_]
    node[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value


def _get(config: Any, path: str) -> Any:
    for key in path.replace("[]", ".0").split("."):
        config = config[int(key)] if key.isdigit() else config[key]
    return config


def _probe(build: Any, base: dict, path: str, value: Any) -> str | None:
    cfg = copy.deepcopy(base)
    _set(cfg, path, value)
    try:
        build(cfg)
    except P.ConfigError as err:
        return err.allowed
    return None


def allowed_text(build: Any, base: dict, path: str, hint: Any) -> str:
    """What the validator allows for ``path``, read from its error for bad probes."""
    if path in FREE_TEXT:
        text = "any text"
    else:
        texts = []
        for value in (-(10**9), 10**9, "__probe__", {"__probe__": 1}, [0]):
            msg = _probe(build, base, path, value)
            if msg and msg.startswith("unknown key; known keys: "):  # a mapping of named values
                keys = msg.removeprefix("unknown key; known keys: ")
                inner = _probe(build, base, path, {keys.split(", ")[0]: 10**9})
                inner = re.sub(r"^(must )?(be |lie )?", "", inner) if inner else None
                msg = f"a mapping with keys among {keys}" + (f"; each in {inner.removeprefix('in ')}" if inner else "")
            if msg and msg not in texts and msg not in TYPE_ONLY and "can be realised" not in msg \
                    and not re.search(r"\w\.\w+=", msg):  # cross-field messages: see CROSS_FIELD
                texts.append(msg)
        ranges = [t for t in texts if t.startswith("must lie in")]
        if len(ranges) > 1:  # the low and the high probe report the same range
            texts = [ranges[0]] + [t for t in texts if not t.startswith("must lie in")]
        text = "; ".join(re.sub(r"^(must )?(be |lie )?", "", t) for t in texts) or "any value"
        if "needs exactly the keys" in text:
            text += "; each in [0, 1], summing to 1"
    if type(None) in typing.get_args(hint):
        text += "; or null (inherit)"
    if path in CROSS_FIELD:
        text += "; " + CROSS_FIELD[path]
    return text.replace("|", "\\|")


def _fmt(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]" if value else "[]"
    text = str(value)
    return (text[:40] + "…") if len(text) > 40 else text


def model_defaults() -> dict:
    """The model sections of the primary config, composed by Hydra (what `govsim` runs)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from experiments.run import model_config

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose(config_name="config")
    GlobalHydra.instance().clear()
    return model_config(cfg)


def rows(kind: str) -> list[tuple[str, str, str, str, str]]:
    """Table rows ``(parameter, default, allowed, meaning, source)`` of the model or the docking parameters."""
    if kind == "model":
        defaults: Any = P.params_to_dict(P.build_params(model_defaults()))
        base = copy.deepcopy(defaults)
        base["problem"]["shocks"] = [{"step": 1, "share": 0.5}]  # probe list elements through one entry
        leaves = list(leaf_paths(P.ModelParams, ""))
        build = P.build_params
    else:
        base = {"docking": P.params_to_dict(DockingParams())}
        leaves = list(leaf_paths(DockingParams, "docking."))

        def build(cfg: dict) -> Any:
            return build_docking(cfg["docking"])

        defaults = base
    out = []
    for path, owner, f in leaves:
        hint = typing.get_type_hints(owner)[f.name]
        try:
            default = _get(defaults, path)
            if path.startswith("scenario.organisations[]"):
                orgs = defaults["scenario"]["organisations"]
                values = {_fmt(o[f.name]) for o in orgs}
                default = next(iter(values)) if len(values) == 1 else "per organisation"
                default = f"{default} (×{len(orgs)})" if len(values) == 1 else default
            else:
                default = _fmt(default)
        except (KeyError, IndexError):
            default = "— (no shocks by default)" if path.startswith("problem.shocks") else "—"
            if path.startswith("problem.shocks") and f.default is not dataclasses.MISSING:
                default = f"{_fmt(f.default)} if omitted"
        meaning = attribute_docs(owner).get(f.name, "")
        if ".behaviours." in path:
            style = path.split(".")[2]
            meaning = f"{meaning} In the {style} profile."
            if style == "situational":
                meaning += " Not applied: a situational leader acts with the profile of the style it chooses."
        meaning = re.sub(r"``?([^`]+)``?", r"`\1`", re.sub(r":\w+:(`)", r"\1", meaning))  # no Sphinx roles
        out.append((f"`{path}`", default, allowed_text(build, base, path, hint), meaning.replace("|", "\\|"),
                    source_text(path, meaning, owner).replace("|", "\\|")))
    return out


def metric_table() -> str:
    """The per-step metrics of :mod:`sim.metrics`, in column order, with their docstrings."""
    from sim import metrics

    lines = ["| metric | meaning |", "|---|---|"]
    for name in metrics.METRICS:
        doc = " ".join((getattr(metrics, name).__doc__ or "").split("\n\n")[0].split())
        lines.append(f"| `{name}` | {re.sub(r'``?([^`]+)``?', r'`\\1`', doc).replace('|', '\\|')} |")
    return "\n".join(lines)


def behaviour_table() -> str:
    """The default behaviour profile of every style (a row each), as the primary config composes it."""
    profiles = P.params_to_dict(P.build_params(model_defaults()))["leadership"]["behaviours"]
    lines = ["| style | " + " | ".join(P.BEHAVIOUR_FIELDS) + " |", "|---" * (len(P.BEHAVIOUR_FIELDS) + 1) + "|"]
    for style in P.STYLES:
        lines.append(f"| {style} | " + " | ".join(_fmt(profiles[style][f]) for f in P.BEHAVIOUR_FIELDS) + " |")
    return "\n".join(lines)


def table(kind: str) -> str:
    """The Markdown table of ``kind`` (``model``, ``docking``, ``metrics`` or ``behaviours``)."""
    if kind == "metrics":
        return metric_table()
    if kind == "behaviours":
        return behaviour_table()
    lines = ["| parameter | default | allowed | meaning | source |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows(kind)]
    return "\n".join(lines)


def render(text: str) -> str:
    """``text`` (the ODD) with every generated table regenerated between its markers."""
    for kind, (start, end) in MARKERS.items():
        if start not in text or end not in text:
            raise ValueError(f"docs/ODD.md lacks the markers {start} ... {end}")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{table(kind)}\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or ``--check``) the parameter tables of docs/ODD.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether docs/ODD.md is up to date")
    args = parser.parse_args(argv)
    text = ODD.read_text()
    new = render(text)
    if args.check:
        if new != text:
            print("docs/ODD.md parameter tables are out of date: run python docs/param_table.py", file=sys.stderr)
            return 1
        return 0
    ODD.write_text(new)
    print(f"wrote {ODD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
