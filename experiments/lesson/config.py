"""The demo's settings turned into a model: Hydra composes the config files, the demo sets its sliders.

:func:`demo_config` composes ``configs/config.yaml`` with Hydra's compose API (one option per
config group, and the case's named experiment when it has one, which brings the case's events
such as a crisis shock), then sets the problem's size, interdependence, cross-boundary share and
the seed from the demo's controls. Hydra's global state is process-wide, so composition runs under
one lock: two sessions resetting at once take turns for the few milliseconds it takes.

Every name is checked against the options of its config group before it reaches Hydra, and the
numbers are set in the composed config, never written into an override string.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from sim import ConfigError, GovernanceModel, build_params

CONFIG_DIR = Path(__file__).resolve().parent.parent.parent / "configs"
MODEL_SECTIONS = ("problem", "scenario", "roles", "leadership", "network", "workforce", "trust", "run")
SEED_MAX = 2**63 - 1
_HYDRA_LOCK = threading.Lock()


def config_options(group: str) -> list[str]:
    """Names of the options of a config group (``configs/<group>/*.yaml``), ``default`` first."""
    names = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
    return sorted(names, key=lambda n: n != "default")


def check_option(group: str, name: Any) -> str:
    """``name`` if it is an option of ``group``.

    Raises:
        ConfigError: If it is not; the message lists the options.
    """
    options = config_options(group)
    if not isinstance(name, str) or name not in options:
        raise ConfigError(group, name, "must be one of " + ", ".join(options))
    return name


def compose_config(overrides: list[str]) -> dict[str, Any]:
    """The config Hydra composes from ``configs/config.yaml`` with ``overrides``, as a plain dict.

    Hydra is initialised for the call under a lock (and its previous global state restored), so
    concurrent sessions never see each other's initialisation; when the process has already
    initialised Hydra on the same config directory (a test fixture), that is used as it is.
    """
    with _HYDRA_LOCK:
        if GlobalHydra.instance().is_initialized():
            cfg = compose(config_name="config", overrides=overrides)
        else:
            with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
                cfg = compose(config_name="config", overrides=overrides)
        container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    return container


def parse_org_styles(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """Own styles per organisation from ``"police=facilitative, municipality=shared"``.

    Names as shown in Dutch or English are accepted too (``"politie=faciliterend"``, see
    :func:`demo_config`).

    Pairs are separated by commas, semicolons or new lines; ``:`` works as well as ``=``.
    Empty text gives no own styles.

    Raises:
        ConfigError: If a pair is not of the form ``name=style``.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    out: dict[str, str] = {}
    for item in re.split(r"[,;\n]", str(text)):
        if not item.strip():
            continue
        name, sep, style = item.replace(":", "=").partition("=")
        if not sep or not name.strip() or not style.strip():
            raise ConfigError("scenario.organisations.leadership", short(item.strip()), "must be name=style pairs")
        out[name.strip()] = style.strip()
    return out


def _key(text: str) -> str:
    return " ".join(str(text).replace("_", " ").replace("-", " ").casefold().split())


def _aliases(group: str, names: list[str]) -> dict[str, str]:
    """Every way a teacher may write one of ``names``, mapped to the config name.

    Its config name, spaced, and its Dutch and English display names, in any case.
    """
    from .texts import Texts

    out: dict[str, str] = {}
    for lang in ("en", "nl"):
        texts = Texts(lang)
        for name in names:
            if group == "organisations":
                key = f"organisations.{name}"
                shown = texts(key) if texts.has(key) else name
            else:
                shown = texts.option(group, name)
            out.setdefault(_key(shown), name)
    out.update({_key(name): name for name in names})
    return out


def short(value: Any, width: int = 40) -> Any:
    """A long text cut to ``width`` characters (for messages), other values unchanged."""
    if isinstance(value, str) and len(value) > width:
        return value[: width - 1] + "…"
    return value


def parse_seed(value: Any) -> int:
    """A seed as typed in a text box (``" 42 "``, ``"-5"``) or given as an int.

    Raises:
        ConfigError: If it is not a whole number written with the digits 0-9 (``²`` is not), or
            lies outside the model's range 0 .. 2**63 - 1 (checked before converting, so a
            5,000-digit number is refused, not parsed).
    """
    if isinstance(value, bool):
        raise ConfigError("run.seed", value, "must be an integer")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text, flags=re.ASCII):
            raise ConfigError("run.seed", short(text), "must be an integer")
        if len(text.lstrip("+-").lstrip("0")) > len(str(SEED_MAX)):
            raise ConfigError("run.seed", short(text), f"must lie in [0, {SEED_MAX}]")
        number = int(text)
    if not 0 <= number <= SEED_MAX:
        raise ConfigError("run.seed", short(number), f"must lie in [0, {SEED_MAX}]")
    return number


def _number(field: str, value: Any, integer: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(field, short(value), "must be an integer" if integer else "must be a number")
    if integer and not float(value).is_integer():
        raise ConfigError(field, value, "must be an integer")
    return int(value) if integer else float(value)


def demo_config(
    case: str = "default",
    leadership: str = "directive",
    org_styles: str | Mapping[str, str] | None = None,
    roles: str = "balanced",
    N: int = 16,  # noqa: N803 (the model's name for it)
    K: int = 3,  # noqa: N803
    cross_boundary: float = 0.5,
    network: str = "small_world",
    seed: Any = 42,
) -> dict[str, Any]:
    """The nested config of one demo run, composed by Hydra from the config files.

    Composes ``scenario=<case>``, ``leadership``, ``roles``, ``network`` and, when the case has a
    named experiment (``configs/experiment/<case>.yaml``), that experiment (its events, such as
    turbulence and shocks, come with it; its own problem sizes give way to the demo's); then sets ``N``, ``K``,
    ``cross_boundary``, the seed and any own styles per organisation.

    Args:
        case: Scenario name (a file of ``configs/scenario/``).
        leadership: Style of every organisation that does not have its own.
        org_styles: Own styles per organisation, as ``{name: style}`` or ``"name=style, ..."``.
        roles: Role mix (a file of ``configs/roles/``).
        N: Policy decisions of the shared problem.
        K: Interdependencies of each decision.
        cross_boundary: Share of the dependencies that fall on other organisations' decisions.
        network: Network structure (a file of ``configs/network/``).
        seed: The run's seed (an int, or text of digits).

    Returns:
        A plain mapping for :func:`sim.build_params`.

    Raises:
        ConfigError: If a name is unknown, a number is not a number, or an own style names no
            organisation of the case.
    """
    overrides = [
        f"scenario={check_option('scenario', case)}",
        f"leadership={check_option('leadership', leadership)}",
        f"roles={check_option('roles', roles)}",
        f"network={check_option('network', network)}",
    ]
    n, k, share = (
        _number("problem.N", N, True),
        _number("problem.K", K, True),
        _number("problem.cross_boundary", cross_boundary, False),
    )
    own = parse_org_styles(org_styles)
    number = parse_seed(seed)
    if case in config_options("experiment"):
        overrides.append(f"experiment={case}")
    composed = compose_config(overrides)
    config = {k: composed[k] for k in MODEL_SECTIONS if k in composed}
    config["problem"].update({"N": n, "K": k, "cross_boundary": share})
    orgs = config["scenario"].get("organisations", [])
    names = [o.get("name") for o in orgs]
    org_alias = _aliases("organisations", names)
    style_alias = _aliases("leadership", list(config_options("leadership")))
    for written, style in own.items():  # config names, or the names shown in Dutch or English
        name = org_alias.get(_key(written))
        if name is None:
            raise ConfigError("scenario.organisations", short(written), "must be one of " + ", ".join(names))
        orgs[names.index(name)]["leadership"] = style_alias.get(_key(style), style)
    config["run"]["seed"] = number
    return config


def make_model(**settings: Any) -> GovernanceModel:
    """A governance model of one demo run (keyword arguments as for :func:`demo_config`).

    Two models made with the same settings but another ``leadership`` face the same problem,
    workforce, network and shocks (the model splits its seed into a world and a dynamics stream).

    Raises:
        ConfigError: If a value is not allowed; its ``field`` names the setting.
    """
    params = build_params(demo_config(**settings))
    return GovernanceModel(params, rng=params.run.seed)
