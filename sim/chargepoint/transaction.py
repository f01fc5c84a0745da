"""A simulated charger's view of its transaction and meter readings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SimTransaction:
    connector_id: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float
    local_id: str = "-1"  # what the charger uses before the central assigns one (1.6)
    id: str | None = None  # 1.6: assigned by the central system; 2.0.1: generated here
    card_status: str | None = None
    seq_no: int = 0
    remote_start_id: int | None = None
    reservation_id: int | None = None  # the reservation this start uses (and ends)
    tx_profiles_seen: int = 0  # TxProfiles rejected as early (SimBehaviour.late_transaction_id)

    def next_seq(self) -> int:
        value = self.seq_no
        self.seq_no += 1
        return value


@dataclass(frozen=True)
class SimSample:
    timestamp: datetime
    register_wh: float
    power_w: float
    current_a: tuple[float, float, float]
    voltage_v: float
    soc: float | None
    offered_a: float
    context: str = "Sample.Periodic"
    session_wh: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
