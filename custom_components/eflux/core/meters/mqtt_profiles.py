"""What each MQTT meter publishes and how it maps onto a reading.

A profile turns the configured base topic into routes: exact topics that carry either one plain
number (DSMR-reader's split topics, P1 Monitor) or a JSON document read through paths (Tasmota,
Shelly, zigbee2mqtt, generic). `combine` then derives the reading's fields from the raw values.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .profile import FIELDS
from .values import Fields

# A JSON document bigger than any real meter payload is refused unread (hostile or broken sender).
MAX_PAYLOAD_BYTES = 64 * 1024

type Raw = Mapping[str, float]
type Combine = Callable[[Raw], dict[str, float]]


class PayloadError(ValueError):
    """A message that cannot be used (too big, not JSON, wrong type); logged and ignored."""


@dataclass(frozen=True, slots=True)
class Route:
    """One subscribed topic: `plain` maps the whole payload to a raw key; else JSON paths."""

    plain: str | None = None
    paths: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class MqttProfile:
    name: str
    default_topic: str
    routes: Callable[[str, Mapping[str, str]], dict[str, Route]]
    combine: Combine


def _direct(raw: Raw) -> dict[str, float]:
    return {k: v for k, v in raw.items() if k in FIELDS}


def _net(raw: Raw, imp: str, exp: str, factor: float = 1.0) -> float | None:
    if imp in raw and exp in raw:
        return (raw[imp] - raw[exp]) * factor
    return None


def _total(raw: Raw, *keys: str, factor: float = 1.0) -> float | None:
    if all(k in raw for k in keys):
        return sum(raw[k] for k in keys) * factor
    return None


def _put(out: dict[str, float], name: str, value: float | None) -> None:
    if value is not None:
        out[name] = value


# -- DSMR-reader: "split topic" data source, one value per topic (kW, kWh, V, A) -------------
_DSMR_KEYS = (
    "electricity_currently_delivered", "electricity_currently_returned",
    "electricity_delivered_1", "electricity_delivered_2",
    "electricity_returned_1", "electricity_returned_2",
    *(f"phase_currently_{d}_l{n}" for d in ("delivered", "returned") for n in (1, 2, 3)),
    *(f"phase_voltage_l{n}" for n in (1, 2, 3)),
    *(f"phase_power_current_l{n}" for n in (1, 2, 3)),
)  # fmt: skip


def _dsmr_routes(topic: str, _paths: Mapping[str, str]) -> dict[str, Route]:
    return {f"{topic}/{key}": Route(plain=key) for key in _DSMR_KEYS}


def _dsmr_combine(raw: Raw) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in (1, 2, 3):
        _put(out, f"power_l{n}", _net(raw, f"phase_currently_delivered_l{n}",
                                     f"phase_currently_returned_l{n}", 1000.0))  # fmt: skip
        _put(out, f"voltage_l{n}", raw.get(f"phase_voltage_l{n}"))
        _put(out, f"current_l{n}", raw.get(f"phase_power_current_l{n}"))
    _put(out, "total_power", _net(raw, "electricity_currently_delivered",
                                  "electricity_currently_returned", 1000.0))  # fmt: skip
    _put(out, "import_energy", _total(raw, "electricity_delivered_1", "electricity_delivered_2"))
    _put(out, "export_energy", _total(raw, "electricity_returned_1", "electricity_returned_2"))
    return out


# -- P1 Monitor: one plain number per topic, <prefix>/smartmeter/* and <prefix>/phase/* -------
# As P1 Monitor's own publisher builds them (p1mon/scripts/P1MQTT.py, apiconst.py and
# p1_port_shared_lib.py, mirrored in intelwolf/p1monitor): every power topic carries the
# telegram's kW, the phase ones too despite their `_w` names (P1MQTT publishes status rows 74-79,
# "Huidige KW verbruik/levering Lx", written unconverted from 21.7.0 ... 62.7.0); V and A as is.
_P1_SMARTMETER = ("consumption_kw", "production_kw", "consumption_kwh_low", "consumption_kwh_high",
                  "production_kwh_low", "production_kwh_high")  # fmt: skip
_P1_PHASE = (
    *(f"{d}_l{n}_w" for d in ("consumption", "production") for n in (1, 2, 3)),
    *(f"l{n}_v" for n in (1, 2, 3)),
    *(f"l{n}_a" for n in (1, 2, 3)),
)


def _p1_routes(topic: str, _paths: Mapping[str, str]) -> dict[str, Route]:
    routes = {f"{topic}/smartmeter/{key}": Route(plain=key) for key in _P1_SMARTMETER}
    routes.update({f"{topic}/phase/{key}": Route(plain=key) for key in _P1_PHASE})
    return routes


def _p1_combine(raw: Raw) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in (1, 2, 3):
        _put(out, f"power_l{n}", _net(raw, f"consumption_l{n}_w", f"production_l{n}_w", 1000.0))
        _put(out, f"voltage_l{n}", raw.get(f"l{n}_v"))
        _put(out, f"current_l{n}", raw.get(f"l{n}_a"))
    _put(out, "total_power", _net(raw, "consumption_kw", "production_kw", 1000.0))
    _put(out, "import_energy", _total(raw, "consumption_kwh_low", "consumption_kwh_high"))
    _put(out, "export_energy", _total(raw, "production_kwh_low", "production_kwh_high"))
    return out


# -- Tasmota SML: tele/<topic>/SENSOR; names come from the user's meter script ----------------
TASMOTA_DEFAULT_PATHS: dict[str, str] = {
    "total_power": "SML.Power_curr",
    "import_energy": "SML.Total_in",
    "export_energy": "SML.Total_out",
    **{
        f"{fam}_l{n}": f"SML.{fam}_l{n}"
        for fam in ("power", "voltage", "current")
        for n in (1, 2, 3)
    },
}


def _tasmota_routes(topic: str, paths: Mapping[str, str]) -> dict[str, Route]:
    return {f"tele/{topic}/SENSOR": Route(paths={**TASMOTA_DEFAULT_PATHS, **paths})}


# -- Shelly Pro 3EM (Gen2): <prefix>/status/em:0 (W, V, A) and status/emdata:0 (Wh) -------------
def _shelly_routes(topic: str, _paths: Mapping[str, str]) -> dict[str, Route]:
    keys = (("current", "current"), ("voltage", "voltage"), ("power", "act_power"))
    em = {
        f"{fam}_l{n}": f"{ph}_{key}"
        for n, ph in ((1, "a"), (2, "b"), (3, "c"))
        for fam, key in keys
    }
    em["total_power"] = "total_act_power"
    return {
        f"{topic}/status/em:0": Route(paths=em),
        f"{topic}/status/emdata:0": Route(
            paths={"import_wh": "total_act", "export_wh": "total_act_ret"}
        ),
    }


def _shelly_combine(raw: Raw) -> dict[str, float]:
    out = _direct(raw)
    _put(out, "import_energy", _total(raw, "import_wh", factor=0.001))
    _put(out, "export_energy", _total(raw, "export_wh", factor=0.001))
    return out


# -- zigbee2mqtt plug: zigbee2mqtt/<friendly name>, one phase (reported on L1) ----------------
def _z2m_routes(topic: str, paths: Mapping[str, str]) -> dict[str, Route]:
    default = {"power_l1": "power", "current_l1": "current", "voltage_l1": "voltage",
               "total_power": "power", "import_energy": "energy"}  # fmt: skip
    return {topic: Route(paths={**default, **paths})}


def _generic_routes(topic: str, paths: Mapping[str, str]) -> dict[str, Route]:
    return {topic: Route(paths=dict(paths))}


PROFILES: dict[str, MqttProfile] = {
    p.name: p
    for p in (
        MqttProfile("dsmr_reader", "dsmr/reading", _dsmr_routes, _dsmr_combine),
        MqttProfile("p1_monitor", "p1monitor", _p1_routes, _p1_combine),
        MqttProfile("tasmota_sml", "tasmota", _tasmota_routes, _direct),
        MqttProfile("shelly_pro_3em", "shellypro3em", _shelly_routes, _shelly_combine),
        MqttProfile("zigbee2mqtt", "zigbee2mqtt/plug", _z2m_routes, _direct),
        MqttProfile("generic_json", "meter/state", _generic_routes, _direct),
    )
}


def default_topic(profile: str) -> str:
    return PROFILES[profile].default_topic


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> tuple[str | int, ...]:
    """`$.a.b[0].c` / `a.b[0].c` -> ('a', 'b', 0, 'c'); ValueError when malformed."""
    text = path.removeprefix("$").removeprefix(".")
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _PATH_PART.match(text, pos)
        if match is None:
            raise ValueError(f"malformed JSON path {path!r} at {text[pos:]!r}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
    if not parts:
        raise ValueError(f"empty JSON path {path!r}")
    return tuple(parts)


def check_paths(paths: Mapping[str, str], fields: Fields) -> None:
    for key, path in paths.items():
        if key not in FIELDS:
            raise fields.error(key, f"unknown field (known: {', '.join(FIELDS)})")
        try:
            parse_path(path)
        except ValueError as err:
            raise fields.error(key, str(err)) from err


def number(value: Any, what: str) -> float:
    """A finite-or-NaN float from a JSON value; booleans and strings are wrong types."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{what}: expected a number, got {type(value).__name__} {value!r:.40}")
    return float(value)


def lookup(document: Any, path: tuple[str | int, ...]) -> Any:
    node = document
    for part in path:
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        in_dict = isinstance(part, str) and isinstance(node, dict) and part in node
        if in_list or in_dict:
            node = node[part]
        else:
            return None
    return node


def decode(route: Route, payload: bytes) -> dict[str, float]:
    """Raw values from one message. Raises PayloadError for a payload that must be ignored."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as err:
        raise PayloadError(f"payload is not UTF-8: {err}") from err
    if route.plain is not None:
        try:
            value = float(text)
        except ValueError as err:
            raise PayloadError(f"{route.plain}: expected a number, got {text[:40]!r}") from err
        if math.isinf(value):
            raise PayloadError(f"{route.plain}: {text[:40]!r} is not finite")
        return {route.plain: value}
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise PayloadError(f"malformed JSON: {err}") from err
    if not isinstance(document, dict):
        raise PayloadError(f"expected a JSON object, got {type(document).__name__}")
    values: dict[str, float] = {}
    problems: list[str] = []
    for key, path in (route.paths or {}).items():
        found = lookup(document, parse_path(path))
        if found is None:
            continue  # optional value (e.g. a one-phase Tasmota script, n_current null)
        try:
            values[key] = number(found, f"{key} at {path}")
        except PayloadError as err:
            problems.append(str(err))
    if problems:
        raise PayloadError("; ".join(problems))
    return values
