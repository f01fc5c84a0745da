"""Planner routes of the local API (docs/local-api.md): circuit limits set while running, the
driver and car a card names, and the plan changes announced.

    GET    /api/circuits                 limits in force, overrides, capacity tariff
    PUT    /api/circuits/{id}/limit      {"limit_a": 20 | [20, 20, 16], "total_limit_a"?,
                                          "expires_at"? | "duration_s"?, "min_kw_per_charger"?,
                                          "reason"?}
    DELETE /api/circuits/{id}/limit
    GET    /api/cards/{id}/vehicle       {"id", "driver", "car": {...} | null}
    PUT    /api/cards/{id}/vehicle       {"driver"?, "car": {...} | null}
    DELETE /api/cards/{id}/vehicle
    GET    /api/plan/changes             the last 100 plan changes (as eflux_plan_changed)
    PUT    /api/chargers/{id}/phases     {"mode": "auto" | "1" | "3"} (chargers that can switch)
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from aiohttp import web

from ..config import CardProfile, ConfigError
from ..runtime import CircuitLimitError, CircuitOverride, LocalSite, charger_dict
from .errors import ApiError
from .fields import aware_time
from .jsonbody import BodyError, read_json

MAX_BODY_BYTES = 16 * 1024
_LIMIT_FIELDS = frozenset(
    {"limit_a", "total_limit_a", "expires_at", "duration_s", "min_kw_per_charger", "reason"}
)


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    async def get_circuits(request: web.Request) -> web.Response:
        site = request.app[site_key]
        snapshot = site.state()
        overrides = site.circuit_limits()
        circuits = [
            {
                "id": c.id,
                "parent": c.parent,
                "configured_limit_a": list(c.limit_a),
                "limit_a": list(overrides[c.id].limit_a or c.limit_a)
                if c.id in overrides
                else list(c.limit_a),
                "override": _override(overrides[c.id]) if c.id in overrides else None,
            }
            for c in site.config.site.circuits
        ]
        return web.json_response(
            {
                "circuits": circuits,
                "capacity_tariff": None
                if snapshot.capacity_target_kw is None
                else {
                    "quarter_average_kw": snapshot.capacity_quarter_average_kw,
                    "month_peak_kw": snapshot.capacity_month_peak_kw,
                    "target_kw": snapshot.capacity_target_kw,
                },
            }
        )

    async def put_limit(request: web.Request) -> web.Response:
        site = request.app[site_key]
        body = await _body(request)
        unknown = set(body) - _LIMIT_FIELDS
        if unknown:
            raise ApiError(400, "bad_request", f"unknown field {sorted(unknown)[0]!r}")
        if "expires_at" in body and "duration_s" in body:
            raise ApiError(400, "bad_request", "give expires_at or duration_s, not both")
        expires_at = (
            aware_time(body["expires_at"], "expires_at")
            if body.get("expires_at") is not None
            else None
        )
        if body.get("duration_s") is not None:
            seconds = _number(body["duration_s"], "duration_s")
            if not 0 < seconds <= 366 * 86400:
                raise ApiError(400, "bad_request", "duration_s must be within a year")
            expires_at = site.clock.now() + timedelta(seconds=seconds)
        reason = body.get("reason", "")
        if not isinstance(reason, str) or len(reason) > 200:
            raise ApiError(400, "bad_request", "reason must be text of at most 200 characters")
        try:
            override = site.set_circuit_limit(
                request.match_info["id"],
                limit_a=_limit(body.get("limit_a")),
                total_limit_a=_optional(body, "total_limit_a"),
                expires_at=expires_at,
                min_kw_per_charger=_optional(body, "min_kw_per_charger"),
                reason=reason,
            )
        except CircuitLimitError as err:
            raise ApiError(400, "bad_request", str(err)) from None
        site.recompute()
        return web.json_response({"circuit": override.circuit, "override": _override(override)})

    async def delete_limit(request: web.Request) -> web.Response:
        site = request.app[site_key]
        cleared = site.clear_circuit_limit(request.match_info["id"])
        site.recompute()
        return web.json_response({"circuit": request.match_info["id"], "cleared": cleared})

    async def get_vehicle(request: web.Request) -> web.Response:
        tag = request.match_info["id"]
        profile = request.app[site_key].card_profile(tag)
        if profile is None:
            raise ApiError(404, "not_found", f"card {tag!r} names no driver or car")
        return web.json_response(card_dict(profile))

    async def put_vehicle(request: web.Request) -> web.Response:
        body = await _body(request)
        unknown = set(body) - {"driver", "car"}
        if unknown:
            raise ApiError(400, "bad_request", f"unknown field {sorted(unknown)[0]!r}")
        driver = body.get("driver") or ""
        if not isinstance(driver, str):
            raise ApiError(400, "bad_request", "driver must be text")
        try:
            profile = request.app[site_key].set_card_profile(
                request.match_info["id"], driver, body.get("car")
            )
        except ConfigError as err:
            raise ApiError(400, "bad_request", str(err)) from None
        return web.json_response(card_dict(profile))

    async def delete_vehicle(request: web.Request) -> web.Response:
        cleared = request.app[site_key].clear_card_profile(request.match_info["id"])
        return web.json_response({"id": request.match_info["id"], "cleared": cleared})

    async def get_plan_changes(request: web.Request) -> web.Response:
        changes = request.app[site_key].recent_plan_changes()
        return web.json_response({"changes": [c.as_dict() for c in changes]})

    app.router.add_get("/api/circuits", get_circuits)
    app.router.add_put("/api/circuits/{id}/limit", put_limit)
    app.router.add_delete("/api/circuits/{id}/limit", delete_limit)
    app.router.add_get("/api/cards/{id}/vehicle", get_vehicle)
    app.router.add_put("/api/cards/{id}/vehicle", put_vehicle)
    app.router.add_delete("/api/cards/{id}/vehicle", delete_vehicle)

    async def put_phases(request: web.Request) -> web.Response:
        body = await _body(request)
        mode = body.get("mode")
        if set(body) != {"mode"} or not isinstance(mode, str):
            raise ApiError(400, "bad_request", 'the body is {"mode": "auto" | "1" | "3"}')
        site = request.app[site_key]
        ident = request.match_info["id"]
        site.binding(ident)  # 404 for an unknown charger
        try:
            await site.set_phase_mode(ident, mode)
        except KeyError as err:
            raise ApiError(409, "not_supported", str(err.args[0])) from None
        site.recompute()
        return web.json_response(charger_dict(site.charger_state(ident)))

    app.router.add_get("/api/plan/changes", get_plan_changes)
    app.router.add_put("/api/chargers/{id}/phases", put_phases)


def card_dict(profile: CardProfile) -> dict[str, Any]:
    car: dict[str, Any] | None = None
    if profile.car is not None:
        c = profile.car
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        car = {
            "name": c.name,
            "battery_kwh": c.battery_kwh,
            "max_power_kw": c.max_power_kw,
            "phases": c.phases,
            "target_soc": c.target_soc,
            "efficiency": c.efficiency,
            "departures": {days[d]: at for d, at in sorted(c.departures.items())},
        }
    return {"id": profile.id_tag, "driver": profile.driver, "car": car}


def _override(override: CircuitOverride) -> dict[str, Any]:
    return {
        "limit_a": list(override.limit_a) if override.limit_a is not None else None,
        "total_limit_a": override.total_limit_a,
        "expires_at": override.expires_at.isoformat() if override.expires_at else None,
        "reason": override.reason,
        "set_at": override.set_at.isoformat(),
    }


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = read_json(await request.read(), max_bytes=MAX_BODY_BYTES)
    except BodyError as err:
        raise ApiError(400, "bad_request", str(err)) from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object")
    return body


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, "bad_request", f"{name} must be a number")
    return float(value)


def _optional(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    return None if value is None else _number(value, name)


def _limit(value: Any) -> float | tuple[float, float, float] | None:
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return None if value is None else _number(value, "limit_a")
    if isinstance(value, list) and len(value) == 3:
        a, b, c = (_number(v, "limit_a") for v in value)
        return (a, b, c)
    raise ApiError(400, "bad_request", "limit_a must be a number or three (L1, L2, L3)")
