"""The dashboard's open-sessions panel: rows as display text, the same for the page and live.json.

The texts are made here once, so the page and the 30 s refresh (portal.js writes them as text,
never HTML) cannot disagree. A site quiet for longer than the store's STALE_AFTER shows
"last seen …" instead of a power: its numbers are what ran when it was last heard.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..store import OpenSession
from .ctx import account_of, now_of, store_of
from .i18n import language, translate
from .render import local_time


@dataclass(frozen=True, slots=True)
class OpenRow:
    charge_point: str
    card: str
    since: str
    kwh: str
    kw: str
    status: str
    live: bool

    def cells(self) -> list[str]:
        return [self.charge_point, self.card, self.since, self.kwh, self.kw, self.status]


async def open_rows(request: web.Request) -> list[OpenRow]:
    """The open sessions of the user's account: its cards, and guests on its charge points."""
    found = await store_of(request).open_sessions.list_open(
        account_of(request), now=now_of(request)
    )
    lang = language(request)
    return [_row(item, lang) for item in found]


def _row(item: OpenSession, lang: str) -> OpenRow:
    if item.live:
        kw = "-" if item.power_w is None else _decimal(item.power_w / 1000, 1)
        status = translate(lang, "dashboard.open_live")
    else:
        kw = "-"
        status = translate(lang, "dashboard.open_last_seen", time=local_time(item.seen_at))
    return OpenRow(
        charge_point=item.charge_point_name,
        card=item.card_label or item.id_tag or "-",
        since=local_time(item.started_at),
        kwh=_decimal(item.energy_kwh, 2),
        kw=kw,
        status=status,
        live=item.live,
    )


def _decimal(value: float, places: int) -> str:
    return f"{value:.{places}f}".replace(".", ",")  # the portal writes numbers the Dutch way
