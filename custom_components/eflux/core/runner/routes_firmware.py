"""POST /api/chargers/{id}/firmware: install a firmware file on a charger (docs/local-api.md).

Body: {"path": "/absolute/path/to/file"} and, for a signed update, "signature" (base64, as
the vendor ships it) and "signing_certificate" (PEM). The central system serves the file on a
one-time URL of its OCPP port; the answer is the update as it stands ("Requested"). Progress:
the central system's `ChargePointState.firmware_update`; the installed version is the charger's
`firmware` field after its next boot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from ..central.firmware import FirmwareFileError
from ..central.model import FirmwareUpdate
from ..runtime import LocalSite
from .errors import ApiError
from .jsonbody import BodyError, read_json

MAX_BODY_BYTES = 64 * 1024
_FIELDS = frozenset({"path", "signature", "signing_certificate"})


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    async def post_firmware(request: web.Request) -> web.Response:
        site = request.app[site_key]
        charger_id = request.match_info["id"]
        try:
            site.binding(charger_id)
        except KeyError as err:
            raise ApiError(404, "not_found", str(err.args[0])) from None
        body = await _body(request)
        path = Path(_text(body, "path"))
        if not path.is_absolute():
            raise ApiError(400, "bad_request", "path must be absolute (a file on this machine)")
        signature, certificate = body.get("signature"), body.get("signing_certificate")
        if (signature is None) != (certificate is None):
            raise ApiError(400, "bad_request", "signature and signing_certificate go together")
        try:
            update = await site.update_firmware(
                charger_id,
                path,
                signature=None if signature is None else _text(body, "signature"),
                signing_certificate=None
                if certificate is None
                else _text(body, "signing_certificate"),
            )
        except FirmwareFileError as err:
            raise ApiError(400, "bad_request", str(err)) from None
        return web.json_response({"firmware": firmware_dict(update)}, status=202)

    app.router.add_post("/api/chargers/{id}/firmware", post_firmware)


def firmware_dict(update: FirmwareUpdate | None) -> dict[str, Any] | None:
    if update is None:
        return None
    return {
        "request_id": update.request_id,
        "file_name": update.file_name,
        "status": update.status,
        "status_at": update.status_at.isoformat(),
        "requested_at": update.requested_at.isoformat(),
        "signed": update.signed,
        "version_before": update.version_before,
    }


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = read_json(await request.read(), max_bytes=MAX_BODY_BYTES)
    except BodyError as err:
        raise ApiError(400, "bad_request", str(err)) from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ApiError(400, "bad_request", f"unknown field {unknown[0]!r}")
    return data


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "bad_request", f"{name} must be a non-empty string")
    return value
