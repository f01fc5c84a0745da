"""Firmware updates: the user's file on a one-time URL of the central system, the request to
the charger (1.6 UpdateFirmware or SignedUpdateFirmware, 2.0.1 UpdateFirmware) and the status
the charger reports back (`ChargePointState.firmware_update`, `FirmwareStatusChanged`).

The file is served on the OCPP port itself (`/firmware/<token>/<name>`), so it is HTTPS when
the central system runs TLS, and the charger reaches it at the address it already uses for
OCPP. The token is 32 random bytes, valid for one download within `FIRMWARE_URL_TTL`.
"""

from __future__ import annotations

import asyncio
import http
import itertools
import logging
import secrets
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .errors import CallRejected, CentralError
from .events import FirmwareStatusChanged
from .model import FirmwareUpdate
from .timeutil import to_wire

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection
    from websockets.http11 import Request, Response

    from .hub import ChargerHub
    from .rpc import OcppSession

_LOGGER = logging.getLogger(__name__)
FIRMWARE_PATH = "/firmware/"
FIRMWARE_URL_TTL = timedelta(hours=6)
MAX_FIRMWARE_BYTES = 256 * 1024 * 1024
_REQUEST_IDS = itertools.count(int(time.time()) % 1_000_000_000)


class FirmwareFileError(CentralError):
    """The file cannot be offered (missing, not a file, empty, too large)."""


@dataclass(slots=True)
class _Offer:
    name: str
    data: bytes
    expires: float  # time.monotonic()


class FirmwareFiles:
    """Files offered for download, by token; each is served once."""

    def __init__(self) -> None:
        self._offers: dict[str, _Offer] = {}

    def offer(self, name: str, data: bytes, ttl: timedelta = FIRMWARE_URL_TTL) -> str:
        """Register `data`; returns the URL path (`/firmware/<token>/<name>`)."""
        now = time.monotonic()
        self._offers = {k: v for k, v in self._offers.items() if v.expires > now}
        token = secrets.token_urlsafe(32)
        self._offers[token] = _Offer(name, data, now + ttl.total_seconds())
        return f"{FIRMWARE_PATH}{token}/{quote(name)}"

    def withdraw(self, path: str) -> None:
        self._offers.pop(_token(path), None)

    def pending(self) -> int:
        return len(self._offers)

    def respond(self, connection: ServerConnection, request: Request) -> Response:
        """The file for a valid token (and forget it), else 404 without saying why."""
        offer = self._offers.pop(_token(request.path), None)
        peer = connection.remote_address
        if offer is None or offer.expires < time.monotonic():
            _LOGGER.info("firmware download refused for %s: unknown or used URL", peer)
            return connection.respond(http.HTTPStatus.NOT_FOUND, "no such firmware\n")
        _LOGGER.info("firmware %s (%d bytes) served to %s", offer.name, len(offer.data), peer)
        response = connection.respond(http.HTTPStatus.OK, "")
        del response.headers["Content-Type"]
        del response.headers["Content-Length"]
        response.headers["Content-Type"] = "application/octet-stream"
        response.headers["Content-Length"] = str(len(offer.data))
        response.headers["Cache-Control"] = "no-store"
        return replace(response, body=offer.data)


def _token(path: str) -> str:
    rest = path.split("?", 1)[0][len(FIRMWARE_PATH) :]
    return rest.split("/", 1)[0]


def read_firmware(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise FirmwareFileError(f"{path} is not a file")
        size = path.stat().st_size
        if size == 0 or size > MAX_FIRMWARE_BYTES:
            raise FirmwareFileError(f"{path} has {size} bytes (1 to {MAX_FIRMWARE_BYTES} allowed)")
        return path.read_bytes()
    except OSError as err:
        raise FirmwareFileError(f"{path} cannot be read: {err.strerror or err}") from None


def download_url(session: OcppSession, url_path: str) -> str:
    """The URL as the charger reaches us: the address its OCPP connection came in on."""
    host, port = session.connection.local_address[:2]
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if session.hub.config.tls_cert is not None else "http"
    return f"{scheme}://{host}:{port}{url_path}"


async def update_firmware(
    session: OcppSession,
    path: Path,
    *,
    signature: str | None = None,
    signing_certificate: str | None = None,
    retrieve_at: datetime | None = None,
) -> FirmwareUpdate:
    """Offer `path` and ask the charger to install it; the update as it now stands.

    A signature and the signing certificate (PEM) make it a signed update: 2.0.1 UpdateFirmware
    carries them, a 1.6 charger gets SignedUpdateFirmware (security extension). CallRejected
    when the charger refuses; the URL is withdrawn then."""
    hub = session.hub
    data = await asyncio.to_thread(read_firmware, path)
    url_path = hub.firmware.offer(path.name, data)
    request_id = next(_REQUEST_IDS)
    now = hub.clock()
    signed = signature is not None
    action, payload = _request(
        session.ocpp_version,
        download_url(session, url_path),
        retrieve_at or now,
        request_id,
        signature,
        signing_certificate,
    )
    try:
        answer = await session.request(action, payload)
    except CentralError:
        hub.firmware.withdraw(url_path)
        raise
    status = str(answer.get("status", "Accepted"))  # 1.6 UpdateFirmware.conf is empty
    if status not in ("Accepted", "AcceptedCanceled"):
        hub.firmware.withdraw(url_path)
        raise CallRejected(session.id, action, status, answer)
    update = FirmwareUpdate(
        request_id=request_id,
        file_name=path.name,
        requested_at=now,
        status="Requested",
        status_at=now,
        signed=signed,
        version_before=hub.state(session.id).firmware,
    )
    hub.states[session.id] = replace(hub.state(session.id), firmware_update=update)
    hub.bus.emit(FirmwareStatusChanged(session.id, now, "Requested", request_id, update))
    return update


def _request(
    version: str,
    location: str,
    retrieve_at: datetime,
    request_id: int,
    signature: str | None,
    certificate: str | None,
) -> tuple[str, dict[str, Any]]:
    if (signature is None) != (certificate is None):
        raise FirmwareFileError("a signed update needs both the signature and the certificate")
    firmware: dict[str, Any] = {"location": location, "retrieveDateTime": to_wire(retrieve_at)}
    if signature is not None and certificate is not None:
        firmware |= {"signature": signature, "signingCertificate": certificate}
    if version != "1.6":
        return "UpdateFirmware", {"requestId": request_id, "firmware": firmware, "retries": 3}
    if signature is not None:
        return "SignedUpdateFirmware", {"requestId": request_id, "firmware": firmware, "retries": 3}
    return "UpdateFirmware", {
        "location": location,
        "retrieveDate": firmware["retrieveDateTime"],
        "retries": 3,
    }


def record_status(hub: ChargerHub, cp_id: str, status: str, request_id: int | None) -> None:
    """A firmware status from the charger: kept on the update it belongs to, and an event.
    Plain 1.6 notifications carry no request id: they belong to the newest update."""
    now = hub.clock()
    state = hub.state(cp_id)
    update = state.firmware_update
    if update is not None and (request_id is None or request_id == update.request_id):
        update = replace(update, status=status, status_at=now)
        hub.states[cp_id] = replace(state, firmware_update=update)
    elif update is not None:
        update = None  # another party's update (or an older one): reported, not tracked
    level = logging.WARNING if status.endswith("Failed") else logging.INFO
    _LOGGER.log(level, "%s: firmware %s", cp_id, status)
    hub.bus.emit(FirmwareStatusChanged(cp_id, now, status, request_id, update))
