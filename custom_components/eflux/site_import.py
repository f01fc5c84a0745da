"""Import an existing site.yaml into the entry's options (options flow → Circuits and chargers →
Import a site.yaml): its circuits below the root, the root as the grid connection (fuse,
margin, meter-loss policy), and each charger's circuit, wiring, breaker, priority and managed.

What the entry cannot hold is refused with a reason rather than dropped silently: a root limit
that differs per phase, a charger on another charge point's id or connector. The entry keeps
its own port, meter and cloud account (site.yaml's `central`, `meters` and `api` are not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .const import CONF_FUSE_AMPS, CONF_MARGIN_AMPS, CONF_PHASES
from .site_config import (
    CONF_CHARGER_SETTINGS,
    CONF_CHARGERS,
    CONF_CIRCUITS,
    CONF_GRID_METER_LOSS,
    GRID,
)

CHARGER_KEYS = ("wiring", "max_current_a", "priority", "managed")
CIRCUIT_KEYS = ("name", "limit_a", "margin_a", "on_meter_loss")


class SiteImportError(ValueError):
    """The file cannot be taken into the entry; the message says why."""


def read_site_yaml(config_dir: Path, name: str) -> dict[str, Any]:
    """The YAML document at `name` under the config dir (executor); nothing outside it."""
    path = (config_dir / name).resolve()
    if not path.is_relative_to(config_dir.resolve()):
        raise SiteImportError(f"{name}: not inside the configuration directory")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SiteImportError(f"cannot read {path}: {err}") from err
    if not isinstance(data, dict):
        raise SiteImportError(f"{path}: not a site.yaml (a mapping at the top)")
    return data


def imported_options(options: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's options with the document's circuits and chargers."""
    circuits = [dict(c) for c in document.get("circuits") or [] if isinstance(c, dict)]
    roots = [c for c in circuits if not c.get("parent")]
    if len(roots) != 1:
        raise SiteImportError(
            "circuits: exactly one circuit without a parent (the grid connection)"
        )
    root = roots[0]
    rename = {str(root.get("id")): GRID}
    limit = root.get("limit_a")
    if isinstance(limit, list):
        if len(set(limit)) != 1 and not (limit[1:] == [0, 0] or limit[1:] == [0.0, 0.0]):
            raise SiteImportError(f"circuits[{root.get('id')}].limit_a: per phase, not supported")
        phases, fuse = (3, limit[0]) if len(set(limit)) == 1 else (1, limit[0])
    else:
        phases, fuse = 3, limit
    result = {**options, CONF_PHASES: phases, CONF_FUSE_AMPS: fuse}
    result[CONF_MARGIN_AMPS] = root.get("margin_a", 0)
    if root.get("on_meter_loss"):
        result[CONF_GRID_METER_LOSS] = root["on_meter_loss"]
    result[CONF_CIRCUITS] = [
        {
            "id": c["id"],
            "parent": rename.get(str(c["parent"]), c["parent"]),
            **{k: c[k] for k in CIRCUIT_KEYS if k in c},
        }
        for c in circuits
        if c is not root
    ]
    settings: dict[str, dict[str, Any]] = {}
    chargers: list[str] = []
    for index, charger in enumerate(document.get("chargers") or []):
        ident = str(charger.get("id"))
        if str(charger.get("charge_point", ident)) != ident or charger.get("connector", 1) != 1:
            raise SiteImportError(
                f"chargers[{index}] ({ident}): a charger named after another charge point or"
                " connector is not supported in Home Assistant (its id is its charge point's)"
            )
        chargers.append(ident)
        circuit = str(charger.get("circuit"))
        settings[ident] = {
            "circuit": rename.get(circuit, circuit),
            **{k: charger[k] for k in CHARGER_KEYS if k in charger},
        }
    known = list(options.get(CONF_CHARGERS, []))
    result[CONF_CHARGERS] = known + [c for c in chargers if c not in known]
    result[CONF_CHARGER_SETTINGS] = {**(options.get(CONF_CHARGER_SETTINGS) or {}), **settings}
    return result
