"""HTTP client of the cloud's /api/v1 for a local installation (a site token).

Maps every failure to one of three errors (errors.py): unavailable (retry later), auth
(re-authenticate; HA starts a reauth flow) or rejected (do not resend as is).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import aiohttp

from ..domain import Card, CardKind, CardListDelta, CardStatus, DepartureRequest, FinishedSession
from .errors import CloudAuthError, CloudError, CloudRejected, CloudUnavailable

if TYPE_CHECKING:  # type only: importing `core.cloud` does not load the central system
    from ..central.model import Transaction

DEFAULT_TIMEOUT = 15.0
AUTHORIZE_TIMEOUT = 2.0  # charging never waits long for the internet


@dataclass(frozen=True, slots=True)
class CloudIdentity:
    """Who a token speaks for (what the config flow shows and stores)."""

    account_id: int
    account_name: str
    site_id: int | None
    is_admin: bool


@dataclass(frozen=True, slots=True)
class SessionAck:
    charge_point_id: str
    transaction_id: str
    session_id: int
    duplicate: bool


@dataclass(frozen=True, slots=True)
class CloudDeparture:
    id: int  # the cursor for the next pull
    request: DepartureRequest
    car: str | None


@dataclass(frozen=True, slots=True)
class CardPull:
    """A card-list answer: a delta to merge, or (`full`) the whole list to replace ours with;
    `epoch` names the cloud's card-list history (None: a cloud without epochs)."""

    delta: CardListDelta
    full: bool
    epoch: str | None
    # The driver and car each card names ({"driver", "car"}; None: none), for the cards of
    # this answer whose entry carries `vehicle` (back ends before issue 16.5 send none).
    vehicles: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def api_base(url: str) -> str:
    """`https://cloud.example` or `…/api/v1` → `…/api/v1`; anything else is refused."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CloudError(f"not an http(s) URL: {url!r}")
    base = url.strip().rstrip("/")
    return base if base.endswith("/api/v1") else base + "/api/v1"


class CloudClient:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base = api_base(url)
        self._token = token
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        seconds: float | None = None,
    ) -> Any:
        """One call; the parsed JSON answer, or one of the errors of errors.py."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        limit = aiohttp.ClientTimeout(total=seconds or self._timeout)
        try:
            async with self._session.request(
                method, self.base + path, data=data, headers=headers, timeout=limit
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CloudUnavailable(f"{method} {path}: {type(err).__name__}: {err}") from err
        return _answer(status, text, f"{method} {path}")

    # ---- the calls --------------------------------------------------------------------------
    async def me(self) -> CloudIdentity:
        data = await self.request("GET", "/me")
        return CloudIdentity(
            account_id=int(data["account"]["id"]),
            account_name=str(data["account"]["name"]),
            site_id=data.get("site_id"),
            is_admin=bool(data.get("admin")),
        )

    async def post_sessions(self, sessions: Sequence[FinishedSession]) -> list[SessionAck]:
        # The outbox's own JSON per session, so what is stored is exactly what is sent.
        body = '{"sessions":[' + ",".join(session_to_json(s) for s in sessions) + "]}"
        data = await self.request("POST", "/sync/sessions", body)
        return [
            SessionAck(
                r["charge_point_id"],
                r["transaction_id"],
                int(r["session_id"]),
                r["status"] == "duplicate",
            )
            for r in data["results"]
        ]

    async def put_open_sessions(
        self, transactions: Sequence[Transaction], *, taken_at: datetime
    ) -> bool:
        """Replace the site's open sessions in the cloud with these (all that run now).

        False: the cloud holds a snapshot taken later already and kept it.
        """
        body = {
            "taken_at": taken_at.isoformat(),
            "sessions": [open_session_json(tx) for tx in transactions],
        }
        data = await self.request("PUT", "/sync/open-sessions", body)
        return bool(data["stored"])

    async def card_delta(self, since: int) -> CardListDelta:
        return (await self.card_list(since)).delta

    async def card_list(self, since: int, epoch: str | None = None) -> CardPull:
        """Changes after `since` of epoch `epoch`; the full list when the cloud's history is
        another one (restored from a backup) or `since` is 0."""
        query = f"since={int(since)}" + ("" if epoch is None else f"&epoch={quote(epoch)}")
        data = await self.request("GET", f"/sync/cards?{query}")
        delta = CardListDelta(
            since_version=int(data["since_version"]),
            version=int(data["version"]),
            cards=tuple(_card(c) for c in data["cards"]),
        )
        vehicles = {
            str(c["uid"]): c["vehicle"] if isinstance(c["vehicle"], dict) else None
            for c in data["cards"]
            if "vehicle" in c
        }
        full = bool(data.get("full", False))
        return CardPull(delta, full, data.get("epoch") or None, vehicles)

    async def site_config(self) -> dict[str, Any]:
        """The site, its charge points, tariffs and subscriptions (as the API sends them)."""
        data: dict[str, Any] = await self.request("GET", "/sync/config")
        return data

    async def departures(self, after: int) -> list[CloudDeparture]:
        data = await self.request("GET", f"/sync/departures?after={int(after)}")
        return [_departure(d) for d in data["items"]]

    async def authorize(self, uid: str) -> Card | None:
        """The cloud's word on a card (None: unknown to the cloud). Short timeout."""
        try:
            data = await self.request(
                "POST", "/sync/authorize", {"uid": uid}, seconds=AUTHORIZE_TIMEOUT
            )
        except CloudRejected as err:
            if err.status == 404:
                return None
            raise
        return _card(data)

    async def report_card_lost(self, uid: str, *, order_replacement: bool = True) -> Card:
        """Block a card of the site's account everywhere (and order a replacement)."""
        data = await self.request(
            "POST", "/sync/report-lost", {"uid": uid, "order_replacement": order_replacement}
        )
        card = data["card"]
        return Card(
            uid=card["uid"],
            status=CardStatus(card["status"]),
            kind=CardKind(card["kind"]),
            expires_at=_time(card.get("expires_at")),
        )


async def check_token(
    url: str,
    token: str,
    *,
    session: aiohttp.ClientSession | None = None,
    seconds: float = 10.0,
) -> CloudIdentity:
    """Validate a cloud URL and token live (the HA config flow's check).

    Raises CloudAuthError on a bad token (HA: reauth / 'invalid_auth'), CloudUnavailable when
    the cloud cannot be reached ('cannot_connect'), CloudError for a malformed URL.
    """
    client = CloudClient(url, token, session=session, timeout=seconds)
    try:
        return await client.me()
    finally:
        await client.close()


def _answer(status: int, text: str, what: str) -> Any:
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        data = None
    if status in (401, 403):
        detail = data.get("detail", "") if isinstance(data, dict) else ""
        raise CloudAuthError(f"{what}: {status} {detail}".strip())
    if status == 429 or status >= 500:
        raise CloudUnavailable(f"{what}: HTTP {status}")
    if data is None or not isinstance(data, dict):
        # A proxy's HTML page or similar: not our API answering.
        raise CloudUnavailable(f"{what}: HTTP {status} without a JSON answer")
    if status >= 400:
        raise CloudRejected(status, str(data.get("error", "error")), str(data.get("detail", "")))
    return data


def open_session_json(tx: Transaction) -> dict[str, Any]:
    """One open transaction as PUT /sync/open-sessions takes it."""
    power = tx.power_w
    return {
        "charge_point_id": tx.charge_point_id,
        "connector_id": tx.connector_id,
        "transaction_id": tx.id,
        "id_tag": tx.id_tag,
        "started_at": tx.started_at.isoformat(),
        # A meter running backwards or a car feeding back reads below 0: the cloud shows none.
        "energy_kwh": max(0.0, tx.energy_wh) / 1000,
        "power_w": None if power is None else max(0.0, power),
        "updated_at": (tx.last_sample_at or tx.started_at).isoformat(),
    }


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _card(data: dict[str, Any]) -> Card:
    # group_id is taken when the back end sends it (older ones do not).
    group = data.get("group_id")
    return Card(
        uid=str(data["uid"]),
        status=_card_status(data["status"]),
        kind=CardKind(data["kind"]),
        expires_at=_time(data.get("expires_at")),
        may_start=bool(data.get("may_start", True)),
        group_id=str(group) if group else None,
    )


def _card_status(value: Any) -> CardStatus:
    """A status this version does not know yet (a newer back end) refuses the card."""
    try:
        return CardStatus(value)
    except ValueError:
        return CardStatus.INVALID


def _departure(data: dict[str, Any]) -> CloudDeparture:
    departure_at = _time(data["departure_at"])
    assert departure_at is not None
    return CloudDeparture(
        id=int(data["id"]),
        request=DepartureRequest(
            charge_point_id=str(data["ocpp_id"]),
            departure_at=departure_at,
            soc_now=data.get("soc_now"),
            target_soc=float(data.get("target_soc", 100.0)),
            battery_kwh=data.get("battery_kwh"),
            max_power_kw=data.get("max_power_kw"),
            connector_id=int(data.get("connector_id", 1)),
        ),
        car=data.get("car"),
    )


def session_to_json(session: FinishedSession) -> str:
    """A finished session as POST /sessions carries it (the cloud's wire format)."""
    data: dict[str, Any] = {
        "charge_point_id": session.charge_point_id,
        "transaction_id": session.transaction_id,
        "connector_id": session.connector_id,
        "id_tag": session.id_tag,
        "started_at": session.started_at.isoformat(),
        "stopped_at": session.stopped_at.isoformat(),
        "meter_start_wh": session.meter_start_wh,
        "meter_stop_wh": session.meter_stop_wh,
        "energy_wh": session.energy_wh,
        "stop_reason": session.stop_reason,
        "energy_flagged": session.energy_flagged,
    }
    return json.dumps(data, separators=(",", ":"))
