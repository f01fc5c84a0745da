"""The config entry as the `site.yaml` document core reads (so core validates it, not HA).

One grid circuit with the fuse and margin, the circuits below it set up in the options, one
balanced charger per socket of each known charge point (`sockets`), the meter chosen in the flow
and the Modbus meters of sub-circuits, the charger security of `central:` (passwords,
require_password, TLS files, boot policy). HA sensors and HA's MQTT feed an `external` meter; a
Modbus meter is polled by core itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .const import (
    CONF_ACCEPT_NEW,
    CONF_CLOUD_URL,
    CONF_FUSE_AMPS,
    CONF_HOST,
    CONF_MARGIN_AMPS,
    CONF_METER,
    CONF_METER_TYPE,
    CONF_MODBUS_PORT,
    CONF_PHASES,
    CONF_PORT,
    CONF_PROFILE,
    CONF_UNIT_ID,
    DEFAULT_FUSE_AMPS,
    DEFAULT_MARGIN_AMPS,
    DEFAULT_METER_TIMEOUT,
    DEFAULT_PHASES,
    METER_MODBUS,
    METER_NONE,
)
from .core.central.admission import PENDING
from .core.config import ControllerSettings, SiteConfig, parse_site_config
from .sockets import balanced_sockets, socket_charger_id

CONF_CHARGERS = "chargers"  # options: charge point ids seen so far (new ones are added)
# options: circuits below the grid connection, as site.yaml writes them (id, name, parent,
# limit_a, margin_a, on_meter_loss), set up in the options flow (circuit_flow.py)
CONF_CIRCUITS = "circuits"
# options: per balanced charger id, its circuit, wiring, breaker rating (max_current_a),
# priority and managed, as site.yaml's chargers[] keys
CONF_CHARGER_SETTINGS = "charger_settings"
CONF_GRID_METER_LOSS = "grid_meter_loss"  # options: the grid circuit's on_meter_loss
# options: the time-of-use tariff as site.yaml's `tariff:` ({price, zones}), in HA's currency
CONF_TARIFF = "tariff"
# options: charge point id -> its OCPP basic-auth password (security profile 1)
CONF_PASSWORDS = "charger_passwords"
# options (security_flow.py): site.yaml central's require_password, tls_cert, tls_key (absolute
# paths) and boot_policy (accept_all / accept_listed / pending; absent: from accept_new)
CONF_REQUIRE_PASSWORD = "require_password"  # noqa: S105 - an option name, not a secret
CONF_TLS_CERT, CONF_TLS_KEY = "tls_cert", "tls_key"
CONF_BOOT_POLICY = "boot_policy"
BOOT_PENDING = PENDING  # the boot policy that holds new chargers until approved
# options: circuit id -> its own Modbus meter (the flow's meter dict, as the grid's)
CONF_CIRCUIT_METERS = "circuit_meters"
# options: the grid circuit's fallback_budget_a (its on_meter_loss fixed_budget)
CONF_GRID_FALLBACK = "grid_fallback_budget_a"
CONF_CAPACITY_TARGET_KW = "capacity_target_kw"  # options: the capacity tariff's target
CONF_PHASE_SWITCHING = "phase_switching"  # options: charge point ids that switch 1p/3p
CONF_REMOVED = "removed_chargers"  # options: ids whose device the user removed (not re-adopted)
# options (console_flow.py): the local API and the building console served from Home Assistant
# too, on a port of their own (site.yaml `api:`; core/runner/serve.py); the manager's password
# only as the scrypt hash core/runner/console/hashing.py makes
CONF_SERVE_API = "serve_api"
CONF_API_HOST, CONF_API_PORT, CONF_API_TOKEN = "api_host", "api_port", "api_token"
CONF_CONSOLE_PASSWORD = "console_password_hash"  # noqa: S105 - an option name, not a secret
DEFAULT_API_PORT = 8088
GRID = "grid"
METER_NAME = "grid"
# What a wallbox usually takes; the user caps it lower with the max-current number.
CHARGER_MAX_AMPS = 32.0
# Sensors and HA's MQTT report on change (or re-report); a minute of silence means trouble.
EXTERNAL_TIMEOUT_S = 60.0


def site_document(
    data: Mapping[str, Any], options: Mapping[str, Any], db_name: str, timezone: str | None = None
) -> dict[str, Any]:
    phases = int(options.get(CONF_PHASES, DEFAULT_PHASES))
    fuse = float(options.get(CONF_FUSE_AMPS, DEFAULT_FUSE_AMPS))
    margin = float(options.get(CONF_MARGIN_AMPS, DEFAULT_MARGIN_AMPS))
    meter = dict(options.get(CONF_METER) or {CONF_METER_TYPE: METER_NONE})
    limit: float | list[float] = fuse if phases == 3 else [fuse, 0.0, 0.0]
    switching = set(options.get(CONF_PHASE_SWITCHING, []))
    settings = options.get(CONF_CHARGER_SETTINGS) or {}
    # Each socket of a box is a charger of the grid circuit with its own maximum (a box's own
    # limit over its sockets is not known).
    chargers = [
        {
            "id": socket_charger_id(cp_id, connector),
            "charge_point": cp_id,
            **({} if connector == 1 else {"connector": connector}),
            "circuit": GRID,
            "max_current_a": min(CHARGER_MAX_AMPS, fuse),
            **({} if phases == 3 else {"wiring": ["L1"]}),
            # Boxes that switch between one and three phases (options `phase_switching`).
            **({"can_switch_phases": True} if phases == 3 and cp_id in switching else {}),
            # What the options flow set for this charger (circuit, wiring, breaker, ...).
            **settings.get(socket_charger_id(cp_id, connector), {}),
        }
        for cp_id, connector in balanced_sockets(options, options.get(CONF_CHARGERS, []))
    ]
    grid: dict[str, Any] = {"id": GRID, "limit_a": limit, "margin_a": margin}
    grid["name"] = "Grid connection"
    if options.get(CONF_GRID_METER_LOSS):
        grid["on_meter_loss"] = options[CONF_GRID_METER_LOSS]
    if options.get(CONF_GRID_FALLBACK) is not None:
        grid["fallback_budget_a"] = options[CONF_GRID_FALLBACK]
    document: dict[str, Any] = {
        "central": {
            "port": int(data[CONF_PORT]),
            "accept_new_chargers": bool(options.get(CONF_ACCEPT_NEW, True)),
            "db_path": db_name,
            # Without a cloud account it is a home charger: any card not blocked may charge.
            # Our own remote starts use the controller's id tag, which is always accepted.
            "free_charging": not data.get(CONF_CLOUD_URL),
            "cards": [ControllerSettings().start_id_tag],
            "passwords": dict(options.get(CONF_PASSWORDS) or {}),
            **_security(options),
        },
        "circuits": [grid, *(dict(c) for c in options.get(CONF_CIRCUITS) or [])],
        "chargers": chargers,
        **_api(options, db_name),
    }
    if "boot_policy" in document["central"]:
        del document["central"]["accept_new_chargers"]
    if options.get(CONF_TARIFF):
        document["tariff"] = dict(options[CONF_TARIFF])
    if timezone:
        document["timezone"] = timezone  # the tariff's hours are local time
    if target := options.get(CONF_CAPACITY_TARGET_KW):  # Belgium's capacity tariff
        document["planner"] = {"capacity_tariff": {"circuit": GRID, "target_kw": float(target)}}
    meters = [
        meter_entry(m, circuit_limit(options, ident), circuit_meter_name(ident), ident)
        for ident, m in (options.get(CONF_CIRCUIT_METERS) or {}).items()
    ]
    if meter[CONF_METER_TYPE] == METER_NONE:
        document["site"] = {"default_mode": "static", "static_budget_a": limit}
    else:
        meters.insert(0, meter_entry(meter, fuse))
    if meters:
        document["meters"] = meters
    return document


def _api(options: Mapping[str, Any], db_name: str) -> dict[str, Any]:
    """site.yaml's `api:` and `console:` from the options: off unless asked for (core then
    refuses a non-loopback host without a token, or a console there without a password)."""
    if not options.get(CONF_SERVE_API):
        return {"api": {"enabled": False}}
    api: dict[str, Any] = {
        "enabled": True,
        "host": options.get(CONF_API_HOST) or "127.0.0.1",
        "port": int(options.get(CONF_API_PORT, DEFAULT_API_PORT)),
    }
    if options.get(CONF_API_TOKEN):
        api["token"] = options[CONF_API_TOKEN]
    # The hash lives in the options; the side file is named after the entry's database, so no
    # stray file in the storage directory is read in its place.
    console: dict[str, Any] = {"password_file": f"{Path(db_name).stem}.console-password"}
    if options.get(CONF_CONSOLE_PASSWORD):
        console["password"] = options[CONF_CONSOLE_PASSWORD]
    return {"api": api, "console": console}


def _security(options: Mapping[str, Any]) -> dict[str, Any]:
    """central's security keys from the options; an explicit boot policy replaces
    accept_new_chargers (core refuses the two when they disagree)."""
    central: dict[str, Any] = {}
    if options.get(CONF_REQUIRE_PASSWORD):
        central["require_password"] = True
    if options.get(CONF_TLS_CERT):
        central["tls_cert"] = options[CONF_TLS_CERT]
        central["tls_key"] = options.get(CONF_TLS_KEY)
    if policy := options.get(CONF_BOOT_POLICY):
        central["boot_policy"] = policy
    return central


def circuit_meter_name(circuit: str) -> str:
    return f"meter_{circuit}"


def circuit_limit(options: Mapping[str, Any], ident: str) -> float:
    """A sub-circuit's highest phase limit (its meter's plausibility bound)."""
    for circuit in options.get(CONF_CIRCUITS) or []:
        if circuit.get("id") == ident:
            limit = circuit.get("limit_a", 0)
            return float(max(limit) if isinstance(limit, list) else limit)
    return float(options.get(CONF_FUSE_AMPS, DEFAULT_FUSE_AMPS))


def meter_entry(
    meter: Mapping[str, Any], fuse: float, name: str = METER_NAME, circuit: str = GRID
) -> dict[str, Any]:
    """The `meters:` item of site.yaml for the flow's meter choice (also what is probed)."""
    if meter[CONF_METER_TYPE] == METER_MODBUS:
        return {
            "name": name,
            "circuit": circuit,
            "kind": "modbus_tcp",
            "profile": meter[CONF_PROFILE],
            "host": meter[CONF_HOST],
            "port": int(meter[CONF_MODBUS_PORT]),
            "device_id": int(meter[CONF_UNIT_ID]),
            "timeout": DEFAULT_METER_TIMEOUT,
            "fuse_a": fuse,
        }
    return {
        "name": name,
        "circuit": circuit,
        "kind": "external",
        "timeout": EXTERNAL_TIMEOUT_S,
        "fuse_a": fuse,
    }


def build_site_config(
    data: Mapping[str, Any],
    options: Mapping[str, Any],
    storage_dir: Path,
    entry_id: str,
    timezone: str | None = None,
) -> SiteConfig:
    """Raises core's `ConfigError` naming the key when the options do not make a valid site.
    `timezone`: HA's (IANA name), the tariff's local time."""
    document = site_document(data, options, f"eflux_{entry_id}.sqlite", timezone)
    return parse_site_config(document, base_dir=storage_dir)
