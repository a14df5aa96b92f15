"""Every text the demo shows, in Dutch and English, from the catalogues in ``locales/<lang>.yaml``.

The catalogues are nested YAML; a text is found by its dotted key (``controls.case``). A key that a
catalogue lacks shows as ``⟦key⟧`` on the page (and ``tests/test_demo.py`` fails on it), never as
silently English text. Case descriptions and sources in English come from
``configs/scenario/<case>.yaml``; their Dutch texts are in the Dutch catalogue under
``cases.<case>``. Dutch numbers use a decimal comma.

Errors of the model (:class:`sim.ConfigError`) are translated here: the field is shown as the
label of its control, and the English ``allowed`` phrase is matched against :data:`ALLOWED` and
rewritten with the catalogue's pattern of the same name.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sim import ConfigError

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
MISSING = "⟦{}⟧"

ALLOWED: dict[str, str] = {
    "range": r"must lie in [\[(](?P<low>[^,]+), (?P<high>[^\]]+)\]",
    "integer": r"must be an integer",
    "number": r"must be a number",
    "finite": r"must be a finite number",
    "smaller_than": r"must be smaller than problem\.N=(?P<n>\d+)",
    "one_of": r"must be one of (?P<options>.*)",
    "pairs": r"must be name=style pairs",
}
"""The ``allowed`` phrases of ``ConfigError`` the demo translates, by catalogue key ``errors.allowed.<name>``."""

FIELDS: dict[str, str] = {
    "problem.N": "N",
    "problem.K": "K",
    "problem.cross_boundary": "cross_boundary",
    "run.seed": "seed",
    "scenario": "case",
    "leadership": "leadership",
    "roles": "roles",
    "network": "network",
    "scenario.organisations": "org_styles",
}
"""Config fields shown as the label of a control (``controls.<name>``); longer fields by their prefix."""

OPTION_GROUPS = {"scenario": "cases", "leadership": "styles", "roles": "roles", "network": "networks"}


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
    else:
        out[prefix[:-1]] = str(data)
    return out


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of ``lang`` as ``{dotted key: text}``."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; languages: {', '.join(LANGUAGES)}")
    text = resources.files("experiments.lesson").joinpath("locales", f"{lang}.yaml").read_text(encoding="utf-8")
    return _flatten(yaml.safe_load(text))


class Texts:
    """The texts and number formats of one language; ``texts("key", name=value)`` fills a pattern."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        """Load the catalogue of ``lang`` (``nl`` or ``en``)."""
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.entries = catalogue(self.lang)

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key``, with ``{name}`` placeholders filled from ``values``."""
        text = self.entries.get(key)
        if text is None:
            return MISSING.format(key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has ``key``."""
        return key in self.entries

    def option(self, group: str, name: str) -> str:
        """Display name of an option of a config group (a case, style, role mix or network)."""
        key = f"{OPTION_GROUPS.get(group, group)}.{name}"
        return self(key + ".title") if self.has(key + ".title") else self(key + ".name")

    def number(self, value: float, digits: int = 2) -> str:
        """A number with ``digits`` decimals, with a decimal comma in Dutch."""
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.lang == "nl" else text

    def decimal(self, value: float) -> str:
        """A tick label: as few decimals as the value needs (``0,25``, ``1``), a decimal comma in Dutch."""
        text = f"{round(float(value), 6):g}"
        return text.replace(".", ",") if self.lang == "nl" else text

    def percent(self, value: float) -> str:
        """A share as a whole per cent (``12 %`` in Dutch, ``12%`` in English)."""
        return f"{value * 100:.0f} %" if self.lang == "nl" else f"{value * 100:.0f}%"

    def tick_percent(self, value: float) -> str:
        """A per-cent tick label with as few decimals as the tick needs (two ticks never read alike).

        In the unit style of :meth:`percent`: ``0,5 %`` in Dutch, ``0.5%`` in English.
        """
        text = f"{round(float(value) * 100, 4):g}"
        return f"{text.replace('.', ',')} %" if self.lang == "nl" else f"{text}%"

    def value(self, value: Any) -> str:
        """A setting's value as typed or chosen, numbers in the language's format."""
        if isinstance(value, float):
            return self.number(value, 1 if value * 10 == int(value * 10) else 2)
        return str(value)

    def field(self, field: str) -> str:
        """The label of the control that sets a config field (the field itself if none does)."""
        for prefix in sorted(FIELDS, key=len, reverse=True):
            if field == prefix or field.startswith(prefix + ".") or field.startswith(prefix + "["):
                return self(f"controls.{FIELDS[prefix]}")
        return field

    def allowed(self, exc: ConfigError) -> str:
        """What is allowed, in this language."""
        for name, pattern in ALLOWED.items():
            found = re.fullmatch(pattern, exc.allowed)
            if not found:
                continue
            values = found.groupdict()
            if name == "range":
                values = {k: self._bound(v) for k, v in values.items()}
            if name == "smaller_than":
                values["label"] = self("controls.N")
            if name == "one_of":
                group = exc.field if exc.field in OPTION_GROUPS else None
                options = [o.strip() for o in values["options"].split(",")]
                values["options"] = ", ".join(self.option(group, o) if group else o for o in options)
            return self(f"errors.allowed.{name}", **values)
        return self("errors.allowed.other", detail=exc.allowed)

    def _bound(self, text: str) -> str:
        text = text.strip()
        if text in ("inf", "-inf"):
            return "∞" if text == "inf" else "-∞"
        try:
            number = float(text)
        except ValueError:
            return text
        if number.is_integer():
            return str(int(number)) if abs(number) < 1e15 else text
        return self.number(number, len(text.split(".")[-1]) if "." in text else 2)

    def error(self, exc: ConfigError) -> str:
        """A one-line message for a setting that is not allowed: the control, the value, what is allowed."""
        value = exc.value
        if exc.field in OPTION_GROUPS and isinstance(value, str) and self.has(f"{OPTION_GROUPS[exc.field]}.{value}"):
            value = self.option(exc.field, value)
        return self("errors.message", field=self.field(exc.field), value=self.value(value), allowed=self.allowed(exc))
