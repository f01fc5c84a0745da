"""The websocket endpoint: `ws(s)://HOST:PORT/[prefix/]{charge_point_id}`.

Before the upgrade (HTTP answers with a reason in the body): the charge point id must be a
valid OCPP identity (no `..`, no spaces, at most 48 characters), known or welcome, and
authenticate: a client certificate from the configured CA whose CN is the id (security
profile 3), else the basic-auth password when one is set (profiles 1 and 2; a rotation's old
password too until the new one is used, credentials.py); a wrong one is a 401 before any OCPP
frame. After the upgrade: a connection that offered neither `ocpp1.6` nor `ocpp2.0.1` is
closed with code 1002 and the reason. A second connection with the same id replaces the first
one - only once it has authenticated like any other.
"""

from __future__ import annotations

import asyncio
import hmac
import http
import logging
import re
import ssl
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.frames import CloseCode
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .firmware import FIRMWARE_PATH
from .handshake import QuietHandshakeConnection
from .hub import ChargerHub
from .rpc import OcppSession
from .v16 import V16Session
from .v201 import V201Session

_LOGGER = logging.getLogger(__name__)
SUBPROTOCOLS = {"ocpp2.0.1": V201Session, "ocpp1.6": V16Session}
# OCPP 2.0.1 identifierString, which 1.6 chargers also stay within in practice.
IDENTITY = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{1,48}")
# A charger that reconnects without a BootNotification is configured after this long.
BOOT_GRACE_SECONDS = 10.0


class InvalidPath(ValueError):
    pass


def charge_point_id(path: str) -> str:
    """The id from the request path (its last segment, percent-decoded), or InvalidPath."""
    segments = [unquote(part) for part in path.split("?", 1)[0].split("/")]
    while segments and segments[-1] == "":
        segments.pop()
    if any(segment in (".", "..") for segment in segments):
        raise InvalidPath("path must not contain '.' or '..' segments")
    if not segments or not segments[-1]:
        raise InvalidPath("path must end with the charge point id: ws://host:port/{id}")
    cp_id = segments[-1]
    if len(cp_id) > 48:
        raise InvalidPath(f"charge point id is {len(cp_id)} characters, at most 48 allowed")
    if not IDENTITY.fullmatch(cp_id) or set(cp_id) == {"."}:
        raise InvalidPath("charge point id may only hold letters, digits and * - _ = : + | @ .")
    return cp_id


class CentralServer:
    def __init__(self, hub: ChargerHub) -> None:
        self.hub = hub
        self.config = hub.config
        self._server: Server | None = None
        self._warned: set[str] = set()  # charge points logged as connecting without a password
        # How each accepted handshake authenticated, until its handler takes it.
        self._outcomes: weakref.WeakKeyDictionary[ServerConnection, _Outcome] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the central system is not running")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def start(self) -> None:
        config = self.config
        self._server = await serve(
            self._handle,
            config.host,
            config.port,
            subprotocols=[Subprotocol(name) for name in SUBPROTOCOLS],
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            max_size=config.max_frame_bytes,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            compression=None,
            ssl=self._ssl_context(),
            server_header="E-Flux Local",
            create_connection=QuietHandshakeConnection,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
            self._server = None

    def _ssl_context(self) -> ssl.SSLContext | None:
        config = self.config
        if config.tls_cert is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(config.tls_cert, config.tls_key)
        if config.tls_client_ca is not None:  # security profile 3
            context.load_verify_locations(cafile=str(config.tls_client_ca))
            context.verify_mode = (
                ssl.CERT_REQUIRED if config.require_client_certificate else ssl.CERT_OPTIONAL
            )
        return context

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.startswith(FIRMWARE_PATH):  # a charger fetching an update (firmware.py)
            return self.hub.firmware.respond(connection, request)
        try:
            cp_id = charge_point_id(request.path)
        except InvalidPath as err:
            return connection.respond(http.HTTPStatus.BAD_REQUEST, f"{err}\n")
        if not self.hub.is_known(cp_id) and not self.hub.admission.welcomes_new():
            return connection.respond(
                http.HTTPStatus.FORBIDDEN,
                f"unknown charge point {cp_id!r}: add it or turn on 'accept new chargers'\n",
            )
        # The same for a connection that would replace a live one: nobody takes over an id.
        refusal, outcome = self._authenticate(connection, request.headers, cp_id)
        if refusal is None:
            self._outcomes[connection] = outcome
        return refusal

    def _authenticate(
        self, connection: ServerConnection, headers: Headers, cp_id: str
    ) -> tuple[Response | None, _Outcome]:
        tls = self.config.tls_cert is not None
        certificate = _certificate_name(connection)
        if certificate is not None:
            if certificate == cp_id:
                return None, _Outcome(3, None)
            return _unauthorized(
                connection, f"the client certificate is for {certificate!r}, not {cp_id!r}"
            ), _Outcome(0, None)
        password, problem = None, "a password is required for this charge point"
        if "Authorization" in headers:
            try:
                username, password = parse_authorization_basic(headers["Authorization"])
            except InvalidHeader:
                return _unauthorized(
                    connection, "the Authorization header is not HTTP basic auth"
                ), _Outcome(0, None)
            if not hmac.compare_digest(username.encode(), cp_id.encode()):
                return _unauthorized(connection, "wrong user name or password"), _Outcome(0, None)
            problem = "wrong user name or password"
        matched = self.hub.credentials.check(cp_id, password)
        if matched == "open" and not self.config.require_password:
            return None, _Outcome(0, None)
        if matched in ("current", "previous"):
            return None, _Outcome((2 if tls else 1) if password is not None else 0, matched)
        return _unauthorized(connection, problem), _Outcome(0, None)

    async def _handle(self, connection: ServerConnection) -> None:
        session_class = SUBPROTOCOLS.get(connection.subprotocol or "")
        if session_class is None:
            await connection.close(
                CloseCode.PROTOCOL_ERROR,
                "no supported subprotocol offered: use ocpp1.6 or ocpp2.0.1",
            )
            return
        assert connection.request is not None
        session: OcppSession = session_class(
            charge_point_id(connection.request.path),
            connection,
            self.hub,
            call_timeout=self.config.call_timeout,
            validate_in_thread=self.config.validate_in_thread,
        )
        outcome = self._outcomes.pop(connection, _Outcome(0, None))
        previous = await self.hub.attach(session, security_profile=outcome.profile)
        if outcome.matched == "current":
            await self.hub.credentials.confirm(session.id)  # a rotation's old one is void now
        if outcome.profile == 0 and session.id not in self._warned:
            self._warned.add(session.id)  # once per charger: reconnects must not flood the log
            _LOGGER.warning(
                "charger %s connects without a password: set one (security profile 1)",
                session.id,
            )
        if previous is not None:
            _LOGGER.info("%s: a new connection replaces the previous one", session.id)
            await previous.connection.close(
                CloseCode.NORMAL_CLOSURE, "replaced by a new connection"
            )
        session.spawn(_configure_unless_booted(session))
        try:
            await session.serve()
        finally:
            reason = f"{connection.close_code} {connection.close_reason or ''}".strip()
            self.hub.detach(session, reason)


@dataclass(frozen=True, slots=True)
class _Outcome:
    profile: int  # OCPP security profile the connection used (0: no password at all)
    matched: str | None  # credentials.check: "current", "previous" (a rotation's old one)


def _unauthorized(connection: ServerConnection, problem: str) -> Response:
    response = connection.respond(http.HTTPStatus.UNAUTHORIZED, f"{problem}\n")
    response.headers["WWW-Authenticate"] = build_www_authenticate_basic("E-Flux Local")
    return response


def _certificate_name(connection: ServerConnection) -> str | None:
    """The subject CN of a verified client certificate (profile 3), if one was presented."""
    transport = getattr(connection, "transport", None)
    peer = transport.get_extra_info("peercert") if transport is not None else None
    if not peer:
        return None
    for rdn in peer.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The newest version the charger offers; None lets the handler close with a reason."""
    for name in SUBPROTOCOLS:
        if name in offered:
            return Subprotocol(name)
    return None


async def _configure_unless_booted(session: OcppSession) -> None:
    """Chargers reconnecting after a network outage often skip BootNotification."""
    await asyncio.sleep(BOOT_GRACE_SECONDS)
    if not session.booted:
        await session.configure()
