"""Charger actions from the console, each confirmed on a page of its own before it is sent.

GET /console/chargers/{id}/confirm?action=…&value=… shows what will happen; its form POSTs
to /console/chargers/{id}/{action} with the session's CSRF token; then back to Chargers with
what was done (or the error) in the page.
"""

from __future__ import annotations

import math

from aiohttp import web

from ...balancing import Mode
from ...central import CentralError
from .auth import Login
from .context import Console, manager
from .render import page

ACTIONS = ("mode", "max_current", "stop", "unlock", "approve")
MODES = ("default", *(mode.value for mode in Mode))


def _value(action: str, raw: str, console: Console, charger: str) -> str | float | None:
    """The checked value of an action (ValueError with the reason)."""
    if action == "mode":
        if raw not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        return None if raw == "default" else raw
    if action == "max_current":
        if raw.strip() == "":
            return None
        amps = float(raw.replace(",", "."))
        highest = console.site.charger_max_current(charger)
        if not math.isfinite(amps) or not 0 <= amps <= highest:
            raise ValueError(f"max current must be between 0 and {highest:g} A")
        return amps
    return None


def _target(request: web.Request, console: Console) -> tuple[str, str]:
    ident, action = request.match_info["id"], request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    if action == "approve":
        return ident, action
    try:
        console.site.binding(ident)
    except KeyError:
        raise web.HTTPNotFound() from None
    return ident, action


@manager()
async def confirm(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    ident, action = _target(request, console)
    raw = request.query.get("value", "")[:20]
    try:
        _value(action, raw, console, ident)
    except ValueError as err:
        return _back(request, console, login, error=str(err))
    return page(
        request,
        "confirm.html",
        login,
        console.zone,
        charger=ident,
        action=action,
        value=raw,
        csrf=login.csrf,
    )


@manager()
async def perform(request: web.Request, console: Console, login: Login) -> web.StreamResponse:
    ident, action = _target(request, console)
    form = await request.post()
    raw = form.get("value", "")
    site = console.site
    try:
        value = _value(action, raw if isinstance(raw, str) else "", console, ident)
        if action == "mode":
            await site.set_mode(ident, None if value is None else str(value))
        elif action == "max_current":
            await site.set_max_current(ident, value if isinstance(value, float) else None)
        elif action == "stop":
            _accepted(await site.stop_charging(ident))
        elif action == "unlock":
            _accepted(await site.unlock(ident), ok="Unlocked")
        else:
            if not site.is_known_charge_point(ident):
                raise KeyError(f"no charge point {ident!r} has connected")
            await site.approve(ident)
    except (ValueError, KeyError, CentralError, TimeoutError) as err:
        return _back(request, console, login, error=str(err) or type(err).__name__)
    site.recompute()
    raise web.HTTPSeeOther(f"/console/chargers?done={action}")


def _accepted(status: str, *, ok: str = "Accepted") -> None:
    if status not in (ok, "Accepted"):
        raise ValueError(f"the charger answered {status}")


def _back(request: web.Request, console: Console, login: Login, *, error: str) -> web.Response:
    return page(request, "error.html", login, console.zone, status=400, message=error)
