"""Session history for HA: the running session's cost, each charger's last session, this
month's totals per card, and `eflux.export_sessions` (a month as CSV under the config dir).

The data is the central system's SQLite, read through `LocalSite.session_history` (costs at
the site's prices: pushed prices inside HA). Read again when a session starts or ends, and
once a minute while sessions run (their cost grows with every register reading).
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType

from .const import DOMAIN
from .core.domain import SessionRecord
from .core.runtime import CentralEvent, LocalSite, TransactionEnded, TransactionStarted

REFRESH_WHILE_CHARGING = timedelta(minutes=1)
EXPORT_DIR = "exports"
CSV_COLUMNS = (
    "card", "charger", "charge_point", "connector", "started_at", "stopped_at",
    "duration_min", "energy_kwh", "cost", "currency", "stop_reason",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CardTotal:
    sessions: int = 0
    energy_kwh: float = 0.0
    cost: Decimal | None = Decimal(0)  # None: a session of it has no price


@dataclass(slots=True)
class SessionData:
    running_cost: dict[str, Decimal | None] = field(default_factory=dict)
    last: dict[str, SessionRecord] = field(default_factory=dict)  # charger id -> last session
    month: dict[str, CardTotal] = field(default_factory=dict)  # card -> this month's total
    month_start: datetime | None = None


def month_range(month: str | None, now: datetime) -> tuple[datetime, datetime]:
    """[first, next first) of a month `YYYY-MM` (default: the current one) in HA's time zone,
    as aware UTC."""
    local = dt_util.as_local(now)
    if month is None:
        year, number = local.year, local.month
    else:
        found = re.fullmatch(r"(\d{4})-(\d{2})", month.strip())
        if found is None or not 1 <= int(found[2]) <= 12:
            raise ValueError(f"month: expected YYYY-MM, got {month!r:.20}")
        year, number = int(found[1]), int(found[2])
    zone = dt_util.get_default_time_zone()
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return dt_util.as_utc(start), dt_util.as_utc(end)


def card_totals(sessions: list[SessionRecord]) -> dict[str, CardTotal]:
    totals: dict[str, CardTotal] = {}
    for session in sessions:
        card = session.card or "-"
        total = totals.get(card, CardTotal())
        cost = None if total.cost is None or session.cost is None else total.cost + session.cost
        totals[card] = CardTotal(total.sessions + 1, total.energy_kwh + session.energy_kwh, cost)
    return totals


class SessionHistory:
    """Keeps `data` up to date for the sensors; `listeners` are told after each refresh."""

    def __init__(self, hass: HomeAssistant, site: LocalSite) -> None:
        self.hass = hass
        self.site = site
        self.data = SessionData()
        self._listeners: list[Callable[[], None]] = []
        self._refreshing: set[asyncio.Task[None]] = set()

    @callback
    def async_start(self) -> Callable[[], None]:
        removers = [
            self.site.add_event_listener(self._on_event),
            async_track_time_interval(self.hass, self._tick, REFRESH_WHILE_CHARGING),
        ]

        def stop() -> None:
            for remove in removers:
                remove()
            # Before the site stops (unload runs this first): a refresh still reading would
            # queue its reads on a store being closed.
            for task in self._refreshing:
                task.cancel()

        return stop

    def _refresh_soon(self) -> None:
        task = self.hass.async_create_background_task(self.async_refresh(), "eflux sessions")
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _on_event(self, event: CentralEvent) -> None:
        if isinstance(event, TransactionStarted | TransactionEnded):
            self._refresh_soon()

    @callback
    def _tick(self, _now: datetime) -> None:
        if any(c.transaction_id for c in self.site.state().chargers.values()):
            self._refresh_soon()

    async def async_refresh(self) -> None:
        start, end = month_range(None, dt_util.utcnow())
        month = await self.site.session_history(start, end)
        last = dict(self.data.last)
        if not last:  # after a start: the last sessions may be older than this month
            last_found = await self.site.session_history(start - timedelta(days=366), start)
            last.update({s.charger_id: s for s in last_found if s.charger_id is not None})
        last.update({s.charger_id: s for s in month if s.charger_id is not None})
        running: dict[str, Decimal | None] = {}
        for charger in self.site.state().chargers.values():
            if charger.transaction_id is not None:
                running[charger.id] = await self.site.session_cost(charger.id)
        self.data = SessionData(running, last, card_totals(month), start)
        for listener in list(self._listeners):
            listener()


def sessions_csv(sessions: list[SessionRecord], currency: str) -> str:
    """One row per session, grouped per card (oldest first), each card closed by a total row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    by_card: dict[str, list[SessionRecord]] = {}
    for session in sessions:
        by_card.setdefault(session.card or "-", []).append(session)
    for card in sorted(by_card):
        rows = sorted(by_card[card], key=lambda s: s.started_at)
        for s in rows:
            minutes = round((s.stopped_at - s.started_at).total_seconds() / 60)
            writer.writerow(
                (
                    card, s.charger_id or "", s.charge_point_id, s.connector_id,
                    dt_util.as_local(s.started_at).isoformat(),
                    dt_util.as_local(s.stopped_at).isoformat(), minutes,
                    f"{s.energy_kwh:.3f}", "" if s.cost is None else f"{s.cost:.2f}",
                    currency, s.stop_reason or "",
                )
            )  # fmt: skip
        total = card_totals(rows)[card]
        cost = "" if total.cost is None else f"{total.cost:.2f}"
        writer.writerow((card, "total", "", "", "", "", "", f"{total.energy_kwh:.3f}", cost,
                         currency, f"{total.sessions} sessions"))  # fmt: skip
    return out.getvalue()


async def async_export_sessions(
    hass: HomeAssistant, site: LocalSite, entry_id: str, month: str | None, card: str | None
) -> dict[str, JsonValueType]:
    """Write the month's sessions (of `card`, or all) to a CSV file under the config dir."""
    start, end = month_range(month, dt_util.utcnow())
    sessions = [s for s in await site.session_history(start, end) if card is None or s.card == card]
    label = dt_util.as_local(start).strftime("%Y-%m")
    name = f"sessions-{label}" + (f"-{_safe(card)}" if card else "") + ".csv"
    folder = Path(hass.config.path(DOMAIN, EXPORT_DIR, entry_id))
    text = sessions_csv(sessions, hass.config.currency)

    def write() -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
        return path

    path = await hass.async_add_executor_job(write)
    return {"path": str(path), "sessions": len(sessions), "month": label}


def _safe(card: str) -> str:
    """A card id as part of a file name (no path separators or oddities)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", card)[:64]
