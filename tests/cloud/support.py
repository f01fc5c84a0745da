"""Finishing sessions on a real central system, frame by frame (1.6), on a fake clock."""

from __future__ import annotations

from pathlib import Path

from custom_components.eflux.core.central import AuthorizationSettings, CentralConfig
from custom_components.eflux.core.central.outbox import SqliteSessionOutbox
from tests.central.support import FakeClock, RawCharger, boot_v16, central_config, iso


def free_charging_config(tmp_path: Path) -> CentralConfig:
    return central_config(tmp_path, authorization=AuthorizationSettings(free_charging=True))


class Charger:
    """One 1.6 charger on a raw websocket; meter in Wh, rising with every session."""

    def __init__(self, raw: RawCharger, clock: FakeClock) -> None:
        self.raw = raw
        self.clock = clock
        self.meter = 0

    async def boot(self) -> None:
        await self.raw.call_ok("BootNotification", boot_v16())

    async def start(self, connector: int, tag: str) -> str:
        answer = await self.raw.call_ok(
            "StartTransaction",
            {
                "connectorId": connector,
                "idTag": tag,
                "meterStart": self.meter,
                "timestamp": iso(self.clock.now),
            },
        )
        return str(answer["transactionId"])

    async def stop(self, transaction_id: str, wh: int) -> None:
        self.meter += wh
        await self.raw.call_ok(
            "StopTransaction",
            {
                "transactionId": int(transaction_id),
                "meterStop": self.meter,
                "timestamp": iso(self.clock.now),
                "reason": "EVDisconnected",
            },
        )


async def opened_outbox(path: Path) -> SqliteSessionOutbox:
    outbox = SqliteSessionOutbox(path)
    await outbox.open()
    return outbox
