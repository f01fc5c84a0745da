"""The building of issue 15 (sim/scenarios/building.yaml) set up in a real `hass -c` process as a
HACS user would (only custom_components/eflux copied into a fresh config): the entry made over
the config-flow REST API with the building's 3 x 63 A connection and its SDM630 grid meter
(a Modbus TCP sim, read by the flow before it is saved), its 20 chargers joined by
connecting, both garage circuits and every charger's place (circuit, rotated wiring, breaker)
set through the options flow over REST. The entry's options, read back through HA's diagnostics
API, build the same circuits, chargers and bindings as the runner's parse of the building's
site.yaml; the 20 chargers are devices with entities; each gets a password through the
security options and comes back with it; the meter is read; cars on both OCPP versions
charge on it; and nothing of ours above INFO in the log but the central system's 'connects
without a password' for each charger before it had one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from custom_components.eflux.core.central.credentials import generate_password
from custom_components.eflux.site_config import build_site_config
from sim.modbus_meter import ModbusMeterSim
from sim.scenarios.spec import Scenario, load
from tests.support.ports import LOOPBACK, free_port

from .real_hass import HassProcess, SimThread
from .test_real_hass import real_hass  # noqa: F401 - the fixture
from .test_site_flows import _runner_config

PASSWORD_KEY = {"1.6": "AuthorizationKey", "2.0.1": "SecurityCtrlr.BasicAuthPassword"}
PLUGGED = ("a01", "b01", "b08")  # 1.6 three-phase, 2.0.1 three-phase, 1.6 single-phase


@pytest.fixture
def grid_meter() -> Iterator[int]:
    """The building's SDM630 over Modbus TCP on its own loop (its household's base load); its
    port."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    base = dict(zip(("current_l1", "current_l2", "current_l3"), (28.0, 20.0, 24.0), strict=True))
    voltages = {f"voltage_l{n}": 230.0 for n in (1, 2, 3)}
    meter = ModbusMeterSim("sdm630", {**base, **voltages, "total_power": 230.0 * 72})
    port = free_port()
    asyncio.run_coroutine_threadsafe(meter.start_tcp(LOOPBACK, port), loop).result(30)
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(meter.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def entity(cp_id: str, key: str) -> str:
    return f"sensor.{cp_id}_{key}"


def make_building_entry(hass: HassProcess, ocpp_port: int, meter_port: int) -> str:
    """The config flow over REST: the building's grid connection with its Modbus meter (read
    once before it is saved), no cloud."""
    flow = hass.post("/api/config/config_entries/flow", {"handler": "eflux"})
    url = f"/api/config/config_entries/flow/{flow['flow_id']}"
    flow = hass.post(url, {"port": ocpp_port, "accept_new_chargers": True})
    assert flow["step_id"] == "grid", flow
    flow = hass.post(url, {"phases": "3", "fuse_amps": 63, "safety_margin_amps": 3})
    assert flow["type"] == "menu", flow
    flow = hass.post(url, {"next_step_id": "meter_modbus"})
    assert flow["step_id"] == "meter_modbus", flow
    meter = {"host": LOOPBACK, "modbus_port": meter_port, "unit_id": 1, "profile": "sdm630"}
    flow = hass.post(url, meter)
    assert flow["step_id"] == "cloud", flow
    flow = hass.post(url, {})
    assert flow["type"] == "create_entry", flow
    return str(flow["result"]["entry_id"])


def building_steps(scenario: Scenario) -> list[dict[str, Any]]:
    """The options-flow steps, as the frontend posts them, that set the building up."""
    steps: list[dict[str, Any]] = [{"next_step_id": "circuits"}]
    for circuit in scenario.site["circuits"][1:]:  # the grid connection is the entry's own
        steps += [
            {"next_step_id": "add_circuit"},
            {
                "id": circuit["id"],
                "name": circuit["name"],
                "parent": circuit["parent"],
                "limit_a": circuit["limit_a"],
                "margin_a": circuit["margin_a"],
                "on_meter_loss": "safe_limit",
            },
        ]
    for charger in scenario.chargers:
        steps += [
            {"next_step_id": "charger"},
            {"charger": charger.id},
            {
                "circuit": charger.circuit,
                "wiring": ",".join(charger.wiring),
                "max_current_a": charger.max_current_a,
                "priority": 0,
                "managed": True,
            },
        ]
    return [*steps, {"next_step_id": "save"}]


def password_steps(cp_ids: list[str]) -> list[dict[str, Any]]:
    """The security steps that give each charger a fresh password, sent to it at once."""
    steps: list[dict[str, Any]] = [{"next_step_id": "security"}]
    for cp in cp_ids:
        steps += [
            {"next_step_id": "charger_password"},
            {"charge_point": cp, "password": generate_password(), "send_to_charger": True},
        ]
    return [*steps, {"next_step_id": "save"}]


def handshake_status(url: str) -> int:
    """The HTTP status of an OCPP 1.6 handshake with no password: 101 when let in."""
    try:
        with connect(url, subprotocols=["ocpp1.6"], open_timeout=10):  # type: ignore[list-item]
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def without_password(log: str) -> list[str]:
    """The chargers the central system logged as connecting without a password, in order."""
    return [
        line.split("charger ")[1].split()[0]
        for line in log.splitlines()
        if "connects without a password" in line
    ]


def test_the_building_set_up_over_rest_in_a_real_hass(
    real_hass: HassProcess,  # noqa: F811
    grid_meter: int,
    tmp_path: Path,
) -> None:
    hass = real_hass
    scenario = load("building")
    reference = _runner_config(scenario, tmp_path)
    ocpp_port = free_port()
    entry_id = make_building_entry(hass, ocpp_port, grid_meter)
    url = f"ws://127.0.0.1:{ocpp_port}"
    sims = {  # chargers that support security profile 1 (no password set yet)
        c.id: SimThread(url, c.id, c.ocpp, {PASSWORD_KEY[c.ocpp]: ""}) for c in scenario.chargers
    }
    try:
        for sim in sims.values():
            sim.start()

        def all_available() -> bool:
            states = hass.states()
            return all(states.get(entity(cp, "status")) == "available" for cp in sims)

        hass.eventually(all_available, "all 20 chargers joined and available")
        hass.options_flow(entry_id, building_steps(scenario))
        hass.eventually(lambda: hass.entry_state() == "loaded", "the entry loaded again")
        hass.eventually(all_available, "all 20 chargers back after the reload")

        # Each charger joined without a password: the central system says so once per charger
        # and start (HA shows it as a fixable repair), here the first start and the reload.
        # The security options give each one a password, sent to it; after the next reload
        # they all come back with it, and none is named again.
        joined_without = without_password(hass.full_log())
        assert sorted(joined_without) == sorted([*sims, *sims])
        hass.options_flow(entry_id, password_steps(list(sims)))
        hass.eventually(lambda: hass.entry_state() == "loaded", "the entry loaded again")
        hass.eventually(all_available, "all 20 chargers back with their passwords")

        def all_online() -> bool:
            states = hass.states()
            return all(states.get(f"binary_sensor.{cp}_online") == "on" for cp in sims)

        hass.eventually(all_online, "all 20 chargers online with their passwords")
        assert handshake_status(f"{url}/a01") == 401  # no longer let in without it
        for cp, sim in sims.items():
            assert sim.read(lambda s: s.configuration[PASSWORD_KEY[s.version]]), cp

        # What the entry holds is the building: the same site as its site.yaml.
        answer = hass.get(f"/api/diagnostics/config_entry/{entry_id}")
        held = answer["data"]["entry"]
        options = dict(held["options"])
        assert options.pop("charger_passwords") == "**REDACTED**"  # never shown
        built = build_site_config(held["data"], options, tmp_path, entry_id)
        assert built.site.circuits == reference.site.circuits
        assert built.site.chargers == reference.site.chargers
        assert built.bindings == reference.bindings
        assert len(built.site.chargers) == 20

        # Every charger a device with its entities.
        [entities, devices] = hass.ws(
            {"type": "config/entity_registry/list"}, {"type": "config/device_registry/list"}
        )
        mine = {e["entity_id"] for e in entities if e["platform"] == "eflux"}
        for cp in sims:
            assert {entity(cp, "status"), entity(cp, "power"), f"number.{cp}_maximum_current"} <= (
                mine
            ), cp
        serials = {d["serial_number"] for d in devices if d["serial_number"] in sims}
        assert serials == set(sims)

        # The site runs: cars on both OCPP versions, three-phase and single-phase, are given
        # current by the balancer and their chargers offer it.
        for cp in PLUGGED:
            sims[cp].run(lambda s, cp=cp: s.plug_in(f"CARD-{cp}"))
        for cp in PLUGGED:
            sims[cp].run(
                lambda s: s.wait_for(lambda: s.transaction is not None and s.transaction.id, 30)
            )

        def charging() -> bool:
            states = hass.states()
            return all(
                states.get(entity(cp, "balancer_status")) == "charging"
                and float(states.get(entity(cp, "current_limit")) or 0) >= 6
                for cp in PLUGGED
            )

        hass.eventually(charging, "the plugged-in cars given current")
        site = hass.states()  # the grid meter read: its household load, judged plausible
        assert site["sensor.e_flux_site_meter_status"] == "ok"
        grid = [float(site[f"sensor.e_flux_site_grid_current_l{n}"]) for n in (1, 2, 3)]
        assert grid == [28.0, 20.0, 24.0]
        for cp in PLUGGED:
            assert sims[cp].read(lambda s: s.offered_a()) >= 6, cp
        states = hass.states()
        assert {cp for cp in sims if states.get(entity(cp, "balancer_status")) == "charging"} == (
            set(PLUGGED)
        )
    finally:
        for sim in sims.values():
            sim.stop()
    # Nothing else of ours above INFO; no charger without a password after the first joins.
    assert hass.problems_of_ours(expected=("connects without a password",)) == []
    assert without_password(hass.full_log()) == joined_without
