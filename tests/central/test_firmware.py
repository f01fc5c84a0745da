"""Firmware updates over real websockets and HTTP: the sim downloads the user's file from the
central system's one-time URL, reports each step, and boots into the new version."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from custom_components.eflux.core.central import CentralSystem
from custom_components.eflux.core.central.events import CentralEvent, FirmwareStatusChanged
from custom_components.eflux.core.central.firmware import FirmwareFileError
from sim.chargepoint.firmware import version_of

from .conftest import SimFactory
from .support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="module")


def statuses(events: list[CentralEvent], cp_id: str) -> list[str]:
    return [e.status for e in events if isinstance(e, FirmwareStatusChanged) and
            e.charge_point_id == cp_id]  # fmt: skip


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.read()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_update_installs_the_users_file_once(
    central: CentralSystem, make_sim: SimFactory, tmp_path: Path, version: str
) -> None:
    cp_id = f"FW-{version}"
    events: list[CentralEvent] = []
    central.add_listener(events.append)
    sim = await make_sim(cp_id, version)
    image = tmp_path / "wallbox-2.4.1.bin"
    image.write_bytes(b"\x7fFIRMWARE" + bytes(range(256)) * 400)

    update = await central.update_firmware(cp_id, image)
    assert (update.status, update.file_name, update.version_before) == (
        "Requested",
        "wallbox-2.4.1.bin",
        "sim-1.0",
    )
    new_version = version_of(image.read_bytes())
    await eventually(lambda: central.charge_points()[cp_id].firmware == new_version)
    await sim.wait_for(lambda: sim.boot_count == 2)  # rebooted into it (counted at the answer)
    state = central.charge_points()[cp_id]
    assert state.firmware_update is not None
    assert state.firmware_update.status == "Installed"
    assert state.firmware_update.request_id == update.request_id
    assert sim.firmware_downloads == [image.read_bytes()]
    assert statuses(events, cp_id) == [
        "Requested",
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    [request] = sim.calls("UpdateFirmware")
    location = request["location"] if version == "1.6" else request["firmware"]["location"]
    assert location.startswith(f"http://127.0.0.1:{central.port}/firmware/")
    assert location.endswith("/wallbox-2.4.1.bin")
    # one-time: the URL is gone once the charger has it; a guessed one never existed
    assert (await fetch(location))[0] == 404
    assert (await fetch(location.replace("/firmware/", "/firmware/x")))[0] == 404


@pytest.mark.parametrize(
    ("version", "action", "notification"),
    [
        ("1.6", "SignedUpdateFirmware", "SignedFirmwareStatusNotification"),
        ("2.0.1", "UpdateFirmware", "FirmwareStatusNotification"),
    ],
)
async def test_signed_update(
    central: CentralSystem,
    make_sim: SimFactory,
    tmp_path: Path,
    version: str,
    action: str,
    notification: str,
) -> None:
    cp_id = f"FW-SIGNED-{version}"
    sim = await make_sim(cp_id, version)
    image = tmp_path / "signed.bin"
    image.write_bytes(b"signed firmware")
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    update = await central.update_firmware(
        cp_id, image, signature="c2lnbmF0dXJl", signing_certificate=certificate
    )
    assert update.signed
    await eventually(
        lambda: central.charge_points()[cp_id].firmware == version_of(b"signed firmware")
    )
    [request] = sim.calls(action)
    assert request["requestId"] == update.request_id
    assert request["firmware"]["signature"] == "c2lnbmF0dXJl"
    assert request["firmware"]["signingCertificate"] == certificate
    state = central.charge_points()[cp_id]
    assert state.firmware_update is not None
    assert state.firmware_update.status == "Installed"


async def test_a_file_that_cannot_be_offered_is_refused_before_sending(
    central: CentralSystem, make_sim: SimFactory, tmp_path: Path
) -> None:
    sim = await make_sim("FW-BAD")
    with pytest.raises(FirmwareFileError, match="not a file"):
        await central.update_firmware("FW-BAD", tmp_path / "missing.bin")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(FirmwareFileError, match="0 bytes"):
        await central.update_firmware("FW-BAD", empty)
    with pytest.raises(FirmwareFileError, match="not a file"):
        await central.update_firmware("FW-BAD", tmp_path)
    assert sim.calls("UpdateFirmware") == []
    assert central.charge_points()["FW-BAD"].firmware_update is None


async def test_a_url_used_by_someone_else_fails_the_download(
    central: CentralSystem, make_sim: SimFactory, tmp_path: Path
) -> None:
    """Someone fetched the URL first: the charger's download fails and says so."""
    sim = await make_sim("FW-FAIL")
    sim.firmware_gate = asyncio.Event()  # the sim waits before downloading
    image = tmp_path / "a.bin"
    image.write_bytes(b"abc")
    events: list[CentralEvent] = []
    central.add_listener(events.append)
    await central.update_firmware("FW-FAIL", image)
    location = (await sim.wait_for_call("UpdateFirmware"))["location"]
    assert await fetch(location) == (200, b"abc")  # the third party
    sim.firmware_gate.set()
    await eventually(lambda: "DownloadFailed" in statuses(events, "FW-FAIL"))
    assert sim.firmware == "sim-1.0"
    assert sim.firmware_downloads == [None]
    state = central.charge_points()["FW-FAIL"]
    assert state.firmware_update is not None
    assert state.firmware_update.status == "DownloadFailed"
