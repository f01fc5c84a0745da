"""The websocket endpoint: subprotocols, ids in the path, unknown chargers, auth, TLS, replace."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from custom_components.eflux.core.central import (
    ChargePointOffline,
    ChargerConnected,
    ChargerDisconnected,
)
from custom_components.eflux.core.central.server import InvalidPath, charge_point_id
from sim.chargepoint import SimChargePoint

from .support import RawCharger, boot_v16, central_config, running_central


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/CP1", "CP1"), ("/ocpp/CP-1.a", "CP-1.a"), ("/CP%3A7/", "CP:7"), ("/CP1?x=1", "CP1")],
)
def test_charge_point_id_from_the_path(path: str, expected: str) -> None:
    assert charge_point_id(path) == expected


@pytest.mark.parametrize(
    "path", ["/../etc", "/a/../CP1", "/%2E%2E", "/CP%201", "/" + "x" * 500, "/", "/a%2Fb", "/.."]
)
def test_bad_ids_are_refused(path: str) -> None:
    with pytest.raises(InvalidPath):
        charge_point_id(path)


async def _status_and_body(port: int, path: str, **kwargs: object) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{port}{path}", subprotocols=["ocpp1.6"], **kwargs):  # type: ignore[list-item, arg-type]
            pass
    response = refused.value.response
    return response.status_code, response.body.decode()


async def test_handshake_refusals_say_why(tmp_path: Path) -> None:
    config = central_config(
        tmp_path, accept_new_chargers=False, known_charge_points=frozenset({"KNOWN"})
    )
    async with running_central(config) as central:
        port = central.port
        assert await _status_and_body(port, "/../KNOWN") == (
            400,
            "path must not contain '.' or '..' segments\n",
        )
        status, body = await _status_and_body(port, "/CP%201")
        assert status == 400
        assert "may only hold" in body
        status, body = await _status_and_body(port, "/" + "A" * 500)
        assert status == 400
        assert "500 characters" in body
        status, body = await _status_and_body(port, "/STRANGER")
        assert status == 403
        assert "accept new chargers" in body
        async with RawCharger.connect(port, "KNOWN") as raw:  # a known id is welcome
            assert (await raw.call_ok("Heartbeat", {}))["currentTime"]


async def test_a_connection_offering_no_ocpp_subprotocol_is_closed_with_the_reason(
    tmp_path: Path,
) -> None:
    async with running_central(central_config(tmp_path)) as central:
        for offered in (["ocpp2.1", "wamp"], None):
            async with connect(
                f"ws://127.0.0.1:{central.port}/CP1",
                subprotocols=offered,  # type: ignore[arg-type]
            ) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1002
            assert "use ocpp1.6 or ocpp2.0.1" in closed.value.rcvd.reason
        assert "CP1" not in central.charge_points()


async def test_both_versions_are_negotiated_and_the_newest_wins(tmp_path: Path) -> None:
    async with running_central(central_config(tmp_path)) as central:
        url = f"ws://127.0.0.1:{central.port}/CP1"
        async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "ocpp1.6"
        async with connect(url, subprotocols=["ocpp1.6", "ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "ocpp2.0.1"


async def test_basic_auth_per_charge_point(tmp_path: Path) -> None:
    config = central_config(tmp_path, passwords={"SECURE": "s3cret-Key-16chars"})
    async with running_central(config) as central:
        port = central.port
        status, body = await _status_and_body(port, "/SECURE")
        assert (status, body) == (401, "a password is required for this charge point\n")
        wrong = {"additional_headers": {"Authorization": "Basic U0VDVVJFOm5vcGU="}}  # SECURE:nope
        assert await _status_and_body(port, "/SECURE", **wrong) == (
            401,
            "wrong user name or password\n",
        )
        sim = SimChargePoint(
            f"ws://127.0.0.1:{port}",
            "SECURE",
            "1.6",
            password="s3cret-Key-16chars",
            meter_interval=3600,
        )
        await sim.start()
        await sim.close()
        assert central.charge_points()["SECURE"].vendor == "E-Flux"
        async with RawCharger.connect(port, "OPEN") as raw:  # no password set for this one
            await raw.call_ok("Heartbeat", {})


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_security_profile_2(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    async with running_central(central_config(tmp_path, tls_cert=cert, tls_key=key)) as central:
        context = ssl.create_default_context(cafile=str(cert))
        async with connect(
            f"wss://localhost:{central.port}/TLS1",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            ssl=context,
        ) as ws:
            await ws.send('[2,"1","Heartbeat",{}]')
            assert '"currentTime"' in str(await ws.recv())
        with pytest.raises((ConnectionClosed, OSError, InvalidHandshake)):  # plain ws is refused
            async with connect(f"ws://127.0.0.1:{central.port}/TLS1", open_timeout=2) as ws:
                await ws.recv()


async def test_a_second_connection_replaces_the_first(tmp_path: Path) -> None:
    async with running_central(central_config(tmp_path)) as central:
        events: list[object] = []
        central.add_listener(events.append)
        async with RawCharger.connect(central.port, "TWICE") as first:
            await first.call_ok("BootNotification", boot_v16())
            async with RawCharger.connect(central.port, "TWICE") as second:
                await asyncio.wait_for(first.connection.wait_closed(), 5)
                assert first.connection.close_reason == "replaced by a new connection"
                assert (await second.call_ok("Heartbeat", {}))["currentTime"]
                assert central.charge_points()["TWICE"].online
            await asyncio.sleep(0.05)
        connected = [e for e in events if isinstance(e, ChargerConnected)]
        disconnected = [e for e in events if isinstance(e, ChargerDisconnected)]
        assert len(connected) == 2
        assert len(disconnected) == 1


async def test_stop_leaves_no_task_or_socket_behind(tmp_path: Path) -> None:
    before = set(asyncio.all_tasks())
    async with running_central(central_config(tmp_path)) as central:
        port = central.port
        sim = SimChargePoint(f"ws://127.0.0.1:{port}", "CLEAN", "2.0.1", reconnect_delay=5)
        await sim.start()
        await sim.plug_in("CARD-OK")
    assert not central.charge_points()["CLEAN"].online
    with pytest.raises(ChargePointOffline):
        await central.send("CLEAN", "Reset", {"type": "Soft"})
    with pytest.raises(ConnectionRefusedError):
        async with connect(f"ws://127.0.0.1:{port}/CLEAN", open_timeout=1):
            pass
    await sim.close()
    leftovers = set(asyncio.all_tasks()) - before - {asyncio.current_task()}
    assert leftovers == set()
