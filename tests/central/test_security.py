"""Security profiles over real websockets: passwords at the handshake (1), TLS (2), client
certificates (3), nobody taking over a live id, password rotation from the central system,
and the "no password" flag. Certificates are made in the test (`cryptography`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.headers import build_authorization_basic

from custom_components.eflux.core.central import CallRejected, CallTimeout
from custom_components.eflux.core.central.credentials import generate_password, password_problem
from sim.chargepoint import SimChargePoint

from .support import RawCharger, boot_v16, central_config, db_rows, running_central

OLD = "old-Password-0123456789"


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    root: Path
    _ca_key: ec.EllipticCurvePrivateKey
    _ca_cert: x509.Certificate

    def client(self, name: str) -> tuple[Path, Path]:
        """A charger certificate signed by the CA with CN `name`."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _sign(_name(name), key, self._ca_cert.subject, self._ca_key, ca=False)
        return _write(self.root, f"client-{name}", cert, key)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _sign(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    dns: str | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if dns is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(
    root: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = root / f"{stem}.pem", root / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _sign(_name("Site CA"), ca_key, _name("Site CA"), ca_key, ca=True)
    ca_path, _ = _write(tmp_path, "ca", ca_cert, ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _sign(
        _name("localhost"), server_key, ca_cert.subject, ca_key, ca=False, dns="localhost"
    )
    cert, key = _write(tmp_path, "server", server, server_key)
    return Pki(ca_path, cert, key, tmp_path, ca_key, ca_cert)


def _auth(cp_id: str, password: str) -> dict[str, Any]:
    return {"additional_headers": {"Authorization": build_authorization_basic(cp_id, password)}}


async def _refusal(url: str, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, subprotocols=["ocpp1.6"], open_timeout=5, **kwargs):  # type: ignore[list-item]
            pass
    return refused.value.response.status_code, refused.value.response.body.decode()


async def _accepted(url: str, **kwargs: Any) -> None:
    async with connect(url, subprotocols=["ocpp1.6"], open_timeout=5, **kwargs) as ws:  # type: ignore[list-item]
        await ws.send('[2,"hb","Heartbeat",{}]')
        assert json.loads(await ws.recv())[0] == 3


def test_generated_passwords_are_valid_strong_and_different() -> None:
    passwords = {generate_password() for _ in range(200)}
    assert len(passwords) == 200
    assert all(password_problem(p) is None and len(p) == 32 for p in passwords)
    assert password_problem("short") is not None
    assert password_problem("x" * 41) is not None
    assert password_problem("has a space in it!!") is not None


async def test_a_live_charger_cannot_be_taken_over_without_its_password(tmp_path: Path) -> None:
    config = central_config(tmp_path, passwords={"LIVE": OLD})
    async with running_central(config) as central:
        url = f"ws://127.0.0.1:{central.port}/LIVE"
        sim = SimChargePoint(f"ws://127.0.0.1:{central.port}", "LIVE", password=OLD)
        await sim.start()
        try:
            for kwargs in ({}, _auth("LIVE", "wrong-password-1234"), _auth("OTHER", OLD)):
                status, _ = await _refusal(url, **kwargs)
                assert status == 401
            assert sim.connected.is_set()
            assert central.charge_points()["LIVE"].online
            assert (await central.send("LIVE", "ClearCache", {}))["status"] == "Accepted"
            assert central.charge_points()["LIVE"].security_profile == 1
        finally:
            await sim.close()


async def test_a_charger_without_a_password_is_flagged_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = central_config(tmp_path, passwords={"SAFE": OLD})
    async with running_central(config) as central:
        await _accepted(f"ws://127.0.0.1:{central.port}/SAFE", **_auth("SAFE", OLD))
        async with RawCharger.connect(central.port, "OPEN") as raw:
            await raw.call_ok("BootNotification", boot_v16())
            assert central.unprotected_charge_points() == ["OPEN"]
            assert central.charge_points()["OPEN"].unprotected
            assert not central.charge_points()["SAFE"].unprotected
        async with RawCharger.connect(central.port, "OPEN") as raw:  # again: flagged, logged once
            await raw.call_ok("Heartbeat", {})
            assert central.unprotected_charge_points() == ["OPEN"]
    warned = [r for r in caplog.records if "OPEN connects without a password" in r.getMessage()]
    assert len(warned) == 1


async def test_require_password_refuses_chargers_without_one(tmp_path: Path) -> None:
    config = central_config(tmp_path, passwords={"SAFE": OLD}, require_password=True)
    async with running_central(config) as central:
        status, body = await _refusal(f"ws://127.0.0.1:{central.port}/NOPW")
        assert (status, body) == (401, "a password is required for this charge point\n")
        assert "NOPW" not in central.charge_points()


async def test_profile_3_client_certificates(tmp_path: Path, pki: Pki) -> None:
    config = central_config(
        tmp_path,
        tls_cert=pki.server_cert,
        tls_key=pki.server_key,
        tls_client_ca=pki.ca,
        passwords={"PW-ONLY": OLD},
        require_password=True,
    )
    async with running_central(config) as central:
        base = f"wss://localhost:{central.port}"

        def context(cert: tuple[Path, Path] | None) -> ssl.SSLContext:
            made = ssl.create_default_context(cafile=str(pki.ca))
            if cert is not None:
                made.load_cert_chain(*cert)
            return made

        await _accepted(f"{base}/CERT-CP", ssl=context(pki.client("CERT-CP")))
        assert central.charge_points()["CERT-CP"].security_profile == 3
        status, body = await _refusal(f"{base}/CERT-CP", ssl=context(pki.client("NEIGHBOUR")))
        assert status == 401
        assert "for 'NEIGHBOUR'" in body
        # optional: without a certificate, the password over TLS (profile 2)
        await _accepted(f"{base}/PW-ONLY", ssl=context(None), **_auth("PW-ONLY", OLD))
        assert central.charge_points()["PW-ONLY"].security_profile == 2
        status, _ = await _refusal(f"{base}/PW-ONLY", ssl=context(None))
        assert status == 401
        # a certificate from another CA fails the TLS handshake itself
        other_key = ec.generate_private_key(ec.SECP256R1())
        other = _sign(_name("CERT-CP"), other_key, _name("Evil CA"), other_key, ca=False)
        forged = _write(tmp_path, "forged", other, other_key)
        with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)):
            await _accepted(f"{base}/CERT-CP", ssl=context(forged))


async def test_a_required_client_certificate_is_enforced_by_tls(tmp_path: Path, pki: Pki) -> None:
    config = central_config(
        tmp_path,
        tls_cert=pki.server_cert,
        tls_key=pki.server_key,
        tls_client_ca=pki.ca,
        require_client_certificate=True,
        passwords={"PW": OLD},
    )
    async with running_central(config) as central:
        plain = ssl.create_default_context(cafile=str(pki.ca))
        with pytest.raises((ssl.SSLError, OSError, InvalidHandshake)):
            await _accepted(f"wss://localhost:{central.port}/PW", ssl=plain, **_auth("PW", OLD))
        assert "PW" not in central.charge_points()


async def test_rotation_on_1_6_keeps_the_old_password_until_the_new_one_is_used(
    tmp_path: Path,
) -> None:
    config = central_config(tmp_path, passwords={"ROT": OLD})
    async with running_central(config) as central:
        url = f"ws://127.0.0.1:{central.port}/ROT"
        sim = SimChargePoint(
            f"ws://127.0.0.1:{central.port}",
            "ROT",
            password=OLD,
            configuration={"AuthorizationKey": OLD},
        )
        await sim.start()
        new = await central.rotate_password("ROT")
        assert sim.configuration["AuthorizationKey"] == new
        assert "AuthorizationKey" not in central.charge_points()["ROT"].configuration
        await sim.close()
        await _accepted(url, **_auth("ROT", OLD))  # it may not have reconnected yet
        await _accepted(url, **_auth("ROT", new))  # ... now it has: the old one is void
        assert (await _refusal(url, **_auth("ROT", OLD)))[0] == 401
        stored = db_rows(config.db_path, "SELECT * FROM charger_passwords")
        assert stored
        assert new not in json.dumps(stored)
        assert OLD not in json.dumps(stored)
    async with running_central(config) as central:  # kept across a restart
        url = f"ws://127.0.0.1:{central.port}/ROT"
        await _accepted(url, **_auth("ROT", new))
        assert (await _refusal(url, **_auth("ROT", OLD)))[0] == 401
    changed = central_config(tmp_path, passwords={"ROT": "set-Again-By-The-User"})
    async with running_central(changed) as central:  # the user's new setting wins
        url = f"ws://127.0.0.1:{central.port}/ROT"
        await _accepted(url, **_auth("ROT", "set-Again-By-The-User"))
        assert (await _refusal(url, **_auth("ROT", new)))[0] == 401


async def test_rotation_on_2_0_1_stored_before_it_is_sent_and_reverted_when_refused(
    tmp_path: Path,
) -> None:
    config = central_config(tmp_path, passwords={"R201": OLD}, call_timeout=0.5)
    async with running_central(config) as central:
        url = f"ws://127.0.0.1:{central.port}/R201"
        # A charger that never answers: both passwords stay valid.
        async with RawCharger.connect(central.port, "R201", "2.0.1", **_auth("R201", OLD)) as raw:
            rotation = asyncio.create_task(central.rotate_password("R201"))
            call = await raw.next_call_from_central()
            while call[2] != "SetVariables":  # the boot-grace configuration may come first
                call = await raw.next_call_from_central()
            data = call[3]["setVariableData"][0]
            assert (data["component"]["name"], data["variable"]["name"]) == (
                "SecurityCtrlr",
                "BasicAuthPassword",
            )
            new = data["attributeValue"]
            with pytest.raises(CallTimeout):
                await rotation
        await _accepted(url, **_auth("R201", OLD))
        # A charger that refuses (the sim knows no SecurityCtrlr.BasicAuthPassword).
        sim = SimChargePoint(f"ws://127.0.0.1:{central.port}", "R201", "2.0.1", password=new)
        await sim.start()
        with pytest.raises(CallRejected):
            await central.rotate_password("R201", "Refused-Password-123")
        await sim.close()
        assert (await _refusal(url, **_auth("R201", "Refused-Password-123")))[0] == 401
        await _accepted(url, **_auth("R201", new))
