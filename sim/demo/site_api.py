"""A client of the local site's HTTP API (docs/local-api.md): read chargers, set departures."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import aiohttp

from .scenario import DemoCharger


class SiteApiError(RuntimeError):
    pass


class SiteView(Protocol):
    """Where the demo reads the plans and states the departures: the local runner's API or
    Home Assistant (`hass_part.HassSite`)."""

    base: str

    async def chargers(self) -> Mapping[str, Mapping[str, Any]]: ...

    async def wait_for_charger(self, charger: DemoCharger) -> None: ...

    async def set_departure(self, charger: DemoCharger, departure: datetime) -> Any: ...

    async def close(self) -> None: ...

    async def describe(self) -> dict[str, str]: ...


class SiteApi:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            async with self._client().request(method, self.base + path, json=body) as response:
                data = await response.json(content_type=None)
                if response.status >= 400:
                    raise SiteApiError(f"{method} {path}: {response.status} {data}")
                return data
        except (aiohttp.ClientError, TimeoutError) as err:
            raise SiteApiError(f"{method} {path}: {err}") from err

    async def describe(self) -> dict[str, str]:
        """For the summary: the site's own view of its meter and balancer."""
        site = await self.site()
        meters = ", ".join(f"{m['name']} {m['quality']}" for m in site["meters"])
        return {"local site": f"balancer {site['balancer_status']}; meters {meters}"}

    async def answers(self) -> bool:
        try:
            await self._request("GET", "/api/site")
        except SiteApiError:
            return False
        return True

    async def site(self) -> dict[str, Any]:
        data: dict[str, Any] = await self._request("GET", "/api/site")
        return data

    async def chargers(self) -> dict[str, dict[str, Any]]:
        data = await self._request("GET", "/api/chargers")
        return {c["id"]: c for c in data["chargers"]}

    async def wait_for_charger(self, charger: DemoCharger) -> None:
        """The runner knows its chargers from site.yaml: nothing to wait for."""

    async def set_departure(self, charger: DemoCharger, departure: datetime) -> dict[str, Any]:
        # What the driver states in the app: when, how full, and the car's battery and SoC.
        body = {
            "departure_at": departure.isoformat(),
            "target_soc": charger.target_soc,
            "soc_now": charger.soc,
            "battery_kwh": charger.battery_kwh,
        }
        data: dict[str, Any] = await self._request(
            "PUT", f"/api/chargers/{charger.id}/departure", body
        )
        return data
