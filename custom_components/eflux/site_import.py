"""Import an existing site.yaml into the entry's options (options flow → Circuits and chargers →
Import a site.yaml): its circuits below the root, the root as the grid connection (fuse,
margin, meter-loss policy and fixed budget), each charger's circuit, wiring, breaker, priority,
managed, 1p/3p switching and flexibility price, the Modbus TCP meters of circuits below the
root, and `central`'s security (passwords, require_password, boot_policy, TLS certificate and
key, relative to the file's directory).

What the entry cannot hold is refused with a reason rather than dropped silently: a root limit
that differs per phase, a charger on another charge point's id or connector, a circuit meter
that is not Modbus TCP. The entry keeps its own port, grid meter and cloud account (site.yaml's
root meter, `api` and the rest of `central` are not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .const import (
    CONF_ACCEPT_NEW,
    CONF_FUSE_AMPS,
    CONF_HOST,
    CONF_MARGIN_AMPS,
    CONF_METER_TYPE,
    CONF_MODBUS_PORT,
    CONF_PHASES,
    CONF_PROFILE,
    CONF_UNIT_ID,
    METER_MODBUS,
)
from .site_config import (
    CONF_BOOT_POLICY,
    CONF_CHARGER_SETTINGS,
    CONF_CHARGERS,
    CONF_CIRCUIT_METERS,
    CONF_CIRCUITS,
    CONF_GRID_FALLBACK,
    CONF_GRID_METER_LOSS,
    CONF_PASSWORDS,
    CONF_PHASE_SWITCHING,
    CONF_REQUIRE_PASSWORD,
    CONF_TLS_CERT,
    CONF_TLS_KEY,
    GRID,
)

CHARGER_KEYS = ("wiring", "max_current_a", "priority", "managed", "flexibility")
CIRCUIT_KEYS = (
    "name",
    "limit_a",
    "margin_a",
    "on_meter_loss",
    "fallback_budget_a",
    "meter_includes_chargers",
)


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


def imported_options(
    options: Mapping[str, Any], document: Mapping[str, Any], base_dir: Path | None = None
) -> dict[str, Any]:
    """The entry's options with the document's circuits, chargers and charger security
    (`base_dir`: where the file is, for its relative TLS paths)."""
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
    if root.get("fallback_budget_a") is not None:
        result[CONF_GRID_FALLBACK] = root["fallback_budget_a"]
    result[CONF_CIRCUITS] = [
        {
            "id": c["id"],
            "parent": rename.get(str(c["parent"]), c["parent"]),
            **{k: c[k] for k in CIRCUIT_KEYS if k in c},
        }
        for c in circuits
        if c is not root
    ]
    result[CONF_CIRCUIT_METERS] = _circuit_meters(document, str(root.get("id")))
    result.update(_security(options, document.get("central") or {}, base_dir))
    settings: dict[str, dict[str, Any]] = {}
    switching: list[str] = []
    chargers: list[str] = []
    for index, charger in enumerate(document.get("chargers") or []):
        ident = str(charger.get("id"))
        if str(charger.get("charge_point", ident)) != ident or charger.get("connector", 1) != 1:
            raise SiteImportError(
                f"chargers[{index}] ({ident}): a charger named after another charge point or"
                " connector is not supported in Home Assistant (its id is its charge point's)"
            )
        chargers.append(ident)
        if charger.get("can_switch_phases"):
            switching.append(ident)
        circuit = str(charger.get("circuit"))
        settings[ident] = {
            "circuit": rename.get(circuit, circuit),
            **{k: charger[k] for k in CHARGER_KEYS if k in charger},
        }
    known = list(options.get(CONF_CHARGERS, []))
    result[CONF_CHARGERS] = known + [c for c in chargers if c not in known]
    result[CONF_CHARGER_SETTINGS] = {**(options.get(CONF_CHARGER_SETTINGS) or {}), **settings}
    kept = [cp for cp in options.get(CONF_PHASE_SWITCHING, []) if cp not in chargers]
    result[CONF_PHASE_SWITCHING] = kept + switching
    return result


def _circuit_meters(document: Mapping[str, Any], root: str) -> dict[str, dict[str, Any]]:
    """The Modbus TCP meters of circuits below the root (the root's is the entry's own)."""
    meters: dict[str, dict[str, Any]] = {}
    for index, meter in enumerate(document.get("meters") or []):
        circuit = str(meter.get("circuit"))
        if circuit == root:
            continue
        if meter.get("kind") != "modbus_tcp" or not meter.get("profile"):
            raise SiteImportError(
                f"meters[{index}] ({meter.get('name')}): only a Modbus TCP meter with a profile"
                " can be a circuit's meter in Home Assistant"
            )
        meters[circuit] = {
            CONF_METER_TYPE: METER_MODBUS,
            CONF_HOST: meter.get("host"),
            CONF_MODBUS_PORT: int(meter.get("port", 502)),
            CONF_UNIT_ID: int(meter.get("device_id", 1)),
            CONF_PROFILE: meter["profile"],
        }
    return meters


def _security(
    options: Mapping[str, Any], central: Mapping[str, Any], base_dir: Path | None
) -> dict[str, Any]:
    """central's security keys as options (TLS paths made absolute next to the file; the
    file's passwords added to the entry's)."""
    found: dict[str, Any] = {}
    if central.get("passwords"):
        found[CONF_PASSWORDS] = {**(options.get(CONF_PASSWORDS) or {}), **central["passwords"]}
    if "require_password" in central:
        found[CONF_REQUIRE_PASSWORD] = bool(central["require_password"])
    if central.get("boot_policy"):
        found[CONF_BOOT_POLICY] = central["boot_policy"]
        found[CONF_ACCEPT_NEW] = central["boot_policy"] == "accept_all"
    for key in (CONF_TLS_CERT, CONF_TLS_KEY):
        if central.get(key):
            found[key] = str((base_dir or Path()) / str(central[key]))
    return found
