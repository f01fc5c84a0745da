"""stop_charging through the REST API of a real `hass` process (HA 2025.4, only
custom_components/eflux copied into a fresh config) on a site set up over REST as a user would:
two circuits (the grid connection and a garage below it) and four sim chargers of both OCPP
versions. A stop reaches only the charger named; a charger with nothing to stop answers 200
with `stopped` false (it was a 500 with a traceback: HA's REST API maps no service error, not
even ServiceValidationError, to a 4xx); nothing of ours above INFO in the log."""

from __future__ import annotations

from typing import Any

from tests.support.ports import free_port

from .real_hass import HassProcess, SimThread
from .test_real_hass import real_hass  # noqa: F401 - the fixture

VERSIONS = {"CP-A": "1.6", "CP-B": "2.0.1", "CP-C": "1.6", "CP-D": "2.0.1"}
STOP_CALL = {"1.6": "RemoteStopTransaction", "2.0.1": "RequestStopTransaction"}
GARAGE: list[dict[str, Any]] = [
    {"next_step_id": "circuits"},
    {"next_step_id": "add_circuit"},
    {"id": "garage", "name": "Garage", "parent": "grid", "limit_a": 16, "margin_a": 1,
     "on_meter_loss": "safe_limit"},
    *(
        step
        for cp_id in ("CP-C", "CP-D")
        for step in (
            {"next_step_id": "charger"},
            {"charger": cp_id},
            {"circuit": "garage", "wiring": "L1,L2,L3", "max_current_a": 16, "priority": 0,
             "managed": True},
        )
    ),
    {"next_step_id": "save"},
]  # fmt: skip


def status_sensor(cp_id: str) -> str:
    return f"sensor.{cp_id.lower().replace('-', '_')}_status"


def test_stop_charging_over_rest_on_a_real_hass_site(real_hass: HassProcess) -> None:  # noqa: F811
    hass = real_hass
    ocpp_port = free_port()
    entry_id = hass.make_entry(ocpp_port)
    sims = {cp: SimThread(f"ws://127.0.0.1:{ocpp_port}", cp, v) for cp, v in VERSIONS.items()}
    try:
        for sim in sims.values():
            sim.start()

        def all_available() -> bool:
            states = hass.states()
            return all(states.get(status_sensor(cp)) == "available" for cp in VERSIONS)

        hass.eventually(all_available, "every charger available")
        hass.options_flow(entry_id, GARAGE)  # CP-C and CP-D on a garage circuit
        hass.eventually(lambda: hass.entry_state() == "loaded", "the entry loaded again")
        hass.eventually(all_available, "every charger back after the reload")
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
    assert hass.problems_of_ours(expected=("connects without a password",)) == []
