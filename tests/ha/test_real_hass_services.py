"""stop_charging through the REST API of a real `hass` process (HA 2025.4, only
custom_components/eflux copied into a fresh config) on a site set up over REST as a user would:
two circuits (the grid connection and a garage below it) and four sim chargers of both OCPP
versions. A stop reaches only the charger named; a charger with nothing to stop answers 200
with `stopped` false (it was a 500 with a traceback: HA's REST API maps no service error, not
even ServiceValidationError, to a 4xx); nothing of ours above INFO in the log."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.support.ports import free_port

from .real_hass import HassProcess, SimThread
from .test_real_hass import real_hass  # noqa: F401 - the fixture

VERSIONS = {"CP-A": "1.6", "CP-B": "2.0.1", "CP-C": "1.6", "CP-D": "2.0.1"}
STOP_CALL = {"1.6": "RemoteStopTransaction", "2.0.1": "RequestStopTransaction"}


def _eventually(check: Callable[[], Any], what: str, hass: HassProcess, wait_s: float = 60) -> Any:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    raise AssertionError(f"{what} within {wait_s} s\n{hass.log()}")


def _states(hass: HassProcess) -> dict[str, str]:
    [states] = hass.ws({"type": "get_states"})
    return {s["entity_id"]: s["state"] for s in states}


def _entry(hass: HassProcess, ocpp_port: int) -> str:
    flow = hass.post("/api/config/config_entries/flow", {"handler": "eflux"})
    url = f"/api/config/config_entries/flow/{flow['flow_id']}"
    hass.post(url, {"port": ocpp_port, "accept_new_chargers": True})
    hass.post(url, {"phases": "3", "fuse_amps": 25, "safety_margin_amps": 2})
    hass.post(url, {"next_step_id": "meter_none"})
    flow = hass.post(url, {})
    assert flow["type"] == "create_entry", flow
    return str(flow["result"]["entry_id"])


def _garage(hass: HassProcess, entry_id: str) -> None:
    """Options flow over REST: a garage circuit below the grid with CP-C and CP-D on it."""
    options = hass.post("/api/config/config_entries/options/flow", {"handler": entry_id})
    url = f"/api/config/config_entries/options/flow/{options['flow_id']}"
    steps: list[dict[str, object]] = [
        {"next_step_id": "circuits"},
        {"next_step_id": "add_circuit"},
        {"id": "garage", "name": "Garage", "parent": "grid", "limit_a": 16, "margin_a": 1,
         "on_meter_loss": "safe_limit"},
    ]  # fmt: skip
    for cp_id in ("CP-C", "CP-D"):
        steps += [
            {"next_step_id": "charger"},
            {"charger": cp_id},
            {"circuit": "garage", "wiring": "L1,L2,L3", "max_current_a": 16, "priority": 0,
             "managed": True},
        ]  # fmt: skip
    for body in steps:
        options = hass.post(url, body)
        assert options.get("errors") in (None, {}), options
    assert hass.post(url, {"next_step_id": "save"})["type"] == "create_entry"


def test_stop_charging_over_rest_on_a_real_hass_site(real_hass: HassProcess) -> None:  # noqa: F811
    hass = real_hass
    ocpp_port = free_port()
    entry_id = _entry(hass, ocpp_port)
    sims = {cp: SimThread(f"ws://127.0.0.1:{ocpp_port}", cp, v) for cp, v in VERSIONS.items()}
    try:
        for sim in sims.values():
            sim.start()
        sensors = [f"sensor.{cp.lower().replace('-', '_')}_status" for cp in VERSIONS]

        def all_available() -> bool:
            states = _states(hass)
            return all(states.get(sensor) == "available" for sensor in sensors)

        _eventually(all_available, "every charger available", hass)
        _garage(hass, entry_id)
        _eventually(
            lambda: (
                hass.ws({"type": "config_entries/get", "domain": "eflux"})[0][0]["state"]
                == "loaded"
            ),
            "the entry loaded again",
            hass,
        )
        _eventually(all_available, "every charger back after the reload", hass)
        [devices] = hass.ws({"type": "config/device_registry/list"})
        device = {d["serial_number"]: d["id"] for d in devices if d["serial_number"] in VERSIONS}

        charging = ("CP-A", "CP-B", "CP-D")  # a car on each OCPP version and circuit
        for cp_id in charging:
            sims[cp_id].run(lambda s, cp=cp_id: s.plug_in(f"CARD-{cp}"))
            sims[cp_id].run(
                lambda s: s.wait_for(lambda: s.transaction is not None and s.transaction.id, 20)
            )

        def stop(cp_id: str) -> Any:
            answer = hass.post(
                "/api/services/eflux/stop_charging?return_response",
                {"device_id": device[cp_id]},
            )
            return answer["service_response"]

        for cp_id in charging:
            sim = sims[cp_id]
            transaction = sim.read(lambda s: s.transaction.id)
            assert stop(cp_id) == {"stopped": True, "transaction_id": transaction}
            sim.run(lambda s: s.wait_for_call(STOP_CALL[s.version], wait_s=20))
        assert stop("CP-C") == {"stopped": False, "transaction_id": None}  # never charged
        counts = {
            cp: thread.read(lambda sim: len(sim.calls(STOP_CALL[sim.version])))
            for cp, thread in sims.items()
        }
        assert counts == {"CP-A": 1, "CP-B": 1, "CP-C": 0, "CP-D": 1}
    finally:
        for sim in sims.values():
            sim.stop()
    expected = ("has not been tested by Home Assistant", "connects without a password")
    ours = [
        line
        for line in hass.full_log().splitlines()
        if ("WARNING" in line or "ERROR" in line)
        and ("eflux" in line or "Error handling request" in line)
        and not any(text in line for text in expected)
    ]
    assert ours == []
