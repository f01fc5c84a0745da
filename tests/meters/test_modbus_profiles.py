"""Every built-in profile against a real pymodbus TCP server holding registers written straight
from the manufacturer's table (not through the profile), so a wrong address, type, word order or
scale in a profile fails here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from custom_components.eflux.core.meters import (
    MeterReading,
    Quality,
    build_source,
    builtin_profiles,
    parse_meter_config,
    probe,
)
from tests.meters.conftest import SimFactory, modbus_config
from tests.meters.helpers import f32, first_reading, s16, s32, s32_lsw_first, u32, u64


@dataclass
class Case:
    profile: str
    registers: list[tuple[str, int, list[int]]]
    expected: dict[str, Any]


def eastron(profile: str) -> Case:
    table = {
        0x0000: 230.5,
        0x0002: 231.25,
        0x0004: 229.0,  # V L1..L3
        0x0006: 10.5,
        0x0008: 4.25,
        0x000A: 0.75,  # A L1..L3
        0x000C: 2400.0,
        0x000E: -950.0,
        0x0010: 150.0,  # W L1..L3
        0x0034: 1600.0,
        0x0048: 12345.5,
        0x004A: 678.25,  # W total, kWh import, export
    }
    regs = [("input", address, f32(value)) for address, value in table.items()]
    return Case(
        profile,
        regs,
        {
            "voltage_v": (230.5, 231.25, 229.0),
            "current_a": (10.5, 4.25, 0.75),
            "power_w": (2400.0, -950.0, 150.0),
            "total_power_w": 1600.0,
            "import_kwh": 12345.5,
            "export_kwh": 678.25,
        },
    )


def gavazzi(profile: str) -> Case:
    # V x10, A x1000, W x10, kWh x10; INT32 low word first.
    regs = [
        ("holding", 0x0000, s32_lsw_first(2305)),
        ("holding", 0x0002, s32_lsw_first(2312)),
        ("holding", 0x0004, s32_lsw_first(2290)),
        ("holding", 0x000C, s32_lsw_first(10_500)),
        ("holding", 0x000E, s32_lsw_first(4_250)),
        ("holding", 0x0010, s32_lsw_first(750)),
        ("holding", 0x0012, s32_lsw_first(24_000)),
        ("holding", 0x0014, s32_lsw_first(-9_500)),
        ("holding", 0x0016, s32_lsw_first(1_500)),
        ("holding", 0x0028, s32_lsw_first(16_000)),
        ("holding", 0x0034, s32_lsw_first(123_455)),
        ("holding", 0x004E, s32_lsw_first(6_782)),
    ]
    return Case(
        profile,
        regs,
        {
            "voltage_v": (230.5, 231.2, 229.0),
            "current_a": (10.5, 4.25, 0.75),
            "power_w": (2400.0, -950.0, 150.0),
            "total_power_w": 1600.0,
            "import_kwh": 12345.5,
            "export_kwh": 678.2,
        },
    )


CASES = [
    eastron("sdm630"),
    eastron("sdm72d_m"),
    Case(
        "sdm120",
        [
            ("input", 0x0000, f32(229.5)),
            ("input", 0x0006, f32(8.5)),
            ("input", 0x000C, f32(-1900.0)),
            ("input", 0x0048, f32(4321.0)),
            ("input", 0x004A, f32(99.5)),
        ],
        {
            "voltage_v": (229.5, None, None),
            "current_a": (8.5, None, None),
            "power_w": (-1900.0, None, None),
            "total_power_w": -1900.0,
            "import_kwh": 4321.0,
            "export_kwh": 99.5,
        },
    ),
    gavazzi("em24"),
    gavazzi("em340"),
    Case(
        "abb_b23",
        [
            ("holding", 0x5000, u64(1_234_550)),
            ("holding", 0x5004, u64(67_825)),
            ("holding", 0x5B00, u32(2305)),
            ("holding", 0x5B02, u32(2312)),
            ("holding", 0x5B04, u32(2290)),
            ("holding", 0x5B0C, u32(1050)),
            ("holding", 0x5B0E, u32(425)),
            ("holding", 0x5B10, u32(75)),
            ("holding", 0x5B14, s32(160_000)),
            ("holding", 0x5B16, s32(240_000)),
            ("holding", 0x5B18, s32(-95_000)),
            ("holding", 0x5B1A, s32(15_000)),
        ],
        {
            "voltage_v": (230.5, 231.2, 229.0),
            "current_a": (10.5, 4.25, 0.75),
            "power_w": (2400.0, -950.0, 150.0),
            "total_power_w": 1600.0,
            "import_kwh": 12345.5,
            "export_kwh": 678.25,
        },
    ),
    Case(
        "sunspec_103",
        [
            # AphA..C with A_SF=-2, PhVphA..C with V_SF=-1, W with W_SF=1, WH (acc32) with WH_SF=0.
            ("holding", 40072, [1050]),
            ("holding", 40073, [1049]),
            ("holding", 40074, [1051]),
            ("holding", 40075, s16(-2)),
            ("holding", 40079, [2305]),
            ("holding", 40080, [2312]),
            ("holding", 40081, [2290]),
            ("holding", 40082, s16(-1)),
            ("holding", 40083, s16(720)),
            ("holding", 40084, s16(1)),
            ("holding", 40093, u32(8_765_432)),
            ("holding", 40095, s16(0)),
        ],
        {
            "voltage_v": (230.5, 231.2, 229.0),
            "current_a": (10.5, 10.49, 10.51),
            "power_w": (None, None, None),
            "total_power_w": -7200.0,  # producing = export
            "import_kwh": None,
            "export_kwh": 8765.432,
        },
    ),
]


def test_every_builtin_profile_has_a_case() -> None:
    assert sorted(c.profile for c in CASES) == sorted(builtin_profiles())


def same(got: float | None, want: float | None) -> bool:
    if want is None:
        return got is None
    return got is not None and abs(got - want) < 1e-6


def check(reading: MeterReading, expected: dict[str, Any]) -> None:
    for name, want in expected.items():
        got = getattr(reading, name)
        pairs = zip(got, want, strict=True) if isinstance(want, tuple) else [(got, want)]
        assert all(same(g, w) for g, w in pairs), f"{name}: {got} != {want}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.profile)
async def test_profile_decodes_every_value(modbus_sim: SimFactory, case: Case) -> None:
    sim, port = await modbus_sim(case.profile)
    for reg_type, address, words in case.registers:
        sim.set_registers(reg_type, address, words)
    source = build_source(parse_meter_config(modbus_config(case.profile, port), where="test"))
    reading = await first_reading(source)
    assert reading.quality is Quality.OK
    assert reading.source == "grid"
    assert reading.timestamp.utcoffset() is not None
    check(reading, case.expected)


@pytest.mark.parametrize("case", CASES[:1] + CASES[3:4], ids=lambda c: c.profile)
async def test_probe_reads_once(modbus_sim: SimFactory, case: Case) -> None:
    sim, port = await modbus_sim(case.profile)
    for reg_type, address, words in case.registers:
        sim.set_registers(reg_type, address, words)
    reading = await probe(parse_meter_config(modbus_config(case.profile, port), where="test"))
    check(reading, case.expected)
