"""The charger advisor, after the seed FAQ ("What kind of charging station is suited for my
situation?" and "What are the costs of a charging station?").

The FAQ's checks: the connection (1- or 3-phase), the cable from the fuse box, the car and its
battery, public or private location (IK10 for public), limited power (a smart charging grid).
Powers offered: 3.7 kW (1-phase 16 A), 11 kW (3-phase 16 A), 22 kW (3-phase 32 A).
Prices, incl. VAT: basic 3.7 kW without back office ~€500; 1-phase with back office €800-1,000;
3-phase ~€1,500; installation €300-700 depending on labour (smart charging, connection, cables).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import BillingError

POWERS_KW = (Decimal("3.7"), Decimal(11), Decimal(22))
# Copper cable cross-section (mm²) → the current it carries safely over a typical run to the
# fuse box; the installer confirms on site (the FAQ: "diameter of the cable").
CABLE_AMPS = {
    Decimal("1.5"): 10,
    Decimal("2.5"): 16,
    Decimal(4): 25,
    Decimal(6): 32,
    Decimal(10): 40,
}
BASIC_STATION = (50000, 50000)  # "around €500"
ONE_PHASE_BACK_OFFICE = (80000, 100000)
THREE_PHASE = (150000, 150000)  # "around €1,500"
INSTALLATION = (30000, 70000)
# What the advisor accepts (the portal's form and the API's body both check these).
RANGES = {
    "cable_mm2": (Decimal("1.5"), Decimal(50)),
    "car_max_kw": (Decimal(1), Decimal(50)),
    "battery_kwh": (Decimal(5), Decimal(250)),
}


@dataclass(frozen=True, slots=True)
class Situation:
    phases: int  # 1 or 3
    cable_mm2: Decimal
    car_max_kw: Decimal  # the car's on-board charger (AC)
    battery_kwh: Decimal
    public: bool
    outdoor: bool
    limited_power: bool
    back_office: bool  # wants the station managed (sessions, cards, reimbursement)


@dataclass(frozen=True, slots=True)
class Advice:
    power_kw: Decimal
    phases: int
    amps: int
    ik_class: str
    ip_class: str
    smart_grid: bool
    back_office: bool
    station_cents: tuple[int, int]
    installation_cents: tuple[int, int]
    full_charge_hours: Decimal
    notes: tuple[str, ...]  # locale keys explaining the choice

    @property
    def total_cents(self) -> tuple[int, int]:
        return (
            self.station_cents[0] + self.installation_cents[0],
            self.station_cents[1] + self.installation_cents[1],
        )


def situation(
    phases: int,
    cable_mm2: Decimal,
    car_max_kw: Decimal,
    battery_kwh: Decimal,
    *,
    public: bool,
    outdoor: bool,
    limited_power: bool,
    back_office: bool,
) -> Situation:
    """The answers as a situation; a public station is always managed (a back office)."""
    if phases not in {1, 3}:
        raise BillingError("the connection has 1 or 3 phases")
    for name, value in (
        ("cable_mm2", cable_mm2),
        ("car_max_kw", car_max_kw),
        ("battery_kwh", battery_kwh),
    ):
        low, high = RANGES[name]
        if not value.is_finite() or not low <= value <= high:
            raise BillingError(f"{name} must lie between {low} and {high}")
    return Situation(
        phases,
        cable_mm2,
        car_max_kw,
        battery_kwh,
        public,
        outdoor,
        limited_power,
        back_office or public,
    )


def _cable_amps(mm2: Decimal) -> int:
    fitting = [amps for size, amps in CABLE_AMPS.items() if size <= mm2]
    return max(fitting) if fitting else 0


def recommend(s: Situation) -> Advice:
    notes: list[str] = []
    amps = min(_cable_amps(s.cable_mm2), 32)
    if amps < 16:
        notes.append("advice.note.new_cable")
        amps = 16  # the installer lays a new cable; that is part of the installation labour
    if s.phases == 1:
        power, phases, amps = POWERS_KW[0], 1, 16
        notes.append("advice.note.one_phase")
    elif amps >= 32 and s.car_max_kw > POWERS_KW[1]:
        power, phases, amps = POWERS_KW[2], 3, 32
        notes.append("advice.note.22kw")
    else:
        power, phases, amps = POWERS_KW[1], 3, 16
        notes.append(
            "advice.note.car_limits" if s.car_max_kw <= POWERS_KW[1] else "advice.note.cable_limits"
        )
    charge_kw = min(power, s.car_max_kw)
    hours = (s.battery_kwh / charge_kw).quantize(Decimal("0.1"))
    if s.public:
        notes.append("advice.note.public_ik10")
    if s.limited_power:
        notes.append("advice.note.smart_grid")
    if phases == 1:
        station = ONE_PHASE_BACK_OFFICE if s.back_office else BASIC_STATION
    else:
        station = THREE_PHASE
    ip = ("IP55" if s.public else "IP54") if s.outdoor else "IP44"
    return Advice(
        power_kw=power,
        phases=phases,
        amps=amps,
        ik_class="IK10" if s.public else "IK08",
        ip_class=ip,
        smart_grid=s.limited_power,
        back_office=s.back_office or phases == 3,
        station_cents=station,
        installation_cents=INSTALLATION,
        full_charge_hours=hours,
        notes=tuple(notes),
    )
