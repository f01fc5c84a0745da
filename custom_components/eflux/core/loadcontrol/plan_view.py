"""The planner's site-wide fields of a `SiteSnapshot`: the capacity tariff and circuit limits."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .controller import Controller


def planner_fields(controller: Controller, now: datetime) -> dict[str, Any]:
    status = controller.limits.status(now)
    overrides = controller.limits.circuits.overrides
    return {
        "capacity_quarter_average_kw": round(status.quarter_average_kw, 3) if status else None,
        "capacity_month_peak_kw": round(status.month_peak_kw, 3) if status else None,
        "capacity_target_kw": round(status.target_kw, 3) if status else None,
        "circuit_limits": {
            cid: {
                "limit_a": o.limit_a,
                "total_limit_a": o.total_limit_a,
                "expires_at": o.expires_at,
                "reason": o.reason,
                "set_at": o.set_at,
            }
            for cid, o in overrides.items()
        },
    }
