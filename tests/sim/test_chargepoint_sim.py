"""The simulated charger's car and charging-profile rules, and its command line."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sim.chargepoint import Car
from sim.chargepoint.profiles import CP_MAX, TX, TX_DEFAULT, ProfileBook, SimProfile

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def test_the_car_draws_what_is_offered_up_to_its_own_maximum() -> None:
    car = Car(battery_kwh=50, soc=50, max_current_a=16, phases=1, efficiency=1.0)
    assert (car.current_for(32), car.current_for(10), car.current_for(5.9)) == (16, 10, 0)
    wh = car.charge(16, 3600)
    assert wh == pytest.approx(16 * 230)
    assert car.soc == pytest.approx(50 + 100 * 3.68 / 50)
    car.soc = 100.0
    assert car.current_for(16) == 0.0


def test_profiles_stack_levels_purposes_and_validity() -> None:
    book = ProfileBook()
    book.install(SimProfile(101, 0, TX_DEFAULT, 1, 16.0, "A"))
    assert book.limit(1, None, NOW, 3) == 16.0
    book.install(SimProfile(102, 0, TX_DEFAULT, 2, 10.0, "A"))
    assert book.limit(1, None, NOW, 3) == 10.0  # the highest stack level wins
    book.install(SimProfile(201, 1, TX, 1, 13.0, "A", transaction_id="7"))
    assert (book.limit(1, "7", NOW, 3), book.limit(1, "8", NOW, 3)) == (13.0, 10.0)
    book.install(SimProfile(1, 0, CP_MAX, 0, 6900.0, "W", valid_to=NOW + timedelta(minutes=5)))
    assert book.limit(1, "7", NOW, 3) == pytest.approx(10.0)  # 6900 W on 3 phases caps at 10 A
    assert book.limit(1, "7", NOW + timedelta(minutes=6), 3) == 13.0  # the cap expired
    book.drop_transaction("7")
    assert book.limit(1, "7", NOW, 3) == pytest.approx(10.0)
    assert book.clear(purpose=TX_DEFAULT)
    assert not book.clear(purpose=TX_DEFAULT)


def test_the_command_line_explains_itself() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "sim.chargepoint", "--help"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--version {1.6,2.0.1}" in done.stdout
    assert "--card" in done.stdout
