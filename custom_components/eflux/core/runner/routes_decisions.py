"""GET /api/decisions: the controller's recent decisions, newest last (docs/local-api.md)."""

from __future__ import annotations

from aiohttp import web

from ..decisions import DEFAULT_SIZE
from ..runtime import LocalSite
from .errors import ApiError


def add_routes(app: web.Application, site_key: web.AppKey[LocalSite]) -> None:
    async def get_decisions(request: web.Request) -> web.Response:
        limit = _limit(request.query.get("limit"))
        decisions = request.app[site_key].recent_decisions(limit)
        return web.json_response({"decisions": [d.as_dict() for d in decisions]})

    app.router.add_get("/api/decisions", get_decisions)


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_SIZE
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise ApiError(400, "bad_request", f"limit must be a whole number up to {DEFAULT_SIZE}")
    return min(int(raw), DEFAULT_SIZE)
