"""Simulated time across the site and the sims: on one ScaledClock, a charger samples at the
configured interval and the controller renews the safe limit at half its validity, both in
simulated seconds; eflux-local takes --time-scale/--time-epoch. Counts are awaited under a
generous guard; spacing is checked on the simulated timestamps, never on the wall clock."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custom_components.eflux.core.clock import ScaledClock
from custom_components.eflux.core.config import parse_site_config
from custom_components.eflux.core.runner import main
from custom_components.eflux.core.runner.timebase import scaled_clock
from custom_components.eflux.core.runtime import LocalSite
from sim.chargepoint import Car, SimChargePoint
from tests.support.ports import LOOPBACK, free_port

SCALE = 40.0
START = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)


def site_yaml(port: int) -> dict[str, object]:
    return {
        "central": {"host": LOOPBACK, "port": port, "db_path": "central.sqlite",
                    "meter_sample_interval_s": 10, "cards": ["CARD-1"]},
        "circuits": [{"id": "grid", "limit_a": 25}],
        "chargers": [{"id": "cp1", "circuit": "grid"}],
        "controller": {"safe_limit_valid_for_s": 60},
        "api": {"enabled": False},
    }  # fmt: skip


async def test_sampling_and_safe_limit_renewal_follow_the_scaled_clock(tmp_path: Path) -> None:
    clock = ScaledClock(SCALE, start=START)
    port = free_port()
    site = LocalSite(parse_site_config(site_yaml(port), base_dir=tmp_path), clock=clock)
    await site.start()
    sim = SimChargePoint(f"ws://{LOOPBACK}:{port}", "cp1", "1.6", Car(), clock=clock)
    try:
        await sim.start(wait_s=20)
        await sim.plug_in("CARD-1")

        def renewals() -> list[datetime]:
            return [
                datetime.fromisoformat(
                    str(p["csChargingProfiles"]["chargingSchedule"]["startSchedule"])
                )
                for p in sim.calls("SetChargingProfile")
                if p["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"
            ]

        await sim.wait_for(lambda: len(renewals()) >= 3 and len(sim.sent_samples) >= 6, 60)
    finally:
        await sim.close()
        await site.stop()
    stamps = [sample.timestamp for _, _, sample in sim.sent_samples]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps[1:])]
    assert gaps, stamps
    assert all(8 <= gap <= 13 for gap in gaps), gaps  # every 10 s of simulated time
    written = renewals()
    spacing = [(b - a).total_seconds() for a, b in itertools.pairwise(written)]
    assert all(25 <= s <= 40 for s in spacing[1:]), spacing  # renewed at half of 60 s
    assert stamps[0] >= START


def test_processes_sharing_an_epoch_agree_on_simulated_time() -> None:
    epoch = datetime.now(UTC) - timedelta(seconds=10)
    a, b = scaled_clock(60, epoch), scaled_clock(60, epoch)
    # both say about epoch + 10 min (10 real seconds x 60), within the instants between calls
    assert abs((a.now() - b.now()).total_seconds()) < 5
    assert a.now() - epoch >= timedelta(minutes=10)
    assert scaled_clock(1).now().tzinfo is not None
    with pytest.raises(ValueError, match="positive"):
        scaled_clock(0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--time-scale", "0"], "must be a positive number"),
        (["--time-scale", "fast"], "not a number"),
        (["--time-epoch", "2026-06-15T06:00:00"], "needs a UTC offset"),
    ],
)
def test_runner_refuses_a_bad_time_scale_or_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("circuits: [{id: grid, limit_a: 25}]\napi: {enabled: false}\n")
    with pytest.raises(SystemExit) as stopped:
        main(["--config", str(path), "--check", *args])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


async def test_sim_clock_is_paced_by_the_scaled_clock() -> None:
    clock = ScaledClock(1000, start=START)
    sim = SimChargePoint("ws://127.0.0.1:1", "x", "1.6", Car(), clock=clock)
    before = clock.now()
    await sim.timers.sleep(60)  # a simulated minute: 60 ms of real time
    assert clock.now() - before >= timedelta(seconds=60)
    await asyncio.sleep(0)
