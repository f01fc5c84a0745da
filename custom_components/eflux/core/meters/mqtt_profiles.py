"""What each MQTT meter publishes and how it maps onto a reading.

A profile turns the configured base topic into routes: exact topics that carry either one plain
number (DSMR-reader's split topics, P1 Monitor, Shelly Gen1), a JSON document read through paths
(Tasmota SML, Shelly Gen2+, zigbee2mqtt, generic) or through a profile's own reader (Tasmota
ENERGY, whose values are a number or a per-phase list), or only prove the publisher is alive
(DSMR-reader's timestamp). `combine` then derives the reading's fields from the raw values.
Each profile's comment names the public sources its topics, keys and units were checked against
(docs/meters.md, "Sources").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .mqtt_payload import Route, number
from .profile import FIELDS

type Raw = Mapping[str, float]
type Combine = Callable[[Raw], dict[str, float]]


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
# Sources: dsmrreader/dsmr-reader dsmr_mqtt/migrations/0014_mqtt_telegram_defaults.py (default
# topics dsmr/reading/<field>), dsmr_datalogger/models/reading.py (units: kW, kWh, V, whole A
# unsigned), dsmr_mqtt/services/callbacks.py + messages.py (Decimal as text, None as an empty
# payload, a topic whose payload did not change is not sent again); Home Assistant's
# dsmr_reader/definitions.py agrees on names and units. The changing `timestamp` topic is the
# heartbeat that keeps a steady meter fresh.
_DSMR_KEYS = (
    "electricity_currently_delivered", "electricity_currently_returned",
    "electricity_delivered_1", "electricity_delivered_2",
    "electricity_returned_1", "electricity_returned_2",
    *(f"phase_currently_{d}_l{n}" for d in ("delivered", "returned") for n in (1, 2, 3)),
    *(f"phase_voltage_l{n}" for n in (1, 2, 3)),
    *(f"phase_power_current_l{n}" for n in (1, 2, 3)),
)  # fmt: skip


def _dsmr_routes(topic: str, _paths: Mapping[str, str]) -> dict[str, Route]:
    routes = {f"{topic}/{key}": Route(plain=key) for key in _DSMR_KEYS}
    routes[f"{topic}/timestamp"] = Route(heartbeat=True)
    return routes


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
# Sources: evcc's docs page "Tasmota SML IR-reader" (the script must name the group `SML` and
# produce Total_in/Total_out kWh, Power_curr W signed, power/voltage/current_l1..3) and evcc's
# meter/tasmota/types_test.go (real SENSOR payloads with those keys, Power_curr -894 exporting);
# Tasmota's xsns_53_sml.ino (`<jsonPrefix>` object per meter; its built-in descriptors use
# Total_in/Total_out/Power_curr too, but Power_p1../Curr_p1../Volt_p1.. per phase: map via paths).
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


# -- Tasmota energy monitor (plugs, PZEM, Shelly on Tasmota): tele/<topic>/SENSOR "ENERGY" ------
# Source: Tasmota xdrv_03_energy.ino EnergyShow/EnergyFmt: Power (W), Voltage (V), Current (A) are
# one number for one phase, else a list per phase (Voltage one number when common); Total (kWh) is
# the sum unless SetOption129 lists phases; ExportActive (kWh) only on devices that measure export,
# a list when all three phases have it. evcc's meter/tasmota/types_test.go has both shapes.
def _per_phase(out: dict[str, float], family: str, value: Any, phases: int) -> None:
    values = value if isinstance(value, list) else [value] * phases
    for n, item in enumerate(values[:3], start=1):
        if item is not None:
            out[f"{family}_l{n}"] = number(item, f"ENERGY {family} L{n}")


def _summed(value: Any, what: str) -> float:
    items = value if isinstance(value, list) else [value]
    return sum(number(item, what) for item in items if item is not None)


def _tasmota_energy(document: Mapping[str, Any]) -> dict[str, float]:
    energy = document.get("ENERGY")
    if not isinstance(energy, dict):
        return {}  # another sensor's telemetry on the same topic
    out: dict[str, float] = {}
    power = energy.get("Power")
    phases = len(power) if isinstance(power, list) else 1
    if power is not None:
        _per_phase(out, "power", power, 1)
        out["total_power"] = _summed(power, "ENERGY Power")
    for family, key in (("voltage", "Voltage"), ("current", "Current")):
        if energy.get(key) is not None:
            _per_phase(out, family, energy[key], phases if family == "voltage" else 1)
    for field, key in (("import_energy", "Total"), ("export_energy", "ExportActive")):
        if energy.get(key) is not None:
            out[field] = _summed(energy[key], f"ENERGY {key}")
    return out


def _tasmota_energy_routes(topic: str, _paths: Mapping[str, str]) -> dict[str, Route]:
    return {f"tele/{topic}/SENSOR": Route(reader=_tasmota_energy)}


# -- Shelly Gen2+ (Pro 3EM, 3EM Gen3; triphase profile): <prefix>/status/em:0 and emdata:0 ------
# Sources: Shelly's API docs (gen2 MQTT: with status_ntf the whole component status is published
# on <topic_prefix>/status/<component:id>; EM.GetStatus a/b/c_current A, _voltage V, _act_power W
# signed, total_act_power W; EMData total_act / total_act_ret in Wh; Pro 3EM and 3EM Gen3 both
# have em:0 + emdata:0 in the default triphase profile, em1:N only in the monophase profile);
# evcc PR #7335 (EMData energies are Wh). A reading is emitted per published status.
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


# -- Shelly 3EM Gen1: shellies/<device id>/emeter/<0..2>/<value>, one plain number per topic ----
# Sources: real 3EM output and adapters subscribing to it (ioBroker.shelly shellyem3 datapoints:
# emeter/<i>/power W, voltage V, current A, pf, total and total_returned in Wh) and Go clients of
# the Gen1 /status emeters (same fields, "Total consumed energy, Wh"). Published every
# mqtt_update_period (30 s unless changed in the device settings).
_GEN1_KEYS = ("power", "voltage", "current", "total", "total_returned")


def _shelly_gen1_routes(topic: str, _paths: Mapping[str, str]) -> dict[str, Route]:
    return {
        f"{topic}/emeter/{i}/{key}": Route(plain=f"{key}_{i + 1}")
        for i in range(3)
        for key in _GEN1_KEYS
    }


def _shelly_gen1_combine(raw: Raw) -> dict[str, float]:
    out: dict[str, float] = {}
    for n in (1, 2, 3):
        _put(out, f"power_l{n}", raw.get(f"power_{n}"))
        _put(out, f"voltage_l{n}", raw.get(f"voltage_{n}"))
        _put(out, f"current_l{n}", raw.get(f"current_{n}"))
    _put(out, "import_energy", _total(raw, "total_1", "total_2", "total_3", factor=0.001))
    _put(out, "export_energy", _total(raw, *(f"total_returned_{n}" for n in (1, 2, 3)),
                                      factor=0.001))  # fmt: skip
    return out


# -- zigbee2mqtt: zigbee2mqtt/<friendly name>, the device's state object --------------------------
# Source: Koenkk/zigbee-herdsman-converters lib/exposes.ts presets (power W, current A, voltage V,
# energy and produced_energy kWh, power/current/voltage_phase_b/_c) and its electricity-meter
# lookup (ZCL activePower -> power, activePowerPhB -> power_phase_b): `power` is phase A, so the
# total is the sum of the phases the device reports.
Z2M_DEFAULT_PATHS: dict[str, str] = {
    "power_l1": "power", "current_l1": "current", "voltage_l1": "voltage",
    "import_energy": "energy", "export_energy": "produced_energy",
    **{f"{fam}_l{n}": f"{fam}_phase_{ph}" for fam in ("power", "current", "voltage")
       for n, ph in ((2, "b"), (3, "c"))},
}  # fmt: skip


def _z2m_routes(topic: str, paths: Mapping[str, str]) -> dict[str, Route]:
    return {topic: Route(paths={**Z2M_DEFAULT_PATHS, **paths})}


def _z2m_combine(raw: Raw) -> dict[str, float]:
    out = _direct(raw)
    if "total_power" not in out and "power_l1" in out:
        # a plug has one phase: its power is the total; a three-phase meter adds what it reports
        out["total_power"] = sum(out.get(f"power_l{n}", 0.0) for n in (1, 2, 3))
    return out


def _generic_routes(topic: str, paths: Mapping[str, str]) -> dict[str, Route]:
    return {topic: Route(paths=dict(paths))}


PROFILES: dict[str, MqttProfile] = {
    p.name: p
    for p in (
        MqttProfile("dsmr_reader", "dsmr/reading", _dsmr_routes, _dsmr_combine),
        MqttProfile("p1_monitor", "p1monitor", _p1_routes, _p1_combine),
        MqttProfile("tasmota_sml", "tasmota", _tasmota_routes, _direct),
        MqttProfile("tasmota_energy", "tasmota", _tasmota_energy_routes, _direct),
        MqttProfile("shelly_pro_3em", "shellypro3em", _shelly_routes, _shelly_combine),
        MqttProfile(
            "shelly_gen1_3em", "shellies/shellyem3", _shelly_gen1_routes, _shelly_gen1_combine
        ),
        MqttProfile("zigbee2mqtt", "zigbee2mqtt/plug", _z2m_routes, _z2m_combine),
        MqttProfile("generic_json", "meter/state", _generic_routes, _direct),
    )
}


def default_topic(profile: str) -> str:
    return PROFILES[profile].default_topic
