"""Each MQTT profile against a real Mosquitto broker, fed the payload shapes its project
publishes (DSMR-reader split topics, P1 Monitor, Tasmota SML and ENERGY `tele/<t>/SENSOR`, Shelly
Gen2+ `status/em:0` + `status/emdata:0`, Shelly 3EM Gen1 `emeter/<i>/<value>`, zigbee2mqtt plugs
and three-phase meters, generic JSON paths). Where the payloads come from is in docs/meters.md,
"Sources".
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from custom_components.eflux.core.meters import (
    MeterReading,
    Quality,
    build_source,
    parse_meter_config,
)
from custom_components.eflux.core.meters.mqtt_source import MqttMeterSource
from tests.meters.helpers import GUARD_S, Readings, publish
from tests.support.mosquitto import MosquittoBroker

type Start = Callable[..., Any]


@pytest.fixture
async def mqtt_source(mqtt_broker: MosquittoBroker) -> AsyncIterator[Start]:
    """`source, readings = await mqtt_source(profile, topic, **extra)`: started and connected."""
    started: list[MqttMeterSource] = []

    async def start(profile: str, topic: str, **extra: Any) -> tuple[MqttMeterSource, Readings]:
        broker = {"host": mqtt_broker.host, "port": mqtt_broker.port, **extra.pop("broker", {})}
        data = {"name": f"m-{profile}", "kind": "mqtt", "profile": profile, "topic": topic,
                "timeout": 120, "broker": broker, **extra}  # fmt: skip
        source = build_source(parse_meter_config(data, where="test"))
        assert isinstance(source, MqttMeterSource)
        readings = Readings(source)
        await source.start()
        started.append(source)
        await asyncio.wait_for(source.connection.connected.wait(), GUARD_S)
        return source, readings

    yield start
    for source in started:
        await source.stop()
    # The session broker outlives the test: drop what `send` left retained (empty payload).
    if _retained:
        cleared: list[tuple[str, bytes | str]] = [(topic, b"") for topic in sorted(_retained)]
        _retained.clear()
        await asyncio.to_thread(publish, mqtt_broker.host, mqtt_broker.port, cleared, True)


_retained: set[str] = set()


async def send(broker: MosquittoBroker, messages: list[tuple[str, Any]]) -> None:
    """Publish retained: `connected` is set when the SUBSCRIBE is sent, not acknowledged, so on a
    loaded host a message could reach the broker before the subscription; retained, the broker
    still delivers it (the last value per topic, which is all a reading needs)."""
    encoded = [(t, p if isinstance(p, str | bytes) else json.dumps(p)) for t, p in messages]
    _retained.update(t for t, _ in encoded)
    await asyncio.to_thread(publish, broker.host, broker.port, encoded, True)


async def reading_after(
    readings: Readings, broker: MosquittoBroker, messages: list[tuple[str, Any]]
) -> MeterReading:
    seen = len(readings.items)
    await send(broker, messages)
    # split-topic profiles emit once the burst is complete: wait for the last value to land
    return await readings.next(after=seen)


async def test_dsmr_reader_split_topics(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    source, readings = await mqtt_source("dsmr_reader", "dsmr/reading")
    base = "dsmr/reading/"
    values = {
        "electricity_delivered_1": "10380.353", "electricity_returned_1": "7597.135",
        "electricity_delivered_2": "8622.956", "electricity_returned_2": "16555.202",
        "electricity_currently_delivered": "0.000", "electricity_currently_returned": "2.315",
        "phase_currently_delivered_l1": "0.000", "phase_currently_delivered_l2": "0.134",
        "phase_currently_delivered_l3": "0.000", "phase_currently_returned_l1": "1.210",
        "phase_currently_returned_l2": "0.000", "phase_currently_returned_l3": "1.239",
        "phase_voltage_l1": "236.0", "phase_voltage_l2": "233.0", "phase_voltage_l3": "235.0",
        "phase_power_current_l1": "5", "phase_power_current_l2": "1", "phase_power_current_l3": "5",
        "timestamp": "2023-06-29T11:23:35Z",  # not a number, and not subscribed as one: ignored
    }  # fmt: skip
    await send(mqtt_broker, [(base + k, v) for k, v in values.items()])
    reading = await readings.next(lambda r: r.current_a[2] is not None and r.export_kwh is not None)
    assert reading.power_w == pytest.approx((-1210.0, 134.0, -1239.0))
    assert reading.total_power_w == pytest.approx(-2315.0)
    assert reading.voltage_v == (236.0, 233.0, 235.0)
    assert reading.current_a == (5.0, 1.0, 5.0)
    assert reading.import_kwh == pytest.approx(10380.353 + 8622.956)
    assert reading.export_kwh == pytest.approx(7597.135 + 16555.202)
    assert source.ignored_messages == 0


def _complete(reading: MeterReading) -> bool:
    """Every field set: every topic of the burst was handled before this reading."""
    return None not in (*reading.power_w, *reading.voltage_v, *reading.current_a,
                        reading.total_power_w, reading.import_kwh, reading.export_kwh)  # fmt: skip


async def _live(broker: MosquittoBroker, messages: list[tuple[str, bytes | str]]) -> None:
    """Publish not retained (in order, QoS 1): for messages sent once the subscription is proven
    active by an earlier reading, as a live publisher would send them."""
    await asyncio.to_thread(publish, broker.host, broker.port, messages, False)


DSMR_THREE_PHASE = {
    "electricity_delivered_1": "10380.353", "electricity_returned_1": "7597.135",
    "electricity_delivered_2": "8622.956", "electricity_returned_2": "16555.202",
    "electricity_currently_delivered": "0.512", "electricity_currently_returned": "0.000",
    "phase_currently_delivered_l1": "0.210", "phase_currently_delivered_l2": "0.134",
    "phase_currently_delivered_l3": "0.168", "phase_currently_returned_l1": "0.000",
    "phase_currently_returned_l2": "0.000", "phase_currently_returned_l3": "0.000",
    "phase_voltage_l1": "236.0", "phase_voltage_l2": "233.0", "phase_voltage_l3": "235.0",
    "phase_power_current_l1": "1", "phase_power_current_l2": "1", "phase_power_current_l3": "1",
}  # fmt: skip


async def test_dsmr_reader_timestamp_keeps_a_steady_meter_fresh(
    mqtt_source: Start, mqtt_broker: MosquittoBroker
) -> None:
    """DSMR-reader does not resend a topic whose value did not change; only `timestamp` changes
    with every telegram of a steady meter, and it alone must produce a reading."""
    source, readings = await mqtt_source("dsmr_reader", "dsmr/reading")
    await send(mqtt_broker, [(f"dsmr/reading/{k}", v) for k, v in DSMR_THREE_PHASE.items()])
    first = await readings.next(_complete)
    seen = len(readings.items)
    await _live(mqtt_broker, [("dsmr/reading/timestamp", "2026-12-01T05:40:11Z")])
    again = await readings.next(after=seen)
    assert again.total_power_w == first.total_power_w == pytest.approx(512.0)
    assert again.timestamp >= first.timestamp
    assert source.ignored_messages == 0


async def test_dsmr_reader_one_phase_meter(
    mqtt_source: Start, mqtt_broker: MosquittoBroker
) -> None:
    """A one-phase meter has no L2/L3 values: DSMR-reader publishes its None as an empty payload,
    which is "no value", not a broken message."""
    source, readings = await mqtt_source("dsmr_reader", "dsmr/reading")
    one_phase = {k: v for k, v in DSMR_THREE_PHASE.items() if not k.endswith(("_l2", "_l3"))}
    one_phase["electricity_currently_delivered"] = one_phase["phase_currently_delivered_l1"]
    await send(mqtt_broker, [(f"dsmr/reading/{k}", v) for k, v in one_phase.items()])
    await readings.next(lambda r: r.current_a[0] is not None and r.export_kwh is not None)
    empty = [(f"dsmr/reading/{k}", b"") for k in DSMR_THREE_PHASE if k.endswith(("_l2", "_l3"))]
    # ... then a changed value last: its reading proves every empty payload before it was handled
    await _live(mqtt_broker, [*empty, ("dsmr/reading/electricity_currently_delivered", "0.250"),
                              ("dsmr/reading/phase_currently_delivered_l1", "0.250")])  # fmt: skip
    reading = await readings.next(lambda r: r.power_w[0] == pytest.approx(250.0))
    assert reading.power_w[1:] == (None, None)
    assert reading.voltage_v == (236.0, None, None)
    assert reading.current_a == (1.0, None, None)
    assert reading.total_power_w == pytest.approx(250.0)
    assert source.ignored_messages == 0


async def test_p1_monitor(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    _source, readings = await mqtt_source("p1_monitor", "p1monitor")
    # Topic names and units as P1 Monitor's P1MQTT.py publishes them, each value a plain number:
    # power in kW (the phase `*_w` topics too: they carry the telegram's 21.7.0 ... 62.7.0 kW),
    # energy in kWh. L2 exports here, so the sign of the net is checked per phase.
    smartmeter = {"consumption_kw": 1.734, "production_kw": 0.0, "consumption_kwh_low": 5461.394,
                  "consumption_kwh_high": 6014.562, "production_kwh_low": 1413.246,
                  "production_kwh_high": 3386.413}  # fmt: skip
    phase = {"consumption_l1_w": 1.9, "consumption_l2_w": 0.0, "consumption_l3_w": 0.2,
             "production_l1_w": 0.0, "production_l2_w": 0.366, "production_l3_w": 0.0,
             "l1_v": 233.0, "l2_v": 232.0, "l3_v": 234.0,
             "l1_a": 8.0, "l2_a": 2.0, "l3_a": 1.0}  # fmt: skip
    messages = [(f"p1monitor/smartmeter/{k}", str(v)) for k, v in smartmeter.items()]
    messages += [(f"p1monitor/phase/{k}", str(v)) for k, v in phase.items()]
    await send(mqtt_broker, messages)
    reading = await readings.next(lambda r: r.current_a[2] is not None and r.export_kwh is not None)
    assert reading.power_w == pytest.approx((1900.0, -366.0, 200.0))  # kW -> W
    assert reading.total_power_w == pytest.approx(1734.0)  # kW -> W
    assert reading.voltage_v == (233.0, 232.0, 234.0)
    assert reading.current_a == (8.0, 2.0, 1.0)
    assert reading.import_kwh == pytest.approx(5461.394 + 6014.562)
    assert reading.export_kwh == pytest.approx(1413.246 + 3386.413)


async def test_tasmota_sml(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    _source, readings = await mqtt_source("tasmota_sml", "stromzaehler")
    payload = {"Time": "2024-02-28T11:10:57", "SML": {
        "Total_in": 6092.4684, "Total_out": 327.3241, "Power_curr": -347, "Meter_Id": "0a01445a",
        "power_l1": -100, "power_l2": -200, "power_l3": -47,
        "voltage_l1": 230.5, "voltage_l2": 229.3, "voltage_l3": 228.9,
        "current_l1": 0.47, "current_l2": 1.12, "current_l3": 0.94}}  # fmt: skip
    reading = await reading_after(readings, mqtt_broker, [("tele/stromzaehler/SENSOR", payload)])
    assert reading.total_power_w == -347.0
    assert reading.power_w == (-100.0, -200.0, -47.0)
    assert reading.voltage_v == (230.5, 229.3, 228.9)
    assert reading.current_a == (0.47, 1.12, 0.94)
    assert reading.import_kwh == 6092.4684
    assert reading.export_kwh == 327.3241


async def test_tasmota_script_with_own_names(
    mqtt_source: Start, mqtt_broker: MosquittoBroker
) -> None:
    """Tasmota names come from the user's meter script: `paths` maps them."""
    _source, readings = await mqtt_source(
        "tasmota_sml", "haus", paths={"total_power": "Haus.Power", "import_energy": "Haus.Total"}
    )
    payload = {"Time": "2024-02-28T11:10:57", "Haus": {"Total": 6092.4684, "Power": 347}}
    reading = await reading_after(readings, mqtt_broker, [("tele/haus/SENSOR", payload)])
    assert reading.total_power_w == 347.0
    assert reading.import_kwh == 6092.4684
    assert reading.power_w == (None, None, None)


async def test_shelly_pro_3em(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    _source, readings = await mqtt_source("shelly_pro_3em", "shellypro3em-c8f09e8843d0")
    em = {"id": 0, "a_current": 4.029, "a_voltage": 236.1, "a_act_power": 951.2,
          "a_aprt_power": 951.9, "a_pf": 1, "a_freq": 50, "b_current": 4.027, "b_voltage": 236.201,
          "b_act_power": -951.1, "b_aprt_power": 951.8, "b_pf": 1, "b_freq": 50,
          "c_current": 3.03, "c_voltage": 236.402, "c_act_power": 715.4, "c_aprt_power": 716.2,
          "c_pf": 1, "c_freq": 50, "n_current": None, "total_current": 11.086,
          "total_act_power": 715.502, "total_aprt_power": 2619.907,
          "user_calibrated_phase": []}  # fmt: skip
    emdata = {"id": 0, "a_total_act_energy": 2963.08, "a_total_act_ret_energy": 0,
              "b_total_act_energy": 0, "b_total_act_ret_energy": 2962.03,
              "c_total_act_energy": 2245.5, "c_total_act_ret_energy": 0,
              "total_act": 5208.58, "total_act_ret": 2962.03}  # fmt: skip
    base = "shellypro3em-c8f09e8843d0/status/"
    await send(mqtt_broker, [(base + "em:0", em), (base + "emdata:0", emdata)])
    reading = await readings.next(lambda r: r.export_kwh is not None)
    assert reading.current_a == (4.029, 4.027, 3.03)
    assert reading.voltage_v == (236.1, 236.201, 236.402)
    assert reading.power_w == (951.2, -951.1, 715.4)
    assert reading.total_power_w == 715.502
    assert reading.import_kwh == pytest.approx(5.20858)
    assert reading.export_kwh == pytest.approx(2.96203)


async def test_zigbee2mqtt_plug(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    _source, readings = await mqtt_source("zigbee2mqtt", "zigbee2mqtt/washing_machine")
    payload = {"current": 8.95, "energy": 132.56, "linkquality": 120, "power": 2040,
               "power_outage_memory": "restore", "state": "ON", "voltage": 229}  # fmt: skip
    reading = await reading_after(readings, mqtt_broker, [("zigbee2mqtt/washing_machine", payload)])
    assert reading.power_w == (2040.0, None, None)
    assert reading.total_power_w == 2040.0
    assert reading.current_a == (8.95, None, None)
    assert reading.voltage_v == (229.0, None, None)
    assert reading.import_kwh == 132.56


async def test_zigbee2mqtt_three_phase_meter(
    mqtt_source: Start, mqtt_broker: MosquittoBroker
) -> None:
    """zigbee-herdsman-converters' three-phase exposes: `power` is phase A, phases B and C come
    as `*_phase_b/_c`; produced energy is `produced_energy` (kWh)."""
    _source, readings = await mqtt_source("zigbee2mqtt", "zigbee2mqtt/grid_meter")
    payload = {"power": 1210, "power_phase_b": -430, "power_phase_c": 95,
               "current": 5.3, "current_phase_b": 1.9, "current_phase_c": 0.5,
               "voltage": 231.2, "voltage_phase_b": 230.4, "voltage_phase_c": 232.0,
               "energy": 4821.37, "produced_energy": 1290.05, "linkquality": 87}  # fmt: skip
    reading = await reading_after(readings, mqtt_broker, [("zigbee2mqtt/grid_meter", payload)])
    assert reading.power_w == (1210.0, -430.0, 95.0)
    assert reading.total_power_w == pytest.approx(875.0)
    assert reading.current_a == (5.3, 1.9, 0.5)
    assert reading.voltage_v == (231.2, 230.4, 232.0)
    assert reading.import_kwh == 4821.37
    assert reading.export_kwh == 1290.05


async def test_tasmota_energy_plug(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    """A one-channel Tasmota energy monitor: ENERGY values are plain numbers."""
    _source, readings = await mqtt_source("tasmota_energy", "dishwasher")
    payload = {"Time": "2023-02-05T20:31:48", "ENERGY": {
        "TotalStartTime": "2023-02-05T11:04:13", "Total": 1290.3960, "Yesterday": 0.8540,
        "Today": 0.1730, "Period": 2, "Power": 47.11, "ApparentPower": 60, "ReactivePower": 37,
        "Factor": 0.79, "Voltage": 231, "Current": 0.262}}  # fmt: skip
    reading = await reading_after(readings, mqtt_broker, [("tele/dishwasher/SENSOR", payload)])
    assert reading.power_w == (47.11, None, None)
    assert reading.total_power_w == 47.11
    assert reading.voltage_v == (231.0, None, None)
    assert reading.current_a == (0.262, None, None)
    assert reading.import_kwh == 1290.396
    assert reading.export_kwh is None


async def test_tasmota_energy_three_phase(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    """A three-phase Tasmota energy monitor (e.g. a Shelly 3EM on Tasmota): per-phase lists,
    Total summed by Tasmota, ExportActive a list when all three phases measure export."""
    _source, readings = await mqtt_source("tasmota_energy", "grid")
    payload = {"Time": "2026-11-30T17:02:11", "ENERGY": {
        "TotalStartTime": "2025-04-02T09:12:40", "Total": 6120.482, "Yesterday": 14.203,
        "Today": 9.871, "TodaySumImport": 10.2, "TodaySumExport": 0.33,
        "ExportActive": [102.113, 97.402, 88.011], "Power": [1204.1, -350.6, 80.2],
        "ApparentPower": [1250, 380, 95], "ReactivePower": [335, 146, 51],
        "Factor": [0.96, 0.92, 0.84], "Frequency": 50, "Voltage": [231.4, 229.8, 230.6],
        "Current": [5.402, 1.653, 0.412]}}  # fmt: skip
    reading = await reading_after(readings, mqtt_broker, [("tele/grid/SENSOR", payload)])
    assert reading.power_w == (1204.1, -350.6, 80.2)
    assert reading.total_power_w == pytest.approx(933.7)
    assert reading.voltage_v == (231.4, 229.8, 230.6)
    assert reading.current_a == (5.402, 1.653, 0.412)
    assert reading.import_kwh == 6120.482
    assert reading.export_kwh == pytest.approx(102.113 + 97.402 + 88.011)


async def test_tasmota_energy_common_voltage_and_other_sensors(
    mqtt_source: Start, mqtt_broker: MosquittoBroker
) -> None:
    """Voltage is one number when Tasmota treats it as common to all phases; telemetry of another
    sensor on the same topic (no ENERGY) is not an error."""
    source, readings = await mqtt_source("tasmota_energy", "pzem")
    other = {"Time": "2026-11-30T17:02:01", "DS18B20": {"Temperature": 21.4}, "TempUnit": "C"}
    payload = {
        "Time": "2026-11-30T17:02:11",
        "ENERGY": {
            "Total": 312.5,
            "Power": [400, 0, 1800],
            "Voltage": 230,
            "Current": [1.8, 0, 7.9],
        },
    }
    await send(mqtt_broker, [("tele/pzem/SENSOR", other)])
    reading = await reading_after(readings, mqtt_broker, [("tele/pzem/SENSOR", payload)])
    assert reading.voltage_v == (230.0, 230.0, 230.0)
    assert reading.total_power_w == 2200.0
    assert source.ignored_messages == 0


async def test_shelly_gen1_3em(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    """Shelly 3EM (Gen1): one plain number per topic under shellies/<device id>/emeter/<i>/;
    total and total_returned in Wh."""
    base = "shellies/shellyem3-68C63AFB5856"
    source, readings = await mqtt_source("shelly_gen1_3em", base)
    values = {0: {"power": "1520.37", "pf": "0.97", "current": "6.61", "voltage": "231.05",
                  "total": "2411876.2", "total_returned": "0.0"},
              1: {"power": "-612.10", "pf": "-0.99", "current": "2.68", "voltage": "229.84",
                  "total": "1806412.7", "total_returned": "912054.3"},
              2: {"power": "75.22", "pf": "0.55", "current": "0.59", "voltage": "232.40",
                  "total": "990311.0", "total_returned": "1204.9"}}  # fmt: skip
    messages = [(f"{base}/emeter/{i}/{k}", v) for i, row in values.items() for k, v in row.items()]
    messages += [(f"{base}/relay/0", "off"), (f"{base}/emeter/0/energy", "1123")]  # not used
    await send(mqtt_broker, messages)
    reading = await readings.next(_complete)
    assert reading.power_w == (1520.37, -612.10, 75.22)
    assert reading.total_power_w == pytest.approx(983.49)
    assert reading.current_a == (6.61, 2.68, 0.59)
    assert reading.voltage_v == (231.05, 229.84, 232.40)
    assert reading.import_kwh == pytest.approx((2411876.2 + 1806412.7 + 990311.0) / 1000)
    assert reading.export_kwh == pytest.approx((0.0 + 912054.3 + 1204.9) / 1000)
    assert source.ignored_messages == 0


async def test_generic_json_paths(mqtt_source: Start, mqtt_broker: MosquittoBroker) -> None:
    paths = {"current_l1": "$.grid.phases[0].i", "current_l2": "$.grid.phases[1].i",
             "current_l3": "grid.phases[2].i", "total_power": "$.grid.p"}  # fmt: skip
    _source, readings = await mqtt_source("generic_json", "home/grid", paths=paths)
    payload = {"grid": {"phases": [{"i": 1.5}, {"i": 2.5}, {"i": 3.5}], "p": -420}}
    reading = await reading_after(readings, mqtt_broker, [("home/grid", payload)])
    assert reading.current_a == (1.5, 2.5, 3.5)
    assert reading.total_power_w == -420.0
    assert reading.quality is Quality.OK
