"""Requests split by what the charger takes per message; non-websocket peers logged quietly."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.central.batching import split
from custom_components.eflux.core.central.configure import V201_VARIABLES
from custom_components.eflux.core.central.framing import call_text

from .conftest import SimFactory
from .support import eventually


@pytest.mark.asyncio(loop_scope="module")
async def test_get_and_set_variables_fit_the_stations_message_limits(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim(
        "TINY-MESSAGES",  # refuses more than 2 variables per GetVariables, 1 per SetVariables
        "2.0.1",
        configuration={
            "DeviceDataCtrlr.ItemsPerMessage[GetVariables]": "2",
            "DeviceDataCtrlr.BytesPerMessage[GetVariables]": "330",
            "DeviceDataCtrlr.ItemsPerMessage[SetVariables]": "1",
        },
    )
    wanted = {f"{c}.{v}" for c, v in V201_VARIABLES}
    await eventually(lambda: wanted <= set(central.charge_points()["TINY-MESSAGES"].configuration))
    await eventually(lambda: len(sim.calls("SetVariables")) >= 2)
    configuration = central.charge_points()["TINY-MESSAGES"].configuration
    assert configuration["DeviceDataCtrlr.ItemsPerMessage[GetVariables]"] == "2"
    assert configuration["LocalAuthListCtrlr.ItemsPerMessage"] == "50"
    first, *gets = sim.calls("GetVariables")
    assert len(first["getVariableData"]) > 2  # the usual one-message try: refused by this one
    assert len(gets) >= len(V201_VARIABLES) // 2
    assert all(len(p["getVariableData"]) <= 2 for p in gets)
    # the sim answers a CALLERROR above its limits: every value arrived, so none was too big
    assert all(len(p["setVariableData"]) == 1 for p in sim.calls("SetVariables"))
    assert sim.configuration["SampledDataCtrlr.TxUpdatedInterval"] == str(
        central.config.meter_sample_interval
    )


@pytest.mark.asyncio(loop_scope="module")
async def test_get_configuration_keys_fit_get_configuration_max_keys(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("ONE-KEY", configuration={"GetConfigurationMaxKeys": "1"})
    wanted = str(central.config.meter_sample_interval)
    await eventually(lambda: len([c for c in sim.calls("GetConfiguration") if c.get("key")]) >= 2)
    keyed = [c["key"] for c in sim.calls("GetConfiguration") if c.get("key")]
    assert all(len(keys) == 1 for keys in keyed)
    assert {k for keys in keyed for k in keys} >= {
        "MeterValueSampleInterval",
        "MeterValuesSampledData",
    }
    await eventually(
        lambda: (
            central.charge_points()["ONE-KEY"].configuration.get("MeterValueSampleInterval")
            == wanted
        )
    )


@pytest.mark.asyncio(loop_scope="module")
async def test_a_usual_station_is_read_in_one_message(
    central: CentralSystem, make_sim: SimFactory
) -> None:
    sim = await make_sim("USUAL-MESSAGES", "2.0.1")
    await eventually(lambda: len(sim.calls("GetVariables")) >= 2)  # the read and the read-back
    first = sim.calls("GetVariables")[0]["getVariableData"]
    assert len(first) == len(V201_VARIABLES) + 4  # with the message limits, one message
    configuration = central.charge_points()["USUAL-MESSAGES"].configuration
    assert configuration["DeviceDataCtrlr.ItemsPerMessage[GetVariables]"] == "16"


def data(names: list[str]) -> dict[str, Any]:
    return {"getVariableData": [{"component": {"name": n}, "variable": {"name": n}} for n in names]}


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=40), max_size=30),
    max_items=st.none() | st.integers(1, 10),
    max_bytes=st.none() | st.integers(50, 2000),
)
def test_split_keeps_order_and_every_batch_within_the_limits(
    names: list[str], max_items: int | None, max_bytes: int | None
) -> None:
    batches = split(names, data, "GetVariables", max_items, max_bytes)
    assert [n for batch in batches for n in batch] == names
    assert all(batches)
    for batch in batches:
        if max_items is not None:
            assert len(batch) <= max_items
        size = len(call_text("x" * 36, "GetVariables", data(batch)).encode())
        if max_bytes is not None and len(batch) > 1:
            assert size <= max_bytes
    # as few as the limits allow: two neighbours would not fit together
    for first, second in itertools.pairwise(batches):
        joined = [*first, second[0]]
        too_many = max_items is not None and len(joined) > max_items
        size = len(call_text("x" * 36, "GetVariables", data(joined)).encode())
        assert too_many or (max_bytes is not None and size > max_bytes)


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("what", [b"", b"\x16\x03\x01\x00\xa5garbage\r\n\r\n"])
async def test_a_peer_that_is_no_websocket_is_one_debug_line(
    central: CentralSystem, make_sim: SimFactory, caplog: pytest.LogCaptureFixture, what: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
    local = writer.get_extra_info("sockname")
    writer.write(what)
    await writer.drain()
    if not what:
        writer.close()  # a port scanner: connect and go
    await reader.read()  # the server answers (400) or just closes
    writer.close()
    sim = await make_sim(f"AFTER-SCAN-{len(what)}")  # the server goes on serving
    await sim.adapter.heartbeat()
    await eventually(
        lambda: any(f"{local[0]}:{local[1]}" in r.getMessage() for r in caplog.records)
    )
    mine = [r for r in caplog.records if f"{local[0]}:{local[1]}" in r.getMessage()]
    assert len(mine) == 1
    assert mine[0].levelno == logging.DEBUG
    assert "no websocket handshake" in mine[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_plain_http_request_gets_the_reason_and_no_error_log(
    central: CentralSystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reader, writer = await asyncio.open_connection("127.0.0.1", central.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # a health check
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"charge point id" in answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
